using Cairn.Tuning.Pruners;

namespace Cairn.Tuning.Tests;

public class PrunerTests
{
    private static readonly StudyInfo Min = new(1, "s", StudyDirection.Minimize, DateTimeOffset.UnixEpoch);
    private static readonly StudyInfo Max = new(1, "s", StudyDirection.Maximize, DateTimeOffset.UnixEpoch);
    private static int _ids;

    private static FrozenTrial Curve(TrialState state, params double[] values) => new()
    {
        TrialId = Interlocked.Increment(ref _ids),
        Number = _ids,
        State = state,
        Value = state == TrialState.Complete ? values[^1] : null,
        IntermediateValues = new SortedDictionary<int, double>(values.Select((v, i) => (v, i)).ToDictionary(p => p.i, p => p.v)),
    };

    private static FrozenTrial Steps(params (int Step, double Value)[] points) => new()
    {
        TrialId = Interlocked.Increment(ref _ids),
        Number = _ids,
        State = TrialState.Running,
        IntermediateValues = new SortedDictionary<int, double>(points.ToDictionary(p => p.Step, p => p.Value)),
    };

    private static List<FrozenTrial> FiveCompleteCurves() =>
    [
        Curve(TrialState.Complete, 10, 8, 6, 4),
        Curve(TrialState.Complete, 9, 7, 5, 3),
        Curve(TrialState.Complete, 8, 6, 4, 2),
        Curve(TrialState.Complete, 7, 5, 3, 1),
        Curve(TrialState.Complete, 6, 4, 2, 0),
    ];

    [Fact]
    public void MedianPruner_prunes_a_curve_above_the_median_and_keeps_one_below()
    {
        var trials = FiveCompleteCurves();
        var pruner = new MedianPruner();
        Assert.True(pruner.Prune(new PruningContext(Min, trials, Curve(TrialState.Running, 9, 8))));  // median at step 1 is 6
        Assert.False(pruner.Prune(new PruningContext(Min, trials, Curve(TrialState.Running, 9, 5))));
    }

    [Fact]
    public void MedianPruner_judges_the_best_value_so_far_not_the_last()
    {
        // Best so far is 3 (step 0), below the median 6 at step 1, although the last value 9 is above it.
        Assert.False(new MedianPruner().Prune(new PruningContext(Min, FiveCompleteCurves(), Curve(TrialState.Running, 3, 9))));
    }

    [Fact]
    public void MedianPruner_waits_for_n_startup_complete_trials()
    {
        var trials = FiveCompleteCurves().Take(4).Append(Curve(TrialState.Pruned, 100)).ToList();
        Assert.False(new MedianPruner(nStartupTrials: 5).Prune(new PruningContext(Min, trials, Curve(TrialState.Running, 100, 100))));
        Assert.True(new MedianPruner(nStartupTrials: 4).Prune(new PruningContext(Min, trials, Curve(TrialState.Running, 100, 100))));
    }

    [Fact]
    public void MedianPruner_does_not_prune_during_warmup_steps()
    {
        var pruner = new MedianPruner(nWarmupSteps: 2);
        Assert.False(pruner.Prune(new PruningContext(Min, FiveCompleteCurves(), Curve(TrialState.Running, 100, 100))));
        Assert.True(pruner.Prune(new PruningContext(Min, FiveCompleteCurves(), Curve(TrialState.Running, 100, 100, 100))));
    }

    [Fact]
    public void MedianPruner_checks_only_at_interval_steps()
    {
        var pruner = new MedianPruner(intervalSteps: 2);
        Assert.True(pruner.Prune(new PruningContext(Min, FiveCompleteCurves(), Curve(TrialState.Running, 100, 100, 100))));  // step 2
        Assert.False(pruner.Prune(new PruningContext(Min, FiveCompleteCurves(), Curve(TrialState.Running, 100, 100, 100, 100)))); // step 3
        // A trial that skipped step 2 is still checked at the first step after it.
        Assert.True(pruner.Prune(new PruningContext(Min, FiveCompleteCurves(), Steps((0, 100), (1, 100), (3, 100)))));
    }

    [Fact]
    public void MedianPruner_needs_n_min_trials_reporting_the_same_step()
    {
        var trials = FiveCompleteCurves();
        Assert.True(new MedianPruner().Prune(new PruningContext(Min, trials, Steps((3, 50)))));
        Assert.False(new MedianPruner().Prune(new PruningContext(Min, trials, Steps((7, 50)))));  // nobody reported step 7
        Assert.False(new MedianPruner(nMinTrials: 6).Prune(new PruningContext(Min, trials, Steps((3, 50)))));
    }

    [Fact]
    public void MedianPruner_prunes_a_trial_reporting_only_nan() =>
        Assert.True(new MedianPruner().Prune(new PruningContext(Min, FiveCompleteCurves(), Curve(TrialState.Running, double.NaN))));

    [Fact]
    public void PercentilePruner_in_a_maximising_study_prunes_low_curves()
    {
        var trials = FiveCompleteCurves();
        var pruner = new PercentilePruner(25);
        // Maximising, the 25th percentile keeps the top quarter: at step 0 values 6..10, threshold 9.
        Assert.True(pruner.Prune(new PruningContext(Max, trials, Curve(TrialState.Running, 8.5))));
        Assert.False(pruner.Prune(new PruningContext(Max, trials, Curve(TrialState.Running, 9.5))));
    }

    [Fact]
    public void PercentilePruner_rejects_a_percentile_outside_0_100() =>
        Assert.Throws<ArgumentException>(() => new PercentilePruner(120));

    [Fact]
    public void NopPruner_never_prunes() =>
        Assert.False(new NopPruner().Prune(new PruningContext(Min, FiveCompleteCurves(), Curve(TrialState.Running, 1e9, 1e9))));

    [Fact]
    public void SuccessiveHalving_promotes_the_top_fraction_at_each_rung()
    {
        var pruner = new SuccessiveHalvingPruner(minResource: 1, reductionFactor: 2);
        var trials = new List<FrozenTrial>();
        var decisions = new List<bool>();
        // Four trials reach rung 0 (step 1) with values 4, 3, 2, 5: a trial is promoted if it is in the best half
        // of the values recorded at that rung so far.
        foreach (var v in new[] { 4.0, 3.0, 2.0, 5.0 })
        {
            var attrs = new Dictionary<string, string>();
            var t = Steps((0, v), (1, v)) with { SystemAttrs = attrs };
            var ctx = new PruningContext(Min, trials, t, (k, val) => attrs[k] = val);
            decisions.Add(pruner.Prune(ctx));
            trials.Add(t with { State = TrialState.Complete, SystemAttrs = attrs });
        }
        Assert.Equal([false, false, false, true], decisions);
        Assert.All(trials, t => Assert.True(t.SystemAttrs.ContainsKey("completed_rung_0")));
    }

    [Fact]
    public void SuccessiveHalving_does_not_decide_before_the_first_rung()
    {
        var pruner = new SuccessiveHalvingPruner(minResource: 4, reductionFactor: 3);
        Assert.False(pruner.Prune(new PruningContext(Min, FiveCompleteCurves(), Steps((3, 1e9)))));
    }

    [Fact]
    public void Hyperband_assigns_brackets_deterministically_and_uses_all_of_them()
    {
        var pruner = new HyperbandPruner(minResource: 1, maxResource: 27, reductionFactor: 3);
        var ctx = new PruningContext(Min, [], Steps((0, 1)));
        pruner.Prune(ctx);
        Assert.Equal(4, pruner.BracketCount);
        var brackets = Enumerable.Range(0, 200).Select(n => pruner.BracketOf("study", n)).ToArray();
        Assert.Equal(brackets, Enumerable.Range(0, 200).Select(n => pruner.BracketOf("study", n)));
        Assert.Equal(4, brackets.Distinct().Count());
    }

    [Fact]
    public void Hyperband_prunes_a_bad_trial_in_its_bracket()
    {
        var pruner = new HyperbandPruner(minResource: 1, maxResource: 9, reductionFactor: 3);
        // Find a trial number in the most aggressive bracket (0: first rung at step 1).
        pruner.Prune(new PruningContext(Min, [], Steps((0, 0))));
        var numbers = Enumerable.Range(0, 500).Where(n => pruner.BracketOf("s", n) == 0).Take(4).ToArray();
        var trials = new List<FrozenTrial>();
        foreach (var (n, v) in numbers.Take(3).Zip(new[] { 1.0, 2.0, 3.0 }))
        {
            var attrs = new Dictionary<string, string>();
            var t = Steps((0, v), (1, v)) with { Number = n, SystemAttrs = attrs };
            pruner.Prune(new PruningContext(Min, trials, t, (k, val) => attrs[k] = val));
            trials.Add(t with { State = TrialState.Complete, SystemAttrs = attrs });
        }
        var bad = Steps((0, 9), (1, 9)) with { Number = numbers[3] };
        Assert.True(pruner.Prune(new PruningContext(Min, trials, bad, (_, _) => { })));
    }

    [Fact]
    public async Task MedianPruner_in_a_study_prunes_bad_curves_and_never_improves_random_search()
    {
        // With Random sampling the sequence of configurations does not depend on pruning,
        // so the pruned study's best can only equal or trail the unpruned one.
        static async Task<(double Best, int Pruned)> Run(Pruners.IPruner pruner)
        {
            var study = Study.Create(sampler: new Samplers.RandomSampler(3), pruner: pruner);
            await study.OptimizeAsync(async (t, ct) =>
            {
                var lr = t.SuggestFloat("lr", 1e-4, 1, log: true);
                var m = t.SuggestFloat("momentum", 0, 0.99);
                var final = 0.1 + Math.Pow(Math.Log10(lr) + 2, 2) / 4 + Math.Pow(m - 0.9, 2);
                var k = 0.02 + 0.5 * Math.Sqrt(lr);
                double v = 0;
                for (var s = 0; s < 30; s++)
                {
                    v = final + 2 * Math.Exp(-k * (s + 1));
                    t.Report(v, s);
                    if (await t.ShouldPruneAsync(ct)) throw new TrialPrunedException();
                }
                return v;
            }, nTrials: 60);
            return (study.BestValue, study.Trials.Count(t => t.State == TrialState.Pruned));
        }
        var pruned = await Run(new MedianPruner());
        var full = await Run(new NopPruner());
        Assert.True(pruned.Pruned > 20, $"only {pruned.Pruned} pruned");
        Assert.Equal(0, full.Pruned);
        Assert.True(pruned.Best >= full.Best);
    }
}
