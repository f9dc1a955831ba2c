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
}
