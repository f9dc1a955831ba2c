using Cairn.Tuning;
using Cairn.Tuning.Pruners;
using Cairn.Tuning.Samplers;
using Cairn.Tuning.Storage;

// Usage: worker --storage URI --study NAME --total N [--heartbeat-ms 200] [--grace-ms 1000] [--sleep-ms 5]
//               [--seed S] [--hang] [--retries R]
// --hang blocks forever inside the first trial after printing "HANG <number>", so a test can kill it mid-trial.
var opts = new Dictionary<string, string>();
for (var i = 0; i < args.Length; i++)
    if (args[i].StartsWith("--", StringComparison.Ordinal))
        opts[args[i][2..]] = i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal) ? args[++i] : "true";

string Get(string key, string fallback) => opts.TryGetValue(key, out var v) ? v : fallback;

await using var storage = StudyStorage.Open(Get("storage", "memory:"));
var heartbeat = TimeSpan.FromMilliseconds(int.Parse(Get("heartbeat-ms", "200")));
var options = new StudyOptions
{
    HeartbeatInterval = heartbeat,
    GracePeriod = TimeSpan.FromMilliseconds(int.Parse(Get("grace-ms", "1000"))),
    MaxRetries = int.Parse(Get("retries", "0")),
};
var study = await Study.CreateAsync(Get("study", "shared"), StudyDirection.Minimize,
    new TpeSampler(seed: int.Parse(Get("seed", "0")), nStartupTrials: 5, constantLiar: true), new NopPruner(), storage,
    loadIfExists: true, options: options);
var hang = Get("hang", "false") == "true";
var sleep = int.Parse(Get("sleep-ms", "5"));
var ran = 0;
await study.OptimizeAsync(async (trial, ct) =>
{
    Interlocked.Increment(ref ran);
    var x = trial.SuggestFloat("x", -5, 5);
    var y = trial.SuggestInt("y", 0, 10);
    if (hang)
    {
        await trial.ShouldPruneAsync(ct); // writes the parameters, so the stale trial has something to retry
        Console.WriteLine($"HANG {trial.Number}");
        Console.Out.Flush();
        await Task.Delay(Timeout.Infinite, ct);
    }
    await Task.Delay(sleep, ct);
    return x * x + (y - 3) * (y - 3);
}, maxTotalTrials: int.Parse(Get("total", "20")));
Console.WriteLine($"DONE {ran}");
return 0;
