using Cairn.Tuning.Pruners;
using Cairn.Tuning.Samplers;
using Cairn.Tuning.Storage;

namespace Cairn.Tuning.Tests;

public class StorageTests
{
    [Theory]
    [MemberData(nameof(TestStorages.Kinds), MemberType = typeof(TestStorages))]
    public async Task Storage_round_trips_params_values_attrs_and_states(string kind)
    {
        if (TestStorages.Uri(kind) is not { } uri) return;
        await using var storage = StudyStorage.Open(uri);
        var study = await Study.CreateAsync(TestStorages.UniqueName("rt"), StudyDirection.Maximize, new RandomSampler(1), new NopPruner(), storage);
        await study.OptimizeAsync(t =>
        {
            t.SetUserAttr("k", "v");
            t.Report(1.5, 0);
            t.Report(double.NaN, 1);
            return t.SuggestFloat("lr", 1e-4, 1, log: true) + t.SuggestInt("n", 1, 9, step: 2) + (t.SuggestCategorical("opt", "sgd", "adam") == "adam" ? 1 : 0);
        }, nTrials: 3);
        var loaded = await Study.LoadAsync(study.Name, storage);
        Assert.Equal(StudyDirection.Maximize, loaded.Direction);
        var trials = await loaded.GetTrialsAsync();
        Assert.Equal(3, trials.Count);
        foreach (var t in trials)
        {
            Assert.Equal(TrialState.Complete, t.State);
            Assert.Equal("v", t.UserAttrs["k"]);
            Assert.Equal(1.5, t.IntermediateValues[0]);
            Assert.True(double.IsNaN(t.IntermediateValues[1]));
            Assert.IsType<double>(t.Params["lr"]);
            Assert.IsType<long>(t.Params["n"]);
            Assert.Contains(t.Params["opt"], new object[] { "sgd", "adam" });
            Assert.Equal(new IntDistribution(1, 9, step: 2), t.Distributions["n"]);
            Assert.NotNull(t.StartedAt);
            Assert.NotNull(t.CompletedAt);
        }
        Assert.Contains(study.Name, (await storage.ListStudiesAsync()).Select(s => s.Name));
    }

    [Theory]
    [MemberData(nameof(TestStorages.Kinds), MemberType = typeof(TestStorages))]
    public async Task Concurrent_claims_give_unique_gap_free_numbers_and_take_each_enqueued_trial_once(string kind)
    {
        if (TestStorages.Uri(kind) is not { } uri) return;
        // Two storage objects on one database behave like two processes (separate caches and connections).
        await using var a = StudyStorage.Open(uri);
        await using var b = kind == "memory" ? a : StudyStorage.Open(uri);
        var info = await a.CreateStudyAsync(TestStorages.UniqueName("claim"), StudyDirection.Minimize, false);
        for (var i = 0; i < 10; i++)
            await a.EnqueueTrialAsync(info.StudyId, new Dictionary<string, string> { ["fixed_params"] = $"{{\"i\":{i}}}" });
        var claimed = new System.Collections.Concurrent.ConcurrentBag<FrozenTrial>();
        await Task.WhenAll(Enumerable.Range(0, 4).Select(w => Task.Run(async () =>
        {
            var s = w % 2 == 0 ? a : b;
            while (await s.ClaimTrialAsync(info.StudyId, 50) is { } t)
            {
                claimed.Add(t);
                await s.FinishTrialAsync(t.TrialId, TrialState.Complete, 1, TrialProgress.Empty);
            }
        })));
        Assert.Equal(Enumerable.Range(0, 50), claimed.Select(t => t.Number).Order());
        var enqueued = claimed.Where(t => t.SystemAttrs.ContainsKey("fixed_params")).ToList();
        Assert.Equal(10, enqueued.Count);
        Assert.Equal(Enumerable.Range(0, 10), enqueued.Select(t => t.Number).Order());
    }

    [Theory]
    [MemberData(nameof(TestStorages.Kinds), MemberType = typeof(TestStorages))]
    public async Task A_trial_whose_heartbeat_stops_is_failed_once_and_retried_with_its_params(string kind)
    {
        if (TestStorages.Uri(kind) is not { } uri) return;
        await using var storage = StudyStorage.Open(uri);
        var options = new StudyOptions { HeartbeatInterval = TimeSpan.FromMilliseconds(50), GracePeriod = TimeSpan.FromMilliseconds(300), MaxRetries = 1 };
        var study = await Study.CreateAsync(TestStorages.UniqueName("stale"), StudyDirection.Minimize, new RandomSampler(1), new NopPruner(), storage, options: options);
        // A trial that is asked for and then abandoned, as if its process died after sampling. A second Study
        // object on the same storage plays the surviving worker (a process never fails its own running trials).
        var zombie = (await study.AskAsync())!;
        var x = zombie.SuggestFloat("x", 0, 1);
        await zombie.ShouldPruneAsync();
        var survivor = await Study.LoadAsync(study.Name, storage, new RandomSampler(2), new NopPruner(), options);
        Assert.Empty(await survivor.FailStaleTrialsAsync());
        Assert.Empty(await study.FailStaleTrialsAsync());
        await Task.Delay(600);
        Assert.Empty(await study.FailStaleTrialsAsync());
        var failed = await survivor.FailStaleTrialsAsync();
        Assert.Equal(zombie.Number, Assert.Single(failed).Number);
        Assert.Empty(await survivor.FailStaleTrialsAsync());
        // The retry is the next trial and carries the same parameter value.
        await survivor.OptimizeAsync(t => t.SuggestFloat("x", 0, 1), nTrials: 1);
        var trials = await survivor.GetTrialsAsync();
        Assert.Equal(TrialState.Failed, trials[0].State);
        Assert.Equal(x, trials[1].Params["x"]);
        Assert.Equal("0", trials[1].SystemAttrs["retried_from"]);
        // The abandoned worker's late answer is refused: the trial stays failed.
        var late = await study.TellAsync(zombie, TrialState.Complete, 0.5);
        Assert.Equal(TrialState.Failed, late.State);
    }

    [Theory]
    [MemberData(nameof(TestStorages.Kinds), MemberType = typeof(TestStorages))]
    public async Task Tpe_reads_history_from_storage_and_is_deterministic(string kind)
    {
        if (TestStorages.Uri(kind) is not { } uri) return;
        async Task<double[]> Run(IStudyStorage storage)
        {
            var study = await Study.CreateAsync(TestStorages.UniqueName("tpe"), StudyDirection.Minimize, new TpeSampler(seed: 3), new NopPruner(), storage);
            await study.OptimizeAsync(Problems.Branin, nTrials: 25);
            return (await study.GetTrialsAsync()).Select(t => t.Value!.Value).ToArray();
        }
        await using var storage = StudyStorage.Open(uri);
        var fromStorage = await Run(storage);
        var inMemory = await Run(new InMemoryStudyStorage());
        Assert.Equal(inMemory, fromStorage);
    }

    [Theory]
    [MemberData(nameof(TestStorages.Kinds), MemberType = typeof(TestStorages))]
    public async Task Parallel_workers_in_one_process_share_a_sql_study(string kind)
    {
        if (TestStorages.Uri(kind) is not { } uri) return;
        await using var storage = StudyStorage.Open(uri);
        var options = new StudyOptions { HeartbeatInterval = TimeSpan.FromMilliseconds(100) };
        var study = await Study.CreateAsync(TestStorages.UniqueName("par"), StudyDirection.Minimize,
            new TpeSampler(seed: 2, nStartupTrials: 4, constantLiar: true), new MedianPruner(nStartupTrials: 2), storage, options: options);
        await study.OptimizeAsync(async (t, ct) =>
        {
            var x = t.SuggestFloat("x", -3, 3);
            for (var step = 0; step < 3; step++)
            {
                t.Report(x * x + 1.0 / (step + 1), step);
                if (await t.ShouldPruneAsync(ct)) throw new TrialPrunedException();
                await Task.Delay(2, ct);
            }
            return x * x;
        }, nTrials: 24, parallelism: 4);
        var trials = await study.GetTrialsAsync();
        Assert.Equal(Enumerable.Range(0, 24), trials.Select(t => t.Number));
        Assert.All(trials, t => Assert.True(t.State is TrialState.Complete or TrialState.Pruned, $"trial {t.Number} {t.State}: {t.UserAttrs.GetValueOrDefault("fail_reason")}"));
        Assert.All(trials, t => Assert.True(t.Params.ContainsKey("x")));
    }

    [Fact]
    public void Storage_uris_are_parsed_like_mlflow_and_optuna()
    {
        Assert.IsType<InMemoryStudyStorage>(StudyStorage.Open("memory:"));
        Assert.Equal("sqlite", ((SqlStudyStorage)StudyStorage.Open("sqlite:///" + TestStorages.NewSqlitePath())).Provider);
        var cs = StudyStorage.PostgresUriToConnectionString("postgresql://bob:s%40cret@db.example:6543/cairn?sslmode=require");
        Assert.Contains("Host=db.example", cs);
        Assert.Contains("Port=6543", cs);
        Assert.Contains("Database=cairn", cs);
        Assert.Contains("Username=bob", cs);
        Assert.Contains("Password=s@cret", cs);
        Assert.Contains("SSL Mode=Require", cs);
        Assert.Equal("postgresql", ((SqlStudyStorage)StudyStorage.Open("Host=127.0.0.1;Port=1;Username=x")).Provider);
        Assert.Throws<ArgumentException>(() => StudyStorage.Open("mysql://x"));
    }
}
