using System.Diagnostics;
using System.Globalization;
using System.Text;
using Cairn.Server.Tests;

namespace Cairn.Client.Tests;

/// <summary>
/// A `cairn server` on a chosen port and SQLite file that can be killed and started again on the
/// same port and file (CairnProcess deletes its folder on dispose, so a restart needs this).
/// </summary>
public sealed class ServerHost : IAsyncDisposable
{
    private Process? _process;
    private readonly StringBuilder _output = new();

    private ServerHost(string workDir, int port)
    {
        WorkDir = workDir;
        Port = port;
    }

    public string WorkDir { get; }

    public int Port { get; }

    public string Url => $"http://127.0.0.1:{Port}";

    public string DatabasePath => Path.Combine(WorkDir, "cairn.db");

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

    public static async Task<ServerHost> StartAsync(int? port = null)
    {
        var host = new ServerHost(Directory.CreateTempSubdirectory("cairn-client-test-").FullName, port ?? CairnProcess.FreePort());
        await host.StartAsync();
        return host;
    }

    /// <summary>Starts the process (again), retrying while the port is still held by the previous one.</summary>
    public async Task StartAsync()
    {
        if (_process is { HasExited: false })
        {
            throw new InvalidOperationException("already running");
        }

        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var psi = new ProcessStartInfo("dotnet")
            {
                WorkingDirectory = WorkDir,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (var arg in new[] { CairnProcess.CairnDll, "server", "--host", "127.0.0.1", "--port", Port.ToString(CultureInfo.InvariantCulture),
                         "--backend-store-uri", "sqlite:///" + DatabasePath, "--artifacts-destination", Path.Combine(WorkDir, "artifacts") })
            {
                psi.ArgumentList.Add(arg);
            }

            var process = Process.Start(psi)!;
            process.OutputDataReceived += (_, e) => Append(e.Data);
            process.ErrorDataReceived += (_, e) => Append(e.Data);
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            _process = process;
            if (await WaitHealthyAsync(process, deadline))
            {
                return;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("cairn server did not start:\n" + Output);
            }

            await Task.Delay(200);
        }
    }

    private async Task<bool> WaitHealthyAsync(Process process, DateTime deadline)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited)
            {
                return false;
            }

            try
            {
                using var response = await http.GetAsync(Url + "/health");
                if (response.IsSuccessStatusCode)
                {
                    return true;
                }
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(50);
        }

        return false;
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

    /// <summary>Kills the server (no graceful shutdown), keeping its database and artifacts.</summary>
    public async Task KillAsync()
    {
        if (_process is { HasExited: false } p)
        {
            p.Kill(entireProcessTree: true);
            await p.WaitForExitAsync();
        }

        _process?.Dispose();
        _process = null;
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        try
        {
            Directory.Delete(WorkDir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>One server shared by the tests of a class.</summary>
public sealed class ServerFixture : IAsyncLifetime
{
    public ServerHost Server { get; private set; } = null!;

    public string Url => Server.Url;

    public async Task InitializeAsync() => Server = await ServerHost.StartAsync();

    public async Task DisposeAsync() => await Server.DisposeAsync();
}
