namespace Cairn.Tuning.Samplers;

/// <summary>
/// xoshiro256** seeded through SplitMix64. System.Random with a seed keeps .NET's legacy subtractive generator
/// for compatibility, whose streams are of lower quality; this one is fast, well distributed and gives the same
/// sequence on every platform and .NET version, which "same seed, same trials" relies on.
/// </summary>
internal sealed class SeededRandom : Random
{
    private ulong _s0, _s1, _s2, _s3;

    public SeededRandom(long seed)
    {
        var x = (ulong)seed;
        _s0 = SplitMix(ref x);
        _s1 = SplitMix(ref x);
        _s2 = SplitMix(ref x);
        _s3 = SplitMix(ref x);
    }

    /// <summary>A seeded generator, or an unpredictable one when no seed is given.</summary>
    public static Random Create(int? seed) => new SeededRandom(seed ?? Random.Shared.NextInt64());

    private static ulong SplitMix(ref ulong x)
    {
        var z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    private ulong NextUInt64()
    {
        var result = ulong.RotateLeft(_s1 * 5, 7) * 9;
        var t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = ulong.RotateLeft(_s3, 45);
        return result;
    }

    public override double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));
    protected override double Sample() => NextDouble();
    public override float NextSingle() => (NextUInt64() >> 40) * (1.0f / (1U << 24));
    public override int Next() => (int)(NextUInt64() >> 33);
    public override int Next(int maxValue) => (int)NextInt64(maxValue);
    public override int Next(int minValue, int maxValue) => (int)NextInt64(minValue, maxValue);
    public override long NextInt64() => (long)(NextUInt64() >> 1);
    public override long NextInt64(long maxValue) => NextInt64(0, maxValue);

    public override long NextInt64(long minValue, long maxValue)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(minValue, maxValue);
        var range = (ulong)(maxValue - minValue);
        if (range <= 1) return minValue;
        // Rejection sampling keeps every value equally likely.
        var limit = ulong.MaxValue - ulong.MaxValue % range;
        ulong r;
        do r = NextUInt64(); while (r >= limit);
        return minValue + (long)(r % range);
    }

    public override void NextBytes(Span<byte> buffer)
    {
        for (var i = 0; i < buffer.Length; i++) buffer[i] = (byte)NextUInt64();
    }

    public override void NextBytes(byte[] buffer) => NextBytes(buffer.AsSpan());
}
