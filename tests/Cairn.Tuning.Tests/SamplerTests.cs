using Cairn.Tuning.Pruners;
using Cairn.Tuning.Samplers;

namespace Cairn.Tuning.Tests;

public class SamplerTests
{
    private static Study NewStudy(ISampler sampler, StudyDirection direction = StudyDirection.Minimize) =>
        Study.Create(direction: direction, sampler: sampler, pruner: new NopPruner());

    /// <summary>An objective over every kind of parameter; records what it was given.</summary>
    private static double MixedSpace(Trial t, List<(double F, double L, double S, int I, int IL, int IS, string C)> seen)
    {
        var f = t.SuggestFloat("f", -2, 3);
        var l = t.SuggestFloat("l", 1e-4, 1, log: true);
        var s = t.SuggestFloat("s", 0, 1, step: 0.25);
        var i = t.SuggestInt("i", -3, 4);
        var il = t.SuggestInt("il", 1, 1000, log: true);
        var istep = t.SuggestInt("is", 0, 20, step: 5);
        var c = t.SuggestCategorical("c", "a", "b", "c");
        lock (seen) seen.Add((f, l, s, i, il, istep, c));
        return f * f + Math.Abs(Math.Log10(l) + 2) + s + Math.Abs(i) + il / 100.0 + istep / 10.0 + (c == "b" ? 0 : 1);
    }

    private static void AssertInSpace(List<(double F, double L, double S, int I, int IL, int IS, string C)> seen)
    {
        Assert.All(seen, v =>
        {
            Assert.InRange(v.F, -2, 3);
            Assert.InRange(v.L, 1e-4, 1);
            Assert.Contains(v.S, new[] { 0, 0.25, 0.5, 0.75, 1.0 });
            Assert.InRange(v.I, -3, 4);
            Assert.InRange(v.IL, 1, 1000);
            Assert.Contains(v.IS, new[] { 0, 5, 10, 15, 20 });
            Assert.Contains(v.C, new[] { "a", "b", "c" });
        });
    }

    [Fact]
    public async Task RandomSampler_respects_bounds_log_step_int_and_categorical()
    {
        var seen = new List<(double, double, double, int, int, int, string)>();
        await NewStudy(new RandomSampler(1)).OptimizeAsync(t => MixedSpace(t, seen), nTrials: 300);
        AssertInSpace(seen);
        // Every grid value of the stepped parameters and every choice shows up.
        Assert.Equal(5, seen.Select(v => v.Item3).Distinct().Count());
        Assert.Equal(5, seen.Select(v => v.Item6).Distinct().Count());
        Assert.Equal(8, seen.Select(v => v.Item4).Distinct().Count());
        Assert.Equal(3, seen.Select(v => v.Item7).Distinct().Count());
    }

    [Fact]
    public async Task RandomSampler_log_parameter_is_uniform_in_log_space()
    {
        var values = new List<double>();
        await NewStudy(new RandomSampler(2)).OptimizeAsync(t => { values.Add(t.SuggestFloat("lr", 1e-6, 1, log: true)); return 0; }, nTrials: 2000);
        // Half of a log-uniform sample lies below the geometric mean 1e-3; a uniform one would put ~0.1% there.
        var below = values.Count(v => v < 1e-3) / (double)values.Count;
        Assert.InRange(below, 0.45, 0.55);
    }

    [Fact]
    public async Task RandomSampler_same_seed_gives_same_trials_and_different_seed_differs()
    {
        static async Task<double[]> Run(int seed)
        {
            var study = NewStudy(new RandomSampler(seed));
            await study.OptimizeAsync(t => t.SuggestFloat("x", 0, 1) + t.SuggestInt("n", 0, 100), nTrials: 20);
            return study.Trials.Select(t => t.Value!.Value).ToArray();
        }
        var first = await Run(7);
        var again = await Run(7);
        Assert.Equal(first, again);
        Assert.NotEqual(first, await Run(8));
    }

    [Fact]
    public async Task TpeSampler_respects_bounds_log_step_int_and_categorical()
    {
        var seen = new List<(double, double, double, int, int, int, string)>();
        await NewStudy(new TpeSampler(seed: 3)).OptimizeAsync(t => MixedSpace(t, seen), nTrials: 80);
        AssertInSpace(seen);
    }

    [Fact]
    public async Task TpeSampler_multivariate_respects_bounds_log_step_int_and_categorical()
    {
        var seen = new List<(double, double, double, int, int, int, string)>();
        await NewStudy(new TpeSampler(seed: 3, multivariate: true)).OptimizeAsync(t => MixedSpace(t, seen), nTrials: 80);
        AssertInSpace(seen);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task TpeSampler_same_seed_gives_same_trials(bool multivariate)
    {
        async Task<double[]> Run(int seed)
        {
            var study = NewStudy(new TpeSampler(seed: seed, multivariate: multivariate));
            await study.OptimizeAsync(t => MixedSpace(t, []), nTrials: 40);
            return study.Trials.Select(t => t.Value!.Value).ToArray();
        }
        var first = await Run(11);
        var again = await Run(11);
        Assert.Equal(first, again);
        Assert.NotEqual(first, await Run(12));
    }

    [Fact]
    public async Task TpeSampler_startup_trials_are_the_random_samplers_trials()
    {
        var tpe = NewStudy(new TpeSampler(seed: 5));
        var random = NewStudy(new RandomSampler(5));
        await tpe.OptimizeAsync(Problems.Branin, nTrials: 12);
        await random.OptimizeAsync(Problems.Branin, nTrials: 12);
        Assert.Equal(random.Trials.Take(10).Select(t => t.Value), tpe.Trials.Take(10).Select(t => t.Value));
        Assert.NotEqual(random.Trials[11].Value, tpe.Trials[11].Value);
    }

    [Fact]
    public async Task TpeSampler_beats_random_on_branin()
    {
        var tpe = new List<double>();
        var random = new List<double>();
        for (var seed = 0; seed < 5; seed++)
        {
            var a = NewStudy(new TpeSampler(seed: seed));
            await a.OptimizeAsync(Problems.Branin, nTrials: 60);
            tpe.Add(a.BestValue);
            var b = NewStudy(new RandomSampler(seed));
            await b.OptimizeAsync(Problems.Branin, nTrials: 60);
            random.Add(b.BestValue);
        }
        Assert.True(tpe.Order().ElementAt(2) < random.Order().ElementAt(2), $"TPE median {tpe.Order().ElementAt(2)}, random {random.Order().ElementAt(2)}");
        Assert.True(tpe.Order().ElementAt(2) < 0.8);
    }

    [Fact]
    public async Task TpeSampler_maximises_when_the_study_maximises()
    {
        var study = NewStudy(new TpeSampler(seed: 2), StudyDirection.Maximize);
        await study.OptimizeAsync(t => -Math.Pow(t.SuggestFloat("x", -10, 10) - 4, 2), nTrials: 50);
        Assert.InRange((double)study.BestParams["x"]!, 3, 5);
    }

    [Fact]
    public async Task TpeSampler_learns_the_best_category()
    {
        var study = NewStudy(new TpeSampler(seed: 4));
        await study.OptimizeAsync(t => t.SuggestCategorical("c", "a", "b", "c", "d") switch { "c" => 0.0, _ => 1.0 }, nTrials: 60);
        var late = study.Trials.Skip(30).Count(t => (string)t.Params["c"]! == "c");
        Assert.True(late >= 20, $"only {late} of the last 30 trials chose the best category");
    }

    [Fact]
    public async Task TpeSampler_treats_pruned_trials_as_worse_than_complete_ones()
    {
        // Trials with x > 0 are pruned at step 0; TPE should move to x < 0 where trials complete.
        var study = NewStudy(new TpeSampler(seed: 9));
        await study.OptimizeAsync(t =>
        {
            var x = t.SuggestFloat("x", -1, 1);
            t.Report(0, 0);
            if (x > 0) throw new TrialPrunedException();
            return 1 + x;
        }, nTrials: 60);
        var late = study.Trials.Skip(30).Count(t => t.State == TrialState.Complete);
        Assert.True(late >= 20, $"only {late} of the last 30 trials completed");
    }

    [Fact]
    public async Task TpeSampler_constant_liar_with_parallel_workers_stays_in_bounds()
    {
        var seen = new List<(double, double, double, int, int, int, string)>();
        var study = NewStudy(new TpeSampler(seed: 1, constantLiar: true, multivariate: true));
        await study.OptimizeAsync(async (t, ct) => { var v = MixedSpace(t, seen); await Task.Delay(1, ct); return v; }, nTrials: 60, parallelism: 4);
        Assert.Equal(60, study.Trials.Count(t => t.State == TrialState.Complete));
        AssertInSpace(seen);
    }

    [Fact]
    public void TpeSampler_default_gamma_and_weights_match_optuna()
    {
        Assert.Equal(1, TpeSampler.DefaultGamma(10));
        Assert.Equal(3, TpeSampler.DefaultGamma(21));
        Assert.Equal(25, TpeSampler.DefaultGamma(1000));
        Assert.Equal(Enumerable.Repeat(1.0, 24), TpeSampler.DefaultWeights(24));
        var w = TpeSampler.DefaultWeights(100);
        Assert.Equal(100, w.Length);
        Assert.Equal(0.01, w[0], 12);
        Assert.Equal(1.0, w[74], 12);
        Assert.All(w.Skip(75), x => Assert.Equal(1.0, x));
        Assert.True(w.Take(75).Zip(w.Skip(1).Take(74)).All(p => p.First < p.Second));
    }

    private static GridSampler BraninGrid(int? seed, bool shuffle = true) => new(
    [
        new("x1", Enumerable.Range(-5, 16).Select(v => (object?)(double)v).ToArray()),
        new("x2", Enumerable.Range(0, 16).Select(v => (object?)(double)v).ToArray()),
    ], seed, shuffle);

    [Fact]
    public async Task GridSampler_visits_every_point_once_then_stops_the_study()
    {
        var study = NewStudy(BraninGrid(0));
        await study.OptimizeAsync(Problems.Branin, nTrials: 1000);
        var points = study.Trials.Select(t => ((double)t.Params["x1"]!, (double)t.Params["x2"]!)).ToArray();
        Assert.Equal(256, points.Length);
        Assert.Equal(256, points.Distinct().Count());
        // At N = grid size the grid's best point is found exactly.
        Assert.Equal(0.4979107097873232, study.BestValue, 12);
    }

    [Fact]
    public async Task GridSampler_in_order_visits_points_with_the_last_parameter_fastest()
    {
        var grid = new GridSampler([new("a", [1, 2]), new("b", ["x", "y", "z"])], shuffle: false);
        var study = NewStudy(grid);
        await study.OptimizeAsync(t => t.SuggestInt("a", 1, 2) + (t.SuggestCategorical("b", "x", "y", "z") == "x" ? 0 : 1), nTrials: 10);
        Assert.Equal(["1x", "1y", "1z", "2x", "2y", "2z"], study.Trials.Select(t => $"{t.Params["a"]}{t.Params["b"]}"));
    }

    [Fact]
    public async Task GridSampler_same_seed_gives_same_order_and_other_seeds_differ()
    {
        async Task<string> Order(int seed)
        {
            var study = NewStudy(BraninGrid(seed));
            await study.OptimizeAsync(Problems.Branin, nTrials: 20);
            return string.Join(";", study.Trials.Select(t => $"{t.Params["x1"]},{t.Params["x2"]}"));
        }
        var first = await Order(3);
        var again = await Order(3);
        Assert.Equal(first, again);
        Assert.NotEqual(first, await Order(4));
    }

    [Fact]
    public async Task GridSampler_rejects_a_parameter_outside_the_grid()
    {
        var study = NewStudy(BraninGrid(0));
        await study.OptimizeAsync(t => t.SuggestFloat("other", 0, 1), nTrials: 1);
        var t = Assert.Single(study.Trials);
        Assert.Equal(TrialState.Failed, t.State);
        Assert.Contains("not in the grid", t.UserAttrs["fail_reason"]);
    }

    [Fact]
    public async Task GridSampler_best_after_n_follows_the_exact_law_of_a_random_order()
    {
        // Mean of best-after-25 over many seeds vs the exact value 2.5386 from optuna-reference.json.
        var bests = new List<double>();
        for (var seed = 0; seed < 200; seed++)
        {
            var study = NewStudy(BraninGrid(seed));
            await study.OptimizeAsync(Problems.Branin, nTrials: 25);
            bests.Add(study.BestValue);
        }
        Assert.InRange(bests.Average(), 2.5386 * 0.8, 2.5386 * 1.2);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task TpeSampler_handles_conditional_parameters(bool multivariate)
    {
        // A define-by-run tree: which parameters exist depends on an earlier choice.
        var study = NewStudy(new TpeSampler(seed: 6, multivariate: multivariate));
        await study.OptimizeAsync(t => t.SuggestCategorical("model", "linear", "tree") == "linear"
            ? Math.Abs(t.SuggestFloat("alpha", 1e-4, 1, log: true) - 0.01)
            : 0.5 + t.SuggestInt("depth", 1, 8) / 10.0, nTrials: 60);
        Assert.All(study.Trials, t => Assert.Equal(TrialState.Complete, t.State));
        var late = study.Trials.Skip(30).Count(t => (string)t.Params["model"]! == "linear");
        Assert.True(late >= 20, $"only {late} of the last 30 trials chose the better branch");
        Assert.True(study.BestValue < 0.01);
    }

    [Fact]
    public void Seeded_streams_are_pinned_so_seeds_reproduce_across_runtimes()
    {
        // xoshiro256** seeded by SplitMix64 (not System.Random, whose seeded algorithm is a legacy one).
        var rng = new SeededRandom(42);
        var first = Enumerable.Range(0, 3).Select(_ => rng.NextDouble()).ToArray();
        var again = new SeededRandom(42);
        Assert.Equal(first, Enumerable.Range(0, 3).Select(_ => again.NextDouble()));
        Assert.All(first, v => Assert.InRange(v, 0, 1));
        Assert.Equal(PinnedFirstDouble, first[0]);
        var counts = new int[10];
        for (var i = 0; i < 100_000; i++) counts[rng.Next(10)]++;
        Assert.All(counts, c => Assert.InRange(c, 9_500, 10_500));
    }

    // Changing the generator changes every seeded study; this pin makes such a change deliberate.
    private const double PinnedFirstDouble = 0.08386297105988216;
}
