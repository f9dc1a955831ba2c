namespace Cairn.Tuning.Samplers;

/// <summary>
/// Tree-structured Parzen Estimator, with Optuna 3.1's defaults: after <c>nStartupTrials</c> random trials, trials are
/// split into a good group (the best gamma(n) = min(ceil(0.1 n), 25)) and the rest; each group gets a Parzen estimator;
/// <c>nEiCandidates</c> points drawn from the good estimator are scored by l(x)/g(x) and the best is taken. Continuous
/// kernels are scored as Optuna 3.1 scores them, each weighted by its σ (see <see cref="ParzenSettings.SigmaWeightedKernels"/>);
/// on numpy's random stream this sampler replays Optuna 3.1's trials.
/// Multivariate mode models the parameters every trial shares jointly; constant liar counts running trials
/// as bad so parallel workers spread out.
/// </summary>
public sealed class TpeSampler : ISampler
{
    private readonly Random _rng;
    private readonly RandomSampler _random;
    private readonly ParzenSettings _settings;
    private readonly Func<int, int> _gamma;
    private readonly Func<int, double[]> _weights;

    public TpeSampler(int? seed = null, int nStartupTrials = 10, int nEiCandidates = 24, bool multivariate = false,
        bool constantLiar = false, bool considerPrior = true, double priorWeight = 1.0, bool considerMagicClip = true,
        bool considerEndpoints = false, Func<int, int>? gamma = null, Func<int, double[]>? weights = null)
        // Two streams seeded alike, as in Optuna: the startup trials are exactly RandomSampler(seed)'s trials.
        : this(SeededRandom.Create(seed), new RandomSampler(seed), nStartupTrials, nEiCandidates, multivariate, constantLiar,
            considerPrior, priorWeight, considerMagicClip, considerEndpoints, gamma, weights)
    {
    }

    /// <summary>With given generators: tests drive it with numpy's MT19937 stream to replay Optuna's own trials.</summary>
    internal TpeSampler(Random rng, RandomSampler startup, int nStartupTrials = 10, int nEiCandidates = 24, bool multivariate = false,
        bool constantLiar = false, bool considerPrior = true, double priorWeight = 1.0, bool considerMagicClip = true,
        bool considerEndpoints = false, Func<int, int>? gamma = null, Func<int, double[]>? weights = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(nStartupTrials);
        ArgumentOutOfRangeException.ThrowIfLessThan(nEiCandidates, 1);
        if (!(priorWeight > 0)) throw new ArgumentException($"priorWeight must be > 0, got {priorWeight}.");
        _rng = rng;
        _random = startup;
        NStartupTrials = nStartupTrials;
        NEiCandidates = nEiCandidates;
        Multivariate = multivariate;
        ConstantLiar = constantLiar;
        _settings = new ParzenSettings(considerPrior, priorWeight, considerMagicClip, considerEndpoints, multivariate);
        _gamma = gamma ?? DefaultGamma;
        _weights = weights ?? DefaultWeights;
    }

    public int NStartupTrials { get; }
    public int NEiCandidates { get; }
    public bool Multivariate { get; }
    public bool ConstantLiar { get; }

    /// <summary>min(ceil(0.1 n), 25).</summary>
    public static int DefaultGamma(int n) => Math.Min((int)Math.Ceiling(0.1 * n), 25);

    /// <summary>Flat weight 1 for the newest 25 observations, a linear ramp from 1/n for older ones.</summary>
    public static double[] DefaultWeights(int n)
    {
        if (n == 0) return [];
        if (n < 25) return Enumerable.Repeat(1.0, n).ToArray();
        var w = new double[n];
        var ramp = n - 25;
        for (var i = 0; i < ramp; i++)
            w[i] = ramp == 1 ? 1.0 / n : 1.0 / n + (1 - 1.0 / n) * i / (ramp - 1);
        for (var i = ramp; i < n; i++) w[i] = 1;
        return w;
    }

    public IReadOnlyDictionary<string, RelativeSample> SampleRelative(SamplerContext context)
    {
        if (!Multivariate) return RelativeSample.None;
        if (FinishedCount(UsableTrials(context, context.Trials)) < NStartupTrials) return RelativeSample.None;
        var trials = ComparableUsableTrials(context);
        var space = IntersectionSearchSpace(context.Trials);
        if (space.Count == 0) return RelativeSample.None;
        var names = space.Keys.Order(StringComparer.Ordinal).ToArray();
        var dists = names.Select(n => space[n]).ToArray();
        var chosen = SampleJoint(context, trials, names, dists);
        var result = new Dictionary<string, RelativeSample>();
        for (var i = 0; i < names.Length; i++) result[names[i]] = new RelativeSample(dists[i], chosen[i]);
        return result;
    }

    public double SampleIndependent(SamplerContext context, string name, Distribution distribution)
    {
        // As in Optuna, the startup phase counts every trial, and the model learns only from the comparable ones.
        var all = UsableTrials(context, context.Trials);
        if (FinishedCount(all) < NStartupTrials) return _random.SampleIndependent(context, name, distribution);
        return SampleJoint(context, ReferenceEquals(context.ComparableTrials, context.Trials) ? all : ComparableUsableTrials(context), [name], [distribution])[0];
    }

    private List<FrozenTrial> ComparableUsableTrials(SamplerContext context) => UsableTrials(context, context.ComparableTrials);

    private static int FinishedCount(List<FrozenTrial> trials) => trials.Count(t => t.State != TrialState.Running);

    /// <summary>Complete and pruned trials, plus running ones (other than this one) under constant liar.</summary>
    private List<FrozenTrial> UsableTrials(SamplerContext context, IReadOnlyList<FrozenTrial> trials)
    {
        var list = new List<FrozenTrial>(trials.Count);
        foreach (var t in trials)
        {
            if (t.State is TrialState.Complete or TrialState.Pruned) list.Add(t);
            else if (ConstantLiar && t.State == TrialState.Running && t.TrialId != context.Trial.TrialId) list.Add(t);
        }
        return list;
    }

    private double[] SampleJoint(SamplerContext context, List<FrozenTrial> trials, string[] names, Distribution[] dists)
    {
        // As in Optuna, the split uses every usable trial (a conditional parameter's absence does not change
        // which trials count as good); trials without the parameters are then left out of both groups.
        var sign = context.Direction == StudyDirection.Minimize ? 1.0 : -1.0;
        var scores = trials.Select(t => Score(t, sign)).ToArray();
        var nFinished = FinishedCount(trials); // running trials (constant liar) do not count towards gamma
        var nBelow = Math.Min(_gamma(nFinished), trials.Count);
        var order = Enumerable.Range(0, trials.Count)
            .OrderBy(i => scores[i].Rank).ThenBy(i => scores[i].Value).ThenBy(i => i).ToArray();
        var lEst = Build(dists, names, trials, order.Take(nBelow).Order());
        var gEst = Build(dists, names, trials, order.Skip(nBelow).Order());
        var candidates = lEst.Sample(_rng, NEiCandidates);
        var l = lEst.LogPdf(candidates);
        var g = gEst.LogPdf(candidates);
        var best = 0;
        var bestScore = double.NegativeInfinity;
        for (var s = 0; s < NEiCandidates; s++)
        {
            var score = l[s] - g[s];
            if (score > bestScore) { bestScore = score; best = s; }
        }
        return candidates.Select(c => c[best]).ToArray();
    }

    /// <summary>A Parzen estimator over the given trials (in trial order) that hold every parameter inside its current range.</summary>
    private ParzenEstimator Build(Distribution[] dists, string[] names, List<FrozenTrial> trials, IEnumerable<int> indices)
    {
        var rows = new List<double[]>();
        foreach (var i in indices)
        {
            var values = new double[names.Length];
            var ok = true;
            for (var p = 0; p < names.Length && ok; p++)
                ok = trials[i].InternalParams.TryGetValue(names[p], out values[p]) && dists[p].Contains(values[p]);
            if (ok) rows.Add(values);
        }
        var columns = new double[dists.Length][];
        for (var p = 0; p < dists.Length; p++)
        {
            columns[p] = new double[rows.Count];
            for (var i = 0; i < rows.Count; i++) columns[p][i] = rows[i][p];
        }
        var w = _weights(rows.Count);
        if (w.Length != rows.Count || w.Any(x => x < 0 || !double.IsFinite(x)))
            throw new InvalidOperationException($"The weights function must return {rows.Count} finite, non-negative values.");
        return new ParzenEstimator(dists, columns, w, _settings);
    }

    /// <summary>Lower is better. Complete trials come first by value; pruned ones after, deeper first, then by last value;
    /// running trials (constant liar) last.</summary>
    private static (double Rank, double Value) Score(FrozenTrial t, double sign)
    {
        switch (t.State)
        {
            case TrialState.Complete:
                return (double.NegativeInfinity, sign * (t.Value ?? double.PositiveInfinity));
            case TrialState.Pruned when t.LastStep is { } step:
                var v = t.IntermediateValues[step];
                return (-step, double.IsNaN(v) ? double.PositiveInfinity : sign * v);
            case TrialState.Pruned:
                return (1, 0); // pruned before reporting: after every trial that reported, before running ones
            default:
                return (double.PositiveInfinity, 0);
        }
    }

    /// <summary>Parameters that every complete or pruned trial has, with the same distribution, and that have more than one value.</summary>
    internal static Dictionary<string, Distribution> IntersectionSearchSpace(IReadOnlyList<FrozenTrial> trials)
    {
        Dictionary<string, Distribution>? space = null;
        foreach (var t in trials)
        {
            if (t.State is not (TrialState.Complete or TrialState.Pruned)) continue;
            if (space is null)
            {
                space = new Dictionary<string, Distribution>(t.Distributions);
                continue;
            }
            foreach (var name in space.Keys.ToArray())
                if (!t.Distributions.TryGetValue(name, out var d) || !Distribution.AreCompatible(d, space[name]))
                    space.Remove(name);
        }
        space ??= [];
        foreach (var name in space.Keys.ToArray())
            if (space[name].IsSingle) space.Remove(name);
        return space;
    }
}
