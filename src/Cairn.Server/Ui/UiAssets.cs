using System.Collections.Concurrent;
using System.Collections.Frozen;
using System.IO.Compression;
using System.Reflection;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.StaticFiles;

namespace Cairn.Server.Ui;

/// <summary>
/// Serves the UI's scripts and styles (Blazor, MudBlazor, plotly.js, Cairn's own) from resources
/// embedded in this assembly at build time, so the UI needs no static-web-asset manifest, no
/// particular working directory and no internet connection.
/// </summary>
internal static class UiAssets
{
    private const string Prefix = "ui/";

    private static readonly Assembly Assembly = typeof(UiAssets).Assembly;

    /// <summary>URL path (with its leading slash) → resource name; built once, on the first asset request.</summary>
    private static readonly Lazy<FrozenDictionary<string, string>> Resources = new(() =>
        Assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith(Prefix, StringComparison.Ordinal))
            .ToFrozenDictionary(n => "/" + n[Prefix.Length..], n => n, StringComparer.Ordinal));

    private static readonly FileExtensionContentTypeProvider ContentTypes = new();

    /// <summary>Gzipped copies, made on first request: plotly.js shrinks from 1.1 MB to about a third.</summary>
    private static readonly ConcurrentDictionary<string, byte[]> Gzipped = new(StringComparer.Ordinal);

    /// <summary>The assets change only with the assembly, so its version identifies them.</summary>
    private static readonly string ETag = "\"" + (Assembly.ManifestModule.ModuleVersionId.ToString("N")) + "\"";

    public static void MapUiAssets(this IEndpointRouteBuilder app)
    {
        app.MapMethods("/_framework/blazor.web.js", ["GET", "HEAD"], ServeAsync);
        app.MapMethods("/_content/{**path}", ["GET", "HEAD"], ServeAsync);
        app.MapMethods("/_cairn/{**path}", ["GET", "HEAD"], ServeAsync);
    }

    /// <summary>True when an asset with this URL path exists (for tests and diagnostics).</summary>
    public static bool Exists(string urlPath) => Resources.Value.ContainsKey(urlPath);

    private static async Task ServeAsync(HttpContext context)
    {
        var path = context.Request.Path.Value ?? "";
        if (!Resources.Value.TryGetValue(path, out var resource))
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }

        var headers = context.Response.Headers;
        headers.ETag = ETag;
        headers.CacheControl = "no-cache";
        if (context.Request.Headers.IfNoneMatch == ETag)
        {
            context.Response.StatusCode = StatusCodes.Status304NotModified;
            return;
        }

        context.Response.ContentType = ContentTypes.TryGetContentType(path, out var type) ? type : "application/octet-stream";
        headers.Vary = "Accept-Encoding";
        if (context.Request.Headers.AcceptEncoding.ToString().Contains("gzip", StringComparison.OrdinalIgnoreCase))
        {
            var gzipped = Gzipped.GetOrAdd(resource, Compress);
            headers.ContentEncoding = "gzip";
            context.Response.ContentLength = gzipped.Length;
            if (!HttpMethods.IsHead(context.Request.Method))
            {
                await context.Response.Body.WriteAsync(gzipped, context.RequestAborted);
            }

            return;
        }

        await using var stream = Assembly.GetManifestResourceStream(resource)!;
        context.Response.ContentLength = stream.Length;
        if (HttpMethods.IsHead(context.Request.Method))
        {
            return;
        }

        await stream.CopyToAsync(context.Response.Body, context.RequestAborted);
    }

    private static byte[] Compress(string resource)
    {
        using var source = Assembly.GetManifestResourceStream(resource)!;
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Optimal, leaveOpen: true))
        {
            source.CopyTo(gzip);
        }

        return buffer.ToArray();
    }
}
