using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Cairn.EndToEnd.Tests;

/// <summary>
/// A real `cairn server` process on a free loopback port with its own SQLite store and artifact
/// folder, and the few REST calls the UI tests seed data with. Stopped and removed on dispose.
/// </summary>
public sealed class CairnServerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private CairnServerProcess(Process process, string baseUrl, string workDir)
    {
        _process = process;
        BaseUrl = baseUrl;
        WorkDir = workDir;
        Http = new HttpClient { BaseAddress = new Uri(baseUrl), Timeout = TimeSpan.FromSeconds(60) };
    }

    public string BaseUrl { get; }

    public string WorkDir { get; }

    public HttpClient Http { get; }

    public static string RepoRoot { get; } = FindRepoRoot();

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

    private static string FindRepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Cairn.slnx")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("Cannot find the repository root (Cairn.slnx) above " + AppContext.BaseDirectory);
    }

    private static string CairnDll
    {
        get
        {
            var configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";
            var path = Path.Combine(RepoRoot, "src", "Cairn.Cli", "bin", configuration, "net10.0", "linux-x64", "cairn.dll");
            return File.Exists(path) ? path : throw new FileNotFoundException("Build src/Cairn.Cli first", path);
        }
    }

    public static async Task<CairnServerProcess> StartAsync()
    {
        var workDir = Directory.CreateTempSubdirectory("cairn-e2e-").FullName;
        int port;
        using (var listener = new TcpListener(IPAddress.Loopback, 0))
        {
            listener.Start();
            port = ((IPEndPoint)listener.LocalEndpoint).Port;
        }

        var psi = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workDir,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { CairnDll, "server", "--host", "127.0.0.1", "--port", port.ToString(CultureInfo.InvariantCulture),
                     "--backend-store-uri", "sqlite:///" + Path.Combine(workDir, "cairn.db"), "--artifacts-destination", Path.Combine(workDir, "artifacts") })
        {
            psi.ArgumentList.Add(arg);
        }

        var process = Process.Start(psi)!;
        var server = new CairnServerProcess(process, $"http://127.0.0.1:{port}", workDir);
        process.OutputDataReceived += (_, e) => server.Append(e.Data);
        process.ErrorDataReceived += (_, e) => server.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        await server.WaitHealthyAsync();
        return server;
    }

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (_output)
            {
                _output.AppendLine(line);
            }
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

    /// <summary>POSTs JSON to an MLflow API path (relative to /api/2.0/mlflow/), asserting success.</summary>
    public async Task<JsonNode> PostAsync(string path, object body)
    {
        using var content = new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json");
        using var response = await Http.PostAsync("/api/2.0/mlflow/" + path, content);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{path} -> {(int)response.StatusCode} {text}");
        return JsonNode.Parse(text.Length == 0 ? "{}" : text)!;
    }

    public async Task<JsonNode> GetAsync(string pathAndQuery)
    {
        using var response = await Http.GetAsync("/api/2.0/mlflow/" + pathAndQuery);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{pathAndQuery} -> {(int)response.StatusCode} {text}");
        return JsonNode.Parse(text)!;
    }

    public async Task<string> CreateExperimentAsync(string name) =>
        (string)(await PostAsync("experiments/create", new { name }))["experiment_id"]!;

    public async Task<string> CreateRunAsync(string experimentId, string name, long startTime, string? parentRunId = null)
    {
        object[] tags = parentRunId is null ? [] : [new { key = "mlflow.parentRunId", value = parentRunId }];
        var run = await PostAsync("runs/create", new { experiment_id = experimentId, run_name = name, start_time = startTime, user_id = "alice", tags });
        return (string)run["run"]!["info"]!["run_id"]!;
    }

    public Task LogBatchAsync(string runId, object[]? metrics = null, object[]? @params = null, object[]? tags = null) =>
        PostAsync("runs/log-batch", new { run_id = runId, metrics = metrics ?? [], @params = @params ?? [], tags = tags ?? [] });

    public Task FinishAsync(string runId, long endTime) =>
        PostAsync("runs/update", new { run_id = runId, status = "FINISHED", end_time = endTime });

    /// <summary>Uploads through the MLflow web UI's route, which writes to the run's own artifact location.</summary>
    public async Task UploadArtifactAsync(string runId, string path, byte[] content)
    {
        using var body = new ByteArrayContent(content);
        using var response = await Http.PostAsync($"/ajax-api/2.0/mlflow/upload-artifact?run_uuid={runId}&path={Uri.EscapeDataString(path)}", body);
        Assert.True(response.IsSuccessStatusCode, $"upload {path} -> {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
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
        try
        {
            Directory.Delete(WorkDir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
