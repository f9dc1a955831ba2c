using Cairn.Core;

namespace Cairn.Server.Ui;

/// <summary>
/// A metric history made small enough to chart: points sorted by step, at most about
/// <see cref="MetricSeries.DefaultMaxPoints"/> of them, with every bucket's minimum and maximum kept
/// so spikes and the global extremes survive. <see cref="TotalPoints"/> is the size before reduction.
/// </summary>
public sealed record MetricSeries(
    string Key,
    long[] Steps,
    double[] Values,
    long[] Timestamps,
    int TotalPoints,
    int NonFinitePoints)
{
    /// <summary>Enough points for a chart a few thousand pixels wide; more only costs the browser time.</summary>
    public const int DefaultMaxPoints = 2000;

    public bool IsDownsampled => Steps.Length < TotalPoints - NonFinitePoints;

    /// <summary>
    /// Reads a run's whole history of <paramref name="key"/> from the store as columns and reduces
    /// it on the server, so a 1M-point history never reaches the browser.
    /// </summary>
    public static async Task<MetricSeries> LoadAsync(ITrackingStore store, string runId, string key, int maxPoints = DefaultMaxPoints, CancellationToken ct = default) =>
        Reduce(key, await store.GetMetricColumnsAsync(runId, key, ct).ConfigureAwait(false), maxPoints);

    /// <summary>
    /// Drops NaN and ±infinity (stored as ±<see cref="double.MaxValue"/>, as MLflow does; they cannot
    /// be drawn and are counted instead), orders the points by
    /// step (ties by timestamp, then logging order) and keeps at most about <paramref name="maxPoints"/>.
    /// Works in place: <paramref name="history"/>'s arrays are reused.
    /// </summary>
    public static MetricSeries Reduce(string key, MetricColumns history, int maxPoints = DefaultMaxPoints)
    {
        var s = history.Steps;
        var v = history.Values;
        var t = history.Timestamps;
        var n = 0;
        var sorted = true;
        for (var i = 0; i < history.Count; i++)
        {
            if (!double.IsFinite(v[i]) || Math.Abs(v[i]) == Validation.ClampedInfinity)
            {
                continue;
            }

            sorted &= n == 0 || s[n - 1] < s[i] || (s[n - 1] == s[i] && t[n - 1] <= t[i]);
            s[n] = s[i];
            v[n] = v[i];
            t[n] = t[i];
            n++;
        }

        var order = Enumerable.Range(0, n).ToArray();
        ReadOnlySpan<double> ordered = v.AsSpan(0, n);
        if (!sorted)
        {
            // Logging order is not step order when steps are logged late or by several workers; a
            // line must follow the x-axis. Comparing positions last makes the sort stable.
            Array.Sort(order, (a, b) => s[a] != s[b] ? s[a].CompareTo(s[b]) : t[a] != t[b] ? t[a].CompareTo(t[b]) : a.CompareTo(b));
            ordered = order.Select(i => v[i]).ToArray();
        }

        int[] keep = MinMaxIndices(ordered, maxPoints) is { } reduced ? [.. reduced.Select(k => order[k])] : order;
        return new MetricSeries(key, [.. keep.Select(i => s[i])], [.. keep.Select(i => v[i])], [.. keep.Select(i => t[i])], history.Count, history.Count - n);
    }

    /// <summary>
    /// Min-max downsampling: splits the points into equal buckets by position and keeps, from each,
    /// its lowest and highest point in their original order, plus the first and last point. Unlike
    /// averaging or LTTB this never loses a spike or the global extremes. Returns null when the
    /// points already fit in <paramref name="maxPoints"/>.
    /// </summary>
    public static int[]? MinMaxIndices(ReadOnlySpan<double> values, int maxPoints)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPoints, 4);
        var n = values.Length;
        if (n <= maxPoints)
        {
            return null;
        }

        var buckets = (maxPoints - 2) / 2;
        var keep = new List<int>(maxPoints) { 0 };
        for (var b = 0; b < buckets; b++)
        {
            // Buckets cover points 1..n-2; the first and last are kept on their own.
            var start = 1 + (int)((long)b * (n - 2) / buckets);
            var end = 1 + (int)((long)(b + 1) * (n - 2) / buckets);
            if (start >= end)
            {
                continue;
            }

            int lo = start, hi = start;
            for (var i = start + 1; i < end; i++)
            {
                if (values[i] < values[lo])
                {
                    lo = i;
                }

                if (values[i] > values[hi])
                {
                    hi = i;
                }
            }

            keep.Add(Math.Min(lo, hi));
            if (lo != hi)
            {
                keep.Add(Math.Max(lo, hi));
            }
        }

        keep.Add(n - 1);
        return [.. keep];
    }
}
