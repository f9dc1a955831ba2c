using Cairn.Tuning.Samplers;

namespace Cairn.Tuning.Tests;

public class NormalMathTests
{
    [Theory]
    [InlineData(0.5, 0.5204998778130465)]
    [InlineData(1.0, 0.8427007929497149)]
    [InlineData(2.0, 0.9953222650189527)]
    [InlineData(-1.5, -0.9661051464753108)]
    [InlineData(3.0, 0.9999779095030014)]
    public void Erf_matches_reference_values(double x, double expected) =>
        Assert.Equal(expected, NormalMath.Erf(x), 1e-14);

    [Theory]
    [InlineData(3.0, 2.209049699858544e-05)]
    [InlineData(5.0, 1.5374597944280349e-12)]
    [InlineData(10.0, 2.088487583762545e-45)]
    [InlineData(2.4, 6.885138966450786e-04)]
    public void Erfc_is_accurate_in_the_tail(double x, double expected) =>
        Assert.Equal(1.0, NormalMath.Erfc(x) / expected, 1e-11);

    [Theory]
    [InlineData(1e-10)]
    [InlineData(0.01)]
    [InlineData(0.3)]
    [InlineData(0.5)]
    [InlineData(0.9)]
    [InlineData(0.999999)]
    public void PhiInverse_inverts_Phi(double p) =>
        Assert.Equal(1.0, NormalMath.Phi(NormalMath.PhiInverse(p)) / p, 1e-12);

    [Fact]
    public void SampleTruncated_stays_in_bounds_and_has_the_truncated_mean()
    {
        var rng = new Random(3);
        const double mu = 0.2, sigma = 1.0, low = 0, high = 1;
        double sum = 0;
        const int n = 200_000;
        for (var i = 0; i < n; i++)
        {
            var x = NormalMath.SampleTruncated(rng, mu, sigma, low, high);
            Assert.InRange(x, low, high);
            sum += x;
        }
        // Mean of N(0.2, 1) truncated to [0, 1]: mu + sigma (phi(a) - phi(b)) / (Phi(b) - Phi(a)).
        double a = (low - mu) / sigma, b = (high - mu) / sigma;
        static double pdf(double z) => Math.Exp(-z * z / 2) / Math.Sqrt(2 * Math.PI);
        var expected = mu + sigma * (pdf(a) - pdf(b)) / (NormalMath.Phi(b) - NormalMath.Phi(a));
        Assert.Equal(expected, sum / n, 3);
    }

    // scipy.special.log_ndtr values; below -20 the asymptotic series takes over (Optuna 3.1's _log_ndtr).
    [Theory]
    [InlineData(-30.0, -454.32124395634327)]
    [InlineData(-5.0, -15.064998393988727)]
    [InlineData(7.0, -1.2798125438866539e-12)]
    public void LogPhi_is_accurate_in_both_tails(double z, double expected) =>
        Assert.Equal(1.0, NormalMath.LogPhi(z) / expected, 1e-10);

    // Optuna 3.1.0's _truncnorm._log_gauss_mass for the same intervals (central, far left tail, right, wide).
    [Theory]
    [InlineData(-1.0, 1.0, -0.38171514630212616)]
    [InlineData(-40.0, -39.0, -765.0831565643776)]
    [InlineData(1.0, 2.0, -1.9957982691807552)]
    [InlineData(-0.5, 38.0, -0.3689464152886564)]
    public void LogGaussMass_matches_optuna_3_1(double a, double b, double expected) =>
        Assert.Equal(1.0, NormalMath.LogGaussMass(a, b) / expected, 1e-10);
}
