using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Cairn.Server.Tests;

/// <summary>
/// A real `cairn server` process on a free loopback port, with its own store and artifact folder,
/// stopped (and its files removed) on dispose.
/// </summary>
public sealed class CairnProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private CairnProcess(Process process, string baseUrl, string workDir, string? postgresDatabase)
    {
        _process = process;
        BaseUrl = baseUrl;
        WorkDir = workDir;
        PostgresDatabase = postgresDatabase;
        Http = new HttpClient { BaseAddress = new Uri(baseUrl), Timeout = TimeSpan.FromSeconds(60) };
    }

    public string BaseUrl { get; }

    public string WorkDir { get; }

    public string ArtifactsDir => Path.Combine(WorkDir, "artifacts");

    public string? PostgresDatabase { get; }

    public HttpClient Http { get; }

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public static string RepoRoot { get; } = FindRepoRoot();

    private static string FindRepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Cairn.slnx")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("Cannot find the repository root (Cairn.slnx) above " + AppContext.BaseDirectory);
    }

    public static string CairnDll
    {
        get
        {
            var configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";
            var path = Path.Combine(RepoRoot, "src", "Cairn.Cli", "bin", configuration, "net10.0", "linux-x64", "cairn.dll");
            return File.Exists(path) ? path : throw new FileNotFoundException("Build src/Cairn.Cli first", path);
        }
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Starts a server on SQLite, or on a fresh PostgreSQL database when <paramref name="backend"/> is "postgres".</summary>
    public static async Task<CairnProcess> StartAsync(string backend = "sqlite", params string[] extraArgs)
    {
        var workDir = Directory.CreateTempSubdirectory("cairn-test-").FullName;
        string storeUri;
        string? database = null;
        if (backend == "postgres")
        {
            database = await TestPostgres.CreateDatabaseAsync();
            storeUri = TestPostgres.UriFor(database);
        }
        else
        {
            storeUri = "sqlite:///" + Path.Combine(workDir, "cairn.db");
        }

        var port = FreePort();
        var psi = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workDir,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { CairnDll, "server", "--host", "127.0.0.1", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture),
                     "--backend-store-uri", storeUri, "--artifacts-destination", Path.Combine(workDir, "artifacts") }.Concat(extraArgs))
        {
            psi.ArgumentList.Add(arg);
        }

        var process = Process.Start(psi)!;
        var server = new CairnProcess(process, $"http://127.0.0.1:{port}", workDir, database);
        process.OutputDataReceived += (_, e) => server.Append(e.Data);
        process.ErrorDataReceived += (_, e) => server.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        await server.WaitHealthyAsync();
        return server;
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }
    }

    private async Task WaitHealthyAsync()
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"cairn server exited with {_process.ExitCode}:\n{Output}");
            }

            try
            {
                using var response = await Http.GetAsync("/health");
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(50);
        }

        throw new TimeoutException("cairn server did not become healthy:\n" + Output);
    }

    public bool HasExited => _process.HasExited;

    /// <summary>POSTs JSON to an MLflow API path (relative to /api/2.0/mlflow/) and returns status and parsed body.</summary>
    public async Task<(HttpStatusCode Status, JsonNode? Body)> PostAsync(string path, object body)
    {
        using var content = new StringContent(body as string ?? JsonSerializer.Serialize(body), Encoding.UTF8, "application/json");
        using var response = await Http.PostAsync("/api/2.0/mlflow/" + path, content);
        return (response.StatusCode, await ParseAsync(response));
    }

    public async Task<(HttpStatusCode Status, JsonNode? Body)> GetAsync(string pathAndQuery)
    {
        using var response = await Http.GetAsync("/api/2.0/mlflow/" + pathAndQuery);
        return (response.StatusCode, await ParseAsync(response));
    }

    /// <summary>POSTs and asserts success, returning the body.</summary>
    public async Task<JsonNode> OkAsync(string path, object body)
    {
        var (status, json) = await PostAsync(path, body);
        Assert.True(status == HttpStatusCode.OK, $"{path} -> {(int)status} {json?.ToJsonString()}");
        return json!;
    }

    public async Task<JsonNode> OkGetAsync(string pathAndQuery)
    {
        var (status, json) = await GetAsync(pathAndQuery);
        Assert.True(status == HttpStatusCode.OK, $"{pathAndQuery} -> {(int)status} {json?.ToJsonString()}");
        return json!;
    }

    private static async Task<JsonNode?> ParseAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        if (response.Content.Headers.ContentType?.MediaType != "application/json" || text.Length == 0)
        {
            return text.Length == 0 ? null : JsonValue.Create(text);
        }

        return JsonNode.Parse(text);
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        if (PostgresDatabase is not null)
        {
            await TestPostgres.DropDatabaseAsync(PostgresDatabase);
        }

        try
        {
            Directory.Delete(WorkDir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
