using Cairn.Core;
using Cairn.Storage.Sql;

namespace Cairn.Storage.Tests.Search;

/// <summary>Experiment search against a real database seeded like experiments.jsonl.</summary>
public abstract class ExperimentSearchSqlTests : IDisposable
{
    private readonly SearchDatabase? _db;

    protected ExperimentSearchSqlTests(SearchDatabase? db)
    {
        _db = db;
        if (db is null)
        {
            return;
        }

        db.Experiment(0, "Default", 100);
        db.Experiment(1, "proto-exp-a", 200, lastUpdate: 900);
        db.Experiment(2, "proto-exp-b", 300);
        db.Experiment(3, "proto-exp-c", 400, stage: "deleted");
        db.Experiment(4, "proto-exp-custom-loc", 500);
        db.Experiment(5, "/Users/alice/proto exp éè", 600);
        db.Experiment(6, "same-time", 600);
        db.ExperimentTag(1, "team", "vision");
        db.ExperimentTag(1, "owner", "alice");
        db.ExperimentTag(2, "team", "nlp");
    }

    public void Dispose()
    {
        _db?.Dispose();
        GC.SuppressFinalize(this);
    }

    private string Search(string? filter = null, string[]? orderBy = null, ViewType view = ViewType.ActiveOnly, int offset = 0, int limit = 100) =>
        string.Join(",", _db!.Query(ExperimentSearchSql.Build(_db.Dialect, view, filter, orderBy, offset, limit)));

    [Fact]
    public void Default_order_is_newest_first_with_ties_newest_id_first()
    {
        if (_db is null)
        {
            return;
        }

        Assert.Equal("6,5,4,2,1,0", Search());
    }

    [Theory]
    [InlineData(ViewType.DeletedOnly, "3")]
    [InlineData(ViewType.All, "6,5,4,3,2,1,0")]
    public void View_type(ViewType view, string expected)
    {
        if (_db is null)
        {
            return;
        }

        Assert.Equal(expected, Search(view: view));
    }

    [Theory]
    [InlineData("name LIKE 'proto-exp-%'", "4,2,1")]
    [InlineData("name = 'proto-exp-a'", "1")]
    [InlineData("attribute.name ILIKE 'PROTO-EXP-B'", "2")]
    [InlineData("attributes.name LIKE 'PROTO%'", "")]
    [InlineData("name != 'Default'", "6,5,4,2,1")]
    [InlineData("tags.team = 'vision'", "1")]
    [InlineData("tags.team LIKE '%l%'", "2")]
    [InlineData("tags.team != 'vision'", "2")]
    [InlineData("tags.team IS NULL", "6,5,4,0")]
    [InlineData("tags.team IS NOT NULL", "2,1")]
    [InlineData("creation_time > 0 AND name LIKE 'proto-exp-%'", "4,2,1")]
    [InlineData("creation_time >= 500", "6,5,4")]
    [InlineData("last_update_time = 900", "1")]
    [InlineData("tags.team = 'vision' AND tags.owner = 'alice'", "1")]
    [InlineData("tags.team = 'vision' AND tags.owner = 'bob'", "")]
    public void Filters(string filter, string expected)
    {
        if (_db is null)
        {
            return;
        }

        Assert.Equal(expected, Search(filter));
    }

    [Theory]
    [InlineData(new[] { "name ASC" }, "5,0,1,2,4,6")]
    [InlineData(new[] { "name DESC" }, "6,4,2,1,0,5")]
    [InlineData(new[] { "experiment_id ASC" }, "0,1,2,4,5,6")]
    [InlineData(new[] { "creation_time DESC" }, "6,5,4,2,1,0")]
    [InlineData(new[] { "creation_time ASC" }, "0,1,2,4,6,5")]
    [InlineData(new[] { "last_update_time DESC", "experiment_id ASC" }, "1,5,6,4,2,0")]
    public void Ordering_by_attributes_with_descending_id_tie_breaker(string[] orderBy, string expected)
    {
        if (_db is null)
        {
            return;
        }

        Assert.Equal(expected, Search(orderBy: orderBy));
    }

    [Fact]
    public void Paging()
    {
        if (_db is null)
        {
            return;
        }

        Assert.Equal("5,0", Search(orderBy: ["name ASC"], limit: 2));
        Assert.Equal("1,2", Search(orderBy: ["name ASC"], offset: 2, limit: 2));
        Assert.Equal("4,6", Search(orderBy: ["name ASC"], offset: 4, limit: 2));
        Assert.Equal("", Search(orderBy: ["name ASC"], offset: 6, limit: 2));
    }

    [Fact]
    public void Bad_filters_and_orders_throw()
    {
        if (_db is null)
        {
            return;
        }

        Assert.StartsWith("Invalid comparator '====' not one of", Assert.Throws<MlflowException>(() => Search("name ==== 'x'")).Message);
        Assert.StartsWith("Invalid attribute key 'color' specified.", Assert.Throws<MlflowException>(() => Search(orderBy: ["color ASC"])).Message);
    }
}

public sealed class SqliteExperimentSearchSqlTests() : ExperimentSearchSqlTests(SearchDatabase.Sqlite());

public sealed class PostgresExperimentSearchSqlTests() : ExperimentSearchSqlTests(SearchDatabase.Postgres());
