using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cairn.Bench.Tuning;
using Cairn.Tuning;
using Cairn.Tuning.Pruners;
using Cairn.Tuning.Samplers;

// Runs optuna-reference.md's problems with the same budgets and seed count, and prints one JSON document with
// Cairn's figures beside Optuna 3.1's (ratio of medians, gap-to-optimum ratio and a Mann-Whitney p-value).
var seeds = 20;
var skipTiming = false;
string[]? only = null;
var referencePath = Environment.GetEnvironmentVariable("OPTUNA_REFERENCE") ?? FindReference();
var parallel = 2;
var seedOffset = 0;
string? markdownPath = null;
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--seeds": seeds = int.Parse(args[++i]); break;
        case "--skip-timing": skipTiming = true; break;
        case "--only": only = args[++i].Split(','); break;
        case "--reference": referencePath = args[++i]; break;
        case "--parallel": parallel = int.Parse(args[++i]); break;
        case "--seed-offset": seedOffset = int.Parse(args[++i]); break;
        case "--markdown": markdownPath = args[++i]; break;
        default: Console.Error.WriteLine($"unknown argument {args[i]}"); return 2;
    }
}

var reference = JsonNode.Parse(File.ReadAllText(referencePath))!.AsObject();
var problems = reference["problems"]!.AsObject();
var output = new JsonObject
{
    ["generated_by"] = "bench/Cairn.Bench.Tuning",
    ["generated_at"] = DateTimeOffset.UtcNow.ToString("O"),
    ["reference"] = referencePath,
    ["environment"] = new JsonObject
    {
        ["dotnet"] = Environment.Version.ToString(),
        ["os"] = Environment.OSVersion.ToString(),
        ["cpu_count"] = Environment.ProcessorCount,
    },
    ["seeds"] = seeds,
};
var wall = Stopwatch.StartNew();

var bestValue = new JsonArray();
foreach (var entry in reference["best_value"]!.AsArray())
{
    var problem = (string)entry!["problem"]!;
    var samplerName = (string)entry["sampler"]!;
    if (only is not null && !only.Contains(problem)) continue;
    var nTrials = (int)entry["n_trials"]!;
    var checkpoints = entry["best_after"]!.AsObject().Select(kv => int.Parse(kv.Key)).Order().ToArray();
    var perSeedCurves = new double[seeds][];
    var sw = Stopwatch.StartNew();
    await Parallel.ForAsync(0, seeds, new ParallelOptions { MaxDegreeOfParallelism = parallel }, async (seed, ct) =>
    {
        var sampler = MakeSampler(samplerName, problem, seed + seedOffset);
        var study = Study.Create(sampler: sampler, pruner: new NopPruner());
        await study.OptimizeAsync(Problems.Objective(problem), nTrials: nTrials, cancellationToken: ct);
        perSeedCurves[seed] = BestCurve(study.Trials, nTrials);
    });
    var optimum = (double?)problems[problem]?["optimum"] ?? (double?)problems[problem]?["grid_optimum"] ?? double.NaN;
    var result = new JsonObject
    {
        ["problem"] = problem,
        ["sampler"] = samplerName,
        ["n_trials"] = nTrials,
        ["optimum"] = optimum,
        ["mean_study_wall_s"] = sw.Elapsed.TotalSeconds * Math.Min(parallel, seeds) / seeds,
    };
    var after = new JsonObject();
    foreach (var n in checkpoints)
    {
        var values = perSeedCurves.Select(c => c[Math.Min(n, nTrials) - 1]).ToArray();
        var mine = Stats.Summary(values);
        var theirs = entry["best_after"]![n.ToString()]!.AsObject();
        var node = ToNode(mine);
        var oMedian = (double)theirs["median"]!;
        node["optuna"] = new JsonObject { ["median"] = oMedian, ["q25"] = (double)theirs["q25"]!, ["q75"] = (double)theirs["q75"]!, ["mean"] = (double)theirs["mean"]! };
        node["ratio_median"] = oMedian == 0 ? (mine["median"] == 0 ? 1 : null) : Round(mine["median"] / oMedian);
        // Gap to the optimum: below 1 means Cairn's median is closer to the optimum than Optuna's.
        var gap = (mine["median"] - optimum) / (oMedian - optimum);
        node["gap_ratio_median"] = double.IsFinite(gap) ? Round(gap) : mine["median"] == oMedian ? 1 : null;
        node["median_within_optuna_iqr"] = mine["median"] >= (double)theirs["q25"]! - 1e-12 && mine["median"] <= (double)theirs["q75"]! + 1e-12;
        node["no_worse_than_optuna"] = mine["median"] <= oMedian + 1e-12;
        if (n == nTrials && entry["per_seed_best"] is JsonArray ps)
            node["mann_whitney_p"] = Round(Stats.MannWhitneyP(values, ps.Select(x => (double)x!).ToArray()));
        after[n.ToString()] = node;
    }
    result["best_after"] = after;
    result["per_seed_best"] = new JsonArray(perSeedCurves.Select(c => (JsonNode)JsonValue.Create(c[^1])!).ToArray());
    bestValue.Add(result);
    Console.Error.WriteLine($"{problem}/{samplerName}: {string.Join("  ", checkpoints.Select(n => $"N={n} median={after[n.ToString()]!["median"]} (optuna {after[n.ToString()]!["optuna"]!["median"]})"))}");
}
output["best_value"] = bestValue;

var pruning = new JsonArray();
foreach (var entry in reference["pruning"]!.AsArray())
{
    if (only is not null && !only.Contains("learning_curve")) break;
    var samplerName = (string)entry!["sampler"]!;
    var prunerName = (string)entry["pruner"]!;
    var nTrials = (int)entry["n_trials"]!;
    var pruned = new double[seeds];
    var steps = new double[seeds];
    var curves = new double[seeds][];
    await Parallel.ForAsync(0, seeds, new ParallelOptions { MaxDegreeOfParallelism = parallel }, async (seed, ct) =>
    {
        var sampler = MakeSampler(samplerName, "learning_curve", seed + seedOffset);
        IPruner pruner = prunerName == "median" ? new MedianPruner() : new NopPruner();
        var study = Study.Create(sampler: sampler, pruner: pruner);
        var used = 0;
        await study.OptimizeAsync((t, _) => Problems.LearningCurve(t, k => used += k), nTrials: nTrials, cancellationToken: ct);
        var trials = study.Trials;
        pruned[seed] = trials.Count(t => t.State == TrialState.Pruned);
        steps[seed] = used;
        curves[seed] = BestCurve(trials, nTrials);
    });
    var after = new JsonObject();
    foreach (var n in new[] { 25, 50, 100 })
    {
        var node = ToNode(Stats.Summary(curves.Select(c => c[n - 1]).ToArray()));
        if (entry["best_after"]?[n.ToString()] is JsonObject theirs)
            node["optuna"] = new JsonObject { ["median"] = (double)theirs["median"]!, ["q25"] = (double)theirs["q25"]!, ["q75"] = (double)theirs["q75"]! };
        after[n.ToString()] = node;
    }
    var prunedNode = ToNode(Stats.Summary(pruned));
    prunedNode["optuna"] = entry["pruned_trials"]?.DeepClone();
    var stepsNode = ToNode(Stats.Summary(steps));
    stepsNode["optuna"] = entry["steps_used"]?.DeepClone();
    pruning.Add(new JsonObject
    {
        ["problem"] = "learning_curve",
        ["sampler"] = samplerName,
        ["pruner"] = prunerName,
        ["n_trials"] = nTrials,
        ["pruned_trials"] = prunedNode,
        ["steps_used"] = stepsNode,
        ["steps_max"] = 30 * nTrials,
        ["best_after"] = after,
        ["per_seed_best"] = new JsonArray(curves.Select(c => (JsonNode)JsonValue.Create(c[^1])!).ToArray()),
        ["per_seed_pruned"] = new JsonArray(pruned.Select(p => (JsonNode)JsonValue.Create((int)p)!).ToArray()),
    });
    Console.Error.WriteLine($"learning_curve/{samplerName}/{prunerName}: pruned median {prunedNode["median"]}, steps median {stepsNode["median"]}, best@100 median {after["100"]!["median"]}");
}
output["pruning"] = pruning;

if (!skipTiming)
{
    var timing = new JsonArray();
    foreach (var entry in reference["timing"]!.AsArray())
    {
        var samplerName = (string)entry!["sampler"]!;
        var nTrials = (int)entry["n_trials"]!;
        var perSeed = new JsonArray();
        var msPerTrial = new List<double>();
        var blocks = new Dictionary<string, List<double>>();
        for (var seed = 0; seed < 3; seed++)
        {
            var study = Study.Create(sampler: MakeSampler(samplerName, "branin", seed), pruner: new NopPruner());
            var clock = new TrialClock();
            study.Callbacks.Add(clock);
            var sw = Stopwatch.StartNew();
            await study.OptimizeAsync(Problems.Objective("branin"), nTrials: nTrials);
            sw.Stop();
            var ms = sw.Elapsed.TotalMilliseconds / nTrials;
            msPerTrial.Add(ms);
            var byBlock = new JsonObject();
            foreach (var (from, to) in Blocks(nTrials))
            {
                var v = clock.MsPerTrial(from, to);
                byBlock[$"{from}-{to}"] = Round(v);
                (blocks.TryGetValue($"{from}-{to}", out var l) ? l : blocks[$"{from}-{to}"] = []).Add(v);
            }
            perSeed.Add(new JsonObject { ["seed"] = seed, ["total_s"] = sw.Elapsed.TotalSeconds, ["ms_per_trial"] = Round(ms), ["ms_per_trial_by_block"] = byBlock });
        }
        var mean = msPerTrial.Average();
        var optunaMs = (double)entry["ms_per_trial_mean_over_seeds"]!;
        var blocksNode = new JsonObject();
        foreach (var (k, v) in blocks)
            blocksNode[k] = new JsonObject
            {
                ["cairn"] = Round(v.Average()),
                ["optuna"] = (double?)entry["ms_per_trial_by_block_mean_over_seeds"]?[k],
            };
        timing.Add(new JsonObject
        {
            ["problem"] = "branin",
            ["sampler"] = samplerName,
            ["n_trials"] = nTrials,
            ["storage"] = "InMemoryStudyStorage",
            ["ms_per_trial_mean_over_seeds"] = Round(mean),
            ["optuna_ms_per_trial"] = optunaMs,
            ["ratio"] = Round(mean / optunaMs),
            ["ms_per_trial_by_block"] = blocksNode,
            ["per_seed"] = perSeed,
        });
        Console.Error.WriteLine($"timing {samplerName} x{nTrials}: {mean:F3} ms/trial (optuna {optunaMs:F3})");
    }
    output["timing"] = timing;
}
output["total_wall_s"] = wall.Elapsed.TotalSeconds;
Console.WriteLine(output.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
if (markdownPath is not null) File.WriteAllText(markdownPath, Markdown.Render(output));
return 0;

static ISampler MakeSampler(string name, string problem, int seed) => name switch
{
    "tpe" => new TpeSampler(seed: seed),
    "tpe_multivariate" => new TpeSampler(seed: seed, multivariate: true),
    "random" => new RandomSampler(seed),
    "grid" => new GridSampler(Problems.Grid(problem), seed),
    _ => throw new ArgumentException($"Unknown sampler {name}"),
};

static double[] BestCurve(IReadOnlyList<FrozenTrial> trials, int n)
{
    var curve = new double[n];
    var best = double.PositiveInfinity;
    var byNumber = trials.OrderBy(t => t.Number).ToArray();
    for (var i = 0; i < n; i++)
    {
        if (i < byNumber.Length && byNumber[i].State == TrialState.Complete && byNumber[i].Value is { } v && v < best) best = v;
        curve[i] = best;
    }
    return curve;
}

static IEnumerable<(int, int)> Blocks(int n) => n <= 100 ? [(1, n)] : [(1, 100), (401, 500), (n - 99, n)];

static JsonObject ToNode(Dictionary<string, double> d)
{
    var o = new JsonObject();
    foreach (var (k, v) in d) o[k] = double.IsFinite(v) ? Round(v) : null;
    return o;
}

// Seven significant digits keep the JSON readable.
static double Round(double v) => double.IsFinite(v) && v != 0 ? Math.Round(v, Math.Clamp(6 - (int)Math.Floor(Math.Log10(Math.Abs(v))), 0, 15)) : v;

static string FindReference()
{
    for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
    {
        var candidate = Path.Combine(dir.FullName, "shared", "benchmarks", "optuna-reference.json");
        if (File.Exists(candidate)) return candidate;
    }
    return "/work/shared/benchmarks/optuna-reference.json";
}

/// <summary>Time stamps each finished trial, so cost per trial can be read for blocks of trials.</summary>
internal sealed class TrialClock : ITrialCallback
{
    private readonly Stopwatch _sw = Stopwatch.StartNew();
    private readonly List<double> _finishedAt = [];

    public ValueTask OnTrialFinishedAsync(Study study, FrozenTrial trial, CancellationToken cancellationToken)
    {
        _finishedAt.Add(_sw.Elapsed.TotalMilliseconds);
        return ValueTask.CompletedTask;
    }

    public double MsPerTrial(int from, int to)
    {
        var start = from <= 1 ? 0 : _finishedAt[from - 2];
        return (_finishedAt[to - 1] - start) / (to - from + 1);
    }
}
