using Cairn.Core;
using Cairn.Storage.Sql;
using Npgsql;

namespace Cairn.Storage.Tests.Store;

/// <summary>The columnar history read the UI's charts use, on both databases.</summary>
public sealed class MetricColumnsTests
{
    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task Columns_hold_the_same_points_in_the_same_order_as_the_history_stream(string backend)
    {
        await using var database = await TestStore.OpenAsync(backend);
        if (database is null)
        {
            return;
        }

        var store = database.Store;
        var exp = await store.CreateExperimentAsync("columns", null, []);
        var run = (await store.CreateRunAsync(new NewRun(exp, "u", 1, null, []))).Info.RunId;
        var other = (await store.CreateRunAsync(new NewRun(exp, "u", 1, null, []))).Info.RunId;
        Metric[] logged = [new("loss", 0.5, 10, 3), new("loss", double.NaN, 11, 1), new("loss", double.NegativeInfinity, 12, 2), new("acc", 0.9, 13, 0), new("loss", 0.25, 14, 0)];
        await store.LogBatchAsync(run, logged, [], []);
        await store.LogBatchAsync(other, [new Metric("loss", 7, 1, 1)], [], []);

        var columns = await store.GetMetricColumnsAsync(run, "loss");

        var expected = new List<Metric>();
        await foreach (var point in store.GetMetricHistoryAsync(run, "loss", long.MinValue, int.MaxValue))
        {
            expected.Add(point.Metric);
        }

        Assert.Equal(4, expected.Count);
        Assert.Equal(expected.Select(m => m.Step), columns.Steps);
        Assert.Equal(expected.Select(m => m.Value), columns.Values);
        Assert.Equal(expected.Select(m => m.Timestamp), columns.Timestamps);
        Assert.Empty((await store.GetMetricColumnsAsync(run, "missing")).Steps);
        Assert.Empty((await store.GetMetricColumnsAsync("no-such-run", "loss")).Steps);
    }

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task A_long_history_read_in_parts_comes_back_whole_and_in_order(string backend)
    {
        await using var database = await TestStore.OpenAsync(backend);
        if (database is null)
        {
            return;
        }

        // Long enough to be split in id ranges across connections (one per core).
        const int n = 450_000;
        var store = database.Store;
        var exp = await store.CreateExperimentAsync("long", null, []);
        var run = (await store.CreateRunAsync(new NewRun(exp, "u", 1, null, []))).Info.RunId;
        var other = (await store.CreateRunAsync(new NewRun(exp, "u", 1, null, []))).Info.RunId;
        for (var b = 0; b < n / 1000; b++)
        {
            await store.LogBatchAsync(run, [.. Enumerable.Range(b * 1000, 1000).Select(i => new Metric("m", i * 0.5, i, i))], [], []);
            if (b % 100 == 0)
            {
                // Interleaved with another run's points, so the ids of one history are not contiguous on PostgreSQL.
                await store.LogBatchAsync(other, [new Metric("m", -1, b, b)], [], []);
            }
        }

        var columns = await store.GetMetricColumnsAsync(run, "m");

        Assert.Equal(n, columns.Count);
        Assert.True(columns.Steps.Select((s, i) => s == i).All(ok => ok), "steps must come back in logging order");
        Assert.True(columns.Values.Select((v, i) => v == i * 0.5).All(ok => ok), "values must match their steps");
        Assert.Equal(n - 1, columns.Timestamps[^1]);
    }
}
