namespace Cairn.Bench.Tuning;

/// <summary>Summary statistics with numpy's default percentile (linear interpolation), and a Mann-Whitney U test.</summary>
internal static class Stats
{
    public static double Quantile(IReadOnlyList<double> values, double q)
    {
        var s = values.Order().ToArray();
        var pos = q * (s.Length - 1);
        var lo = (int)Math.Floor(pos);
        var hi = Math.Min(lo + 1, s.Length - 1);
        return s[lo] + (s[hi] - s[lo]) * (pos - lo);
    }

    public static Dictionary<string, double> Summary(IReadOnlyList<double> v) => new()
    {
        ["median"] = Quantile(v, 0.5),
        ["q25"] = Quantile(v, 0.25),
        ["q75"] = Quantile(v, 0.75),
        ["mean"] = v.Average(),
        ["min"] = v.Min(),
        ["max"] = v.Max(),
    };

    /// <summary>Two-sided p-value of the Mann-Whitney U test (normal approximation with tie correction, continuity-corrected).</summary>
    public static double MannWhitneyP(IReadOnlyList<double> a, IReadOnlyList<double> b)
    {
        var all = a.Select(v => (v, 0)).Concat(b.Select(v => (v, 1))).OrderBy(x => x.v).ToArray();
        var ranks = new double[all.Length];
        double tieTerm = 0;
        for (var i = 0; i < all.Length;)
        {
            var j = i;
            while (j + 1 < all.Length && all[j + 1].v == all[i].v) j++;
            var r = (i + j) / 2.0 + 1;
            for (var k = i; k <= j; k++) ranks[k] = r;
            var t = j - i + 1;
            tieTerm += t * t * t - t;
            i = j + 1;
        }
        double n1 = a.Count, n2 = b.Count, n = n1 + n2;
        var r1 = 0.0;
        for (var i = 0; i < all.Length; i++) if (all[i].Item2 == 0) r1 += ranks[i];
        var u1 = r1 - n1 * (n1 + 1) / 2;
        var mu = n1 * n2 / 2;
        var sigma = Math.Sqrt(n1 * n2 / 12 * (n + 1 - tieTerm / (n * (n - 1))));
        if (sigma == 0) return 1;
        var z = (Math.Abs(u1 - mu) - 0.5) / sigma;
        return Math.Min(1, 2 * (1 - Phi(Math.Max(z, 0))));
    }

    private static double Phi(double z)
    {
        // Abramowitz-Stegun 26.2.17 is plenty for a p-value.
        var t = 1 / (1 + 0.2316419 * z);
        var d = 0.3989422804014327 * Math.Exp(-z * z / 2);
        var p = d * t * (0.319381530 + t * (-0.356563782 + t * (1.781477937 + t * (-1.821255978 + t * 1.330274429))));
        return 1 - p;
    }
}
