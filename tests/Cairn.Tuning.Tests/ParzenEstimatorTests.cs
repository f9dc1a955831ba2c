using Cairn.Tuning.Samplers;

namespace Cairn.Tuning.Tests;

public class ParzenEstimatorTests
{
    private static readonly ParzenSettings Univariate = new(true, 1.0, true, false, false);

    [Fact]
    public void Density_integrates_to_one_and_matches_the_samples()
    {
        var d = new FloatDistribution(-5, 10);
        var est = new ParzenEstimator([d], [[-3.0, 2.0, 9.5, 0.1]], [1, 1, 1, 1], Univariate);
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
