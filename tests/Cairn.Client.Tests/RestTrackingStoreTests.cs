using Cairn.Client.Rest;
using Cairn.Core;

namespace Cairn.Client.Tests;

/// <summary>The REST store against a real `cairn server`: what goes in comes back out exactly.</summary>
public sealed class RestTrackingStoreTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private RestTrackingStore Store(RestOptions? options = null) => new(fixture.Url, options);

    private static string Unique(string prefix) => prefix + "-" + Guid.NewGuid().ToString("N")[..8];

    [Fact]
    public async Task Experiments_round_trip_create_get_rename_tag_delete_restore_and_search()
    {
        await using var store = Store();
        var name = Unique("exp");
        var id = await store.CreateExperimentAsync(name, null, [new Tag("team", "vision"), new Tag("note", "é ü ✓")]);

        var byId = await store.GetExperimentAsync(id);
        var byName = await store.GetExperimentByNameAsync(name);
        Assert.Equal(name, byId.Name);
        Assert.Equal(byId, byName with { Tags = byId.Tags });
        Assert.Equal(new[] { ("note", "é ü ✓"), ("team", "vision") }, byId.Tags.Select(t => (t.Key, t.Value)).Order());
        Assert.Equal(LifecycleStage.Active, byId.LifecycleStage);
        Assert.EndsWith("/" + id, byId.ArtifactLocation);

        await store.SetExperimentTagAsync(id, new Tag("priority", "high"));
        var renamed = name + "-renamed";
        await store.RenameExperimentAsync(id, renamed);
        var after = await store.GetExperimentAsync(id);
        Assert.Equal(renamed, after.Name);
        Assert.Contains(new Tag("priority", "high"), after.Tags);

        var found = await store.SearchExperimentsAsync(new ExperimentSearchQuery($"name = '{renamed}'", MaxResults: 10));
        Assert.Equal(id, Assert.Single(found.Items).ExperimentId);

        await store.DeleteExperimentAsync(id);
        Assert.Equal(LifecycleStage.Deleted, (await store.GetExperimentAsync(id)).LifecycleStage);
        var deleted = await store.SearchExperimentsAsync(new ExperimentSearchQuery($"name = '{renamed}'", ViewType.DeletedOnly, 10));
        Assert.Single(deleted.Items);
        await store.RestoreExperimentAsync(id);
        Assert.Equal(LifecycleStage.Active, (await store.GetExperimentAsync(id)).LifecycleStage);
    }

    [Fact]
    public async Task Runs_round_trip_every_field_metric_param_tag_and_input()
    {
        await using var store = Store();
        var exp = await store.CreateExperimentAsync(Unique("runs"), null, []);
        var run = await store.CreateRunAsync(new NewRun(exp, "alice", 1700000001000, "run-1", [new Tag("team", "a")]));
        Assert.Equal("run-1", run.Info.RunName);
        Assert.Equal("alice", run.Info.UserId);
        Assert.Equal(1700000001000, run.Info.StartTime);
        Assert.Equal(RunStatus.Running, run.Info.Status);
        var id = run.Info.RunId;

        Metric[] points =
        [
            new("acc", 0.5, 1700000000010, 0), new("acc", 0.7, 1700000000020, 1), new("acc", 0.9, 1700000000030, 2),
            new("loss", -1.25, 1700000000050, 0), new("big", 1.5, 1700000000110, 9007199254740991), new("neg", 2.5e-300, 1700000000120, -5),
            new("nan", double.NaN, 1700000000130, 0),
        ];
        await store.LogBatchAsync(id, points, [new Param("lr", "0.01"), new Param("empty", "")], [new Tag("stage", "dev"), new Tag("unicode", "ü✓")]);
        await store.DeleteTagAsync(id, "team");
        var dataset = new Dataset("ds", "d1g3st", "local", "{\"uri\": \"/data/train.csv\"}", "{\"mlflow_colspec\": []}", "{\"num_rows\": 10}");
        await store.LogInputsAsync(id, [new DatasetInput([new Tag(MlflowTags.DatasetContext, "training")], dataset)]);

        var got = await store.GetRunAsync(id);
        Assert.Equal(new[] { ("empty", ""), ("lr", "0.01") }, got.Params.Select(p => (p.Key, p.Value)).Order());
        Assert.Contains(new Tag("stage", "dev"), got.Tags);
        Assert.Contains(new Tag("unicode", "ü✓"), got.Tags);
        Assert.DoesNotContain(got.Tags, t => t.Key == "team");
        Assert.Equal(new Metric("acc", 0.9, 1700000000030, 2), got.Metrics.Single(m => m.Key == "acc"));
        Assert.True(double.IsNaN(got.Metrics.Single(m => m.Key == "nan").Value));
        var input = Assert.Single(got.Inputs);
        Assert.Equal(dataset, input.Dataset);
        Assert.Equal(new Tag(MlflowTags.DatasetContext, "training"), Assert.Single(input.Tags));

        foreach (var key in new[] { "acc", "loss", "big", "neg" })
        {
            Assert.Equal(points.Where(p => p.Key == key), await store.GetMetricHistoryAsync(id, key));
        }

        var bulk = await store.GetMetricHistoryBulkIntervalAsync([id], "acc", null, null, 10);
        Assert.Equal(points.Where(p => p.Key == "acc").Select(p => (p.Step, p.Value)), bulk.Select(p => (p.Step, p.Value)));
        Assert.All(bulk, p => Assert.Equal(id, p.RunId));

        var info = await store.UpdateRunAsync(id, RunStatus.Finished, 1700000009000, "renamed");
        Assert.Equal((RunStatus.Finished, 1700000009000L, "renamed"), (info.Status, info.EndTime!.Value, info.RunName));

        var search = await store.SearchRunsAsync(new RunSearchQuery([exp], "metrics.acc > 0.8 and params.lr = '0.01'"));
        Assert.Equal(id, Assert.Single(search.Items).Info.RunId);
        var datasets = await store.SearchDatasetsAsync([exp], 10);
        Assert.Equal(("ds", "d1g3st", "training"), (datasets[0].Name, datasets[0].Digest, datasets[0].Context));

        await store.DeleteRunAsync(id);
        Assert.Equal(LifecycleStage.Deleted, (await store.GetRunAsync(id)).Info.LifecycleStage);
        await store.RestoreRunAsync(id);
        Assert.Equal(LifecycleStage.Active, (await store.GetRunAsync(id)).Info.LifecycleStage);
    }

    [Fact]
    public async Task Single_point_calls_log_metric_param_and_tag()
    {
        await using var store = Store();
        var exp = await store.CreateExperimentAsync(Unique("single"), null, []);
        var id = (await store.CreateRunAsync(new NewRun(exp, null, null, null, []))).Info.RunId;
        await store.LogMetricAsync(id, new Metric("m", double.PositiveInfinity, 5, 3));
        await store.LogParamAsync(id, new Param("p", "v"));
        await store.SetTagAsync(id, new Tag("t", "w"));
        var run = await store.GetRunAsync(id);
        Assert.Equal(double.MaxValue, run.Metrics.Single().Value); // MLflow's SQL stores clamp infinity
        Assert.Equal(new Param("p", "v"), run.Params.Single());
        Assert.Contains(new Tag("t", "w"), run.Tags);
    }

    [Fact]
    public async Task Errors_carry_the_wire_code_and_a_4xx_is_sent_once()
    {
        var counter = new CountingHandler();
        await using var store = Store(new RestOptions { Handler = counter, RetryDelay = TimeSpan.FromMilliseconds(1) });
        var missing = await Assert.ThrowsAsync<MlflowException>(() => store.GetRunAsync("0123456789abcdef0123456789abcdef"));
        Assert.Equal(ErrorCode.ResourceDoesNotExist, missing.Code);
        Assert.Equal("RESOURCE_DOES_NOT_EXIST", missing.WireCode());
        Assert.Equal(404, missing.HttpStatus());
        Assert.Equal(1, counter.Count);

        var name = Unique("dup");
        await store.CreateExperimentAsync(name, null, []);
        var dup = await Assert.ThrowsAsync<MlflowException>(() => store.CreateExperimentAsync(name, null, []));
        Assert.Equal(ErrorCode.ResourceAlreadyExists, dup.Code);
        Assert.Equal(3, counter.Count);
    }

    [Fact]
    public async Task Connection_refused_is_retried_with_backoff_then_reported_as_unavailable()
    {
        var counter = new CountingHandler();
        var port = Cairn.Server.Tests.CairnProcess.FreePort();
        await using var store = new RestTrackingStore($"http://127.0.0.1:{port}", new RestOptions { Handler = counter, MaxRetries = 3, RetryDelay = TimeSpan.FromMilliseconds(10) });
        var ex = await Assert.ThrowsAsync<TrackingUnavailableException>(() => store.GetExperimentAsync("0"));
        Assert.False(ex.OutcomeUnknown);
        Assert.Equal(4, counter.Count);
    }

    [Fact]
    public async Task Server_errors_and_429_are_retried_but_a_400_is_not()
    {
        var statuses = new Queue<int>([503, 429, 200]);
        var handler = new ScriptedHandler(_ => statuses.Dequeue());
        await using var store = new RestTrackingStore("http://127.0.0.1:1", new RestOptions { Handler = handler, RetryDelay = TimeSpan.FromMilliseconds(1) });
        await store.SetTagAsync("r", new Tag("k", "v"));
        Assert.Equal(3, handler.Count);

        var bad = new ScriptedHandler(_ => 400);
        await using var store2 = new RestTrackingStore("http://127.0.0.1:1", new RestOptions { Handler = bad, RetryDelay = TimeSpan.FromMilliseconds(1) });
        var ex = await Assert.ThrowsAsync<MlflowException>(() => store2.SetTagAsync("r", new Tag("k", "v")));
        Assert.Equal("INVALID_PARAMETER_VALUE", ex.WireCode());
        Assert.Equal(1, bad.Count);
    }

    [Fact]
    public async Task Bearer_and_basic_credentials_are_sent()
    {
        var handler = new ScriptedHandler(_ => 200);
        await using (var store = new RestTrackingStore("http://127.0.0.1:1", new RestOptions { Handler = handler, Token = "tok" }))
        {
            await store.SetTagAsync("r", new Tag("k", "v"));
        }

        Assert.Equal("Bearer tok", handler.LastAuthorization);
        await using (var store = new RestTrackingStore("http://127.0.0.1:1", new RestOptions { Handler = handler, Token = "", Username = "u", Password = "p" }))
        {
            await store.SetTagAsync("r", new Tag("k", "v"));
        }

        Assert.Equal("Basic " + Convert.ToBase64String("u:p"u8.ToArray()), handler.LastAuthorization);
    }
}

/// <summary>Counts requests passing through to the network.</summary>
public sealed class CountingHandler() : DelegatingHandler(new SocketsHttpHandler())
{
    private int _count;

    public int Count => Volatile.Read(ref _count);

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _count);
        return base.SendAsync(request, cancellationToken);
    }
}

/// <summary>Answers every request with a status chosen by a script (200 → <c>{}</c>, 4xx → an MLflow error).</summary>
public sealed class ScriptedHandler(Func<HttpRequestMessage, int> status) : HttpMessageHandler
{
    private int _count;

    public int Count => Volatile.Read(ref _count);

    public string? LastAuthorization { get; private set; }

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _count);
        LastAuthorization = request.Headers.Authorization?.ToString();
        var code = status(request);
        var body = code switch
        {
            200 => "{}",
            >= 400 and < 500 and not 429 => "{\"error_code\": \"INVALID_PARAMETER_VALUE\", \"message\": \"nope\"}",
            _ => "{\"error_code\": \"TEMPORARILY_UNAVAILABLE\", \"message\": \"busy\"}",
        };
        return Task.FromResult(new HttpResponseMessage((System.Net.HttpStatusCode)code)
        {
            Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json"),
        });
    }
}
