namespace Cairn.Tuning.Samplers;

/// <summary>Settings shared by the two Parzen estimators of TPE (Optuna 3.1 semantics).</summary>
/// <param name="SigmaWeightedKernels">Score continuous kernels as Optuna 3.1 does: its <c>_truncnorm.logpdf</c>
/// standardises x but leaves out the −log σ term (optuna/optuna#5109, fixed only in later releases), so
/// <see cref="ParzenEstimator.LogPdf"/> is log Σ_k w_k σ_k N_k(x), not a normalised density: wide kernels (the prior
/// above all) weigh σ times more. Stepped, int and categorical parameters are unaffected (their masses are exact).
/// <c>false</c> gives the normalised mixture density.</param>
internal sealed record ParzenSettings(bool ConsiderPrior, double PriorWeight, bool ConsiderMagicClip, bool ConsiderEndpoints, bool Multivariate,
    bool SigmaWeightedKernels = true);

/// <summary>
/// A mixture of truncated normals (numeric parameters, in log space for log parameters) and smoothed categorical
/// kernels, one component per observation plus an optional prior component. Univariate TPE builds one per parameter;
/// multivariate TPE builds one over all parameters, where each component is a product kernel.
/// </summary>
internal sealed class ParzenEstimator
{
    private const double Eps = 1e-12;
    private const double Sigma0Magnitude = 0.2;

    private readonly Distribution[] _space;
    private readonly double[] _logWeights;
    private readonly double[] _weights;
    private readonly int _components;
    private readonly Param[] _params;

    private sealed class Param
    {
        public double Low, High;
        public double? Q;
        public double[] Mus = [];
        public double[] Sigmas = [];
        public double[] LogNormalizer = []; // continuous: -log(sqrt(2 pi) p_accept), minus log sigma unless sigma-weighted; stepped: log p_accept
        public double[][]? LogCategorical;  // [component][choice]
        public double[][]? Categorical;
    }

    /// <param name="space">Distributions of the parameters modelled together.</param>
    /// <param name="observations">observations[p][i]: internal value of parameter p in observation i.</param>
    /// <param name="observationWeights">Weight of each observation (before the prior is added and all are normalised).</param>
    public ParzenEstimator(Distribution[] space, double[][] observations, double[] observationWeights, ParzenSettings settings)
    {
        _space = space;
        var n = observationWeights.Length;
        var considerPrior = settings.ConsiderPrior || n == 0;
        _components = n + (considerPrior ? 1 : 0);
        _weights = new double[_components];
        Array.Copy(observationWeights, _weights, n);
        if (considerPrior) _weights[n] = settings.PriorWeight;
        var sum = _weights.Sum();
        _logWeights = new double[_components];
        for (var k = 0; k < _components; k++) { _weights[k] /= sum; _logWeights[k] = Math.Log(_weights[k]); }

        // Scott's rule as in BOHB: one bandwidth factor for all components in multivariate mode.
        var sigma0 = Sigma0Magnitude * Math.Pow(Math.Max(n, 1), -1.0 / (space.Length + 4));

        _params = new Param[space.Length];
        for (var p = 0; p < space.Length; p++)
        {
            var param = new Param();
            _params[p] = param;
            if (space[p] is CategoricalDistribution cat)
            {
                var c = cat.Choices.Count;
                var fill = settings.PriorWeight / _components;
                param.Categorical = new double[_components][];
                param.LogCategorical = new double[_components][];
                for (var k = 0; k < _components; k++)
                {
                    var row = new double[c];
                    Array.Fill(row, fill);
                    if (k < n) row[(int)observations[p][k]] += 1;
                    var rs = row.Sum();
                    for (var j = 0; j < c; j++) row[j] /= rs;
                    param.Categorical[k] = row;
                    param.LogCategorical[k] = row.Select(x => Math.Log(x)).ToArray();
                }
                continue;
            }
            (param.Low, param.High, param.Q) = Bounds(space[p]);
            var low = param.Low;
            var high = param.High;
            var mus = new double[_components];
            for (var i = 0; i < n; i++) mus[i] = ToUniform(space[p], observations[p][i]);
            if (considerPrior) mus[n] = 0.5 * (low + high);
            var sigmas = new double[_components];
            if (settings.Multivariate)
            {
                Array.Fill(sigmas, sigma0 * (high - low));
            }
            else
            {
                // Each kernel is as wide as the larger gap to its neighbours (the bounds act as neighbours at the ends).
                var order = Enumerable.Range(0, _components).OrderBy(i => mus[i]).ToArray();
                var sorted = new double[_components + 2];
                sorted[0] = low;
                for (var i = 0; i < _components; i++) sorted[i + 1] = mus[order[i]];
                sorted[^1] = high;
                var sortedSigmas = new double[_components];
                for (var i = 0; i < _components; i++)
                    sortedSigmas[i] = Math.Max(sorted[i + 1] - sorted[i], sorted[i + 2] - sorted[i + 1]);
                if (!settings.ConsiderEndpoints && sorted.Length >= 4)
                {
                    sortedSigmas[0] = sorted[2] - sorted[1];
                    sortedSigmas[^1] = sorted[^2] - sorted[^3];
                }
                for (var i = 0; i < _components; i++) sigmas[order[i]] = sortedSigmas[i];
            }
            var maxSigma = high - low;
            var minSigma = settings.ConsiderMagicClip ? (high - low) / Math.Min(100.0, 1.0 + _components) : Eps;
            for (var i = 0; i < _components; i++) sigmas[i] = Math.Clamp(sigmas[i], minSigma, maxSigma);
            if (considerPrior) sigmas[n] = high - low;
            param.Mus = mus;
            param.Sigmas = sigmas;
            param.LogNormalizer = new double[_components];
            for (var k = 0; k < _components; k++)
            {
                // log p_accept computed in log space (Optuna 3.1's _log_gauss_mass), so far-off kernels keep their tiny mass.
                var logPAccept = NormalMath.LogGaussMass((low - mus[k]) / sigmas[k], (high - mus[k]) / sigmas[k]);
                param.LogNormalizer[k] = param.Q is null
                    ? -0.5 * Math.Log(2 * Math.PI) - (settings.SigmaWeightedKernels ? 0.0 : Math.Log(sigmas[k])) - logPAccept
                    : logPAccept;
            }
        }
    }

    internal IReadOnlyList<double> Weights => _weights;
    internal IReadOnlyList<double> MusOf(int param) => _params[param].Mus;
    internal IReadOnlyList<double> SigmasOf(int param) => _params[param].Sigmas;

    /// <summary>Draws <paramref name="size"/> points; result[p][s] is the internal value of parameter p in sample s.</summary>
    public double[][] Sample(Random rng, int size)
    {
        var active = new int[size];
        var cumulative = new double[_components];
        double acc = 0;
        for (var k = 0; k < _components; k++) { acc += _weights[k]; cumulative[k] = acc; }
        for (var s = 0; s < size; s++)
        {
            var u = rng.NextDouble() * acc;
            var k = Array.BinarySearch(cumulative, u);
            if (k < 0) k = ~k;
            active[s] = Math.Min(k, _components - 1);
        }
        var result = new double[_params.Length][];
        for (var p = 0; p < _params.Length; p++)
        {
            var param = _params[p];
            var values = new double[size];
            for (var s = 0; s < size; s++)
            {
                var k = active[s];
                if (param.Categorical is { } cat)
                {
                    var row = cat[k];
                    var u = rng.NextDouble();
                    var j = 0;
                    double c = row[0];
                    while (c < u && j < row.Length - 1) c += row[++j];
                    values[s] = j;
                }
                else
                {
                    var x = NormalMath.SampleTruncated(rng, param.Mus[k], param.Sigmas[k], param.Low, param.High);
                    values[s] = FromUniform(_space[p], param, x);
                }
            }
            result[p] = values;
        }
        return result;
    }

    /// <summary>Log density (log probability mass for stepped and categorical parameters) of each point; with
    /// <see cref="ParzenSettings.SigmaWeightedKernels"/> (the default, Optuna 3.1's scoring) each continuous kernel's
    /// density is multiplied by its σ.</summary>
    public double[] LogPdf(double[][] samples)
    {
        var size = samples.Length == 0 ? 0 : samples[0].Length;
        var result = new double[size];
        var component = new double[_components];
        for (var s = 0; s < size; s++)
        {
            Array.Copy(_logWeights, component, _components);
            for (var p = 0; p < _params.Length; p++)
            {
                var param = _params[p];
                if (param.LogCategorical is { } logCat)
                {
                    var j = (int)samples[p][s];
                    for (var k = 0; k < _components; k++) component[k] += logCat[k][j];
                    continue;
                }
                var x = ToUniform(_space[p], samples[p][s]);
                if (param.Q is { } q)
                {
                    var upper = Math.Min(x + q / 2, param.High);
                    var lower = Math.Max(x - q / 2, param.Low);
                    for (var k = 0; k < _components; k++)
                    {
                        // Exact log mass of the step's cell, as Optuna 3.1 (no epsilon floor: a far kernel's mass is tiny, not 1e-12).
                        var sigma = param.Sigmas[k];
                        component[k] += NormalMath.LogGaussMass((lower - param.Mus[k]) / sigma, (upper - param.Mus[k]) / sigma) - param.LogNormalizer[k];
                    }
                }
                else
                {
                    for (var k = 0; k < _components; k++)
                    {
                        var z = (x - param.Mus[k]) / Math.Max(param.Sigmas[k], Eps);
                        component[k] += -0.5 * z * z + param.LogNormalizer[k];
                    }
                }
            }
            result[s] = LogSumExp(component);
        }
        return result;
    }

    internal static (double Low, double High, double? Q) Bounds(Distribution d) => d switch
    {
        FloatDistribution { Log: true } f => (Math.Log(f.Low), Math.Log(f.High), null),
        FloatDistribution { Step: { } s } f => (f.Low - 0.5 * s, f.High + 0.5 * s, s),
        FloatDistribution f => (f.Low, f.High, null),
        IntDistribution { Log: true } i => (Math.Log(i.Low - 0.5), Math.Log(i.High + 0.5), null),
        IntDistribution i => (i.Low - 0.5 * i.Step, i.High + 0.5 * i.Step, i.Step),
        _ => throw new ArgumentException($"No numeric bounds for {d.GetType().Name}."),
    };

    private static double ToUniform(Distribution d, double v) => d switch
    {
        FloatDistribution { Log: true } or IntDistribution { Log: true } => Math.Log(v),
        _ => v,
    };

    private static double FromUniform(Distribution d, Param param, double x)
    {
        switch (d)
        {
            case FloatDistribution { Log: true } f:
                return Math.Clamp(Math.Exp(x), f.Low, f.High);
            case FloatDistribution { Step: { } step } f:
                return Math.Clamp(Math.Round((x - f.Low) / step) * step + f.Low, f.Low, f.High);
            case FloatDistribution f:
                return Math.Clamp(x, f.Low, f.High);
            case IntDistribution { Log: true } i:
                return Math.Clamp(Math.Round(Math.Exp(x)), i.Low, i.High);
            case IntDistribution i:
                return Math.Clamp(Math.Round((x - i.Low) / i.Step) * i.Step + i.Low, i.Low, i.High);
            default:
                throw new ArgumentException($"Not numeric: {d.GetType().Name}.");
        }
    }


    private static double LogSumExp(double[] values)
    {
        var max = double.NegativeInfinity;
        foreach (var v in values) if (v > max) max = v;
        if (double.IsNegativeInfinity(max)) return max;
        double sum = 0;
        foreach (var v in values) sum += Math.Exp(v - max);
        return max + Math.Log(sum);
    }
}
