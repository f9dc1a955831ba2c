using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Cairn.Bench.Rest;

internal static class Program
{
    private static async Task<int> Main(string[] args)
    {
        Options options;
        try
        {
            options = Options.Parse(args);
        }
        catch (HelpRequested)
        {
            Console.Error.WriteLine(Options.Usage);
            return 0;
        }
        catch (Exception e) when (e is ArgumentException or FormatException)
        {
            Console.Error.WriteLine($"error: {e.Message}\n\n{Options.Usage}");
            return 1;
        }

        var bench = new Bench(options);
        var ok = await bench.RunAsync();
        return ok ? 0 : 2;
    }
}

/// <summary>
/// What each phase is compared with. MLflow's figures are fixed constants: MLflow 2.17.2
/// (SQLite backend, default 4 workers) measured earlier on this machine with
/// ../shared/bench/bench_rest.py, as quoted in issue 3 "Speed"; targets are issue 3's targets
/// for Cairn on SQLite.
/// </summary>
internal sealed record Reference(string Metric, string Unit, double? Mlflow, double? Target, bool HigherIsBetter)
{
    public static readonly Dictionary<string, Reference> ByPhase = new()
    {
        ["a_runs_create"] = new("runs_per_s", "runs/s", 120, 1500, true),
        ["b_log_metric"] = new("calls_per_s", "calls/s", 280, null, true),
        ["c_log_batch"] = new("points_per_s", "points/s", 17_500, 350_000, true),
        ["d_get_history"] = new("seconds_median_of_3", "s", 3.2, 0.200, false),
        ["e_search"] = new("median_ms", "ms", 30, 3, false),
        ["f_concurrent_log_batch"] = new("points_per_s", "points/s", 28_000, 400_000, true),
        ["g_search_100k"] = new("median_ms", "ms", null, 50, false),
    };

    public const double RssTargetMiB = 200;

    public const string BaselineSource =
        "MLflow 2.17.2 figures are fixed constants, not measured by this run: MLflow 2.17.2 server " +
        "(SQLite backend, default 4 workers) measured earlier on this machine (2 cores) with " +
        "../shared/bench/bench_rest.py, as quoted in issue 3 'Speed'";

    public const string TargetSource = "issue 3 'Speed' (targets for Cairn on SQLite; they apply at --scale 1)";
}

internal sealed class Bench(Options o)
{
    private const int BatchSize = 1000;
    private const int SearchCalls = 20;
    private readonly JsonObject _res = new();
    private readonly List<string> _failedChecks = [];
    private readonly List<string> _failedPhases = [];
    private readonly List<string> _met = [];
    private readonly List<string> _missed = [];
    private MlflowClient _c = null!;
    private ServerProbe? _probe;
    private string _tag = "";
    private string _exp = "";

    private static void Log(string msg) =>
        Console.Error.WriteLine($"[bench-rest {DateTime.Now:HH:mm:ss}] {msg}");

    public async Task<bool> RunAsync()
    {
        _tag = $"{DateTime.Now:yyyyMMdd-HHmmss}-{Random.Shared.Next():x8}";
        _res["bench"] = "Cairn.Bench.Rest/1";
        _res["server"] = o.Url.TrimEnd('/');
        _res["label"] = o.Label;
        _res["scale"] = o.Scale;
        _res["phases"] = o.Phases;
        _res["started"] = DateTimeOffset.Now.ToString("yyyy-MM-dd'T'HH:mm:sszzz", CultureInfo.InvariantCulture);
        _res["machine"] = $"{Environment.ProcessorCount} cores, {Environment.OSVersion}";
        _res["baseline_source"] = Reference.BaselineSource;
        _res["target_source"] = Reference.TargetSource;
        var total = Stopwatch.StartNew();
        var clientCpu0 = Process.GetCurrentProcess().TotalProcessorTime;

        if (o.ServerPid is { } pid)
        {
            _probe = ServerProbe.TryStart(pid, out var problem);
            if (problem is not null)
            {
                Log($"server probe: {problem}");
                _res["server_probe_problem"] = problem;
            }
        }

        using (_c = new MlflowClient(o.Url))
        {
            _res["server_version"] = await _c.TryGetTextAsync("/version");
            try
            {
                _exp = await _c.CreateExperimentAsync($"bench-{_tag}");
                _res["experiment_id"] = _exp;
                if (o.Warmup)
                {
                    await WarmupAsync();
                }
            }
            catch (Exception e)
            {
                Log($"cannot use server: {e.Message}");
                _res["error"] = $"cannot use server: {e.Message}";
                _failedPhases.Add("setup");
                return Finish(total, clientCpu0);
            }

            _res["warmup"] = o.Warmup;
            if (o.Phases.Contains('a')) await Phase("a_runs_create", PhaseA);
            if (o.Phases.Contains('b')) await Phase("b_log_metric", PhaseB);
            if (o.Phases.Contains('c')) await Phase("c_log_batch", PhaseC);
            if (o.Phases.Contains('d')) await Phase("d_get_history", PhaseD);
            if (o.Phases.Contains('e')) await Phase("e_search", PhaseE);
            if (o.Phases.Contains('f')) await Phase("f_concurrent_log_batch", PhaseF);
            if (o.Phases.Contains('g')) await Phase("g_search_100k", PhaseG);
        }

        return Finish(total, clientCpu0);
    }

    private bool Finish(Stopwatch total, TimeSpan clientCpu0)
    {
        if (_probe is not null)
        {
            var peak = _probe.PeakRssMiB;
            _res["server_rss"] = new JsonObject
            {
                ["pid"] = _probe.Pid,
                ["peak_vmrss_mib_sampled"] = peak,
                ["vmhwm_mib"] = _probe.VmHwmMiB,
                ["vmrss_mib_at_end"] = _probe.CurrentRssMiB,
                ["target_mib"] = Reference.RssTargetMiB,
                ["target_met"] = peak <= Reference.RssTargetMiB,
                ["note"] = "peak of VmRSS sampled every 50 ms during the run; VmHWM is the kernel's lifetime high-water mark",
            };
            (peak <= Reference.RssTargetMiB ? _met : _missed).Add("server_rss");
            _probe.Dispose();
        }

        _res["total_seconds"] = Math.Round(total.Elapsed.TotalSeconds, 2);
        _res["client_cpu_seconds"] = Math.Round((Process.GetCurrentProcess().TotalProcessorTime - clientCpu0).TotalSeconds, 2);
        _res["targets_met"] = new JsonArray(_met.Select(x => (JsonNode)x).ToArray());
        _res["targets_missed"] = new JsonArray(_missed.Select(x => (JsonNode)x).ToArray());
        _res["failed_checks"] = new JsonArray(_failedChecks.Select(x => (JsonNode)x).ToArray());
        _res["failed_phases"] = new JsonArray(_failedPhases.Select(x => (JsonNode)x).ToArray());
        _res["all_checks_ok"] = _failedChecks.Count == 0 && _failedPhases.Count == 0;
        Console.Out.WriteLine(_res.ToJsonString(new JsonSerializerOptions { WriteIndented = false, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }));
        Console.Out.Flush();
        return _failedChecks.Count == 0 && _failedPhases.Count == 0;
    }

    /// <summary>Runs one phase: server RSS/CPU and client CPU windows, checks, reference comparison.</summary>
    private async Task Phase(string name, Func<Task<JsonObject>> body)
    {
        _probe?.BeginWindow();
        var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
        JsonObject r;
        try
        {
            r = await body();
        }
        catch (Exception e)
        {
            Log($"{name} failed: {e}");
            r = new JsonObject { ["error"] = e.Message.Length > 500 ? e.Message[..500] : e.Message };
            _failedPhases.Add(name);
        }

        r["client_cpu_s"] = Math.Round((Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalSeconds, 2);
        if (_probe is not null)
        {
            var (peak, cpu) = _probe.EndWindow();
            r["server_peak_rss_mib"] = peak;
            r["server_cpu_s"] = cpu;
        }

        foreach (var (k, v) in r.ToArray())
        {
            if (k.StartsWith("check_", StringComparison.Ordinal) && v is JsonValue jv && jv.TryGetValue<bool>(out var passed) && !passed)
            {
                _failedChecks.Add($"{name}.{k}");
            }
        }

        if (!r.ContainsKey("error"))
        {
            Compare(name, r);
        }

        _res[name] = r;
        Log($"{name}: {r.ToJsonString(new JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping })}");
    }

    private void Compare(string name, JsonObject r)
    {
        var reference = Reference.ByPhase[name];
        var value = r[reference.Metric]!.GetValue<double>();
        r["value"] = value;
        r["unit"] = reference.Unit;
        r["mlflow_2_17_2"] = reference.Mlflow;
        var full = Math.Abs(o.Scale - 1.0) < 1e-9;
        r["speedup_vs_mlflow"] = reference.Mlflow is { } m && full && value > 0
            ? Math.Round(reference.HigherIsBetter ? value / m : m / value, 2)
            : null;
        r["target"] = reference.Target is { } t ? $"{(reference.HigherIsBetter ? ">=" : "<=")} {t.ToString(CultureInfo.InvariantCulture)} {reference.Unit}" : null;
        if (reference.Target is { } target && full)
        {
            var met = reference.HigherIsBetter ? value >= target : value <= target;
            r["target_met"] = met;
            (met ? _met : _missed).Add(name);
        }
        else
        {
            r["target_met"] = null;
        }
    }

    // ---- warm-up ---------------------------------------------------------------------------------

    /// <summary>
    /// A few untimed calls of each endpoint so that neither the client's nor the server's JIT
    /// is measured in the first phase (bench_rest.py has no warm-up; its phase a includes it).
    /// </summary>
    private async Task WarmupAsync()
    {
        Log("warm-up (untimed)");
        var run = await _c.CreateRunAsync(_exp, "warmup");
        for (var i = 0; i < 3; i++)
        {
            await _c.CreateRunAsync(_exp, $"warmup-{i}");
        }

        var ts = Json.NowMs();
        for (var i = 0; i < 50; i++)
        {
            await _c.PostAsync("/runs/log-metric", LogMetricBody(run, "warm", i, ts + i));
        }

        for (var i = 0; i < 20; i++)
        {
            await _c.PostAsync("/runs/log-batch", Json.Batch(run, "warmbatch", i * BatchSize, BatchSize, ts));
        }

        await _c.GetHistoryAsync(run, "warmbatch");
        await _c.GetAsync("/runs/get", ("run_id", run));
        var search = SearchBody(_exp);
        for (var i = 0; i < 5; i++)
        {
            await _c.PostAsync("/runs/search", search);
        }
    }

    // ---- phases ----------------------------------------------------------------------------------

    private async Task<JsonObject> PhaseA()
    {
        var n = o.S(200);
        Log($"a: runs/create x{n}");
        var lat = new List<double>(n);
        var ids = new HashSet<string>();
        var sw = Stopwatch.StartNew();
        for (var i = 0; i < n; i++)
        {
            var t1 = Stopwatch.GetTimestamp();
            ids.Add(await _c.CreateRunAsync(_exp, $"a-{i}"));
            lat.Add(Stopwatch.GetElapsedTime(t1).TotalSeconds);
        }

        var dt = sw.Elapsed.TotalSeconds;
        return new JsonObject
        {
            ["n"] = n,
            ["seconds"] = R(dt, 3),
            ["runs_per_s"] = R(n / dt, 1),
            ["p50_ms"] = R(Pct(lat, .5) * 1e3, 2),
            ["p99_ms"] = R(Pct(lat, .99) * 1e3, 2),
            ["check_unique_ids"] = ids.Count == n,
        };
    }

    private static byte[] LogMetricBody(string run, string key, double value, long ts, long step = -1) => Json.Object(w =>
    {
        w.WriteString("run_id", run);
        w.WriteString("key", key);
        w.WriteNumber("value", value);
        w.WriteNumber("timestamp", ts);
        w.WriteNumber("step", step < 0 ? (long)value : step);
    });

    private async Task<JsonObject> PhaseB()
    {
        var n = o.S(2000);
        var run = await _c.CreateRunAsync(_exp, "b");
        Log($"b: runs/log-metric x{n}");
        var lat = new List<double>(n);
        var ts = Json.NowMs();
        var sw = Stopwatch.StartNew();
        for (var i = 0; i < n; i++)
        {
            var t1 = Stopwatch.GetTimestamp();
            await _c.PostAsync("/runs/log-metric", LogMetricBody(run, "single", i * 0.5, ts + i, i));
            lat.Add(Stopwatch.GetElapsedTime(t1).TotalSeconds);
        }

        var dt = sw.Elapsed.TotalSeconds;
        using var got = JsonDocument.Parse(await _c.GetAsync("/runs/get", ("run_id", run)));
        var ok = false;
        if (got.RootElement.GetProperty("run").GetProperty("data").TryGetProperty("metrics", out var metrics))
        {
            foreach (var m in metrics.EnumerateArray())
            {
                if (m.GetProperty("key").GetString() == "single")
                {
                    ok = m.TryGetProperty("step", out var s) && Json.Long(s) == n - 1;
                }
            }
        }

        return new JsonObject
        {
            ["n"] = n,
            ["seconds"] = R(dt, 3),
            ["calls_per_s"] = R(n / dt, 1),
            ["p50_ms"] = R(Pct(lat, .5) * 1e3, 2),
            ["p99_ms"] = R(Pct(lat, .99) * 1e3, 2),
            ["check_latest_step"] = ok,
        };
    }

    private async Task<JsonObject> PhaseC()
    {
        var batches = o.S(200);
        var run = await _c.CreateRunAsync(_exp, "c");
        Log($"c: runs/log-batch {batches} x {BatchSize}");
        var ts = Json.NowMs();
        var payloads = Enumerable.Range(0, batches).Select(b => Json.Batch(run, "batch", (long)b * BatchSize, BatchSize, ts)).ToArray();
        var lat = new List<double>(batches);
        var sw = Stopwatch.StartNew();
        foreach (var p in payloads)
        {
            var t1 = Stopwatch.GetTimestamp();
            await _c.PostAsync("/runs/log-batch", p);
            lat.Add(Stopwatch.GetElapsedTime(t1).TotalSeconds);
        }

        var dt = sw.Elapsed.TotalSeconds;
        var pts = batches * BatchSize;
        // Extra check (untimed; bench_rest.py has none here): every point is readable, once.
        var h = await _c.GetHistoryAsync(run, "batch");
        return new JsonObject
        {
            ["batches"] = batches,
            ["batch_size"] = BatchSize,
            ["points"] = pts,
            ["seconds"] = R(dt, 3),
            ["points_per_s"] = R(pts / dt, 1),
            ["batch_p50_ms"] = R(Pct(lat, .5) * 1e3, 2),
            ["batch_p99_ms"] = R(Pct(lat, .99) * 1e3, 2),
            ["check_history_complete"] = StepsAre(h.Steps, h.Values, pts),
        };
    }

    private async Task<JsonObject> PhaseD()
    {
        var n = o.S(100_000);
        var run = await _c.CreateRunAsync(_exp, "d");
        Log($"d: setup {n} points via log-batch (untimed)");
        var ts = Json.NowMs();
        var starts = Enumerable.Range(0, (n + BatchSize - 1) / BatchSize).Select(i => i * BatchSize).ToArray();
        var setup = Stopwatch.StartNew();
        await ParallelFor(starts, o.SetupThreads, s =>
            _c.PostAsync("/runs/log-batch", Json.Batch(run, "hist", s, Math.Min(BatchSize, n - s), ts)));
        var setupS = setup.Elapsed.TotalSeconds;

        Log("d: metrics/get-history x3 (following next_page_token)");
        var times = new List<double>();
        var h = (Steps: new List<long>(), Values: new List<double>(), Pages: 0, Bytes: 0L);
        for (var rep = 0; rep < 3; rep++)
        {
            var sw = Stopwatch.StartNew();
            h = await _c.GetHistoryAsync(run, "hist");
            times.Add(sw.Elapsed.TotalSeconds);
        }

        return new JsonObject
        {
            ["points"] = n,
            ["returned"] = h.Steps.Count,
            ["pages"] = h.Pages,
            ["response_bytes"] = h.Bytes,
            ["seconds_first"] = R(times[0], 3),
            ["seconds_median_of_3"] = R(Median(times), 3),
            ["seconds_min"] = R(times.Min(), 3),
            ["setup_log_batch_seconds"] = R(setupS, 3),
            ["check_all_steps"] = StepsAre(h.Steps, h.Values, n),
        };
    }

    /// <summary>True when the history holds exactly steps 0..n-1, each once, each with value = step.</summary>
    private static bool StepsAre(List<long> steps, List<double> values, int n)
    {
        if (steps.Count != n)
        {
            return false;
        }

        var seen = new bool[n];
        for (var i = 0; i < steps.Count; i++)
        {
            var s = steps[i];
            if (s < 0 || s >= n || seen[s] || values[i] != s)
            {
                return false;
            }

            seen[s] = true;
        }

        return true;
    }

    private static byte[] SearchBody(string exp) => Json.Object(w =>
    {
        w.WriteStartArray("experiment_ids");
        w.WriteStringValue(exp);
        w.WriteEndArray();
        w.WriteString("filter", "metrics.m > 0.5 and params.p = 'x'");
        w.WriteStartArray("order_by");
        w.WriteStringValue("metrics.m DESC");
        w.WriteEndArray();
        w.WriteNumber("max_results", 100);
    });

    /// <summary>Shared by e and g: set up runs with metric m and param p (untimed), then time 20 searches.</summary>
    private async Task<JsonObject> SearchPhase(string phase, int nRuns)
    {
        var exp = await _c.CreateExperimentAsync($"bench-{_tag}-search-{phase}");
        Log($"{phase}: setup {nRuns} runs with runs/create + log-batch (untimed, {o.SetupThreads} concurrent)");
        var rng = new Random(42);
        var specs = Enumerable.Range(0, nRuns).Select(i => (I: i, M: rng.NextDouble(), P: i % 2 == 0 ? "x" : "y")).ToArray();
        var done = 0;
        var setup = Stopwatch.StartNew();
        await ParallelFor(specs, o.SetupThreads, async spec =>
        {
            var rid = await _c.CreateRunAsync(exp, $"{phase}-{spec.I}");
            await _c.PostAsync("/runs/log-batch", Json.Batch(rid, "m", 0, 1, Json.NowMs(), _ => spec.M, [("p", spec.P)]));
            var d = Interlocked.Increment(ref done);
            if (nRuns >= 20_000 && d % 10_000 == 0)
            {
                Log($"{phase}: {d}/{nRuns} runs ({d / setup.Elapsed.TotalSeconds:F0} runs/s)");
            }

            return 0;
        });
        var setupS = setup.Elapsed.TotalSeconds;
        var expect = specs.Where(s => s.M > 0.5 && s.P == "x").Select(s => s.M).OrderByDescending(m => m).Take(100).ToArray();

        Log($"{phase}: runs/search x{SearchCalls}");
        var body = SearchBody(exp);
        var lat = new List<double>(SearchCalls);
        byte[] last = [];
        for (var i = 0; i < SearchCalls; i++)
        {
            var t1 = Stopwatch.GetTimestamp();
            last = await _c.PostAsync("/runs/search", body);
            lat.Add(Stopwatch.GetElapsedTime(t1).TotalSeconds);
        }

        var vals = new List<double?>();
        using (var doc = JsonDocument.Parse(last))
        {
            if (doc.RootElement.TryGetProperty("runs", out var runs))
            {
                foreach (var run in runs.EnumerateArray())
                {
                    double? v = null;
                    if (run.TryGetProperty("data", out var data) && data.TryGetProperty("metrics", out var ms))
                    {
                        foreach (var m in ms.EnumerateArray())
                        {
                            if (m.GetProperty("key").GetString() == "m")
                            {
                                v = Json.Double(m.GetProperty("value"));
                            }
                        }
                    }

                    vals.Add(v);
                }
            }
        }

        var matches = vals.Count == expect.Length
            && vals.Zip(expect).All(p => p.First is { } a && Math.Round(a, 9) == Math.Round(p.Second, 9));
        return new JsonObject
        {
            ["runs"] = nRuns,
            ["calls"] = SearchCalls,
            ["median_ms"] = R(Median(lat) * 1e3, 2),
            ["p90_ms"] = R(Pct(lat, .9) * 1e3, 2),
            ["min_ms"] = R(lat.Min() * 1e3, 2),
            ["returned"] = vals.Count,
            ["setup_seconds"] = R(setupS, 3),
            ["check_matches_expected"] = matches,
        };
    }

    private Task<JsonObject> PhaseE() => SearchPhase("e", o.S(1000));

    private Task<JsonObject> PhaseG() => SearchPhase("g", o.S(100_000));

    private async Task<JsonObject> PhaseF()
    {
        var threads = o.Threads;
        var runs = new string[threads];
        for (var k = 0; k < threads; k++)
        {
            runs[k] = await _c.CreateRunAsync(_exp, $"f-{k}");
        }

        Log($"f: {threads} writers x log-batch({BatchSize}) for {o.Duration:F0}s");
        var acked = new List<long>[threads];   // start steps of acknowledged batches, per writer
        var failed = new List<long>[threads];  // start steps of batches that got an error
        var lats = new List<double>[threads];
        var samples = new List<string>();
        var ts = Json.NowMs();
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var stopAt = 0L;

        async Task Writer(int k)
        {
            acked[k] = [];
            failed[k] = [];
            lats[k] = [];
            long step = 0;
            await start.Task;
            while (Stopwatch.GetTimestamp() < Volatile.Read(ref stopAt))
            {
                var body = Json.Batch(runs[k], "conc", step, BatchSize, ts);
                var t1 = Stopwatch.GetTimestamp();
                try
                {
                    await _c.PostAsync("/runs/log-batch", body);
                    lats[k].Add(Stopwatch.GetElapsedTime(t1).TotalSeconds);
                    acked[k].Add(step);
                }
                catch (Exception e)
                {
                    failed[k].Add(step);
                    lock (samples)
                    {
                        if (samples.Count < 5)
                        {
                            samples.Add(e.Message.Length > 200 ? e.Message[..200] : e.Message);
                        }
                    }
                }

                // A failed batch's steps are never reused, so a batch that failed on the
                // client but was written anyway shows up as "unacknowledged", not as a duplicate.
                step += BatchSize;
            }
        }

        var tasks = Enumerable.Range(0, threads).Select(k => Task.Run(() => Writer(k))).ToArray();
        await Task.Delay(50); // let every writer reach the start line
        var sw = Stopwatch.StartNew();
        Volatile.Write(ref stopAt, Stopwatch.GetTimestamp() + (long)(o.Duration * Stopwatch.Frequency));
        start.SetResult();
        await Task.WhenAll(tasks);
        var dt = sw.Elapsed.TotalSeconds;

        var ok = acked.Sum(a => a.Count);
        var errors = failed.Sum(a => a.Count);
        var allLat = lats.SelectMany(l => l).ToList();
        var pts = (long)ok * BatchSize;

        Log("f: verifying every acknowledged point is readable, once");
        long readBack = 0, missing = 0, duplicates = 0, unacked = 0, wrongValue = 0;
        for (var k = 0; k < threads; k++)
        {
            var h = await _c.GetHistoryAsync(runs[k], "conc");
            readBack += h.Steps.Count;
            var ackedSet = acked[k].ToHashSet();
            var seen = new HashSet<long>();
            for (var i = 0; i < h.Steps.Count; i++)
            {
                var s = h.Steps[i];
                if (!seen.Add(s))
                {
                    duplicates++;
                }

                if (!ackedSet.Contains(s - (s % BatchSize)))
                {
                    unacked++;
                }
                else if (h.Values[i] != s)
                {
                    wrongValue++;
                }
            }

            foreach (var b in acked[k])
            {
                for (var s = b; s < b + BatchSize; s++)
                {
                    if (!seen.Contains(s))
                    {
                        missing++;
                    }
                }
            }
        }

        return new JsonObject
        {
            ["threads"] = threads,
            ["duration_s"] = R(dt, 3),
            ["batch_size"] = BatchSize,
            ["requests_ok"] = ok,
            ["points"] = pts,
            ["points_per_s"] = R(pts / dt, 1),
            ["errors"] = errors,
            ["error_samples"] = new JsonArray(samples.Select(s => (JsonNode)s).ToArray()),
            ["batch_p50_ms"] = allLat.Count > 0 ? R(Pct(allLat, .5) * 1e3, 2) : null,
            ["batch_p99_ms"] = allLat.Count > 0 ? R(Pct(allLat, .99) * 1e3, 2) : null,
            ["points_read_back"] = readBack,
            ["acked_points_missing"] = missing,
            ["duplicate_points"] = duplicates,
            ["unacknowledged_points_found"] = unacked,
            ["wrong_values"] = wrongValue,
            ["check_no_errors"] = errors == 0,
            ["check_all_acked_readable"] = missing == 0 && wrongValue == 0,
            ["check_no_duplicates"] = duplicates == 0,
        };
    }

    // ---- helpers ---------------------------------------------------------------------------------

    /// <summary>Runs <paramref name="fn"/> over the items with at most <paramref name="dop"/> in flight.</summary>
    private static async Task ParallelFor<T, TR>(IReadOnlyList<T> items, int dop, Func<T, Task<TR>> fn)
    {
        var next = -1;
        async Task Worker()
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < items.Count)
            {
                await fn(items[i]);
            }
        }

        await Task.WhenAll(Enumerable.Range(0, dop).Select(_ => Task.Run(Worker)));
    }

    private static double R(double x, int digits) => Math.Round(x, digits);

    /// <summary>bench_rest.py's pct(): the element at round(q*(n-1)) of the sorted list.</summary>
    private static double Pct(List<double> xs, double q)
    {
        var s = xs.Order().ToArray();
        var k = Math.Min(s.Length - 1, Math.Max(0, (int)Math.Round(q * (s.Length - 1), MidpointRounding.ToEven)));
        return s[k];
    }

    /// <summary>Python's statistics.median (mean of the middle two for an even count).</summary>
    private static double Median(List<double> xs)
    {
        var s = xs.Order().ToArray();
        var n = s.Length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }
}
