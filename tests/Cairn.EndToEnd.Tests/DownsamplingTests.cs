using Cairn.Server.Ui;

namespace Cairn.EndToEnd.Tests;

/// <summary>The server-side reduction of long metric histories that the charts rely on.</summary>
public sealed class DownsamplingTests
{
    [Fact]
    public void MinMax_keeps_short_series_whole()
    {
        Assert.Null(MetricSeries.MinMaxIndices([1, 2, 3], 10));
    }

    [Fact]
    public void MinMax_keeps_first_last_and_every_extreme_within_budget()
    {
        var values = Enumerable.Range(0, 1_000_000).Select(i => Math.Sin(i / 1000.0)).ToArray();
        values[123_456] = 50;
        values[654_321] = -50;

        var keep = MetricSeries.MinMaxIndices(values, 2000)!;

        Assert.True(keep.Length <= 2000, $"{keep.Length} points");
        Assert.Equal(0, keep[0]);
        Assert.Equal(values.Length - 1, keep[^1]);
        Assert.Contains(123_456, keep);
        Assert.Contains(654_321, keep);
        Assert.True(keep.Zip(keep.Skip(1)).All(p => p.First < p.Second), "indices must stay in order");
    }

    [Fact]
    public void Reduce_orders_by_step_then_time_then_logging_order_and_counts_what_cannot_be_drawn()
    {
        // Logged out of order by two workers, with a NaN, an infinity (as stored) and two points at step 1.
        var history = new Cairn.Core.MetricColumns(
            Steps: [2, 0, 1, 3, 1, 4],
            Values: [0.2, 0.0, 0.11, double.NaN, 0.12, double.MaxValue],
            Timestamps: [20, 0, 10, 30, 10, 40]);

        var series = MetricSeries.Reduce("loss", history);

        Assert.Equal([0L, 1, 1, 2], series.Steps);
        Assert.Equal([0.0, 0.11, 0.12, 0.2], series.Values);
        Assert.Equal([0L, 10, 10, 20], series.Timestamps);
        Assert.Equal(6, series.TotalPoints);
        Assert.Equal(2, series.NonFinitePoints);
        Assert.False(series.IsDownsampled);
    }

    [Fact]
    public void Reduce_of_an_unordered_long_history_keeps_its_spike_at_the_right_step()
    {
        const int n = 100_000;
        var steps = Enumerable.Range(0, n).Select(i => (long)(n - 1 - i)).ToArray();
        var values = steps.Select(s => s == 777 ? 100.0 : Math.Sin(s / 50.0)).ToArray();

        var series = MetricSeries.Reduce("acc", new Cairn.Core.MetricColumns(steps, values, new long[n]), 500);

        Assert.True(series.IsDownsampled);
        Assert.True(series.Steps.Length <= 500);
        Assert.True(series.Steps.Zip(series.Steps.Skip(1)).All(p => p.First < p.Second), "steps must increase");
        Assert.Equal(0, series.Steps[0]);
        Assert.Equal(n - 1, series.Steps[^1]);
        Assert.Equal(100.0, series.Values[Array.IndexOf(series.Steps, 777L)]);
    }
}
