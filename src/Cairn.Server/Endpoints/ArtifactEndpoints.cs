using System.Text;
using System.Text.Json;
using Cairn.Core;
using Cairn.Core.Artifacts;
using Cairn.Server.Http;
using Cairn.Storage.Artifacts;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.StaticFiles;
using Microsoft.Extensions.DependencyInjection;
using static Cairn.Server.Endpoints.EndpointMapping;

namespace Cairn.Server.Endpoints;

/// <summary>
/// MLflow's artifact routes: a run's listing (<c>artifacts/list</c>), the UI's <c>/get-artifact</c> and
/// <c>upload-artifact</c>, and the artifact proxy (<c>/mlflow-artifacts/artifacts/{path}</c>) over the
/// artifacts destination. Every client path passes <see cref="ArtifactPaths"/> before any file is touched.
/// </summary>
public static class ArtifactEndpoints
{
    private static readonly string[] ProxyPrefixes = ["/api/2.0/mlflow-artifacts", "/ajax-api/2.0/mlflow-artifacts"];
    private static readonly string[] ProxyFileRoutes = ["/artifacts/", "/mpu/create/", "/mpu/complete/", "/mpu/abort/"];

    /// <summary>MLflow's limit for a file uploaded through the web UI; the proxy's PUT has none.</summary>
    private const long UiUploadLimit = 10 * 1024 * 1024;

    /// <summary>Extensions (or whole names, for files without one) MLflow serves as text/plain; the match is case-sensitive, as in MLflow.</summary>
    private static readonly HashSet<string> TextExtensions = new(StringComparer.Ordinal)
    {
        "txt", "log", "err", "cfg", "conf", "cnf", "cf", "ini", "properties", "prop", "hocon", "toml", "yaml", "yml",
        "xml", "json", "js", "py", "py3", "csv", "tsv", "md", "rst", "MLmodel", "mlproject",
    };

    private static readonly FileExtensionContentTypeProvider ContentTypes = new();

    /// <summary>The artifact repositories for <paramref name="options"/> and the guard on the proxy's raw URLs.</summary>
    public static IServiceCollection AddArtifacts(this IServiceCollection services, CairnServerOptions options)
    {
        services.AddSingleton(new ArtifactRepositories(options.ArtifactsDestination));
        services.AddTransient<IStartupFilter, ProxyPathGuard>();
        return services;
    }

    /// <summary>
    /// Puts <see cref="GuardProxyPathsAsync"/> at the very front of the pipeline. Kestrel removes dot
    /// segments from the URL path before any middleware sees it, so `/artifacts/a/../..` would otherwise
    /// become another route, a 404 or a trailing-slash answer instead of MLflow's 400 "Invalid path".
    /// </summary>
    private sealed class ProxyPathGuard : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use(GuardProxyPathsAsync);
            next(app);
        };
    }

    public static void MapArtifacts(this IEndpointRouteBuilder app)
    {
        app.MapMlflow("/artifacts/list", Get, ListRunArtifacts);
        app.MapGet("/get-artifact", context => InvokeAsync(context, GetArtifact));
        app.MapPost("/ajax-api/2.0/mlflow/upload-artifact", UploadFromUi);

        foreach (var prefix in ProxyPrefixes)
        {
            app.MapGet(prefix + "/artifacts", context => InvokeAsync(context, ListProxied));
            app.MapGet(prefix + "/artifacts/{**path}", DownloadProxied);
            app.MapPut(prefix + "/artifacts/{**path}", UploadProxied);
            app.MapDelete(prefix + "/artifacts/{**path}", DeleteProxied);
            foreach (var step in new[] { "create", "complete", "abort" })
            {
                app.MapPost($"{prefix}/mpu/{step}/{{**path}}", context => InvokeAsync(context, MultipartUpload));
            }
        }
    }

    private static ArtifactRepositories Repositories(this HttpContext context) => context.RequestServices.GetRequiredService<ArtifactRepositories>();

    // ------------------------------------------------------------ run artifacts

    private static async Task ListRunArtifacts(HttpContext context, RequestArgs args)
    {
        // The path is checked before the run is looked up, so bad input costs no database work.
        var path = args.String("path") is { } p ? ArtifactPaths.Normalize(p) : "";
        var run = await context.Store().GetRunAsync(args.RequiredString("run_id", "run_uuid"), context.RequestAborted);
        var rootUri = run.Info.ArtifactUri;
        var files = await context.Repositories().ForUri(rootUri).ListAsync(path, context.RequestAborted);
        await Responses.WriteJsonAsync(context, w =>
        {
            w.WriteStartObject();
            w.WriteString("root_uri", rootUri);
            WriteFiles(w, files, basenames: false);
            w.WriteEndObject();
        });
    }

    private static async Task GetArtifact(HttpContext context, RequestArgs args)
    {
        var path = ArtifactPaths.Normalize(args.String("path") ?? throw RequestArgs.Missing("path"));
        var run = await context.Store().GetRunAsync(args.RequiredString("run_id", "run_uuid"), context.RequestAborted);
        var content = await context.Repositories().ForUri(run.Info.ArtifactUri).OpenReadAsync(path, context.RequestAborted)
            ?? throw MissingArtifact(path);
        await SendFileAsync(context, content, path);
    }

    /// <summary>The web UI's upload: query parameters, the raw file as the body, MLflow's messages and 10 MB limit.</summary>
    private static async Task UploadFromUi(HttpContext context)
    {
        var query = context.Request.Query;
        var runId = query["run_uuid"].LastOrDefault();
        if (string.IsNullOrEmpty(runId))
        {
            throw MlflowException.InvalidParameter("Request must specify run_uuid.");
        }

        var rawPath = query["path"].LastOrDefault();
        if (string.IsNullOrEmpty(rawPath))
        {
            throw MlflowException.InvalidParameter("Request must specify path.");
        }

        var path = ArtifactPaths.Normalize(rawPath);
        if (path.Length == 0)
        {
            throw ArtifactPaths.InvalidPath();
        }

        if (context.Request.ContentLength > UiUploadLimit)
        {
            throw MlflowException.InvalidParameter("Artifact size is too large. Max size is 10MB.");
        }

        // A chunked body has no length to check up front; Kestrel stops it at the same limit (413).
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } sizeFeature)
        {
            sizeFeature.MaxRequestBodySize = UiUploadLimit;
        }

        if (await IsBodyEmptyAsync(context.Request, context.RequestAborted))
        {
            throw MlflowException.InvalidParameter("Request must specify data.");
        }

        var run = await context.Store().GetRunAsync(runId, context.RequestAborted);
        await context.Repositories().ForUri(run.Info.ArtifactUri).WriteAsync(path, context.Request.Body, context.RequestAborted);

        // MLflow answers with an empty body labelled JSON.
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "application/json";
        context.Response.ContentLength = 0;
    }

    /// <summary>Looks at the body without consuming it.</summary>
    private static async Task<bool> IsBodyEmptyAsync(HttpRequest request, CancellationToken ct)
    {
        if (request.ContentLength is { } length)
        {
            return length == 0;
        }

        var result = await request.BodyReader.ReadAsync(ct);
        var empty = result.Buffer.IsEmpty && result.IsCompleted;
        request.BodyReader.AdvanceTo(result.Buffer.Start);
        return empty;
    }

    // ------------------------------------------------------------ artifact proxy (mlflow-artifacts)

    /// <summary>
    /// For the proxy's routes, answers 503 when the server does not serve artifacts and 400 for a path
    /// that would leave the destination, judged on the URL exactly as the client sent it.
    /// </summary>
    /// <remarks>It runs ahead of the error middleware, so it writes its own error answers.</remarks>
    private static Task GuardProxyPathsAsync(HttpContext context, RequestDelegate next)
    {
        if (HttpMethods.IsOptions(context.Request.Method) || !IsProxyRoute(RawPath(context), out var encodedPath))
        {
            return next(context);
        }

        if (!context.RequestServices.GetRequiredService<CairnServerOptions>().ServeArtifacts)
        {
            return Responses.ErrorAsync(context, StatusCodes.Status503ServiceUnavailable, "TEMPORARILY_UNAVAILABLE",
                $"Endpoint {context.Request.Path} is disabled because the server runs with --no-serve-artifacts. Start `cairn server` with --serve-artifacts to enable it.");
        }

        if (encodedPath is not null && !ArtifactPaths.IsSafe(Uri.UnescapeDataString(encodedPath)))
        {
            return Responses.ErrorAsync(context, ArtifactPaths.InvalidPath());
        }

        return next(context);
    }

    /// <summary>The request's URL path as sent (still percent-encoded, dot segments intact), without the query.</summary>
    private static string RawPath(HttpContext context)
    {
        var raw = context.Features.Get<IHttpRequestFeature>()?.RawTarget;
        if (string.IsNullOrEmpty(raw))
        {
            return context.Request.Path.Value ?? "";
        }

        // An absolute-form target (http://host/path) carries the path after its authority.
        if (!raw.StartsWith('/') && raw.IndexOf("://", StringComparison.Ordinal) is var scheme and >= 0)
        {
            var slash = raw.IndexOf('/', scheme + 3);
            raw = slash < 0 ? "/" : raw[slash..];
        }

        var query = raw.IndexOf('?', StringComparison.Ordinal);
        return query < 0 ? raw : raw[..query];
    }

    /// <summary>True for the proxy's listing (no path) and its file routes (<paramref name="encodedPath"/> the part after the route).</summary>
    private static bool IsProxyRoute(string raw, out string? encodedPath)
    {
        encodedPath = null;
        foreach (var prefix in ProxyPrefixes)
        {
            if (!raw.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            var rest = raw.AsSpan(prefix.Length);
            if (rest.Equals("/artifacts", StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }

            foreach (var route in ProxyFileRoutes)
            {
                if (rest.StartsWith(route, StringComparison.OrdinalIgnoreCase))
                {
                    encodedPath = rest[route.Length..].ToString();
                    return true;
                }
            }
        }

        return false;
    }

    /// <summary>The artifact path of a proxy file route, read from the raw URL so that an encoded <c>/</c> counts as a separator.</summary>
    private static string ProxyPath(HttpContext context)
    {
        if (!IsProxyRoute(RawPath(context), out var encoded) || encoded is null)
        {
            throw ArtifactPaths.InvalidPath();
        }

        var path = ArtifactPaths.Normalize(Uri.UnescapeDataString(encoded));
        return path.Length > 0 ? path : throw ArtifactPaths.InvalidPath();
    }

    private static async Task ListProxied(HttpContext context, RequestArgs args)
    {
        var path = args.String("path") is { } p ? ArtifactPaths.Normalize(p) : "";
        var files = await context.Repositories().Destination.ListAsync(path, context.RequestAborted);
        await Responses.WriteJsonAsync(context, w =>
        {
            w.WriteStartObject();
            WriteFiles(w, files, basenames: true);
            w.WriteEndObject();
        });
    }

    private static async Task DownloadProxied(HttpContext context)
    {
        var path = ProxyPath(context);
        var content = await context.Repositories().Destination.OpenReadAsync(path, context.RequestAborted) ?? throw MissingArtifact(path);
        await SendFileAsync(context, content, path);
    }

    private static async Task UploadProxied(HttpContext context)
    {
        var path = ProxyPath(context);
        await context.Repositories().Destination.WriteAsync(path, context.Request.Body, context.RequestAborted);
        await Responses.EmptyAsync(context);
    }

    private static async Task DeleteProxied(HttpContext context)
    {
        var path = ProxyPath(context);
        await context.Repositories().Destination.DeleteAsync(path, context.RequestAborted);
        await Responses.EmptyAsync(context);
    }

    /// <summary>A local destination has no multipart upload; clients fall back to a single PUT on this answer.</summary>
    private static Task MultipartUpload(HttpContext context, RequestArgs args)
    {
        ProxyPath(context);
        throw new MlflowException(ErrorCode.NotImplemented, "Multipart upload is not supported for the current artifact repository");
    }

    // ------------------------------------------------------------ shared

    /// <summary>MLflow answers 500 here; a missing file is a 404 in Cairn.</summary>
    internal static MlflowException MissingArtifact(string path) => MlflowException.NotFound($"Artifact '{path}' does not exist.");

    /// <summary>Folders carry no size and empty files no <c>file_size</c> (proto defaults are left out); no files, no key.</summary>
    private static void WriteFiles(Utf8JsonWriter w, IReadOnlyList<ArtifactFile> files, bool basenames)
    {
        if (files.Count == 0)
        {
            return;
        }

        w.WriteStartArray("files");
        foreach (var file in files)
        {
            w.WriteStartObject();
            w.WriteString("path", basenames ? ArtifactPaths.FileName(file.Path) : file.Path);
            w.WriteBoolean("is_dir", file.IsDir);
            if (!file.IsDir && file.FileSize is > 0 and var size)
            {
                w.WriteNumber("file_size", size);
            }

            w.WriteEndObject();
        }

        w.WriteEndArray();
    }

    /// <summary>Always an attachment with nosniff, so a stored HTML or SVG file never runs on the server's origin.</summary>
    internal static async Task SendFileAsync(HttpContext context, Stream content, string path)
    {
        await using (content)
        {
            var name = ArtifactPaths.FileName(path);
            var response = context.Response;
            response.StatusCode = StatusCodes.Status200OK;
            response.ContentType = ContentTypeOf(name);
            response.Headers.ContentDisposition = ContentDisposition(name);
            response.Headers.XContentTypeOptions = "nosniff";
            if (content.CanSeek)
            {
                response.ContentLength = content.Length;
            }

            await content.CopyToAsync(response.Body, 81_920, context.RequestAborted);
        }
    }

    /// <summary>MLflow's choice: text/plain for its list of text formats, else by extension, else binary.</summary>
    internal static string ContentTypeOf(string fileName)
    {
        var extension = Path.GetExtension(fileName);
        var key = extension.Length > 1 ? extension[1..] : fileName;
        if (TextExtensions.Contains(key))
        {
            return "text/plain";
        }

        return ContentTypes.TryGetContentType(fileName, out var type) ? type : "application/octet-stream";
    }

    /// <summary>
    /// <c>attachment; filename=…</c> the way Werkzeug writes it: a bare token when possible, quoted
    /// otherwise, plus an RFC 5987 <c>filename*</c> for names that are not ASCII.
    /// </summary>
    internal static string ContentDisposition(string fileName)
    {
        if (fileName.All(char.IsAscii))
        {
            return "attachment; filename=" + HeaderValue(fileName);
        }

        var ascii = new string(fileName.Where(c => char.IsAscii(c) && !char.IsControl(c)).ToArray());
        var encoded = new StringBuilder();
        foreach (var b in Encoding.UTF8.GetBytes(fileName))
        {
            var c = (char)b;
            if (b < 0x80 && (char.IsAsciiLetterOrDigit(c) || "!#$&+-.^_`|~".Contains(c, StringComparison.Ordinal)))
            {
                encoded.Append(c);
            }
            else
            {
                encoded.Append('%').Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        return $"attachment; filename={HeaderValue(ascii)}; filename*=UTF-8''{encoded}";
    }

    private static string HeaderValue(string value)
    {
        if (value.Length > 0 && value.All(c => char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c, StringComparison.Ordinal)))
        {
            return value;
        }

        var escaped = new StringBuilder(value.Length + 2).Append('"');
        foreach (var c in value)
        {
            if (char.IsControl(c))
            {
                continue;
            }

            if (c is '"' or '\\')
            {
                escaped.Append('\\');
            }

            escaped.Append(c);
        }

        return escaped.Append('"').ToString();
    }
}
