using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Cairn.Client;
using Cairn.Client.Rest;

// Usage: Cairn.Bench.Client [--url http://127.0.0.1:5000] [--calls 1000000] [--points 1000000]
// Without --url a fresh `cairn server` (src/Cairn.Cli, Release build preferred) is started on a free port.
// Prints one JSON object on stdout.
var opts = args.Select((a, i) => (a, i)).Where(p => p.a.StartsWith("--", StringComparison.Ordinal))
    .ToDictionary(p => p.a[2..], p => p.i + 1 < args.Length ? args[p.i + 1] : "");
var calls = opts.TryGetValue("calls", out var c) ? int.Parse(c, CultureInfo.InvariantCulture) : 1_000_000;
var points = opts.TryGetValue("points", out var p) ? int.Parse(p, CultureInfo.InvariantCulture) : 1_000_000;

Process? server = null;
string? workDir = null;
var url = opts.GetValueOrDefault("url");
if (string.IsNullOrEmpty(url))
{
    (server, url, workDir) = await StartServerAsync();
}

try
{
    await using var client = await TrackingClient.ConnectAsync(url, new TrackingClientOptions { Logger = new BatchLoggerOptions { Capacity = Math.Max(calls, points) + 16 } });
    var experiment = "bench-client-" + DateTime.UtcNow.ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture);

    // Warm-up: the HTTP connection, and enough points that client and server run their hot paths
    // fully optimised (the JIT tiers code up over the first seconds; a tracking server is long-running).
    const int warmupPoints = 200_000;
    await using (var warm = await client.StartRunAsync(new RunOptions { ExperimentName = experiment, LogLineage = false }))
    {
        for (var i = 0; i < warmupPoints; i++)
        {
            warm.LogMetric("warm", i, i);
        }
    }

    // 1. Caller side: how fast LogMetric accepts calls (the buffer holds them all, so the server's pace does not enter).
    double callsPerSecond;
    double medianNs, p99Ns;
    await using (var run = await client.StartRunAsync(new RunOptions { ExperimentName = experiment, RunName = "tight-loop", LogLineage = false }))
    {
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < calls; i++)
        {
            run.LogMetric("loss", i * 0.5, i);
        }

        clock.Stop();
        callsPerSecond = calls / clock.Elapsed.TotalSeconds;
        await run.FlushAsync();

        // Per-call latency: time each call, minus the cost of reading the clock twice.
        const int samples = 200_000;
        var overhead = new long[10_000];
        for (var i = 0; i < overhead.Length; i++)
        {
            var t0 = Stopwatch.GetTimestamp();
            overhead[i] = Stopwatch.GetTimestamp() - t0;
        }

        Array.Sort(overhead);
        var timerTicks = overhead[overhead.Length / 2];
        var lat = new long[samples];
        for (var i = 0; i < samples; i++)
        {
            var t0 = Stopwatch.GetTimestamp();
            run.LogMetric("latency", i, i);
            lat[i] = Stopwatch.GetTimestamp() - t0 - timerTicks;
        }

        Array.Sort(lat);
        double Ns(long ticks) => Math.Max(ticks, 0) * 1e9 / Stopwatch.Frequency;
        medianNs = Ns(lat[samples / 2]);
        p99Ns = Ns(lat[(int)(samples * 0.99)]);
    }

    // 2. End to end: from the first call until the server has acknowledged every point.
    double pointsPerSecond;
    long requests;
    int stored;
    await using (var run = await client.StartRunAsync(new RunOptions { ExperimentName = experiment, RunName = "end-to-end", LogLineage = false }))
    {
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < points; i++)
        {
            run.LogMetric("e2e", i, i);
        }

        await run.FlushAsync();
        clock.Stop();
        pointsPerSecond = points / clock.Elapsed.TotalSeconds;
        requests = run.Logger.Requests;
        await using var reader = new RestTrackingStore(url);
        stored = (await reader.GetMetricHistoryAsync(run.RunId, "e2e")).Count;
    }

    var result = new Dictionary<string, object>
    {
        ["bench"] = "cairn-client",
        ["url"] = url,
        ["warmup_points"] = warmupPoints,
        ["log_metric_calls"] = calls,
        ["log_metric_calls_per_second"] = Math.Round(callsPerSecond),
        ["log_metric_median_ns"] = Math.Round(medianNs, 1),
        ["log_metric_p99_ns"] = Math.Round(p99Ns, 1),
        ["end_to_end_points"] = points,
        ["end_to_end_points_per_second"] = Math.Round(pointsPerSecond),
        ["end_to_end_requests"] = requests,
        ["end_to_end_points_stored"] = stored,
        ["targets"] = new Dictionary<string, object>
        {
            ["calls_per_second_min"] = 1_000_000,
            ["median_ns_max"] = 1000,
            ["end_to_end_points_per_second_min"] = 300_000,
        },
    };
    Console.WriteLine(JsonSerializer.Serialize(result));
    return stored == points ? 0 : 1;
}
finally
{
    if (server is { HasExited: false })
    {
        server.Kill(entireProcessTree: true);
        await server.WaitForExitAsync();
    }

    if (workDir is not null)
    {
        Directory.Delete(workDir, recursive: true);
    }
}

static async Task<(Process, string, string)> StartServerAsync()
{
    var dir = new DirectoryInfo(AppContext.BaseDirectory);
    while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Cairn.slnx")))
    {
        dir = dir.Parent;
    }

    var root = dir?.FullName ?? throw new InvalidOperationException("repository root not found");
    var dll = new[] { "Release", "Debug" }.Select(cfg => Path.Combine(root, "src", "Cairn.Cli", "bin", cfg, "net10.0", "linux-x64", "cairn.dll")).FirstOrDefault(File.Exists)
        ?? throw new FileNotFoundException("Build src/Cairn.Cli first (dotnet build -c Release src/Cairn.Cli)");
    using var listener = new TcpListener(IPAddress.Loopback, 0);
    listener.Start();
    var port = ((IPEndPoint)listener.LocalEndpoint).Port;
    listener.Stop();
    var work = Directory.CreateTempSubdirectory("cairn-bench-client-").FullName;
    var psi = new ProcessStartInfo("dotnet") { WorkingDirectory = work, RedirectStandardOutput = true, RedirectStandardError = true };
    foreach (var a in new[] { dll, "server", "--host", "127.0.0.1", "--port", port.ToString(CultureInfo.InvariantCulture), "--backend-store-uri", "sqlite:///" + Path.Combine(work, "cairn.db"), "--artifacts-destination", Path.Combine(work, "artifacts") })
    {
        psi.ArgumentList.Add(a);
    }

    var process = Process.Start(psi)!;
    process.OutputDataReceived += (_, _) => { };
    process.ErrorDataReceived += (_, e) => { if (e.Data is not null) Console.Error.WriteLine(e.Data); };
    process.BeginOutputReadLine();
    process.BeginErrorReadLine();
    var url = $"http://127.0.0.1:{port}";
    using var http = new HttpClient();
    for (var i = 0; i < 300; i++)
    {
        try
        {
            if ((await http.GetAsync(url + "/health")).IsSuccessStatusCode)
            {
                return (process, url, work);
            }
        }
        catch (HttpRequestException)
        {
        }

        await Task.Delay(50);
    }

    throw new TimeoutException("cairn server did not start");
}
