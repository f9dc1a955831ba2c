namespace Cairn.Tuning.Samplers;

/// <summary>Independent uniform sampling (log-uniform for log parameters, uniform over the grid for stepped ones). Seeded: same seed, same trials.</summary>
public sealed class RandomSampler : ISampler
{
    private readonly Random _rng;

    public RandomSampler(int? seed = null) => _rng = SeededRandom.Create(seed);

    /// <summary>With a given generator (tests replay numpy's stream with it).</summary>
    internal RandomSampler(Random rng) => _rng = rng;

    public double SampleIndependent(SamplerContext context, string name, Distribution distribution) => Sample(_rng, distribution);

    /// <summary>One draw, consuming the generator exactly as Optuna 3.1's RandomSampler consumes numpy's (its
    /// <c>_SearchSpaceTransform</c>): one uniform per numeric parameter over its transformed bounds (stepped and int
    /// ranges widened by half a step, then rounded to the grid), one uniform per choice for a categorical parameter
    /// (the largest wins). Each is uniform over the parameter's values.</summary>
    internal static double Sample(Random rng, Distribution distribution)
    {
        switch (distribution)
        {
            case FloatDistribution f when f.Log:
                return Math.Clamp(Math.Exp(Math.Log(f.Low) + rng.NextDouble() * (Math.Log(f.High) - Math.Log(f.Low))), f.Low, f.High);
            case FloatDistribution { Step: { } step } f:
                return OnGrid(rng, f.Low, f.High, step);
            case FloatDistribution f:
                return Math.Min(f.High, f.Low + rng.NextDouble() * (f.High - f.Low));
            case IntDistribution i when i.Log:
                {
                    // Uniform in log space over [low-0.5, high+0.5] so the end points get their fair share after rounding.
                    var lo = Math.Log(i.Low - 0.5);
                    var hi = Math.Log(i.High + 0.5);
                    return Math.Clamp(Math.Round(Math.Exp(lo + rng.NextDouble() * (hi - lo))), i.Low, i.High);
                }
            case IntDistribution i:
                return OnGrid(rng, i.Low, i.High, i.Step);
            case CategoricalDistribution c:
                {
                    var best = 0;
                    var max = double.NegativeInfinity;
                    for (var k = 0; k < c.Choices.Count; k++)
                    {
                        var u = rng.NextDouble();
                        if (u > max) { max = u; best = k; }
                    }
                    return best;
                }
            default:
                throw new ArgumentException($"Unsupported distribution {distribution.GetType().Name}.");
        }
    }

    /// <summary>Uniform over [low − step/2, high + step/2], rounded (half to even, as numpy) to the grid low + k·step.</summary>
    private static double OnGrid(Random rng, double low, double high, double step)
    {
        var x = low - 0.5 * step + rng.NextDouble() * (high - low + step);
        return Math.Clamp(Math.Round((x - low) / step) * step + low, low, high);
    }
}
