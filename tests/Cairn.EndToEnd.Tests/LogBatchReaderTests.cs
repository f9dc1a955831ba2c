using System.Text;
using Cairn.Server.Http;

namespace Cairn.EndToEnd.Tests;

/// <summary>
/// The server's fast reader of plain log-batch bodies: what it reads itself, and what it leaves to the
/// general path (the REST tests check both paths store and refuse alike).
/// </summary>
public sealed class LogBatchReaderTests
{
    [Fact]
    public void A_plain_batch_is_read_with_its_values_and_the_step_defaulting_to_zero()
    {
        const string json = """
            {"run_id": "r1", "metrics": [
              {"key": "loss", "value": 0.5, "timestamp": 1700000000000, "step": 3},
              {"step": 4, "timestamp": 1700000000001, "value": -1e-3, "key": "loss"},
              {"key": "acc\u00e9", "value": 1, "timestamp": 5}
            ], "params": [], "tags": []}
            """;

        Assert.True(LogBatchReader.TryRead(Encoding.UTF8.GetBytes(json), out var runId, out var metrics));

        Assert.Equal("r1", runId);
        Assert.Equal(3, metrics.Count);
        Assert.Equal(new Cairn.Core.Metric("loss", 0.5, 1_700_000_000_000, 3), metrics[0]);
        Assert.Equal(new Cairn.Core.Metric("loss", -1e-3, 1_700_000_000_001, 4), metrics[1]);
        Assert.Same(metrics[0].Key, metrics[1].Key);
        Assert.Equal(new Cairn.Core.Metric("accé", 1, 5, 0), metrics[2]);
    }

    [Theory]
    [InlineData("""{"run_id": "r1", "metrics": [{"key": "m", "value": "0.5", "timestamp": 1}]}""")]
    [InlineData("""{"run_id": "r1", "metrics": [{"key": "m", "value": NaN, "timestamp": 1}]}""")]
    [InlineData("""{"run_id": "r1", "metrics": [{"key": "m", "value": 1, "timestamp": 1.5e12}]}""")]
    [InlineData("""{"run_id": "r1", "metrics": [{"key": "m", "value": 1, "value": 2, "timestamp": 1}]}""")]
    [InlineData("""{"run_id": "r1", "metrics": [{"key": "m", "value": 1}]}""")]
    [InlineData("""{"run_id": "r1", "metrics": [{"key": "", "value": 1, "timestamp": 1}]}""")]
    [InlineData("""{"run_id": "r1", "metrics": [{"key": "m", "value": null, "timestamp": 1}]}""")]
    [InlineData("""{"run_id": "r1", "metrics": [{"key": "m", "value": 1, "timestamp": 1, "extra": 0}]}""")]
    [InlineData("""{"run_id": "r1", "metrics": [], "params": [{"key": "p", "value": "1"}]}""")]
    [InlineData("""{"run_uuid": "r1", "metrics": []}""")]
    [InlineData("""{"metrics": []}""")]
    [InlineData("""{"run_id": "r1", "run_id": "r2", "metrics": []}""")]
    [InlineData("""{"run_id": "r1", "metrics": [] } trailing""")]
    [InlineData("""{"run_id": "r1", "metrics": [""")]
    [InlineData("""["run_id"]""")]
    [InlineData("""  "{\"run_id\": \"r1\"}"  """)]
    public void Anything_but_the_plain_shape_is_left_to_the_general_path(string json)
    {
        Assert.False(LogBatchReader.TryRead(Encoding.UTF8.GetBytes(json), out _, out _));
    }
}
