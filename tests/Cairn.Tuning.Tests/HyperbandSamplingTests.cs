using Cairn.Tuning.Pruners;
using Cairn.Tuning.Samplers;

namespace Cairn.Tuning.Tests;

/// <summary>With Hyperband, TPE learns only from the trial's own bracket (Optuna's <c>_BracketStudy</c>).</summary>
public sealed class HyperbandSamplingTests
{
    private static readonly StudyInfo Info = new(1, "hb", StudyDirection.Minimize, DateTimeOffset.UnixEpoch);
    private static readonly FloatDistribution X = new(0, 10);

    private static FrozenTrial Complete(int number, double x, double value) => new()
    {
        TrialId = number + 1,
        Number = number,
        State = TrialState.Complete,
        Value = value,
        Distributions = new Dictionary<string, Distribution> { ["x"] = X },
        InternalParams = new Dictionary<string, double> { ["x"] = x },
    };

    private static FrozenTrial Current(int number) => new() { TrialId = number + 1, Number = number, State = TrialState.Running };

    // Two groups that disagree: in "ours" low x is good; "theirs" (stopped at another budget, so with lower values)
    // has its best at high x, and would pull an unrestricted model there.
    private static readonly List<FrozenTrial> Ours = Enumerable.Range(0, 6).Select(i => Complete(i * 2, i * 1.5, i)).ToList();
    private static readonly List<FrozenTrial> Theirs = Enumerable.Range(0, 14).Select(i => Complete((i * 2) + 1, 10 - (i * 0.7), i - 100)).ToList();
    private static readonly List<FrozenTrial> All = [.. Ours.Concat(Theirs).OrderBy(t => t.Number), Current(40)];

    private static double Sample(int nStartupTrials, IReadOnlyList<FrozenTrial> trials, Func<IReadOnlyList<FrozenTrial>, IReadOnlyList<FrozenTrial>>? comparable) =>
        new TpeSampler(seed: 9, nStartupTrials: nStartupTrials).SampleIndependent(new SamplerContext(Info, trials, Current(40), () => { }, comparable), "x", X);

    [Fact]
    public void Tpe_models_only_the_comparable_trials_but_counts_every_trial_for_its_startup_phase()
    {
        IReadOnlyList<FrozenTrial> OnlyOurs(IReadOnlyList<FrozenTrial> trials) => trials.Where(t => t.Number % 2 == 0).ToList();

        // 20 finished trials pass a startup of 10 although only 6 are comparable, and the model is the one built
        // from those 6 alone (same seed, same random stream).
        var restricted = Sample(10, All, OnlyOurs);
        Assert.Equal(Sample(0, [.. Ours, Current(40)], null), restricted);
        Assert.True(restricted < 5, $"restricted to ours, x={restricted} should follow ours' low x");
        Assert.True(Sample(10, All, null) > 5, "unrestricted, the model should follow theirs' high x");
    }

    [Fact]
    public void Without_a_restriction_tpe_samples_exactly_as_before() =>
        Assert.Equal(Sample(10, All, null), Sample(10, All, trials => trials));

    [Fact]
    public async Task In_a_study_with_hyperband_the_sampler_sees_only_trials_of_the_same_bracket()
    {
        var pruner = new HyperbandPruner(minResource: 1, maxResource: 9, reductionFactor: 3);
        var sampler = new RecordingSampler(new TpeSampler(seed: 1, nStartupTrials: 4), () => pruner.BracketCount > 0);
        var study = Study.Create("hb-study", StudyDirection.Minimize, sampler, pruner);
        await study.OptimizeAsync(async (trial, ct) =>
        {
            var x = trial.SuggestFloat("x", -3, 3);
            double value = 0;
            for (var step = 0; step < 9; step++)
            {
                value = (x * x) + (1.0 / (step + 1));
                trial.Report(value, step);
                if (await trial.ShouldPruneAsync(ct))
                {
                    throw new TrialPrunedException();
                }
            }

            return value;
        }, nTrials: 40);

        Assert.True(pruner.BracketCount > 1);
        var restricted = 0;
        foreach (var (number, seen, all, bracketsKnown) in sampler.Seen)
        {
            if (!bracketsKnown)
            {
                // Before the first complete trial fixes the maximum resource there are no brackets yet: everything is comparable.
                Assert.Equal(all, seen);
                continue;
            }

            var bracket = pruner.BracketOf("hb-study", number);
            Assert.All(seen, n => Assert.Equal(bracket, pruner.BracketOf("hb-study", n)));
            Assert.Equal(all.Count(n => pruner.BracketOf("hb-study", n) == bracket), seen.Count);
            restricted += seen.Count < all.Count ? 1 : 0;
        }

        // Once the brackets are known (after the first complete trial) every later trial is restricted.
        Assert.True(restricted >= 30, $"only {restricted} of {sampler.Seen.Count} trials saw a restricted history");
    }

    private sealed class RecordingSampler(ISampler inner, Func<bool> bracketsKnown) : ISampler
    {
        public List<(int Number, List<int> Seen, List<int> All, bool BracketsKnown)> Seen { get; } = [];

        public double SampleIndependent(SamplerContext context, string name, Distribution distribution)
        {
            var seen = context.ComparableTrials.Select(t => t.Number).ToList();
            Seen.Add((context.Trial.Number, seen, context.Trials.Select(t => t.Number).ToList(), bracketsKnown()));
            return inner.SampleIndependent(context, name, distribution);
        }
    }
}
