using Cairn.Core;
using Cairn.Storage.Sql;

namespace Cairn.Storage.Tests.Store;

public sealed class SqlTrackingStoreTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cairn-store-").FullName;
    private SqlTrackingStore _store = null!;

    private string Uri => "sqlite:///" + Path.Combine(_dir, "t.db");

    public async Task InitializeAsync() => _store = await SqlTrackingStore.OpenAsync(Uri, "mlflow-artifacts:/");

    public async Task DisposeAsync()
    {
        await _store.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    private async Task<string> NewRunAsync()
    {
        var exp = await _store.CreateExperimentAsync("e-" + Guid.NewGuid().ToString("N"), null, []);
        return (await _store.CreateRunAsync(new NewRun(exp, "u", 1, null, []))).Info.RunId;
    }

    [Fact]
    public async Task Opening_a_new_database_creates_the_default_experiment_zero()
    {
        var experiment = await _store.GetExperimentAsync("0");
        Assert.Equal("Default", experiment.Name);
        Assert.Equal("mlflow-artifacts:/0", experiment.ArtifactLocation);
    }

    [Fact]
    public async Task Reopening_an_upgraded_database_applies_no_migration()
    {
        await using var db = SqlDatabase.Open(Uri);
        Assert.Equal(0, await Migrator.UpgradeAsync(db));
    }

    [Fact]
    public async Task Upgrading_a_version_2_database_keeps_its_metrics_sortable()
    {
        // A database written before latest values carried their experiment: two runs with a metric.
        var path = Path.Combine(_dir, "v2.db");
        await using (var connection = new Microsoft.Data.Sqlite.SqliteConnection("Data Source=" + path))
        {
            await connection.OpenAsync();
            await using var cmd = connection.CreateCommand();
            cmd.CommandText = string.Concat(Schema.Migrations.Where(m => m.Version <= 2).Select(m => m.Sql(SqlDialect.Sqlite))) + """
                CREATE TABLE cairn_schema_version (version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at BIGINT NOT NULL);
                INSERT INTO cairn_schema_version VALUES (1, 'tracking tables', 0), (2, 'model registry tables', 0);
                INSERT INTO experiments (experiment_id, name, artifact_location, lifecycle_stage, creation_time, last_update_time) VALUES (0, 'Default', 'a/0', 'active', 0, 0), (7, 'old', 'a/7', 'active', 0, 0);
                INSERT INTO runs (run_uuid, experiment_id, name, user_id, status, start_time, lifecycle_stage, artifact_uri) VALUES
                    ('low', 7, 'low', 'u', 'FINISHED', 1, 'active', 'a/7/low'), ('high', 7, 'high', 'u', 'FINISHED', 2, 'active', 'a/7/high');
                INSERT INTO latest_metrics (run_uuid, key, value, is_nan, timestamp, step) VALUES ('low', 'acc', 0.1, 0, 0, 0), ('high', 'acc', 0.9, 0, 0, 0);
                """;
            await cmd.ExecuteNonQueryAsync();
        }

        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        await using var store = await SqlTrackingStore.OpenAsync("sqlite:///" + path, "mlflow-artifacts:/");
        var page = await store.SearchRunsAsync(new RunSearchQuery(["7"], OrderBy: ["metrics.acc DESC"], MaxResults: 1));
        Assert.Equal("high", Assert.Single(page.Items).Info.RunId);
        var all = await store.SearchRunsAsync(new RunSearchQuery(["7"], OrderBy: ["metrics.acc ASC"]));
        Assert.Equal(["low", "high"], all.Items.Select(r => r.Info.RunId));

        // The index walk only finds values that carry their experiment (otherwise the slower general query answers).
        await using var check = new Microsoft.Data.Sqlite.SqliteConnection("Data Source=" + path);
        await check.OpenAsync();
        await using var count = check.CreateCommand();
        count.CommandText = "SELECT COUNT(*) FROM latest_metrics WHERE experiment_id = 7";
        Assert.Equal(2L, await count.ExecuteScalarAsync());
    }

    [Fact]
    public async Task A_rejected_batch_writes_nothing_of_itself()
    {
        var run = await NewRunAsync();
        await _store.LogBatchAsync(run, [], [new Param("lr", "0.1")], []);
        var ex = await Assert.ThrowsAsync<MlflowException>(() => _store.LogBatchAsync(run,
            [new Metric("loss", 1, 1, 0)], [new Param("lr", "0.2")], [new Tag("t", "v")]));
        Assert.Equal(ErrorCode.InvalidParameterValue, ex.Code);

        var stored = await _store.GetRunAsync(run);
        Assert.Empty(stored.Metrics);
        Assert.DoesNotContain(stored.Tags, t => t.Key == "t");
        Assert.Single(stored.Params);
    }

    [Fact]
    public async Task A_failing_write_in_a_group_commit_does_not_affect_the_others()
    {
        var run = await NewRunAsync();
        await _store.LogBatchAsync(run, [], [new Param("fixed", "1")], []);

        // Many writes queued at once land in the same group transaction; every other one fails.
        var writes = Enumerable.Range(0, 200).Select(i => i % 2 == 0
            ? _store.LogBatchAsync(run, [new Metric("m", i, i, i)], [], [])
            : _store.LogBatchAsync(run, [new Metric("m", i, i, i)], [new Param("fixed", "changed")], [])).ToList();
        var results = await Task.WhenAll(writes.Select(async w =>
        {
            try
            {
                await w;
                return true;
            }
            catch (MlflowException)
            {
                return false;
            }
        }));

        Assert.Equal(100, results.Count(ok => ok));
        var steps = new List<long>();
        await foreach (var p in _store.GetMetricHistoryAsync(run, "m", long.MinValue, 1000))
        {
            steps.Add(p.Metric.Step);
        }

        Assert.Equal(Enumerable.Range(0, 100).Select(i => (long)(i * 2)), steps.Order());
    }

    [Fact]
    public async Task Latest_metric_is_the_value_at_the_highest_step_then_latest_timestamp()
    {
        var run = await NewRunAsync();
        await _store.LogBatchAsync(run, [new Metric("acc", 0.9, 30, 2), new Metric("acc", 0.7, 40, 1)], [], []);
        await _store.LogBatchAsync(run, [new Metric("acc", 0.95, 31, 2), new Metric("acc", 0.1, 50, 0)], [], []);
        var metric = Assert.Single((await _store.GetRunAsync(run)).Metrics);
        Assert.Equal(0.95, metric.Value);
        Assert.Equal(2, metric.Step);
    }

    [Fact]
    public async Task Nan_and_infinities_come_back_as_mlflow_stores_them()
    {
        var run = await NewRunAsync();
        await _store.LogBatchAsync(run, [new Metric("nan", double.NaN, 1, 0), new Metric("inf", double.PositiveInfinity, 1, 0), new Metric("ninf", double.NegativeInfinity, 1, 0)], [], []);
        var metrics = (await _store.GetRunAsync(run)).Metrics.ToDictionary(m => m.Key, m => m.Value);
        Assert.True(double.IsNaN(metrics["nan"]));
        Assert.Equal(double.MaxValue, metrics["inf"]);
        Assert.Equal(-double.MaxValue, metrics["ninf"]);
    }

    [Fact]
    public async Task Closing_the_store_checkpoints_the_wal_and_keeps_every_point()
    {
        var run = await NewRunAsync();
        for (var b = 0; b < 20; b++)
        {
            await _store.LogBatchAsync(run, Enumerable.Range(b * 1000, 1000).Select(i => new Metric("m", i, i, i)).ToList(), [], []);
        }

        await _store.DisposeAsync();
        var wal = Path.Combine(_dir, "t.db-wal");
        Assert.True(!File.Exists(wal) || new FileInfo(wal).Length == 0, "the WAL was not checkpointed into the database");

        _store = await SqlTrackingStore.OpenAsync(Uri, "mlflow-artifacts:/");
        long count = 0;
        await foreach (var p in _store.GetMetricHistoryAsync(run, "m", long.MinValue, 100_000))
        {
            Assert.Equal(count++, p.Metric.Step);
        }

        Assert.Equal(20_000, count);
    }

    [Fact]
    public void Sampled_steps_keep_the_first_and_last_and_at_most_about_max_results()
    {
        var steps = Enumerable.Range(0, 250).Select(i => (long)i).ToList();
        var sampled = SqlTrackingStore.SampleSteps(steps, 10);
        Assert.Equal(0, sampled[0]);
        Assert.Equal(249, sampled[^1]);
        Assert.Equal(25, sampled[1]);
        Assert.Equal(11, sampled.Count);
    }
}
