using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.Playwright;

namespace Cairn.Bench.Ui;

internal static class Program
{
    private const string Usage = """
        Cairn.Bench.Ui: the web UI in a real browser (Debian's headless Chromium through Playwright).

          dotnet bench/Cairn.Bench.Ui/bin/Release/net10.0/Cairn.Bench.Ui.dll [options]

          --url URL            use a running server instead of starting a fresh `cairn server`
          --cairn-dll PATH     cairn.dll to start (default: src/Cairn.Cli/bin/Release/net10.0/linux-x64/cairn.dll)
          --runs N             runs seeded into the experiment (default 100000)
          --points N           points of the long metric history (default 1000000)
          --clients N          concurrent REST clients while seeding (default 6)
          --history-clients N  concurrent log-batch requests for the long history (default 1: in step order, like
                               one training loop; more interleaves the batches, so the history is stored out of step order)
          --repeat N           timed repetitions of each measurement (default 5)
          --chromium PATH      browser executable (default /usr/bin/chromium)
          --label TEXT         free text copied into the JSON
          --keep               keep the server's temp dir (database, log)

        Seeds one experiment through the MLflow REST API (runs/create + runs/log-batch per run, N clients),
        plus one run whose metric `curve` has a long history (runs/log-batch, 1,000 points per request).
        Then times, in the browser, with performance.now() on the page's clock:
          first paint  navigation start (performance.timeOrigin of the new document, reached from about:blank)
                       until the first runs-table row is in the DOM with a layout box, checked every animation frame;
                       warm = same browser context as before (HTTP cache filled), cold = a fresh context
          filter       keydown of Enter in the filter box until the first row is a different, matching run
          sort         click on the metrics.accuracy header until the first row is the best run
          chart        navigation start of the run's metrics tab until the chart's line path is drawn
        Prints one JSON line on stdout; progress on stderr. bench/run-ui.sh builds and runs it.
        """;

    private const string FilterExpression = "metrics.accuracy > 0.99";
    private const string HistoryMetric = "curve";

    private static async Task<int> Main(string[] args)
    {
        string? url = null, cairnDll = null, label = "";
        string chromium = "/usr/bin/chromium";
        int runs = 100_000, points = 1_000_000, clients = 6, repeat = 5, historyClients = 1;
        var keep = false;
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--url": url = Next().TrimEnd('/'); break;
                case "--cairn-dll": cairnDll = Next(); break;
                case "--runs": runs = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--points": points = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--clients": clients = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--history-clients": historyClients = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--repeat": repeat = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--chromium": chromium = Next(); break;
                case "--label": label = Next(); break;
                case "--keep": keep = true; break;
                default:
                    Console.Error.WriteLine(Usage);
                    return args[i] is "-h" or "--help" ? 0 : 1;
            }
        }

        if (runs < 10 || points < 1 || clients < 1 || repeat < 1 || historyClients < 1)
        {
            Console.Error.WriteLine("--runs must be at least 10; --points, --clients and --repeat at least 1");
            return 1;
        }

        await using var server = url is null ? await ServerProcess.StartAsync(cairnDll ?? ServerProcess.DefaultCairnDll(), keep) : null;
        url ??= server!.BaseUrl;
        using var api = new Api(url, clients);

        var result = new JsonObject
        {
            ["bench"] = "Cairn.Bench.Ui/1",
            ["server"] = url,
            ["label"] = label,
            ["started"] = DateTimeOffset.Now.ToString("yyyy-MM-dd'T'HH:mm:sszzz", CultureInfo.InvariantCulture),
            ["machine"] = $"{Environment.ProcessorCount} cores, {Environment.OSVersion}; server, seeding client and browser share the machine",
            ["server_version"] = await api.TryTextAsync("/version"),
            ["mlflow_baseline"] = null,
            ["baseline_note"] = "No MLflow server is installed on this machine, so there is no baseline; ratios are measured/target.",
            ["clock"] = "performance.now() in the page (ms since the document's navigation start, or since the keydown/click event); stopwatch_ms is the same span seen from the .NET side through CDP",
        };

        // ---- seeding --------------------------------------------------------------------------
        var seed = Stopwatch.StartNew();
        var experimentId = await api.CreateExperimentAsync($"ui-bench-{DateTime.UtcNow:yyyyMMdd-HHmmss}-{Environment.ProcessId}");
        var t0 = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - runs - 10_000;

        // The long-history run is the oldest, so the newest rows on the runs page are ordinary runs.
        var historyRunId = await api.CreateRunAsync(experimentId, "long-history", t0);
        await SeedRunsAsync(api, experimentId, runs, clients, t0);
        var runsSeconds = seed.Elapsed.TotalSeconds;
        await SeedHistoryAsync(api, historyRunId, points, historyClients, t0);
        var historySeconds = seed.Elapsed.TotalSeconds - runsSeconds;
        result["seed"] = new JsonObject
        {
            ["experiment_id"] = experimentId,
            ["runs"] = runs,
            ["clients"] = clients,
            ["runs_seconds"] = Math.Round(runsSeconds, 1),
            ["runs_per_second"] = Math.Round(runs / runsSeconds, 0),
            ["history_points"] = points,
            ["history_clients"] = historyClients,
            ["history_seconds"] = Math.Round(historySeconds, 1),
            ["history_points_per_second"] = Math.Round(points / historySeconds, 0),
            ["per_run"] = "runs/create + runs/log-batch with params model, lr and metrics accuracy, loss",
        };
        Log($"seeded {runs:N0} runs in {runsSeconds:F1} s and {points:N0} history points in {historySeconds:F1} s");

        // ---- browser --------------------------------------------------------------------------
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-sync"],
        });
        result["browser"] = "chromium " + browser.Version;

        var bench = new UiBench(browser, url, experimentId, historyRunId, runs);
        var measurements = new JsonObject();
        result["measurements"] = measurements;

        Log("first paint, cold (fresh browser context each time)");
        measurements["first_paint_cold"] = await bench.RepeatAsync(repeat, 1000, "navigation start → first runs-table row visible; new browser context (empty HTTP cache, new circuit)", bench.FirstPaintColdAsync);
        Log("first paint, warm");
        measurements["first_paint_warm"] = await bench.RepeatAsync(repeat, 1000, "navigation start (from about:blank) → first runs-table row visible; same context, HTTP cache warm, new circuit", bench.FirstPaintWarmAsync);
        Log("filter");
        measurements["filter"] = await bench.RepeatAsync(repeat, 300, $"keydown Enter in the filter box ('{FilterExpression}') → first row is a matching run", bench.FilterAsync);
        Log("sort");
        measurements["sort"] = await bench.RepeatAsync(repeat, 300, "click on the metrics.accuracy header → first row is the run with the highest accuracy", bench.SortAsync);
        Log($"{points:N0}-point chart");
        measurements["chart_1m_points"] = await bench.RepeatAsync(repeat, 1000, $"{points:N0}-point history; navigation start of the run's metrics tab → chart '{HistoryMetric}' line path drawn (g.scatterlayer g.trace path)", bench.ChartAsync);
        Log("reference: the metrics tab of an ordinary run (one-point charts)");
        var smallRunId = await api.FindRunAsync(experimentId, RunName(0));
        measurements["reference_small_chart"] = await bench.RepeatAsync(repeat, 1000, "reference, no target: navigation start of an ordinary run's metrics tab → its one-point 'accuracy' chart drawn", () => bench.SmallChartAsync(smallRunId));
        result["chart_note"] = bench.ChartNote;
        result["chart_phases_median_ms"] = bench.ChartPhases();
        result["rows_shown_first_page"] = bench.RowsShown;
        result["browser_console_errors"] = new JsonArray([.. bench.ConsoleErrors.Distinct().Take(10).Select(e => (JsonNode?)JsonValue.Create(e))]);

        var met = new JsonObject();
        foreach (var (name, node) in measurements.Where(m => !m.Key.StartsWith("reference_", StringComparison.Ordinal)))
        {
            met[name] = (bool?)node!["met"];
        }

        result["targets_met"] = met;
        if (server is not null)
        {
            result["server_process"] = server.Usage();
        }

        Console.WriteLine(result.ToJsonString(new System.Text.Json.JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }));
        return 0;
    }

    internal static void Log(string message) =>
        Console.Error.WriteLine($"[ui-bench {DateTime.Now:HH:mm:ss}] {message}");

    /// <summary>A distinct accuracy in [0.5, 1) for every run index below 1,000,003 (a prime), scattered.</summary>
    internal static double Accuracy(long i) => 0.5 + (0.5 * ((i * 2_654_435_761L) % 1_000_003) / 1_000_003.0);

    private static async Task SeedRunsAsync(Api api, string experimentId, int runs, int clients, long t0)
    {
        var next = -1;
        var done = 0;
        var watch = Stopwatch.StartNew();
        using var cts = new CancellationTokenSource();
        var progress = Task.Run(async () =>
        {
            while (!cts.IsCancellationRequested)
            {
                try
                {
                    await Task.Delay(5000, cts.Token);
                }
                catch (OperationCanceledException)
                {
                    break;
                }

                var n = Volatile.Read(ref done);
                Log($"runs {n:N0}/{runs:N0} ({n / watch.Elapsed.TotalSeconds:F0}/s)");
            }
        });
        var workers = Enumerable.Range(0, clients).Select(_ => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < runs)
            {
                var runId = await api.CreateRunAsync(experimentId, RunName(i), t0 + 1 + i);
                var accuracy = Accuracy(i);
                var loss = Math.Round(1 - accuracy + (0.01 * (i % 7)), 6);
                var ts = t0 + 1 + i;
                await api.PostAsync("runs/log-batch", $$"""
                    {"run_id":"{{runId}}","params":[{"key":"model","value":"{{(i % 3 == 0 ? "tree" : i % 3 == 1 ? "linear" : "mlp")}}"},{"key":"lr","value":"{{(0.001 * (1 + (i % 10))).ToString(CultureInfo.InvariantCulture)}}"}],"metrics":[{"key":"accuracy","value":{{accuracy.ToString("R", CultureInfo.InvariantCulture)}},"timestamp":{{ts}},"step":0},{"key":"loss","value":{{loss.ToString("R", CultureInfo.InvariantCulture)}},"timestamp":{{ts}},"step":0}],"tags":[]}
                    """);
                Interlocked.Increment(ref done);
            }
        })).ToArray();
        try
        {
            await Task.WhenAll(workers);
        }
        finally
        {
            await cts.CancelAsync();
            await progress;
        }
    }

    internal static string RunName(long i) => "run-" + i.ToString("D6", CultureInfo.InvariantCulture);

    private static async Task SeedHistoryAsync(Api api, string runId, int points, int clients, long t0)
    {
        const int perRequest = 1000;
        var batches = (points + perRequest - 1) / perRequest;
        var next = -1;
        var done = 0;
        var workers = Enumerable.Range(0, clients).Select(_ => Task.Run(async () =>
        {
            int b;
            var sb = new System.Text.StringBuilder();
            while ((b = Interlocked.Increment(ref next)) < batches)
            {
                sb.Clear();
                sb.Append("{\"run_id\":\"").Append(runId).Append("\",\"params\":[],\"tags\":[],\"metrics\":[");
                var end = Math.Min(points, (b + 1) * perRequest);
                for (var s = b * perRequest; s < end; s++)
                {
                    // A slow decay with noise and a few spikes, so min/max downsampling has something to keep.
                    var value = (2.0 * Math.Exp(-s / 250_000.0)) + (0.05 * Math.Sin(s * 0.37)) + (s % 99_991 == 0 ? 1.5 : 0);
                    if (s > b * perRequest)
                    {
                        sb.Append(',');
                    }

                    sb.Append("{\"key\":\"").Append(HistoryMetric).Append("\",\"value\":").Append(value.ToString("R", CultureInfo.InvariantCulture))
                        .Append(",\"timestamp\":").Append(t0 + (s / 100)).Append(",\"step\":").Append(s).Append('}');
                }

                sb.Append("]}");
                await api.PostAsync("runs/log-batch", sb.ToString());
                var n = Interlocked.Increment(ref done);
                if (n % 100 == 0)
                {
                    Log($"history points {Math.Min(points, n * perRequest):N0}/{points:N0}");
                }
            }
        })).ToArray();
        await Task.WhenAll(workers);
    }
}
