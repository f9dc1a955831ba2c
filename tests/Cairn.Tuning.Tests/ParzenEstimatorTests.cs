using Cairn.Tuning.Samplers;

namespace Cairn.Tuning.Tests;

public class ParzenEstimatorTests
{
    private static readonly ParzenSettings Univariate = new(true, 1.0, true, false, false);
    private static readonly ParzenSettings Multivariate = new(true, 1.0, true, false, true);

    [Fact]
    public void Normalised_density_integrates_to_one_and_matches_the_samples()
    {
        var d = new FloatDistribution(-5, 10);
        var est = new ParzenEstimator([d], [[-3.0, 2.0, 9.5, 0.1]], [1, 1, 1, 1], Univariate with { SigmaWeightedKernels = false });
        const int grid = 20000;
        var xs = Enumerable.Range(0, grid).Select(i => -5 + 15 * (i + 0.5) / grid).ToArray();
        var pdf = est.LogPdf([xs]).Select(Math.Exp).ToArray();
        Assert.Equal(1.0, pdf.Sum() * 15 / grid, 3);
        var mean = xs.Zip(pdf).Sum(p => p.First * p.Second) * 15 / grid;
        var samples = est.Sample(new Random(1), 200_000)[0];
        Assert.All(samples, s => Assert.InRange(s, -5, 10));
        Assert.Equal(mean, samples.Average(), 1);
        // Share of samples below 0 against the integrated density.
        var below = xs.Zip(pdf).Where(p => p.First < 0).Sum(p => p.Second) * 15 / grid;
        Assert.Equal(below, samples.Count(s => s < 0) / 200_000.0, 2);
    }

    // Optuna 3.1's _truncnorm.logpdf standardises x but never subtracts log(scale) (optuna/optuna#5109), so its
    // Parzen log_pdf is log sum_k w_k sigma_k N_k(x). Kernels for observations 2, 3, 7 on [0, 10] plus the prior:
    // mus 2, 3, 7, 5; neighbour gaps 1, 2, 2, 2 (endpoints ignored) raised to the magic clip 10 / (1 + 4) = 2;
    // the prior keeps sigma = 10; weights 1/4 each. So the "density" integrates to (2 + 2 + 2 + 10) / 4 = 4.
    [Fact]
    public void Continuous_kernels_are_weighted_by_sigma_as_in_optuna_3_1()
    {
        var d = new FloatDistribution(0, 10);
        var est = new ParzenEstimator([d], [[2.0, 3.0, 7.0]], [1, 1, 1], Univariate);
        Assert.Equal([2.0, 2.0, 2.0, 10.0], est.SigmasOf(0));
        const int grid = 20000;
        var xs = Enumerable.Range(0, grid).Select(i => 10.0 * (i + 0.5) / grid).ToArray();
        Assert.Equal(4.0, est.LogPdf([xs]).Select(Math.Exp).Sum() * 10 / grid, 4);
        // Values of Optuna 3.1.0's _ParzenEstimator.log_pdf for the same estimator.
        Assert.Equal([-0.8889741549164548, -0.8471775161262098, -1.2553749692027216], est.LogPdf([[1.0, 5.0, 9.5]]),
            (a, b) => Math.Abs(a - b) < 1e-12);
        // With the weighting off, the same kernels form a normalised density.
        var normalised = new ParzenEstimator([d], [[2.0, 3.0, 7.0]], [1, 1, 1], Univariate with { SigmaWeightedKernels = false });
        Assert.Equal(1.0, normalised.LogPdf([xs]).Select(Math.Exp).Sum() * 10 / grid, 4);
    }

    // Multivariate: Scott's rule gives 0.2 * 4^(-1/6) * 10 = 1.587, raised to the clip 10 / (1 + 5) = 5/3; the product
    // kernel of an observation weighs (5/3)^2 and the prior's 10^2, each with weight 1/5: integral 0.2 * (4 * 25/9 + 100).
    [Fact]
    public void Multivariate_product_kernels_are_weighted_by_every_sigma_as_in_optuna_3_1()
    {
        var d = new FloatDistribution(0, 10);
        var est = new ParzenEstimator([d, d], [[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0]], [1, 1, 1, 1], Multivariate);
        Assert.Equal([5 / 3.0, 5 / 3.0, 5 / 3.0, 5 / 3.0, 10.0], est.SigmasOf(0), (a, b) => Math.Abs(a - b) < 1e-12);
        Assert.Equal([-1.1770009205667695, -1.6874810996821634], est.LogPdf([[2.5, 9.0], [6.5, 1.0]]),
            (a, b) => Math.Abs(a - b) < 1e-12);
        const int grid = 400;
        var xs = new List<double>();
        var ys = new List<double>();
        for (var i = 0; i < grid; i++)
            for (var j = 0; j < grid; j++) { xs.Add(10.0 * (i + 0.5) / grid); ys.Add(10.0 * (j + 0.5) / grid); }
        var integral = est.LogPdf([xs.ToArray(), ys.ToArray()]).Select(Math.Exp).Sum() * 100 / (grid * grid);
        Assert.Equal(0.2 * (4 * 25 / 9.0 + 100), integral, 2);
    }

    // Log parameters are modelled in log space, so there sigma is in log units: observations 1e-3 and 1e-2 on
    // [1e-5, 1e-1] give mus ln 1e-3, ln 1e-2 and the prior at ln 1e-3; sigmas ln 10, ln 10, 4 ln 10.
    [Fact]
    public void Log_parameters_are_weighted_by_their_log_space_sigma_as_in_optuna_3_1()
    {
        var est = new ParzenEstimator([new FloatDistribution(1e-5, 1e-1, log: true)], [[1e-3, 1e-2]], [1, 1], Univariate);
        Assert.Equal([Math.Log(10), Math.Log(10), 4 * Math.Log(10)], est.SigmasOf(0), (a, b) => Math.Abs(a - b) < 1e-12);
        Assert.Equal([-0.4988475967801903, -0.9153806063533616], est.LogPdf([[3e-3, 5e-5]]), (a, b) => Math.Abs(a - b) < 1e-12);
    }

    [Fact]
    public void Stepped_parameter_masses_sum_to_one()
    {
        var d = new IntDistribution(1, 10);
        var est = new ParzenEstimator([d], [[7.0, 7.0, 3.0]], [1, 1, 1], Univariate);
        var pmf = est.LogPdf([Enumerable.Range(1, 10).Select(i => (double)i).ToArray()]).Select(Math.Exp).ToArray();
        Assert.Equal(1.0, pmf.Sum(), 6);
        Assert.Equal(6, Array.IndexOf(pmf, pmf.Max()));
        var samples = est.Sample(new Random(2), 50_000)[0];
        Assert.Equal(pmf[6], samples.Count(s => s == 7) / 50_000.0, 2);
    }

    [Fact]
    public void Categorical_kernels_put_mass_on_observed_choices_and_sum_to_one()
    {
        var d = new CategoricalDistribution(["a", "b", "c"]);
        var est = new ParzenEstimator([d], [[1.0, 1.0, 2.0]], [1, 1, 1], Univariate);
        var p = est.LogPdf([[0.0, 1.0, 2.0]]).Select(Math.Exp).ToArray();
        Assert.Equal(1.0, p.Sum(), 12);
        Assert.True(p[1] > p[2] && p[2] > p[0]);
    }
}

/// <summary>Kernel centres, widths and weights for the cases Optuna's own parzen-estimator tests pin (range [-1, 1]).</summary>
public class ParzenEstimatorBandwidthTests
{
    [Theory]
    [InlineData(new double[0], false, false, true, new[] { 1.0 }, new[] { 0.0 }, new[] { 2.0 })]
    [InlineData(new[] { 0.4 }, true, false, true, new[] { 0.5, 0.5 }, new[] { 0.4, 0.0 }, new[] { 0.6, 2.0 })]
    [InlineData(new[] { -0.4 }, true, false, true, new[] { 0.5, 0.5 }, new[] { -0.4, 0.0 }, new[] { 0.6, 2.0 })]
    [InlineData(new[] { -0.4, 0.4 }, true, false, true, new[] { 1 / 3.0, 1 / 3.0, 1 / 3.0 }, new[] { -0.4, 0.4, 0.0 }, new[] { 0.6, 0.6, 2.0 })]
    [InlineData(new[] { -0.4, 0.4 }, true, false, false, new[] { 1 / 3.0, 1 / 3.0, 1 / 3.0 }, new[] { -0.4, 0.4, 0.0 }, new[] { 0.4, 0.4, 2.0 })]
    [InlineData(new[] { -0.4, 0.4 }, false, false, true, new[] { 0.5, 0.5 }, new[] { -0.4, 0.4 }, new[] { 0.8, 0.8 })]
    [InlineData(new[] { -0.4, 0.4, 0.41, 0.42 }, false, false, true, new[] { 0.25, 0.25, 0.25, 0.25 }, new[] { -0.4, 0.4, 0.41, 0.42 }, new[] { 0.8, 0.8, 0.01, 0.58 })]
    [InlineData(new[] { -0.4, 0.4, 0.41, 0.42 }, false, true, true, new[] { 0.25, 0.25, 0.25, 0.25 }, new[] { -0.4, 0.4, 0.41, 0.42 }, new[] { 0.8, 0.8, 0.4, 0.58 })]
    public void Univariate_kernels_match_optunas_bandwidth_rule(double[] mus, bool prior, bool magicClip, bool endpoints,
        double[] weights, double[] expectedMus, double[] expectedSigmas)
    {
        var est = new ParzenEstimator([new FloatDistribution(-1, 1)], [mus], Enumerable.Repeat(1.0, mus.Length).ToArray(),
            new ParzenSettings(prior, 1.0, magicClip, endpoints, false));
        Assert.Equal(weights, est.Weights, (a, b) => Math.Abs(a - b) < 1e-12);
        Assert.Equal(expectedMus, est.MusOf(0), (a, b) => Math.Abs(a - b) < 1e-12);
        Assert.Equal(expectedSigmas, est.SigmasOf(0), (a, b) => Math.Abs(a - b) < 1e-12);
    }

    [Fact]
    public void Multivariate_kernels_use_scotts_rule()
    {
        // sigma = 0.2 * n^(-1 / (d + 4)) * range; the prior keeps the full range. (With the magic clip on,
        // the floor range / (1 + components) = 1.67 would win here.)
        var d = new FloatDistribution(0, 10);
        var est = new ParzenEstimator([d, d], [[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0]], [1, 1, 1, 1], new ParzenSettings(true, 1.0, false, false, true));
        var expected = 0.2 * Math.Pow(4, -1.0 / 6) * 10;
        Assert.Equal([expected, expected, expected, expected, 10.0], est.SigmasOf(1), (a, b) => Math.Abs(a - b) < 1e-12);
    }
}
