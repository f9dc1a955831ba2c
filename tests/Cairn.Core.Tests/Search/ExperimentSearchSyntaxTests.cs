using Cairn.Core.Search;

namespace Cairn.Core.Tests.Search;

public class ExperimentSearchSyntaxTests
{
    private static string Rejected(string filter)
    {
        var ex = Assert.Throws<MlflowException>(() => ExperimentSearchSyntax.ParseFilter(filter));
        Assert.Equal(ErrorCode.InvalidParameterValue, ex.Code);
        return ex.Message;
    }

    [Theory]
    [InlineData("name = 'a'", "name", Comparator.Equal)]
    [InlineData("attribute.name ILIKE 'PROTO-EXP-B'", "name", Comparator.ILike)]
    [InlineData("attributes.name != 'Default'", "name", Comparator.NotEqual)]
    [InlineData("name LIKE 'proto-exp-%'", "name", Comparator.Like)]
    [InlineData("creation_time > 0", "creation_time", Comparator.Greater)]
    [InlineData("attribute.last_update_time <= 17", "last_update_time", Comparator.LessOrEqual)]
    public void Attributes(string filter, string key, Comparator comparator)
    {
        var c = Assert.Single(ExperimentSearchSyntax.ParseFilter(filter).Clauses);
        Assert.Equal(new SearchKey(SearchEntity.Attribute, key), c.Key);
        Assert.Equal(comparator, c.Comparator);
    }

    [Fact]
    public void Tags_and_conjunctions()
    {
        var clauses = ExperimentSearchSyntax.ParseFilter("tags.team = 'vision' AND tag.`owner name` LIKE '%l%' and tags.x IS NULL").Clauses;
        Assert.Equal(
            [new SearchKey(SearchEntity.Tag, "team"), new SearchKey(SearchEntity.Tag, "owner name"), new SearchKey(SearchEntity.Tag, "x")],
            clauses.Select(c => c.Key));
        Assert.Equal([Comparator.Equal, Comparator.Like, Comparator.IsNull], clauses.Select(c => c.Comparator));
    }

    [Theory]
    [InlineData("name ==== 'x'", "Invalid comparator '====' not one of '{'LIKE', 'ILIKE', 'IN', '!=', '=', 'NOT IN'}'")]
    [InlineData("attribute.color = 'x'", "Invalid attribute key 'color' specified. Valid keys are '{'creation_time', 'name', 'last_update_time'}'")]
    [InlineData("metrics.acc > 1", "Invalid entity type 'metrics'. Valid entity types are ('attribute', 'tag', 'tags')")]
    [InlineData("experiment_id = '1'", "Invalid attribute key 'experiment_id' specified.")]
    [InlineData("creation_time LIKE 1", "Invalid comparator for numeric attribute: LIKE")]
    [InlineData("creation_time = 'x'", "Expected numeric value type for numeric attribute: creation_time. Found 'x'")]
    [InlineData("name = 1", "Expected a quoted string value for attributes. Got value 1")]
    [InlineData("name IN ('a')", "Only the 'run_id' attribute supports comparison with a list of quoted string values.")]
    [InlineData("name IN 'a'", "Invalid comparator for string attribute: IN")]
    [InlineData("tags.t > 'a'", "Invalid comparator for tag: >")]
    [InlineData("name IS NULL", "Invalid comparator 'IS NULL' not one of")]
    [InlineData("name = 'a' OR name = 'b'", "Invalid clause(s) in filter string: 'OR'")]
    public void Errors(string filter, string message)
    {
        var actual = Rejected(filter);
        Assert.StartsWith(message, actual);
        Assert.Contains("at position", actual);
    }

    [Fact]
    public void Order_by_attributes_only()
    {
        Assert.Equal(
            [
                new OrderByTerm(new SearchKey(SearchEntity.Attribute, "name"), true),
                new OrderByTerm(new SearchKey(SearchEntity.Attribute, "experiment_id"), false),
                new OrderByTerm(new SearchKey(SearchEntity.Attribute, "creation_time"), true),
                new OrderByTerm(new SearchKey(SearchEntity.Attribute, "last_update_time"), false),
            ],
            ExperimentSearchSyntax.ParseOrderBy(["name ASC", "experiment_id DESC", "attribute.creation_time", "last_update_time desc"]));

        var color = Assert.Throws<MlflowException>(() => ExperimentSearchSyntax.ParseOrderBy(["color ASC"]));
        Assert.StartsWith(
            "Invalid attribute key 'color' specified. Valid keys are '{'creation_time', 'name', 'last_update_time', 'experiment_id'}'",
            color.Message);

        var tag = Assert.Throws<MlflowException>(() => ExperimentSearchSyntax.ParseOrderBy(["tags.team"]));
        Assert.StartsWith("Invalid order_by entity: tag", tag.Message);
    }
}
