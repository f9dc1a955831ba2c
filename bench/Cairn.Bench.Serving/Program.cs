using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Cairn.Models;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Cairn.Bench.Serving;

internal static class Program
{
    private const string Usage = """
        Cairn.Bench.Serving: /invocations benchmark for an MLflow-compatible scoring server serving an iris classifier.

          dotnet run --project bench/Cairn.Bench.Serving -c Release -- --save-iris DIR [--iris-csv PATH]
              writes the iris model package (ML.NET LbfgsMaximumEntropy) to DIR and exits
          dotnet run --project bench/Cairn.Bench.Serving -c Release -- --url http://127.0.0.1:5001 [options]

          --url URL          scoring server base URL
          --label TEXT       free text copied into the JSON
          --clients N        concurrent clients of the throughput phase (default 8)
          --duration S       seconds of the throughput phase (default 10)
          --single N         timed one-row requests (default 5000)
          --batch N          timed 100- and 1,000-row requests (default 200)
          --server-pid PID   local server process: report its CPU seconds and peak RSS from /proc

        Phases: a one row, sequential (p50/p95/p99); b 100 rows (JSON) and 1,000 rows (JSON dataframe_split and CSV), sequential;
        c one row, N concurrent clients for S seconds (requests/s, p50/p95). Each phase is warmed up untimed.
        Prints one JSON line on stdout; progress on stderr. bench/Cairn.Bench.Serving/run.sh runs it all against `cairn models serve`.
        """;

    private static readonly string[] Features = ["sepal_length_cm", "sepal_width_cm", "petal_length_cm", "petal_width_cm"];

    private static async Task<int> Main(string[] args)
    {
        string? url = null, label = "", saveDir = null, irisCsv = "/work/shared/datasets/iris.csv";
        int clients = 8, single = 5000, batch = 200;
        double duration = 10;
        int? pid = null;
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--url": url = Next().TrimEnd('/'); break;
                case "--label": label = Next(); break;
                case "--clients": clients = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--duration": duration = double.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--single": single = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--batch": batch = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--server-pid": pid = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--save-iris": saveDir = Next(); break;
                case "--iris-csv": irisCsv = Next(); break;
                default:
                    Console.Error.WriteLine(Usage);
                    return args[i] is "-h" or "--help" ? 0 : 1;
            }
        }

        if (saveDir is not null)
        {
            SaveIris(irisCsv, saveDir);
            Console.Error.WriteLine($"iris model package written to {saveDir}");
            return 0;
        }

        if (url is null)
        {
            Console.Error.WriteLine(Usage);
            return 1;
        }

        var rows = File.ReadLines(irisCsv).Skip(1).Where(l => l.Length > 0).Select(l => l.Split(',')[..4]).ToList();
        var oneRow = Split(rows.Take(1));
        var hundredRows = Split(Enumerable.Range(0, 100).Select(i => rows[i % rows.Count]));
        var thousandRows = Split(Enumerable.Range(0, 1000).Select(i => rows[i % rows.Count]));
        var thousandCsv = Encoding.UTF8.GetBytes(string.Join(',', Features) + "\n" + string.Join("\n", Enumerable.Range(0, 1000).Select(i => string.Join(',', rows[i % rows.Count]))) + "\n");

        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 64, UseProxy = false, PooledConnectionLifetime = Timeout.InfiniteTimeSpan })
        {
            BaseAddress = new Uri(url),
            Timeout = TimeSpan.FromSeconds(60),
        };
        var result = new JsonObject
        {
            ["bench"] = "Cairn.Bench.Serving/1",
            ["server"] = url,
            ["label"] = label,
            ["started"] = DateTimeOffset.Now.ToString("yyyy-MM-dd'T'HH:mm:sszzz", CultureInfo.InvariantCulture),
            ["machine"] = $"{Environment.ProcessorCount} cores, {Environment.OSVersion}; clients run on the same machine",
            ["server_version"] = await TryText(http, "/version"),
            ["mlflow_baseline"] = null,
            ["baseline_note"] = "No MLflow scoring server (mlflow models serve) is installed on this machine, so there is no baseline.",
            ["targets"] = new JsonObject { ["one_row_p50_ms"] = 1.0, ["one_row_requests_per_s_8_clients"] = 5000 },
        };
        var cpu0 = ServerCpu(pid);

        // Correctness first: the answers must be predictions.
        var check = await PostAsync(http, oneRow, "application/json");
        if (!check.Contains("predictions", StringComparison.Ordinal))
        {
            Console.Error.WriteLine("unexpected answer: " + check);
            return 2;
        }

        Log("a: one row, sequential");
        await Sequential(http, oneRow, "application/json", Math.Max(200, single / 10));
        result["a_one_row"] = Stats(await Sequential(http, oneRow, "application/json", single));

        Log("b: 100 and 1,000 rows, sequential");
        await Sequential(http, hundredRows, "application/json", Math.Max(10, batch / 10));
        result["b_100_rows_json"] = Stats(await Sequential(http, hundredRows, "application/json", batch));
        await Sequential(http, thousandRows, "application/json", Math.Max(10, batch / 10));
        result["b_1000_rows_json"] = Stats(await Sequential(http, thousandRows, "application/json", batch));
        await Sequential(http, thousandCsv, "text/csv", Math.Max(10, batch / 10));
        result["b_1000_rows_csv"] = Stats(await Sequential(http, thousandCsv, "text/csv", batch));

        Log($"c: one row, {clients} concurrent clients for {duration} s");
        await Concurrent(http, oneRow, clients, Math.Min(2, duration));
        var (count, seconds, latencies) = await Concurrent(http, oneRow, clients, duration);
        var c = Stats(latencies);
        c["clients"] = clients;
        c["seconds"] = Math.Round(seconds, 2);
        c["requests_per_s"] = Math.Round(count / seconds);
        result["c_one_row_concurrent"] = c;

        if (pid is { } p && cpu0 is { } start && ServerCpu(p) is { } end)
        {
            result["server_cpu_seconds"] = Math.Round((end - start).TotalSeconds, 2);
            result["server_vmhwm_mib"] = VmHwm(p);
        }

        result["targets_met"] = new JsonObject
        {
            ["one_row_p50_ms"] = (double)result["a_one_row"]!["p50_ms"]! <= 1.0,
            ["one_row_requests_per_s_8_clients"] = (double)c["requests_per_s"]! >= 5000,
        };
        Console.WriteLine(result.ToJsonString());
        return 0;
    }

    private static void Log(string message) => Console.Error.WriteLine($"[bench-serving {DateTime.Now:HH:mm:ss}] {message}");

    private static byte[] Split(IEnumerable<string[]> rows) =>
        Encoding.UTF8.GetBytes("{\"dataframe_split\": {\"columns\": [" + string.Join(',', Features.Select(f => $"\"{f}\"")) + "], \"data\": ["
            + string.Join(',', rows.Select(r => "[" + string.Join(',', r) + "]")) + "]}}");

    private static async Task<string> PostAsync(HttpClient http, byte[] body, string type)
    {
        using var content = new ByteArrayContent(body);
        content.Headers.TryAddWithoutValidation("Content-Type", type);
        using var response = await http.PostAsync("/invocations", content);
        var text = await response.Content.ReadAsStringAsync();
        return response.StatusCode == HttpStatusCode.OK ? text : throw new InvalidOperationException($"{(int)response.StatusCode}: {text}");
    }

    private static async Task<double> TimedAsync(HttpClient http, byte[] body, string type)
    {
        var start = Stopwatch.GetTimestamp();
        using var content = new ByteArrayContent(body);
        content.Headers.TryAddWithoutValidation("Content-Type", type);
        using var response = await http.PostAsync("/invocations", content);
        await response.Content.ReadAsByteArrayAsync();
        var ms = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        return response.StatusCode == HttpStatusCode.OK ? ms : throw new InvalidOperationException($"status {(int)response.StatusCode}");
    }

    private static async Task<List<double>> Sequential(HttpClient http, byte[] body, string type, int n)
    {
        var latencies = new List<double>(n);
        for (var i = 0; i < n; i++)
        {
            latencies.Add(await TimedAsync(http, body, type));
        }

        return latencies;
    }

    private static async Task<(long Count, double Seconds, List<double> Latencies)> Concurrent(HttpClient http, byte[] body, int clients, double seconds)
    {
        var stop = Stopwatch.StartNew();
        var all = new List<double>[clients];
        var tasks = Enumerable.Range(0, clients).Select(c => Task.Run(async () =>
        {
            var mine = all[c] = new List<double>(100_000);
            while (stop.Elapsed.TotalSeconds < seconds)
            {
                mine.Add(await TimedAsync(http, body, "application/json"));
            }
        })).ToArray();
        await Task.WhenAll(tasks);
        var elapsed = stop.Elapsed.TotalSeconds;
        var latencies = all.SelectMany(l => l).ToList();
        return (latencies.Count, elapsed, latencies);
    }

    private static JsonObject Stats(List<double> latencies)
    {
        latencies.Sort();
        double P(double q) => Math.Round(latencies[Math.Min(latencies.Count - 1, (int)(q * latencies.Count))], 3);
        return new JsonObject { ["n"] = latencies.Count, ["p50_ms"] = P(0.50), ["p95_ms"] = P(0.95), ["p99_ms"] = P(0.99), ["mean_ms"] = Math.Round(latencies.Average(), 3) };
    }

    private static async Task<string?> TryText(HttpClient http, string path)
    {
        try
        {
            return await http.GetStringAsync(path);
        }
        catch (HttpRequestException)
        {
            return null;
        }
    }

    private static TimeSpan? ServerCpu(int? pid)
    {
        try
        {
            return pid is { } p ? Process.GetProcessById(p).TotalProcessorTime : null;
        }
        catch (ArgumentException)
        {
            return null;
        }
    }

    private static double? VmHwm(int pid)
    {
        var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        return line is null ? null : Math.Round(double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024, 1);
    }

    private static void SaveIris(string csv, string dir)
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromTextFile(csv,
            [.. Features.Select((f, i) => new TextLoader.Column(f, DataKind.Single, i)), new TextLoader.Column("species", DataKind.String, 4)],
            separatorChar: ',', hasHeader: true);
        var model = ml.Transforms.Concatenate("Features", Features)
            .Append(ml.Transforms.Conversion.MapValueToKey("LabelKey", "species"))
            .Append(ml.MulticlassClassification.Trainers.LbfgsMaximumEntropy("LabelKey", "Features"))
            .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedLabel"))
            .Fit(data);
        if (Directory.Exists(dir))
        {
            Directory.Delete(dir, recursive: true);
        }

        MLNetFlavor.Save(dir, model, data, new MLNetSaveOptions { LabelColumn = "species" });
    }
}
