using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace Cairn.Server.Tests;

public class ArtifactApiTests
{
    private const string Proxy = "/api/2.0/mlflow-artifacts/artifacts";

    private static async Task<(string ExperimentId, string RunId, string ArtifactUri)> CreateRunAsync(CairnProcess server, string name = "artifacts")
    {
        var exp = (string)(await server.OkAsync("experiments/create", new { name }))["experiment_id"]!;
        var info = (await server.OkAsync("runs/create", new { experiment_id = exp, start_time = 1700000000000 }))["run"]!["info"]!;
        return (exp, (string)info["run_id"]!, (string)info["artifact_uri"]!);
    }

    private static async Task PutAsync(CairnProcess server, string path, byte[] bytes, string contentType = "application/octet-stream")
    {
        using var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        using var response = await server.Http.PutAsync(Proxy + "/" + path, content);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"PUT {path} -> {(int)response.StatusCode} {body}");
        Assert.Equal("{}", body);
    }

    private static Task PutAsync(CairnProcess server, string path, string text) => PutAsync(server, path, Encoding.UTF8.GetBytes(text), "text/plain");

    private static async Task<(HttpStatusCode Status, JsonNode? Body)> GetJsonAsync(CairnProcess server, string pathAndQuery)
    {
        using var response = await server.Http.GetAsync(pathAndQuery);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? null : JsonNode.Parse(text));
    }

    private static async Task<JsonNode> OkJsonAsync(CairnProcess server, string pathAndQuery)
    {
        var (status, body) = await GetJsonAsync(server, pathAndQuery);
        Assert.True(status == HttpStatusCode.OK, $"{pathAndQuery} -> {(int)status} {body?.ToJsonString()}");
        return body!;
    }

    /// <summary>The listing as "path:is_dir:file_size" strings (size "-" when absent), in the order served.</summary>
    private static string[] Files(JsonNode listing) =>
        listing["files"]?.AsArray().Select(f => $"{(string)f!["path"]!}:{(bool)f["is_dir"]!}:{(f["file_size"] is { } s ? ((long)s).ToString(System.Globalization.CultureInfo.InvariantCulture) : "-")}").ToArray() ?? [];

    private static string Q(string value) => Uri.EscapeDataString(value);

    [Theory]
    [MemberData(nameof(Backends.All), MemberType = typeof(Backends))]
    public async Task Proxy_uploads_nested_files_then_lists_downloads_and_deletes_them(string backend)
    {
        await using var server = await Backends.StartAsync(backend);
        if (server is null)
        {
            return;
        }

        var (exp, run, uri) = await CreateRunAsync(server);
        Assert.Equal($"mlflow-artifacts:/{exp}/{run}/artifacts", uri);
        var root = $"{exp}/{run}/artifacts";
        await PutAsync(server, root + "/hello.txt", "hello world\n");
        await PutAsync(server, root + "/dir/sub/data.json", "{\"a\": 1, \"b\": [1, 2]}");
        await PutAsync(server, root + "/dir/table.csv", "x,y\n1,2\n3,4\n");
        await PutAsync(server, root + "/empty.bin", []);
        await PutAsync(server, root + "/with%20space.txt", "spaced");
        await PutAsync(server, root + "/to_delete.txt", "v1");
        await PutAsync(server, root + "/to_delete.txt", "version two");

        // The proxy lists names relative to the listed folder.
        var listing = await OkJsonAsync(server, $"{Proxy}?path={Q(root)}");
        Assert.Equal(["dir:True:-", "empty.bin:False:-", "hello.txt:False:12", "to_delete.txt:False:11", "with space.txt:False:6"], Files(listing));
        Assert.Equal(["sub:True:-", "table.csv:False:12"], Files(await OkJsonAsync(server, $"/ajax-api/2.0/mlflow-artifacts/artifacts?path={Q(root + "/dir")}")));
        Assert.Equal([$"{exp}:True:-"], Files(await OkJsonAsync(server, Proxy)));
        Assert.Equal("{}", (await OkJsonAsync(server, $"{Proxy}?path=no%2Fsuch%2Fdir")).ToJsonString());

        // A run's listing holds paths relative to the run's artifact root.
        var runListing = await OkJsonAsync(server, $"/api/2.0/mlflow/artifacts/list?run_id={run}");
        Assert.Equal(uri, (string)runListing["root_uri"]!);
        Assert.Equal(Files(listing), Files(runListing));
        Assert.Equal(Files(runListing), Files(await OkJsonAsync(server, $"/ajax-api/2.0/mlflow/artifacts/list?run_uuid={run}")));
        Assert.Equal(["dir/sub:True:-", "dir/table.csv:False:12"], Files(await OkJsonAsync(server, $"/api/2.0/mlflow/artifacts/list?run_id={run}&path=dir")));
        Assert.Equal(["dir/sub/data.json:False:21"], Files(await OkJsonAsync(server, $"/api/2.0/mlflow/artifacts/list?run_id={run}&path=dir%2Fsub")));
        foreach (var notAFolder in new[] { "hello.txt", "nope" })
        {
            var only = await OkJsonAsync(server, $"/api/2.0/mlflow/artifacts/list?run_id={run}&path={notAFolder}");
            Assert.Equal(new JsonObject { ["root_uri"] = uri }.ToJsonString(), only.ToJsonString());
        }

        using (var download = await server.Http.GetAsync($"{Proxy}/{root}/hello.txt"))
        {
            Assert.Equal(HttpStatusCode.OK, download.StatusCode);
            Assert.Equal("hello world\n", await download.Content.ReadAsStringAsync());
            Assert.Equal("text/plain", download.Content.Headers.ContentType!.ToString());
            Assert.Equal("attachment; filename=hello.txt", download.Content.Headers.ContentDisposition!.ToString());
            Assert.Equal("nosniff", download.Headers.GetValues("X-Content-Type-Options").Single());
        }

        using (var download = await server.Http.GetAsync($"{Proxy}/{root}/empty.bin"))
        {
            Assert.Equal(HttpStatusCode.OK, download.StatusCode);
            Assert.Empty(await download.Content.ReadAsByteArrayAsync());
            Assert.Equal("application/octet-stream", download.Content.Headers.ContentType!.ToString());
        }

        using (var download = await server.Http.GetAsync($"/get-artifact?run_uuid={run}&path=dir%2Fsub%2Fdata.json"))
        {
            Assert.Equal(HttpStatusCode.OK, download.StatusCode);
            Assert.Equal("{\"a\": 1, \"b\": [1, 2]}", await download.Content.ReadAsStringAsync());
            Assert.Equal("attachment; filename=data.json", download.Content.Headers.ContentDisposition!.ToString());
        }

        Assert.Equal("version two", await server.Http.GetStringAsync($"/get-artifact?run_id={run}&path=to_delete.txt"));
        Assert.Equal("spaced", await File.ReadAllTextAsync(Path.Combine(server.ArtifactsDir, exp, run, "artifacts", "with space.txt")));

        using (var deleted = await server.Http.DeleteAsync($"{Proxy}/{root}/to_delete.txt"))
        {
            Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
            Assert.Equal("{}", await deleted.Content.ReadAsStringAsync());
        }

        using (var deleted = await server.Http.DeleteAsync($"{Proxy}/{root}/dir"))
        {
            Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
        }

        using (var deleted = await server.Http.DeleteAsync($"{Proxy}/{root}/never_existed.txt"))
        {
            Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
        }

        Assert.Equal(["empty.bin:False:-", "hello.txt:False:12", "with space.txt:False:6"], Files(await OkJsonAsync(server, $"/api/2.0/mlflow/artifacts/list?run_id={run}")));
        Assert.False(Directory.Exists(Path.Combine(server.ArtifactsDir, exp, run, "artifacts", "dir")));

        var (missingStatus, missing) = await GetJsonAsync(server, $"{Proxy}/{root}/to_delete.txt");
        Assert.Equal(HttpStatusCode.NotFound, missingStatus);
        Assert.Equal("RESOURCE_DOES_NOT_EXIST", (string)missing!["error_code"]!);
    }

    /// <summary>A body of unknown length, so the client sends it chunked and the server cannot buffer by size.</summary>
    private sealed class UnknownLengthStream(byte[] bytes) : Stream
    {
        private readonly MemoryStream _inner = new(bytes);

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => _inner.Read(buffer, offset, Math.Min(count, 64 * 1024));

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    [Theory]
    [MemberData(nameof(Backends.All), MemberType = typeof(Backends))]
    public async Task A_5_MB_upload_is_streamed_and_downloads_byte_for_byte(string backend)
    {
        await using var server = await Backends.StartAsync(backend);
        if (server is null)
        {
            return;
        }

        var (exp, run, _) = await CreateRunAsync(server);
        var bytes = RandomNumberGenerator.GetBytes(5 * 1024 * 1024 + 3);
        using (var content = new StreamContent(new UnknownLengthStream(bytes)))
        {
            content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            using var response = await server.Http.PutAsync($"{Proxy}/{exp}/{run}/artifacts/model/weights.bin", content);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        using (var download = await server.Http.GetAsync($"{Proxy}/{exp}/{run}/artifacts/model/weights.bin", HttpCompletionOption.ResponseHeadersRead))
        {
            Assert.Equal(HttpStatusCode.OK, download.StatusCode);
            Assert.Equal(bytes.Length, download.Content.Headers.ContentLength);
            await using var body = await download.Content.ReadAsStreamAsync();
            Assert.Equal(SHA256.HashData(bytes), await SHA256.HashDataAsync(body));
        }

        Assert.Equal([$"model/weights.bin:False:{bytes.Length}"], Files(await OkJsonAsync(server, $"/api/2.0/mlflow/artifacts/list?run_id={run}&path=model")));

        // No temporary upload file is left beside the artifact.
        Assert.Equal(["weights.bin"], Directory.GetFileSystemEntries(Path.Combine(server.ArtifactsDir, exp, run, "artifacts", "model")).Select(p => Path.GetFileName(p)!).ToArray());
    }

    [Theory]
    [MemberData(nameof(Backends.All), MemberType = typeof(Backends))]
    public async Task Ui_upload_get_artifact_and_their_errors_answer_as_mlflow(string backend)
    {
        await using var server = await Backends.StartAsync(backend);
        if (server is null)
        {
            return;
        }

        var (_, run, _) = await CreateRunAsync(server);
        using (var content = new StringContent("uploaded via ui", Encoding.UTF8, "application/octet-stream"))
        using (var response = await server.Http.PostAsync($"/ajax-api/2.0/mlflow/upload-artifact?run_uuid={run}&path=uploaded%2Fnotes.txt", content))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("", await response.Content.ReadAsStringAsync());
        }

        Assert.Equal(["uploaded/notes.txt:False:15"], Files(await OkJsonAsync(server, $"/api/2.0/mlflow/artifacts/list?run_id={run}&path=uploaded")));
        Assert.Equal("uploaded via ui", await server.Http.GetStringAsync($"/get-artifact?run_uuid={run}&path=uploaded%2Fnotes.txt"));

        async Task ExpectUiUploadError(string query, string body, string message)
        {
            using var content = new StringContent(body, Encoding.UTF8, "application/octet-stream");
            using var response = await server.Http.PostAsync("/ajax-api/2.0/mlflow/upload-artifact?" + query, content);
            var json = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Equal("INVALID_PARAMETER_VALUE", (string)json["error_code"]!);
            Assert.Equal(message, (string)json["message"]!);
        }

        await ExpectUiUploadError($"run_uuid={run}&path=uploaded%2Fempty.txt", "", "Request must specify data.");
        await ExpectUiUploadError("path=x.txt", "x", "Request must specify run_uuid.");
        await ExpectUiUploadError($"run_uuid={run}", "x", "Request must specify path.");
        Assert.Equal(["uploaded/notes.txt:False:15"], Files(await OkJsonAsync(server, $"/api/2.0/mlflow/artifacts/list?run_id={run}&path=uploaded")));

        const string unknown = "0123456789abcdef0123456789abcdef";
        foreach (var url in new[] { $"/api/2.0/mlflow/artifacts/list?run_id={unknown}", $"/get-artifact?run_uuid={unknown}&path=x" })
        {
            var (status, body) = await GetJsonAsync(server, url);
            Assert.Equal(HttpStatusCode.NotFound, status);
            Assert.Equal("RESOURCE_DOES_NOT_EXIST", (string)body!["error_code"]!);
            Assert.Equal($"Run with id={unknown} not found", (string)body["message"]!);
        }

        var (missingFile, missingBody) = await GetJsonAsync(server, $"/get-artifact?run_uuid={run}&path=nope.txt");
        Assert.Equal(HttpStatusCode.NotFound, missingFile);
        Assert.Equal("RESOURCE_DOES_NOT_EXIST", (string)missingBody!["error_code"]!);
        var (folder, _) = await GetJsonAsync(server, $"/get-artifact?run_uuid={run}&path=uploaded");
        Assert.Equal(HttpStatusCode.NotFound, folder);
        var (noPath, noPathBody) = await GetJsonAsync(server, $"/get-artifact?run_uuid={run}");
        Assert.Equal(HttpStatusCode.BadRequest, noPath);
        Assert.Equal("INVALID_PARAMETER_VALUE", (string)noPathBody!["error_code"]!);

        foreach (var step in new[] { "create", "complete", "abort" })
        {
            using var content = new StringContent("{\"path\": \"big.bin\", \"num_parts\": 2}", Encoding.UTF8, "application/json");
            using var response = await server.Http.PostAsync($"/api/2.0/mlflow-artifacts/mpu/{step}/1/{run}/artifacts/big.bin", content);
            Assert.Equal(HttpStatusCode.NotImplemented, response.StatusCode);
            Assert.Equal("NOT_IMPLEMENTED", (string)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error_code"]!);
        }
    }

    /// <summary>
    /// Sends a request exactly as written, over a bare socket: HttpClient (System.Uri) would remove
    /// the dot segments and decode the escapes these tests are about.
    /// </summary>
    private static async Task<(int Status, string ContentType, string Body)> RawAsync(CairnProcess server, string method, string target, string? body = null, string contentType = "text/plain")
    {
        var uri = new Uri(server.BaseUrl);
        using var client = new TcpClient();
        await client.ConnectAsync(uri.Host, uri.Port);
        await using var stream = client.GetStream();
        var payload = body is null ? [] : Encoding.UTF8.GetBytes(body);
        var head = new StringBuilder($"{method} {target} HTTP/1.0\r\nHost: {uri.Authority}\r\n");
        if (body is not null)
        {
            head.Append($"Content-Type: {contentType}\r\nContent-Length: {payload.Length}\r\n");
        }

        await stream.WriteAsync(Encoding.ASCII.GetBytes(head.Append("\r\n").ToString()));
        await stream.WriteAsync(payload);
        using var received = new MemoryStream();
        await stream.CopyToAsync(received);
        var text = Encoding.UTF8.GetString(received.ToArray());
        var end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        var lines = text[..end].Split("\r\n");
        var type = lines.FirstOrDefault(l => l.StartsWith("Content-Type:", StringComparison.OrdinalIgnoreCase))?["Content-Type:".Length..].Trim() ?? "";
        return (int.Parse(lines[0].Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture), type, text[(end + 4)..]);
    }

    /// <summary>Everything in the server's work folder outside its artifacts folder and database, with file contents.</summary>
    private static string[] OutsideArtifacts(CairnProcess server) =>
        Directory.EnumerateFileSystemEntries(server.WorkDir, "*", SearchOption.AllDirectories)
            .Where(p => !p.StartsWith(server.ArtifactsDir, StringComparison.Ordinal) && !Path.GetFileName(p).StartsWith("cairn.db", StringComparison.Ordinal))
            .Select(p => p + (File.Exists(p) ? ":" + File.ReadAllText(p) : ""))
            .Order(StringComparer.Ordinal)
            .ToArray();

    [Theory]
    [MemberData(nameof(Backends.All), MemberType = typeof(Backends))]
    public async Task Traversal_on_every_artifact_route_is_400_and_touches_nothing_outside_the_artifacts_folder(string backend)
    {
        await using var server = await Backends.StartAsync(backend);
        if (server is null)
        {
            return;
        }

        var (exp, run, _) = await CreateRunAsync(server);
        await PutAsync(server, $"{exp}/{run}/artifacts/dir/a.txt", "a");
        await File.WriteAllTextAsync(Path.Combine(server.WorkDir, "canary.txt"), "canary");

        // A link planted inside a run's folder that leads out of the artifacts folder.
        Directory.CreateSymbolicLink(Path.Combine(server.ArtifactsDir, exp, run, "artifacts", "escape"), server.WorkDir);
        var before = OutsideArtifacts(server);

        // Each would reach <work>/evil.txt, <work>/canary.txt or a system file if the path were followed.
        var work = server.WorkDir.TrimStart('/');
        var deep = $"{exp}/{run}/artifacts/%2E%2E/%2E%2E/%2E%2E/%2E%2E";
        var runList = $"/api/2.0/mlflow/artifacts/list?run_id={run}&path=";
        var getArtifact = $"/get-artifact?run_uuid={run}&path=";
        var upload = $"/ajax-api/2.0/mlflow/upload-artifact?run_uuid={run}&path=";
        var cases = new (string Method, string Target, string? Body)[]
        {
            ("GET", runList + Q("../../etc"), null),
            ("GET", runList + Q("/etc"), null),
            ("GET", runList + Q("dir#x"), null),
            ("GET", runList + Q("%2E%2E/%2E%2E/etc"), null),
            ("GET", runList + Q("escape"), null),
            ("GET", "/ajax-api/2.0/mlflow/artifacts/list?run_uuid=" + run + "&path=" + Q("dir/../.."), null),
            ("GET", getArtifact + Q("../../../../etc/passwd"), null),
            ("GET", getArtifact + Q("/etc/passwd"), null),
            ("GET", getArtifact + Q("file:///etc/passwd"), null),
            ("GET", getArtifact + Q("..%2F..%2F..%2F..%2Fcanary.txt"), null),
            ("GET", getArtifact + Q("escape/canary.txt"), null),
            ("GET", Proxy + "/../../../etc/passwd", null),
            ("GET", Proxy + "/%2E%2E/%2E%2E/etc/passwd", null),
            ("GET", Proxy + "/..%2F..%2F..%2Fetc%2Fpasswd", null),
            ("GET", Proxy + "//etc/passwd", null),
            ("GET", Proxy + "/%252E%252E/canary.txt", null),
            ("GET", $"{Proxy}/{exp}/{run}/artifacts/escape/canary.txt", null),
            ("GET", "/ajax-api/2.0/mlflow-artifacts/artifacts/%2E%2E/canary.txt", null),
            ("GET", Proxy + "?path=" + Q("../.."), null),
            ("GET", Proxy + "?path=" + Q("/etc"), null),
            ("GET", Proxy + "?path=" + Q("%2E%2E"), null),
            ("PUT", Proxy + "/%2E%2E/evil.txt", "evil"),
            ("PUT", Proxy + "/../evil.txt", "evil"),
            ("PUT", Proxy + "/..%2Fevil.txt", "evil"),
            ("PUT", Proxy + "/%252E%252E%252Fevil.txt", "evil"),
            ("PUT", Proxy + "/x%5C..%5C..%5Cevil.txt", "evil"),
            ("PUT", $"{Proxy}/{deep}/evil.txt", "evil"),
            ("PUT", $"{Proxy}//{work}/evil.txt", "evil"),
            ("PUT", $"{Proxy}/file:%2F%2F%2F{Q(work)}%2Fevil.txt", "evil"),
            ("PUT", $"{Proxy}/{exp}/{run}/artifacts/escape/evil.txt", "evil"),
            ("PUT", $"{Proxy}/{exp}/{run}/artifacts/dir%23x", "evil"),
            ("PUT", "/ajax-api/2.0/mlflow-artifacts/artifacts/%2E%2E/evil.txt", "evil"),
            ("DELETE", Proxy + "/%2E%2E/canary.txt", null),
            ("DELETE", Proxy + "/../canary.txt", null),
            ("DELETE", Proxy + "/..%2Fcanary.txt", null),
            ("DELETE", $"{Proxy}/{deep}", null),
            ("DELETE", $"{Proxy}/{exp}/{run}/artifacts/escape/canary.txt", null),
            ("POST", upload + Q("../../../../evil.txt"), "evil"),
            ("POST", upload + Q("/" + work + "/evil.txt"), "evil"),
            ("POST", upload + Q("escape/evil.txt"), "evil"),
            ("POST", "/api/2.0/mlflow-artifacts/mpu/create/%2E%2E/evil.txt", "{\"path\": \"evil.txt\", \"num_parts\": 2}"),
        };

        var wrong = new List<string>();
        foreach (var (method, target, body) in cases)
        {
            var contentType = method == "POST" && target.Contains("/mpu/", StringComparison.Ordinal) ? "application/json" : "application/octet-stream";
            var (status, type, text) = await RawAsync(server, method, target, body, contentType);
            var expected = new JsonObject { ["error_code"] = "INVALID_PARAMETER_VALUE", ["message"] = "Invalid path" }.ToJsonString();
            if (status != 400 || !type.StartsWith("application/json", StringComparison.Ordinal) || text != expected)
            {
                wrong.Add($"{method} {target} -> {status} {type} {text}");
            }
        }

        Assert.True(wrong.Count == 0, "Not answered 400 Invalid path:\n" + string.Join("\n", wrong));

        Assert.False(server.HasExited);
        Assert.Equal("OK", await server.Http.GetStringAsync("/health"));
        Assert.Equal(before, OutsideArtifacts(server));
        Assert.Equal("a", await server.Http.GetStringAsync($"{Proxy}/{exp}/{run}/artifacts/dir/a.txt"));

        // The link is neither listed nor followed, and the run's own files are still served.
        Assert.Equal(["dir:True:-"], Files(await OkJsonAsync(server, $"/api/2.0/mlflow/artifacts/list?run_id={run}")));
    }

    [Theory]
    [MemberData(nameof(Backends.All), MemberType = typeof(Backends))]
    public async Task Without_serving_artifacts_the_proxy_is_503_and_runs_list_their_shared_folder(string backend)
    {
        var shared = Directory.CreateTempSubdirectory("cairn-shared-").FullName;
        try
        {
            await using var server = await Backends.StartAsync(backend, "--no-serve-artifacts", "--default-artifact-root", shared);
            if (server is null)
            {
                return;
            }

            var (exp, run, uri) = await CreateRunAsync(server);
            Assert.Equal($"{shared}/{exp}/{run}/artifacts", uri);

            // Clients write into the shared folder themselves; the server lists and serves what is there.
            var runFolder = Path.Combine(shared, exp, run, "artifacts");
            Directory.CreateDirectory(Path.Combine(runFolder, "model"));
            await File.WriteAllTextAsync(Path.Combine(runFolder, "model", "MLmodel"), "flavors: {}\n");
            await File.WriteAllTextAsync(Path.Combine(runFolder, "metrics.csv"), "a,b\n");

            var listing = await OkJsonAsync(server, $"/api/2.0/mlflow/artifacts/list?run_id={run}");
            Assert.Equal(uri, (string)listing["root_uri"]!);
            Assert.Equal(["metrics.csv:False:4", "model:True:-"], Files(listing));
            using (var download = await server.Http.GetAsync($"/get-artifact?run_id={run}&path=model%2FMLmodel"))
            {
                Assert.Equal("flavors: {}\n", await download.Content.ReadAsStringAsync());
                Assert.Equal("text/plain", download.Content.Headers.ContentType!.ToString());
            }

            foreach (var (method, target) in new[] { ("GET", Proxy), ("GET", $"{Proxy}/{exp}/{run}/artifacts/metrics.csv"), ("PUT", $"{Proxy}/x.txt"), ("DELETE", $"{Proxy}/{exp}"), ("GET", Proxy + "/%2E%2E/etc/passwd") })
            {
                var (status, _, text) = await RawAsync(server, method, target, method == "PUT" ? "x" : null);
                Assert.True(status == 503, $"{method} {target} -> {status} {text}");
            }

            Assert.False(Directory.Exists(server.ArtifactsDir) && Directory.EnumerateFileSystemEntries(server.ArtifactsDir).Any());
            Assert.True(File.Exists(Path.Combine(runFolder, "metrics.csv")));
        }
        finally
        {
            Directory.Delete(shared, recursive: true);
        }
    }
}
