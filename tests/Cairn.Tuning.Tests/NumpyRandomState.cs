namespace Cairn.Tuning.Tests;

/// <summary>
/// numpy's legacy <c>RandomState(seed)</c> for an int seed: MT19937 seeded with init_genrand (numpy's
/// <c>mt19937_seed</c>), doubles from two 32-bit draws as <c>random_sample</c> makes them ((a >> 5) * 2^26 + (b >> 6)) / 2^53.
/// Optuna 3.1's TPESampler and RandomSampler each hold one, seeded with the sampler's seed; feeding Cairn's samplers the
/// same stream replays Optuna's trials.
/// </summary>
internal sealed class NumpyRandomState : Random
{
    private const int N = 624, M = 397;
    private readonly uint[] _mt = new uint[N];
    private int _pos;

    public NumpyRandomState(uint seed)
    {
        _mt[0] = seed;
        for (var i = 1; i < N; i++) _mt[i] = 1812433253u * (_mt[i - 1] ^ (_mt[i - 1] >> 30)) + (uint)i;
        _pos = N;
    }

    private uint NextUInt32()
    {
        if (_pos >= N)
        {
            for (var i = 0; i < N; i++)
            {
                var y = (_mt[i] & 0x80000000u) | (_mt[(i + 1) % N] & 0x7fffffffu);
                _mt[i] = _mt[(i + M) % N] ^ (y >> 1) ^ ((y & 1) != 0 ? 0x9908b0dfu : 0u);
            }
            _pos = 0;
        }
        var x = _mt[_pos++];
        x ^= x >> 11;
        x ^= (x << 7) & 0x9d2c5680u;
        x ^= (x << 15) & 0xefc60000u;
        x ^= x >> 18;
        return x;
    }

    public override double NextDouble()
    {
        var a = NextUInt32() >> 5;
        var b = NextUInt32() >> 6;
        return (a * 67108864.0 + b) / 9007199254740992.0;
    }

    protected override double Sample() => NextDouble();
}
