using System.Diagnostics;
using Cairn.Client.Rest;
using Cairn.Core;

namespace Cairn.Client.Tests;

/// <summary>The background logger: batching, order, back-pressure, and behaviour when the server fails.</summary>
public sealed class BatchLoggerTests
{
    private static readonly RestOptions FastRetries = new() { MaxRetries = 2, RetryDelay = TimeSpan.FromMilliseconds(20), MaxRetryDelay = TimeSpan.FromMilliseconds(100), RequestTimeout = TimeSpan.FromSeconds(10) };

    private static readonly BatchLoggerOptions FastLogger = new() { RetryDelay = TimeSpan.FromMilliseconds(50), MaxRetryDelay = TimeSpan.FromMilliseconds(300) };

    [Fact]
    public async Task Server_killed_and_restarted_mid_stream_loses_and_duplicates_nothing()
    {
        await using var host = await ServerHost.StartAsync();
        await using var client = await TrackingClient.ConnectAsync(host.Url, new TrackingClientOptions { Rest = FastRetries, Logger = FastLogger });
        const int total = 60_000;
        string runId;
        await using (var run = await client.StartRunAsync(new RunOptions { ExperimentName = "fault", LogLineage = false }))
        {
            runId = run.RunId;
            var producer = Task.Run(async () =>
            {
                for (var i = 0; i < total; i++)
                {
                    run.LogMetric("m", i, step: i, timestamp: 1_000_000 + i);
                    if (i % 2 == 0)
                    {
                        run.LogMetric("n", -i, step: i / 2, timestamp: 1_000_000 + i);
                    }

                    if (i % 500 == 0)
                    {
                        await Task.Delay(2);
                    }
                }
            });

            var clock = Stopwatch.StartNew();
            while (run.Logger.SentItems < 8_000 && clock.Elapsed < TimeSpan.FromSeconds(30))
            {
                await Task.Delay(5);
            }

            await host.KillAsync();
            var sentWhileUp = run.Logger.SentItems;
            await Task.Delay(1000);
            Assert.Equal(sentWhileUp, run.Logger.SentItems);
            await host.StartAsync();
            await producer;
            await run.FlushAsync();
            Assert.True(sentWhileUp < total + total / 2, "the stream was interrupted mid-way");
            Assert.True(run.Logger.Retries > 0, "batches were retried while the server was down");
        }

        await using var reader = new RestTrackingStore(host.Url);
        var m = await reader.GetMetricHistoryAsync(runId, "m");
        Assert.Equal(Enumerable.Range(0, total).Select(i => new Metric("m", i, 1_000_000 + i, i)), m);
        var n = await reader.GetMetricHistoryAsync(runId, "n");
        Assert.Equal(Enumerable.Range(0, total / 2).Select(i => new Metric("n", -2 * i, 1_000_000 + 2 * i, i)), n);
        Assert.Equal(RunStatus.Finished, (await reader.GetRunAsync(runId)).Info.Status);
    }

    [Fact]
    public async Task A_rejected_batch_is_surfaced_by_flush_and_not_retried()
    {
        await using var host = await ServerHost.StartAsync();
        var counter = new CountingHandler();
        await using var client = await TrackingClient.ConnectAsync(host.Url, new TrackingClientOptions { Rest = FastRetries with { Handler = counter }, Logger = FastLogger });
        var run = await client.StartRunAsync(new RunOptions { ExperimentName = "reject", LogLineage = false });
        await client.Store.DeleteRunAsync(run.RunId); // logging to a deleted run is a 400
        var before = counter.Count;
        for (var i = 0; i < 10; i++)
        {
            run.LogMetric("m", i, i);
        }

        var clock = Stopwatch.StartNew();
        var ex = await Assert.ThrowsAsync<BatchLoggingException>(() => run.FlushAsync());
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), clock.Elapsed.ToString());
        var cause = Assert.IsType<MlflowException>(ex.InnerException);
        Assert.Equal(ErrorCode.InvalidParameterValue, cause.Code);
        Assert.Equal(400, cause.HttpStatus());
        Assert.Equal(10, ex.LostItems);
        Assert.Equal(before + 1, counter.Count);

        // Reported once; later logging to a live run works again through the same client.
        await run.FlushAsync();
        await client.Store.RestoreRunAsync(run.RunId);
        run.LogMetric("m", 42, 0);
        await run.FlushAsync();
        await run.DisposeAsync();
        Assert.Equal(42, (await client.Store.GetRunAsync(run.RunId)).Metrics.Single().Value);
    }

    [Fact]
    public async Task Lost_data_at_the_end_of_a_run_marks_it_failed_and_throws()
    {
        await using var host = await ServerHost.StartAsync();
        await using var client = await TrackingClient.ConnectAsync(host.Url, new TrackingClientOptions { Rest = FastRetries, Logger = FastLogger });
        var run = await client.StartRunAsync(new RunOptions { ExperimentName = "lost", LogLineage = false });
        run.LogParam("p", "1");
        await run.FlushAsync();
        run.LogParam("p", "2"); // changing a param is rejected
        await Assert.ThrowsAsync<BatchLoggingException>(() => run.DisposeAsync().AsTask());
        var got = await client.Store.GetRunAsync(run.RunId);
        Assert.Equal(RunStatus.Failed, got.Info.Status);
        Assert.Equal("1", got.Params.Single().Value);
    }

    [Fact]
    public async Task A_small_buffer_applies_back_pressure_and_drops_nothing()
    {
        await using var host = await ServerHost.StartAsync();
        await using var client = await TrackingClient.ConnectAsync(host.Url);
        string runId;
        await using (var run = await client.StartRunAsync(new RunOptions { ExperimentName = "pressure", LogLineage = false, Logger = new BatchLoggerOptions { Capacity = 16 } }))
        {
            runId = run.RunId;
            for (var i = 0; i < 5000; i++)
            {
                run.LogMetric("a", i, i);
                await run.LogMetricAsync("b", -i, i);
                if (i < 150)
                {
                    run.LogParam("p" + i, i);
                    run.SetTag("t" + (i % 120), i);
                }
            }
        }

        await using var reader = new RestTrackingStore(host.Url);
        Assert.Equal(Enumerable.Range(0, 5000).Select(i => (double)i), (await reader.GetMetricHistoryAsync(runId, "a")).Select(m => m.Value));
        Assert.Equal(Enumerable.Range(0, 5000).Select(i => (double)-i), (await reader.GetMetricHistoryAsync(runId, "b")).Select(m => m.Value));
        var got = await reader.GetRunAsync(runId);
        Assert.Equal(150, got.Params.Count);
        Assert.Equal("149", got.Tags.Single(t => t.Key == "t29").Value);
    }

    [Fact]
    public async Task Invalid_keys_are_rejected_at_the_call_not_later()
    {
        await using var host = await ServerHost.StartAsync();
        await using var client = await TrackingClient.ConnectAsync(host.Url);
        await using var run = await client.StartRunAsync(new RunOptions { ExperimentName = "keys", LogLineage = false });
        var ex = Assert.Throws<MlflowException>(() => run.LogMetric("bad key!", 1));
        Assert.Equal(ErrorCode.InvalidParameterValue, ex.Code);
        Assert.Throws<MlflowException>(() => run.LogParam("../up", 1));
    }
}
