using System.Text.Json.Nodes;

namespace Cairn.Server.Tests.Conformance;

/// <summary>The comparison rules themselves, so a passing conformance run means what it says.</summary>
public class ResponseComparerTests
{
    private static List<string> Diffs(string golden, string actual, params string[] volatilePaths)
    {
        var diffs = new List<string>();
        ResponseComparer.CompareValues(JsonNode.Parse(golden), JsonNode.Parse(actual), volatilePaths, "", diffs);
        return diffs;
    }

    [Fact]
    public void Identical_answers_have_no_differences() =>
        Assert.Empty(Diffs("""{"run": {"info": {"run_id": "a", "start_time": 1}, "data": {}}}""", """{"run": {"info": {"run_id": "a", "start_time": 1}, "data": {}}}"""));

    [Fact]
    public void Missing_and_extra_keys_are_differences()
    {
        Assert.Equal(["missing a.b", "extra a.c"], Diffs("""{"a": {"b": 1}}""", """{"a": {"c": 1}}"""));
    }

    [Fact]
    public void Keyed_lists_match_by_key_whatever_their_order()
    {
        Assert.Empty(Diffs("""{"tags": [{"key": "x", "value": "1"}, {"key": "y", "value": "2"}]}""", """{"tags": [{"key": "y", "value": "2"}, {"key": "x", "value": "1"}]}"""));
        Assert.Equal(["value tags[key=x].value: \"1\" != \"9\""], Diffs("""{"tags": [{"key": "x", "value": "1"}]}""", """{"tags": [{"key": "x", "value": "9"}]}"""));
    }

    [Fact]
    public void Other_lists_match_by_position_and_length()
    {
        Assert.Equal(["length ids: 2 != 1"], Diffs("""{"ids": ["a", "b"]}""", """{"ids": ["a"]}"""));
        Assert.Equal(2, Diffs("""{"ids": ["a", "b"]}""", """{"ids": ["b", "a"]}""").Count);
    }

    [Fact]
    public void Floats_match_within_1e_9_and_integers_exactly()
    {
        Assert.Empty(Diffs("""{"v": 0.1}""", """{"v": 0.10000000000000001}"""));
        Assert.Empty(Diffs("""{"v": 1.7976931348623157e+308}""", """{"v": 1.7976931348623157E+308}"""));
        Assert.Empty(Diffs("""{"v": 0.0}""", """{"v": 0}"""));
        Assert.Single(Diffs("""{"v": 0.1}""", """{"v": 0.1000001}"""));
        Assert.Single(Diffs("""{"v": 1700000000000}""", """{"v": 1700000000001}"""));
    }

    [Fact]
    public void Volatile_values_may_differ_but_not_change_type()
    {
        Assert.Empty(Diffs("""{"runs": [{"id": "a"}, {"id": "b"}]}""", """{"runs": [{"id": "x"}, {"id": "y"}]}""", "runs[*].id"));
        Assert.Equal(["type runs[0].id: string != number"], Diffs("""{"runs": [{"id": "a"}]}""", """{"runs": [{"id": 5}]}""", "runs[*].id"));
        Assert.Empty(Diffs("""{"metrics": [1, 2]}""", """{"metrics": [1]}""", "metrics[]"));
    }

    [Fact]
    public void Error_messages_are_not_compared_but_error_codes_and_types_are()
    {
        Assert.Empty(Diffs("""{"error_code": "X", "message": "one"}""", """{"error_code": "X", "message": "two"}"""));
        Assert.Single(Diffs("""{"error_code": "X", "message": "one"}""", """{"error_code": "Y", "message": "one"}"""));
        Assert.Single(Diffs("""{"value": "NaN"}""", """{"value": 0}"""));
    }
}
