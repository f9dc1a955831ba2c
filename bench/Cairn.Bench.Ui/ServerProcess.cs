using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;

namespace Cairn.Bench.Ui;

/// <summary>A fresh `cairn server` on a free loopback port with its own SQLite store, stopped on dispose.</summary>
internal sealed class ServerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StreamWriter _log;
    private readonly bool _keep;

    private ServerProcess(Process process, string baseUrl, string workDir, StreamWriter log, bool keep)
    {
        _process = process;
        BaseUrl = baseUrl;
        WorkDir = workDir;
        _log = log;
        _keep = keep;
    }

    public string BaseUrl { get; }

    public string WorkDir { get; }

    public static string DefaultCairnDll()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Cairn.slnx")))
        {
            dir = dir.Parent;
        }

        if (dir is null)
        {
            throw new InvalidOperationException("Cannot find the repository root (Cairn.slnx); pass --cairn-dll or --url");
        }

        return Path.Combine(dir.FullName, "src", "Cairn.Cli", "bin", "Release", "net10.0", "linux-x64", "cairn.dll");
    }

    public static async Task<ServerProcess> StartAsync(string cairnDll, bool keep)
    {
        if (!File.Exists(cairnDll))
        {
            throw new FileNotFoundException("Build src/Cairn.Cli (Release) first", cairnDll);
        }

        var workDir = Directory.CreateTempSubdirectory("cairn-bench-ui-").FullName;
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
        foreach (var arg in new[]
                 {
                     cairnDll, "server", "--host", "127.0.0.1", "--port", port.ToString(CultureInfo.InvariantCulture),
                     "--backend-store-uri", "sqlite:///" + Path.Combine(workDir, "cairn.db"), "--artifacts-destination", Path.Combine(workDir, "artifacts"),
                 })
        {
            psi.ArgumentList.Add(arg);
        }

        var log = new StreamWriter(Path.Combine(workDir, "server.log")) { AutoFlush = true };
        var process = Process.Start(psi)!;
        process.OutputDataReceived += (_, e) => Write(log, e.Data);
        process.ErrorDataReceived += (_, e) => Write(log, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new ServerProcess(process, $"http://127.0.0.1:{port}", workDir, log, keep);
        Program.Log($"cairn server pid {process.Id} on {server.BaseUrl}, store {workDir}/cairn.db");

        using var http = new HttpClient { BaseAddress = new Uri(server.BaseUrl), Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"cairn server exited with {process.ExitCode}; see {workDir}/server.log");
            }

            try
            {
                using var response = await http.GetAsync("/health");
                if (response.IsSuccessStatusCode)
                {
                    return server;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }

            await Task.Delay(100);
        }

        await server.DisposeAsync();
        throw new TimeoutException("cairn server did not answer /health within 60 s");
    }

    private static void Write(StreamWriter log, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (log)
        {
            log.WriteLine(line);
        }
    }

    /// <summary>CPU seconds and peak RSS of the server so far, from /proc.</summary>
    public JsonObject Usage()
    {
        var usage = new JsonObject { ["pid"] = _process.Id };
        try
        {
            _process.Refresh();
            usage["cpu_seconds"] = Math.Round(_process.TotalProcessorTime.TotalSeconds, 1);
            var hwm = File.ReadLines($"/proc/{_process.Id}/status").FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
            if (hwm is not null)
            {
                var kb = long.Parse(hwm.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
                usage["peak_rss_mib"] = Math.Round(kb / 1024.0, 0);
            }

            usage["db_mib"] = Math.Round(new FileInfo(Path.Combine(WorkDir, "cairn.db")).Length / 1048576.0, 0);
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException or UnauthorizedAccessException)
        {
            usage["error"] = ex.Message;
        }

        return usage;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        lock (_log)
        {
            _log.Dispose();
        }

        if (_keep)
        {
            Program.Log($"kept {WorkDir}");
            return;
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
