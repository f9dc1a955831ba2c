namespace Cairn.Tuning.Samplers;

/// <summary>Independent uniform sampling (log-uniform for log parameters, uniform over the grid for stepped ones). Seeded: same seed, same trials.</summary>
public sealed class RandomSampler : ISampler
{
    private readonly Random _rng;

    public RandomSampler(int? seed = null) => _rng = SeededRandom.Create(seed);

    public double SampleIndependent(SamplerContext context, string name, Distribution distribution) => Sample(_rng, distribution);

    internal static double Sample(Random rng, Distribution distribution)
    {
        switch (distribution)
        {
            case FloatDistribution f when f.Log:
                return Math.Clamp(Math.Exp(Math.Log(f.Low) + rng.NextDouble() * (Math.Log(f.High) - Math.Log(f.Low))), f.Low, f.High);
            case FloatDistribution { Step: { } step } f:
                {
                    var n = (long)Math.Round((f.High - f.Low) / step);
                    return Math.Min(f.High, f.Low + rng.NextInt64(0, n + 1) * step);
                }
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
                return i.Low + rng.NextInt64(0, (i.High - i.Low) / i.Step + 1) * i.Step;
            case CategoricalDistribution c:
                return rng.Next(c.Choices.Count);
            default:
                throw new ArgumentException($"Unsupported distribution {distribution.GetType().Name}.");
        }
    }
}
