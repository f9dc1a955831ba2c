namespace Cairn.Tuning.Samplers;

/// <summary>Error function, normal CDF and its inverse, and truncated-normal sampling, in plain code
/// (double precision to ~1e-14) so the library needs no numerics package.</summary>
internal static class NormalMath
{
    private const double TwoOverSqrtPi = 1.1283791670955126;
    private const double InvSqrtPi = 0.5641895835477563;
    private const double Sqrt2 = 1.4142135623730951;
    private const double Sqrt2Pi = 2.5066282746310002;

    public static double Erf(double x)
    {
        if (double.IsNaN(x)) return double.NaN;
        if (x < 0) return -Erf(-x);
        if (x < 2.5) return ErfSeries(x);
        return 1 - ErfcContinuedFraction(x);
    }

    public static double Erfc(double x)
    {
        if (double.IsNaN(x)) return double.NaN;
        if (x < 0) return 2 - Erfc(-x);
        if (x < 2.5) return 1 - ErfSeries(x);
        if (x > 27.3) return 0; // below the smallest double
        return ErfcContinuedFraction(x);
    }

    // erf(x) = 2/sqrt(pi) * exp(-x^2) * sum_n (2x^2)^n x / (1*3*...*(2n+1)): all terms positive, so no cancellation.
    private static double ErfSeries(double x)
    {
        var x2 = x * x;
        double term = x, sum = x;
        for (var n = 1; n < 200; n++)
        {
            term *= 2 * x2 / (2 * n + 1);
            sum += term;
            if (term < sum * 1e-17) break;
        }
        return TwoOverSqrtPi * Math.Exp(-x2) * sum;
    }

    // Laplace's continued fraction for erfc, evaluated with the modified Lentz method; converges quickly for x >= 2.5.
    private static double ErfcContinuedFraction(double x)
    {
        const double tiny = 1e-300;
        double f = x, c = x, d = 0;
        for (var n = 1; n < 500; n++)
        {
            var a = n * 0.5;
            d = x + a * d;
            d = Math.Abs(d) < tiny ? tiny : d;
            c = x + a / c;
            c = Math.Abs(c) < tiny ? tiny : c;
            d = 1 / d;
            var delta = c * d;
            f *= delta;
            if (Math.Abs(delta - 1) < 1e-16) break;
        }
        return InvSqrtPi * Math.Exp(-x * x) / f;
    }

    /// <summary>Standard normal CDF, accurate in both tails.</summary>
    public static double Phi(double z) => 0.5 * Erfc(-z / Sqrt2);

    /// <summary>log Φ(z), finite far into the left tail (asymptotic series below −20, as Optuna 3.1's <c>_log_ndtr</c>).</summary>
    public static double LogPhi(double z)
    {
        if (z > 6) return -Phi(-z); // log(1 - p) = -p to double precision here
        if (z > -20) return Math.Log(Phi(z));
        // log Φ(z) = −z²/2 − log(−z) − log √(2π) + log(1 − 1/z² + 3/z⁴ − 15/z⁶ + ...)
        var logLhs = -0.5 * z * z - Math.Log(-z) - 0.5 * Math.Log(2 * Math.PI);
        double last = 0, rhs = 1, numerator = 1, denomFactor = 1, sign = 1;
        var denomCons = 1 / (z * z);
        for (var i = 1; Math.Abs(last - rhs) > double.Epsilon && i < 100; i++)
        {
            last = rhs;
            sign = -sign;
            denomFactor *= denomCons;
            numerator *= 2 * i - 1;
            rhs += sign * numerator * denomFactor;
        }
        return logLhs + Math.Log(rhs);
    }

    /// <summary>log(Φ(b) − Φ(a)) for a ≤ b, accurate in both tails (Optuna 3.1's <c>_truncnorm._log_gauss_mass</c>):
    /// tails are worked in the left tail in log space, central intervals as log1p(−Φ(a) − Φ(−b)).</summary>
    public static double LogGaussMass(double a, double b)
    {
        if (b <= 0)
        {
            var lb = LogPhi(b);
            return lb + Log1P(-Math.Exp(LogPhi(a) - lb));
        }
        if (a > 0) return LogGaussMass(-b, -a);
        return Log1P(-Phi(a) - Phi(-b));
    }

    /// <summary>log(1 + x), accurate for small x (Kahan's trick; Math has no log1p).</summary>
    internal static double Log1P(double x)
    {
        var u = 1 + x;
        return u == 1 ? x : Math.Log(u) * x / (u - 1);
    }

    /// <summary>Inverse of the standard normal CDF (Acklam's rational approximation refined by one Halley step).</summary>
    public static double PhiInverse(double p)
    {
        if (p <= 0) return double.NegativeInfinity;
        if (p >= 1) return double.PositiveInfinity;
        const double plow = 0.02425, phigh = 1 - plow;
        double x;
        if (p < plow)
        {
            var q = Math.Sqrt(-2 * Math.Log(p));
            x = (((((-7.784894002430293e-03 * q - 3.223964580411365e-01) * q - 2.400758277161838e+00) * q - 2.549732539343734e+00) * q + 4.374664141464968e+00) * q + 2.938163982698783e+00)
                / ((((7.784695709041462e-03 * q + 3.224671290700398e-01) * q + 2.445134137142996e+00) * q + 3.754408661907416e+00) * q + 1);
        }
        else if (p <= phigh)
        {
            var q = p - 0.5;
            var r = q * q;
            x = (((((-3.969683028665376e+01 * r + 2.209460984245205e+02) * r - 2.759285104469687e+02) * r + 1.383577518672690e+02) * r - 3.066479806614716e+01) * r + 2.506628277459239e+00) * q
                / (((((-5.447609879822406e+01 * r + 1.615858368580409e+02) * r - 1.556989798598866e+02) * r + 6.680131188771972e+01) * r - 1.328068155288572e+01) * r + 1);
        }
        else
        {
            var q = Math.Sqrt(-2 * Math.Log(1 - p));
            x = -(((((-7.784894002430293e-03 * q - 3.223964580411365e-01) * q - 2.400758277161838e+00) * q - 2.549732539343734e+00) * q + 4.374664141464968e+00) * q + 2.938163982698783e+00)
                / ((((7.784695709041462e-03 * q + 3.224671290700398e-01) * q + 2.445134137142996e+00) * q + 3.754408661907416e+00) * q + 1);
        }
        var e = Phi(x) - p;
        var u = e * Sqrt2Pi * Math.Exp(x * x / 2);
        return x - u / (1 + x * u / 2);
    }

    /// <summary>Draws from N(mu, sigma) truncated to [low, high] by inverting the CDF at one uniform u (the u-quantile,
    /// as Optuna 3.1's <c>_truncnorm.rvs</c> does), working on the side with more mass for accuracy.</summary>
    public static double SampleTruncated(Random rng, double mu, double sigma, double low, double high)
    {
        var a = (low - mu) / sigma;
        var b = (high - mu) / sigma;
        var u = rng.NextDouble();
        var flip = a >= 0; // Optuna's ppf works in the right tail from a >= 0 on
        if (flip) (a, b, u) = (-b, -a, 1 - u);
        var pa = Phi(a);
        var pb = Phi(b);
        var z = PhiInverse(pa + u * (pb - pa));
        if (double.IsNaN(z)) z = a;
        z = Math.Clamp(z, a, b);
        if (flip) z = -z;
        return Math.Clamp(mu + sigma * z, low, high);
    }
}
