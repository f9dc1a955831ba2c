using Cairn.Core;
using Cairn.Storage.Sql;

namespace Cairn.Storage.Tests.Search;

/// <summary>
/// Runs the built queries against a real database seeded like the golden transcripts: experiment 1
/// holds r1..r5 (start times 1000..5000) and the deleted r6; experiment 2 holds r7.
/// </summary>
public abstract class RunSearchSqlTests : IDisposable
{
    private readonly SearchDatabase? _db;

    protected RunSearchSqlTests(SearchDatabase? db)
    {
        _db = db;
        if (db is not null)
        {
            Seed(db);
        }
    }

    public void Dispose()
    {
        _db?.Dispose();
        GC.SuppressFinalize(this);
    }

    private static void Seed(SearchDatabase db)
    {
        db.Experiment(1, "exp-a", 1);
        db.Experiment(2, "exp-b", 2);

        db.Run("r1", 1, "run-1", "alice", "RUNNING", 1000);
        db.Metric("r1", "acc", 0.5, step: 0);
        db.Metric("r1", "acc", 0.9, step: 1);
        db.Metric("r1", "loss", -0.5);
        db.Param("r1", "lr", "0.01");
        db.Param("r1", "optimizer", "adam");
        db.Tag("r1", "team", "a");
        db.Tag("r1", "mlflow.source.name", "train.py");
        db.Input("r1", 1, "ds-train", "d1", "training");

        db.Run("r2", 1, "run-2", "bob", "FINISHED", 2000, end: 2500);
        db.Metric("r2", "acc", 0.7);
        db.Param("r2", "lr", "0.1");
        db.Param("r2", "optimizer", "SGD");
        db.Tag("r2", "team", "b");
        db.Input("r2", 1, "ds-eval", "d2", "eval");

        db.Run("r3", 1, "run-3", "alice", "FINISHED", 3000, end: 3500);
        db.Metric("r3", "acc", 0.95);
        db.Param("r3", "lr", "0.01");
        db.Tag("r3", "my key", "spaced");

        db.Run("r4", 1, "run-1-child", "carol", "FAILED", 4000, end: 4100);
        db.Tag("r4", "mlflow.parentRunId", "r1");
        db.Metric("r4", "val/acc", 1);

        db.Run("r5", 1, "nan-run", "dave", "RUNNING", 5000);
        db.Metric("r5", "acc", double.NaN);

        db.Run("r6", 1, "deleted", "erin", "FINISHED", 6000, end: 6100, stage: "deleted");
        db.Metric("r6", "acc", 0.99);

        db.Run("r7", 2, "other", "frank", "FINISHED", 500, end: 600);
        db.Metric("r7", "acc", 0.5);
    }

    private List<string> Search(
        string? filter = null,
        string[]? orderBy = null,
        string[]? experiments = null,
        ViewType view = ViewType.ActiveOnly,
        int offset = 0,
        int limit = 1000)
    {
        // As the store runs a plan: the fallback answers when the first query's page is not full.
        var plan = RunSearchSql.Build(_db!.Dialect, experiments ?? ["1"], view, filter, orderBy, offset, limit);
        var ids = _db.Query(plan.Query);
        return ids.Count < limit && plan.Fallback is { } fallback ? _db.Query(fallback) : ids;
    }

    private static string Ids(IEnumerable<string> ids) => string.Join(",", ids);

    [Fact]
    public void Default_order_is_newest_start_first_and_active_only()
    {
        if (_db is null)
        {
            return;
        }

        Assert.Equal("r5,r4,r3,r2,r1", Ids(Search()));
    }

    [Theory]
    [InlineData(ViewType.DeletedOnly, "r6")]
    [InlineData(ViewType.All, "r6,r5,r4,r3,r2,r1")]
    public void View_type_selects_lifecycle_stage(ViewType view, string expected)
    {
        if (_db is null)
        {
            return;
        }

        Assert.Equal(expected, Ids(Search(view: view)));
    }

    [Theory]
    [InlineData(new[] { "1", "2" }, "r7,r1,r2,r3,r4,r5")]
    [InlineData(new[] { "2" }, "r7")]
    [InlineData(new[] { "999" }, "")]
    [InlineData(new[] { "abc" }, "")]
    [InlineData(new[] { "abc", "2" }, "r7")]
    [InlineData(new string[0], "")]
    public void Experiment_ids_that_are_unknown_or_not_numbers_match_nothing(string[] experiments, string expected)
    {
        if (_db is null)
        {
            return;
        }

        Assert.Equal(expected, Ids(Search(experiments: experiments, orderBy: ["attributes.start_time ASC"])));
    }

    [Theory]
    [InlineData("metrics.acc > 0.8", "r3,r1")]
    [InlineData("metrics.acc <= 0.9", "r2,r1")]
    [InlineData("metrics.acc >= 0.95", "r3")]
    [InlineData("metrics.acc < 0.9", "r2")]
    [InlineData("metrics.acc = 0.9", "r1")]
    [InlineData("metrics.acc != 0.9", "r5,r3,r2")]
    [InlineData("metrics.acc = 0", "")]
    [InlineData("metrics.acc > 100", "")]
    [InlineData("metrics.nope > 0", "")]
    [InlineData("metrics.loss < 0", "r1")]
    [InlineData("metrics.`val/acc` >= 1", "r4")]
    [InlineData("metrics.acc IS NULL", "r4")]
    [InlineData("metrics.acc IS NOT NULL", "r5,r3,r2,r1")]
    [InlineData("params.lr = '0.01'", "r3,r1")]
    [InlineData("params.lr != '0.01'", "r2")]
    [InlineData("params.optimizer LIKE 'ad%'", "r1")]
    [InlineData("params.optimizer LIKE 'AD%'", "")]
    [InlineData("params.optimizer LIKE '_GD'", "r2")]
    [InlineData("params.optimizer ILIKE 'sg%'", "r2")]
    [InlineData("params.optimizer ILIKE 'ADAM'", "r1")]
    [InlineData("params.lr IS NULL", "r5,r4")]
    [InlineData("tags.team = 'a'", "r1")]
    [InlineData("tags.team = 'A'", "")]
    [InlineData("tags.`mlflow.source.name` = 'train.py'", "r1")]
    [InlineData("tags.\"mlflow.source.name\" = 'train.py'", "r1")]
    [InlineData("tags.mlflow.parentRunId = 'r1'", "r4")]
    [InlineData("tags.\"my key\" LIKE 'spa%'", "r3")]
    [InlineData("tags.team IS NULL", "r5,r4,r3")]
    [InlineData("tags.team IS NOT NULL", "r2,r1")]
    [InlineData("attributes.status = 'FINISHED'", "r3,r2")]
    [InlineData("status != 'RUNNING'", "r4,r3,r2")]
    [InlineData("attributes.run_name = 'run-1'", "r1")]
    [InlineData("run_name LIKE 'run-%'", "r4,r3,r2,r1")]
    [InlineData("attributes.run_name ILIKE 'RUN-1%'", "r4,r1")]
    [InlineData("`Run name` = 'run-2'", "r2")]
    [InlineData("attributes.start_time >= 2000", "r5,r4,r3,r2")]
    [InlineData("attributes.created < 2000", "r1")]
    [InlineData("attributes.end_time > 0", "r4,r3,r2")]
    [InlineData("attributes.end_time IS NULL", "r5,r1")]
    [InlineData("attributes.end_time != 2500", "r4,r3")]
    [InlineData("attributes.user_id = 'bob'", "r2")]
    [InlineData("attributes.run_id = 'r1'", "r1")]
    [InlineData("attributes.run_id IN ('r1', 'r2')", "r2,r1")]
    [InlineData("attributes.run_id NOT IN ('r1')", "r5,r4,r3,r2")]
    [InlineData("attributes.run_id IN ('r7')", "")]
    [InlineData("attributes.artifact_uri LIKE '%/r3/%'", "r3")]
    [InlineData("datasets.name = 'ds-train'", "r1")]
    [InlineData("dataset.digest IN ('d2')", "r2")]
    [InlineData("datasets.digest NOT IN ('d2')", "r1")]
    [InlineData("datasets.context = 'training'", "r1")]
    [InlineData("datasets.context != 'training'", "r2")]
    [InlineData("datasets.name LIKE 'ds-%'", "r2,r1")]
    [InlineData("datasets.name ILIKE 'DS-EVAL'", "r2")]
    [InlineData("metrics.acc > 0.5 and params.lr = '0.01'", "r3,r1")]
    [InlineData("metrics.acc > 0.5 AND params.lr = '0.01' AND tags.team = 'a' AND status = 'RUNNING'", "r1")]
    [InlineData("params.lr = 'x'' OR 1=1 --'", "")]
    public void Filters(string filter, string expected)
    {
        if (_db is null)
        {
            return;
        }

        Assert.Equal(expected, Ids(Search(filter)));
    }

    [Theory]
    [InlineData(new[] { "metrics.acc DESC" }, "r3,r1,r2,r5,r4")]
    [InlineData(new[] { "metrics.acc" }, "r2,r1,r3,r5,r4")]
    [InlineData(new[] { "params.lr ASC" }, "r3,r1,r2,r5,r4")]
    [InlineData(new[] { "params.lr DESC" }, "r2,r3,r1,r5,r4")]
    [InlineData(new[] { "tags.team DESC" }, "r2,r1,r5,r4,r3")]
    [InlineData(new[] { "tags.team" }, "r1,r2,r5,r4,r3")]
    [InlineData(new[] { "attributes.start_time ASC" }, "r1,r2,r3,r4,r5")]
    [InlineData(new[] { "created" }, "r1,r2,r3,r4,r5")]
    [InlineData(new[] { "attributes.run_name ASC" }, "r5,r1,r4,r2,r3")]
    [InlineData(new[] { "run_name DESC" }, "r3,r2,r4,r1,r5")]
    [InlineData(new[] { "params.lr ASC", "attributes.start_time DESC" }, "r3,r1,r2,r5,r4")]
    [InlineData(new[] { "params.lr ASC", "attributes.start_time ASC" }, "r1,r3,r2,r4,r5")]
    [InlineData(new[] { "end_time DESC" }, "r4,r3,r2,r5,r1")]
    [InlineData(new[] { "end_time ASC" }, "r2,r3,r4,r5,r1")]
    [InlineData(new[] { "status", "user_id DESC" }, "r4,r2,r3,r5,r1")]
    [InlineData(new[] { "run_id DESC" }, "r5,r4,r3,r2,r1")]
    [InlineData(new[] { "metrics.`val/acc` DESC", "metrics.acc" }, "r4,r2,r1,r3,r5")]
    public void Ordering_puts_runs_lacking_the_key_last_in_both_directions(string[] orderBy, string expected)
    {
        if (_db is null)
        {
            return;
        }

        Assert.Equal(expected, Ids(Search(orderBy: orderBy)));
    }

    [Fact]
    public void Filter_and_order_combine()
    {
        if (_db is null)
        {
            return;
        }

        Assert.Equal("r2,r1,r3", Ids(Search("params.lr LIKE '0.%'", ["metrics.acc ASC"])));
    }

    [Fact]
    public void Paging_with_offset_and_limit_walks_the_same_order()
    {
        if (_db is null)
        {
            return;
        }

        Assert.Equal("r1,r2", Ids(Search(orderBy: ["attributes.start_time ASC"], offset: 0, limit: 2)));
        Assert.Equal("r3,r4", Ids(Search(orderBy: ["attributes.start_time ASC"], offset: 2, limit: 2)));
        Assert.Equal("r5", Ids(Search(orderBy: ["attributes.start_time ASC"], offset: 4, limit: 2)));
        Assert.Equal("", Ids(Search(orderBy: ["attributes.start_time ASC"], offset: 6, limit: 2)));
        Assert.Equal("r3", Ids(Search("metrics.acc > 0", ["metrics.acc DESC"], offset: 0, limit: 1)));
        Assert.Equal("r1", Ids(Search("metrics.acc > 0", ["metrics.acc DESC"], offset: 1, limit: 1)));
    }

    [Theory]
    [InlineData(null, new[] { "metrics.acc DESC" }, new[] { "1" })]
    [InlineData(null, new[] { "metrics.acc" }, new[] { "1" })]
    [InlineData(null, new[] { "metrics.acc DESC" }, new[] { "1", "2" })]
    [InlineData(null, new[] { "metrics.`val/acc` DESC", "metrics.acc" }, new[] { "1" })]
    [InlineData("metrics.acc != 0.7", new[] { "metrics.acc DESC" }, new[] { "1" })]
    [InlineData("params.lr = '0.01'", new[] { "metrics.acc" }, new[] { "1", "2" })]
    [InlineData(null, new[] { "params.lr DESC" }, new[] { "1" })]
    [InlineData(null, new[] { "params.optimizer", "metrics.acc DESC" }, new[] { "1" })]
    [InlineData(null, new[] { "tags.team DESC" }, new[] { "1", "2" })]
    [InlineData("tags.team != 'b'", new[] { "tags.team" }, new[] { "1" })]
    public void Pages_of_a_metric_param_or_tag_order_concatenate_to_the_whole_order(string? filter, string[] orderBy, string[] experiments)
    {
        if (_db is null)
        {
            return;
        }

        // A page among the finite values comes from the index walk, a page reaching NaN or missing values from the general query.
        var whole = Search(filter, orderBy, experiments);
        for (var limit = 1; limit <= whole.Count + 1; limit++)
        {
            var paged = new List<string>();
            for (var offset = 0; offset <= whole.Count; offset += limit)
            {
                paged.AddRange(Search(filter, orderBy, experiments, offset: offset, limit: limit));
            }

            Assert.Equal(Ids(whole), Ids(paged));
        }
    }

    [Fact]
    public void A_metric_order_over_two_experiments_interleaves_their_runs()
    {
        if (_db is null)
        {
            return;
        }

        Assert.Equal("r3,r1,r2,r7,r5,r4", Ids(Search(orderBy: ["metrics.acc DESC"], experiments: ["1", "2"])));
        Assert.Equal("r3,r1", Ids(Search(orderBy: ["metrics.acc DESC"], experiments: ["1", "2"], limit: 2)));
        Assert.Equal("r1,r3", Ids(Search("metrics.acc != 0.7", ["metrics.acc"], limit: 2)));
    }

    [Fact]
    public void Bad_filters_throw_before_any_sql_is_run()
    {
        if (_db is null)
        {
            return;
        }

        var ex = Assert.Throws<MlflowException>(() => Search("metrics.acc > 1 OR metrics.acc < 0"));
        Assert.Equal(ErrorCode.InvalidParameterValue, ex.Code);
        Assert.Throws<MlflowException>(() => Search(orderBy: ["metrics.acc SIDEWAYS"]));
    }

    [Fact]
    public void User_text_only_ever_travels_as_parameters()
    {
        if (_db is null)
        {
            return;
        }

        const string hostile = "x'); DROP TABLE runs; --";
        var query = RunSearchSql.Build(
            _db.Dialect, ["1"], ViewType.All, $"tags.`{hostile}` = '{hostile.Replace("'", "''")}' AND datasets.name = '{hostile.Replace("'", "''")}'",
            [$"params.`{hostile}` DESC"], 0, 10).Query;
        Assert.DoesNotContain("DROP", query.Sql);
        Assert.All(query.Parameters, p => Assert.Matches("^@p[0-9]+$", p.Key));
        Assert.Contains(query.Parameters, p => Equals(p.Value, hostile));
        Assert.Empty(_db.Query(query));
        Assert.Equal("r5,r4,r3,r2,r1", Ids(Search()));
    }
}

public sealed class SqliteRunSearchSqlTests() : RunSearchSqlTests(SearchDatabase.Sqlite())
{
    private static List<string> Plan(string filter, string[]? orderBy = null)
    {
        using var db = SearchDatabase.Sqlite();
        var query = RunSearchSql.Build(SqlDialect.Sqlite, ["1"], ViewType.ActiveOnly, filter, orderBy, 0, 100).Query;
        return db.Lines("EXPLAIN QUERY PLAN ", query);
    }

    [Theory]
    [InlineData("metrics.acc > 0.8")]
    [InlineData("metrics.acc != 0.8 AND metrics.loss < 1")]
    [InlineData("metrics.acc IS NULL")]
    public void Metric_filters_probe_the_latest_metric_key_instead_of_scanning(string filter)
    {
        var plan = Plan(filter);
        Assert.DoesNotContain(plan, line => line.StartsWith("SCAN", StringComparison.Ordinal) && line.Contains("metrics", StringComparison.Ordinal));
        Assert.Contains(plan, line => line.Contains("latest_metrics", StringComparison.Ordinal) && line.Contains("INDEX", StringComparison.Ordinal));
        Assert.Contains(plan, line => line.Contains("runs_experiment_start", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("params.lr = '0.01'", "params")]
    [InlineData("tags.team LIKE 'a%'", "tags")]
    public void Param_and_tag_filters_use_an_index(string filter, string table)
    {
        var plan = Plan(filter);
        Assert.DoesNotContain(plan, line => line.StartsWith("SCAN", StringComparison.Ordinal) && line.Contains(table, StringComparison.Ordinal));
        Assert.Contains(plan, line => line.Contains(table, StringComparison.Ordinal) && line.Contains("INDEX", StringComparison.Ordinal));
    }

    [Fact]
    public void Metric_ordering_joins_on_the_latest_metric_key()
    {
        var plan = Plan("params.lr = '0.01'", ["metrics.acc DESC"]);
        Assert.DoesNotContain(plan, line => line.StartsWith("SCAN", StringComparison.Ordinal) && line.Contains("metrics", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("", "metrics.acc DESC", "latest_metrics_experiment_key_value")]
    [InlineData("metrics.acc > 0.5", "metrics.acc DESC", "latest_metrics_experiment_key_value")]
    [InlineData("params.lr = '0.01'", "metrics.acc DESC", "latest_metrics_experiment_key_value")]
    [InlineData("", "params.lr", "params_experiment_key_value")]
    [InlineData("", "tags.team DESC", "tags_experiment_key_value")]
    public void A_metric_param_or_tag_order_walks_the_experiments_values_in_order(string filter, string orderBy, string index)
    {
        var plan = Plan(filter, [orderBy]);
        Assert.Contains(plan, line => line.Contains(index, StringComparison.Ordinal));
        Assert.DoesNotContain(plan, line => line.Contains("SCAN", StringComparison.Ordinal));
        Assert.DoesNotContain(plan, line => line.Contains("USE TEMP B-TREE FOR ORDER BY", StringComparison.Ordinal));
    }

    [Fact]
    public void Default_order_reads_the_start_time_index_without_sorting()
    {
        var plan = Plan("");
        Assert.Contains(plan, line => line.Contains("runs_experiment_start", StringComparison.Ordinal));
        Assert.DoesNotContain(plan, line => line.Contains("TEMP B-TREE", StringComparison.Ordinal));
    }
}

public sealed class PostgresRunSearchSqlTests() : RunSearchSqlTests(SearchDatabase.Postgres());
