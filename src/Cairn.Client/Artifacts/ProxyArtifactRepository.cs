using System.Net;
using System.Net.Http.Headers;
using Cairn.Client.Rest;
using Cairn.Core.Artifacts;
using static Cairn.Client.Rest.WireJson;

namespace Cairn.Client.Artifacts;

/// <summary>Artifacts behind a tracking server's proxy (<c>/api/2.0/mlflow-artifacts/artifacts/...</c>).</summary>
internal sealed class ProxyArtifactRepository(MlflowHttp http, string root) : IArtifactRepository
{
    private const string Prefix = "api/2.0/mlflow-artifacts/artifacts";

    private string Full(string? path) => ArtifactLocations.Join(root, ArtifactLocations.Relative(path ?? ""));

    private static string Encode(string path) => string.Join('/', path.Split('/').Select(Uri.EscapeDataString));

    public async Task<IReadOnlyList<ArtifactFile>> ListAsync(string? path, CancellationToken ct = default)
    {
        var relative = ArtifactLocations.Relative(path ?? "");
        var full = Full(relative);
        using var doc = await http.GetJsonAsync(full.Length == 0 ? "" : "?path=" + Uri.EscapeDataString(full), ct, Prefix).ConfigureAwait(false);
        return Array(doc.RootElement, "files")
            .Select(f =>
            {
                var isDir = f.TryGetProperty("is_dir", out var d) && d.ValueKind == System.Text.Json.JsonValueKind.True;
                return new ArtifactFile(ArtifactLocations.Join(relative, Str(f, "path")), isDir, isDir ? null : OptLong(f, "file_size") ?? 0);
            })
            .ToList();
    }

    public async Task<Stream?> OpenReadAsync(string path, CancellationToken ct = default)
    {
        var url = Prefix + "/" + Encode(Full(path));
        var response = await http.SendAsync(() => new HttpRequestMessage(HttpMethod.Get, url), url, ct).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound || (response.StatusCode == HttpStatusCode.InternalServerError && await IsMissingAsync(response).ConfigureAwait(false)))
        {
            response.Dispose();
            return null;
        }

        if (!response.IsSuccessStatusCode)
        {
            using (response)
            {
                var body = await response.Content.ReadAsByteArrayAsync(ct).ConfigureAwait(false);
                throw MlflowErrors.FromResponse(response.StatusCode, response.Content.Headers.ContentType?.MediaType, body, "download " + path);
            }
        }

        var stream = await response.Content.ReadAsStreamAsync(ct).ConfigureAwait(false);
        return stream;
    }

    /// <summary>MLflow 2.17.2 answers a missing artifact with 500 and a "No such file" message.</summary>
    private static async Task<bool> IsMissingAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync().ConfigureAwait(false);
        return text.Contains("No such file", StringComparison.OrdinalIgnoreCase) || text.Contains("does not exist", StringComparison.OrdinalIgnoreCase);
    }

    public async Task WriteAsync(string path, Stream content, CancellationToken ct = default)
    {
        var url = Prefix + "/" + Encode(Full(path));
        var start = content.CanSeek ? content.Position : -1;
        var attempt = 0;
        using var response = await http.SendAsync(() =>
        {
            if (attempt++ > 0)
            {
                if (start < 0)
                {
                    throw new IOException($"Uploading '{path}' failed and its stream cannot be rewound to retry.");
                }

                content.Position = start;
            }

            var body = new StreamContent(new NonClosingStream(content));
            body.Headers.ContentType = new MediaTypeHeaderValue(ContentTypes.For(path));
            return new HttpRequestMessage(HttpMethod.Put, url) { Content = body };
        }, "upload " + path, ct).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            var bytes = await response.Content.ReadAsByteArrayAsync(ct).ConfigureAwait(false);
            throw MlflowErrors.FromResponse(response.StatusCode, response.Content.Headers.ContentType?.MediaType, bytes, "upload " + path);
        }
    }

    public async Task DeleteAsync(string path, CancellationToken ct = default)
    {
        var url = Prefix + "/" + Encode(Full(path));
        using var response = await http.SendAsync(() => new HttpRequestMessage(HttpMethod.Delete, url), "delete " + path, ct).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode && response.StatusCode != HttpStatusCode.NotFound)
        {
            var bytes = await response.Content.ReadAsByteArrayAsync(ct).ConfigureAwait(false);
            throw MlflowErrors.FromResponse(response.StatusCode, response.Content.Headers.ContentType?.MediaType, bytes, "delete " + path);
        }
    }

    /// <summary>Keeps the caller's stream open when HttpClient disposes the request content (so a retry can rewind it).</summary>
    private sealed class NonClosingStream(Stream inner) : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => inner.Length;
        public override long Position { get => inner.Position; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => inner.ReadAsync(buffer, cancellationToken);
        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => inner.ReadAsync(buffer, offset, count, cancellationToken);
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}

/// <summary>Content types for uploads, so servers and browsers show text as text.</summary>
internal static class ContentTypes
{
    public static string For(string path) => Path.GetExtension(path).ToLowerInvariant() switch
    {
        ".txt" or ".log" or ".diff" or ".patch" or ".cs" or ".md" => "text/plain",
        ".json" => "application/json",
        ".yaml" or ".yml" => "application/x-yaml",
        ".csv" => "text/csv",
        ".png" => "image/png",
        ".svg" => "image/svg+xml",
        ".html" => "text/html",
        _ => "application/octet-stream",
    };
}
