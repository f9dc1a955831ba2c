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
    /// Streams a run's whole history of <paramref name="key"/> from the store and reduces it on the
    /// server, so a 1M-point history never reaches the browser. NaN and ±infinity cannot be drawn
    /// and are counted instead.
    /// </summary>
    public static async Task<MetricSeries> LoadAsync(ITrackingStore store, string runId, string key, int maxPoints = DefaultMaxPoints, CancellationToken ct = default)
    {
        var steps = new List<long>();
        var values = new List<double>();
        var timestamps = new List<long>();
        var nonFinite = 0;
        var total = 0;
        var sorted = true;
        await foreach (var point in store.GetMetricHistoryAsync(runId, key, long.MinValue, int.MaxValue, ct).ConfigureAwait(false))
        {
            total++;
            var m = point.Metric;
            if (!double.IsFinite(m.Value))
            {
                nonFinite++;
                continue;
            }

            sorted &= steps.Count == 0 || steps[^1] < m.Step || (steps[^1] == m.Step && timestamps[^1] <= m.Timestamp);
            steps.Add(m.Step);
            values.Add(m.Value);
            timestamps.Add(m.Timestamp);
        }

        var s = steps.ToArray();
        var v = values.ToArray();
        var t = timestamps.ToArray();
        if (!sorted)
        {
            // Logging order is not step order when steps are logged late or by several workers; a
            // line must follow the x-axis. Ties keep logging order (the sort of indices is stable).
            var order = Enumerable.Range(0, s.Length).OrderBy(i => s[i]).ThenBy(i => t[i]).ToArray();
            s = [.. order.Select(i => s[i])];
            v = [.. order.Select(i => v[i])];
            t = [.. order.Select(i => t[i])];
        }

        var keep = MinMaxIndices(v, maxPoints);
        if (keep is not null)
        {
            s = [.. keep.Select(i => s[i])];
            v = [.. keep.Select(i => v[i])];
            t = [.. keep.Select(i => t[i])];
        }

        return new MetricSeries(key, s, v, t, total, nonFinite);
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
