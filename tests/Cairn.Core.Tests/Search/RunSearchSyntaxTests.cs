using Cairn.Core.Search;

namespace Cairn.Core.Tests.Search;

public class RunSearchSyntaxTests
{
    private static Comparison Single(string filter) => Assert.Single(RunSearchSyntax.ParseFilter(filter).Clauses);

    private static string Rejected(string filter)
    {
        var ex = Assert.Throws<MlflowException>(() => RunSearchSyntax.ParseFilter(filter));
        Assert.Equal(ErrorCode.InvalidParameterValue, ex.Code);
        return ex.Message;
    }

    private static string RejectedOrder(params string[] orderBy)
    {
        var ex = Assert.Throws<MlflowException>(() => RunSearchSyntax.ParseOrderBy(orderBy));
        Assert.Equal(ErrorCode.InvalidParameterValue, ex.Code);
        return ex.Message;
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    public void Blank_filter_has_no_clauses(string? filter) => Assert.Empty(RunSearchSyntax.ParseFilter(filter).Clauses);

    [Theory]
    [InlineData("=", Comparator.Equal)]
    [InlineData("!=", Comparator.NotEqual)]
    [InlineData("<", Comparator.Less)]
    [InlineData("<=", Comparator.LessOrEqual)]
    [InlineData(">", Comparator.Greater)]
    [InlineData(">=", Comparator.GreaterOrEqual)]
    public void Metrics_take_every_numeric_comparator(string op, Comparator expected)
    {
        var c = Single($"metrics.acc {op} 0.8");
        Assert.Equal(new SearchKey(SearchEntity.Metric, "acc"), c.Key);
        Assert.Equal(expected, c.Comparator);
        Assert.Equal(0.8, Assert.IsType<NumberValue>(c.Value).Value);
    }

    [Theory]
    [InlineData("metrics.acc>0.8")]
    [InlineData("metrics.acc   >   0.8")]
    [InlineData("\tmetrics.acc >\n0.8 ")]
    public void Whitespace_around_comparators_is_optional(string filter) => Assert.Equal(Comparator.Greater, Single(filter).Comparator);

    [Theory]
    [InlineData("-1", -1.0)]
    [InlineData("+2", 2.0)]
    [InlineData(".5", 0.5)]
    [InlineData("-.5", -0.5)]
    [InlineData("1e3", 1000.0)]
    [InlineData("2.5E-2", 0.025)]
    [InlineData("10", 10.0)]
    public void Numbers_may_be_signed_fractional_or_exponential(string literal, double expected)
    {
        var value = Assert.IsType<NumberValue>(Single($"metrics.loss < {literal}").Value);
        Assert.Equal(expected, value.Value, 12);
        Assert.Equal(literal, value.Text);
    }

    [Fact]
    public void Integer_literals_stay_exact_for_timestamps()
    {
        var value = Assert.IsType<NumberValue>(Single("attributes.start_time >= 1700000002000").Value);
        Assert.Equal(1700000002000L, value.AsInt64);
        Assert.Null(Assert.IsType<NumberValue>(Single("attributes.start_time >= 1.5").Value).AsInt64);
    }

    [Theory]
    [InlineData("=", Comparator.Equal)]
    [InlineData("!=", Comparator.NotEqual)]
    [InlineData("LIKE", Comparator.Like)]
    [InlineData("like", Comparator.Like)]
    [InlineData("ILIKE", Comparator.ILike)]
    [InlineData("ILike", Comparator.ILike)]
    public void Params_and_tags_take_string_comparators(string op, Comparator expected)
    {
        var p = Single($"params.lr {op} '0.01'");
        Assert.Equal(new SearchKey(SearchEntity.Param, "lr"), p.Key);
        Assert.Equal(expected, p.Comparator);
        Assert.Equal("0.01", Assert.IsType<StringValue>(p.Value).Value);

        var t = Single($"tags.team {op} \"a\"");
        Assert.Equal(new SearchKey(SearchEntity.Tag, "team"), t.Key);
        Assert.Equal(expected, t.Comparator);
        Assert.Equal("a", Assert.IsType<StringValue>(t.Value).Value);
    }

    [Theory]
    [InlineData("metric", SearchEntity.Metric)]
    [InlineData("metrics", SearchEntity.Metric)]
    [InlineData("param", SearchEntity.Param)]
    [InlineData("params", SearchEntity.Param)]
    [InlineData("parameter", SearchEntity.Param)]
    [InlineData("parameters", SearchEntity.Param)]
    [InlineData("tag", SearchEntity.Tag)]
    [InlineData("tags", SearchEntity.Tag)]
    [InlineData("`tags`", SearchEntity.Tag)]
    public void Entity_aliases_are_folded(string entity, SearchEntity expected)
    {
        var value = expected == SearchEntity.Metric ? "1" : "'x'";
        Assert.Equal(new SearchKey(expected, "k"), Single($"{entity}.k = {value}").Key);
    }

    [Theory]
    [InlineData("attribute.status")]
    [InlineData("attributes.status")]
    [InlineData("attr.status")]
    [InlineData("run.status")]
    [InlineData("status")]
    public void Attribute_prefixes_and_bare_names_mean_attributes(string key) =>
        Assert.Equal(new SearchKey(SearchEntity.Attribute, "status"), Single($"{key} = 'FINISHED'").Key);

    [Theory]
    [InlineData("run_id", "run_id")]
    [InlineData("run_name", "run_name")]
    [InlineData("user_id", "user_id")]
    [InlineData("status", "status")]
    [InlineData("artifact_uri", "artifact_uri")]
    [InlineData("\"run name\"", "run_name")]
    [InlineData("`Run name`", "run_name")]
    [InlineData("attributes.`Run Name`", "run_name")]
    public void String_attributes_and_their_aliases(string key, string canonical)
    {
        var c = Single($"{key} LIKE 'x%'");
        Assert.Equal(new SearchKey(SearchEntity.Attribute, canonical), c.Key);
        Assert.Equal(Comparator.Like, c.Comparator);
    }

    [Theory]
    [InlineData("start_time", "start_time")]
    [InlineData("end_time", "end_time")]
    [InlineData("created", "start_time")]
    [InlineData("Created", "start_time")]
    [InlineData("attributes.created", "start_time")]
    public void Numeric_attributes_and_their_aliases(string key, string canonical)
    {
        var c = Single($"{key} < 1700000002000");
        Assert.Equal(new SearchKey(SearchEntity.Attribute, canonical), c.Key);
        Assert.IsType<NumberValue>(c.Value);
    }

    [Fact]
    public void Run_id_takes_in_and_not_in_lists()
    {
        var c = Single("attributes.run_id IN ('a1', \"b2\")");
        Assert.Equal(Comparator.In, c.Comparator);
        Assert.Equal(["a1", "b2"], Assert.IsType<StringListValue>(c.Value).Values);

        var n = Single("run_id not in ('a1')");
        Assert.Equal(Comparator.NotIn, n.Comparator);
        Assert.Equal(["a1"], Assert.IsType<StringListValue>(n.Value).Values);
    }

    [Theory]
    [InlineData("datasets.name = 'ds-train'", "name", Comparator.Equal)]
    [InlineData("dataset.digest IN ('d1g3st02')", "digest", Comparator.In)]
    [InlineData("datasets.context LIKE 'train%'", "context", Comparator.Like)]
    [InlineData("datasets.context NOT IN ('eval', 'test')", "context", Comparator.NotIn)]
    [InlineData("datasets.name ILIKE 'DS%'", "name", Comparator.ILike)]
    [InlineData("datasets.digest != 'x'", "digest", Comparator.NotEqual)]
    public void Dataset_fields(string filter, string key, Comparator comparator)
    {
        var c = Single(filter);
        Assert.Equal(new SearchKey(SearchEntity.Dataset, key), c.Key);
        Assert.Equal(comparator, c.Comparator);
    }

    [Theory]
    [InlineData("tags.`mlflow.source.name` = 'x'", "mlflow.source.name")]
    [InlineData("tags.\"mlflow.source.name\" = 'x'", "mlflow.source.name")]
    [InlineData("tags.mlflow.source.name = 'x'", "mlflow.source.name")]
    [InlineData("tags.\"my key\" = 'x'", "my key")]
    [InlineData("tags.`val/acc:top-1` = 'x'", "val/acc:top-1")]
    [InlineData("tags.`it``s` = 'x'", "it`s")]
    [InlineData("tags.2019_error = 'x'", "2019_error")]
    [InlineData("tags.\"2019-04-02 error rate\" = 'x'", "2019-04-02 error rate")]
    public void Keys_may_be_dotted_quoted_or_backticked(string filter, string key) =>
        Assert.Equal(new SearchKey(SearchEntity.Tag, key), Single(filter).Key);

    [Theory]
    [InlineData("params.p = 'it''s'", "it's")]
    [InlineData("params.p = \"say \"\"hi\"\"\"", "say \"hi\"")]
    [InlineData("params.p = \"it's\"", "it's")]
    [InlineData("params.p = ''", "")]
    [InlineData("params.p = 'a AND b'", "a AND b")]
    [InlineData("params.p = 'ünïcode ✓'", "ünïcode ✓")]
    public void String_values_in_either_quote(string filter, string value) =>
        Assert.Equal(value, Assert.IsType<StringValue>(Single(filter).Value).Value);

    [Fact]
    public void And_joins_clauses_in_any_case()
    {
        var clauses = RunSearchSyntax.ParseFilter("metrics.acc > 0.5 and params.lr = '0.01' AND tags.t != 'x' And status = 'RUNNING'").Clauses;
        Assert.Equal(
            [SearchEntity.Metric, SearchEntity.Param, SearchEntity.Tag, SearchEntity.Attribute],
            clauses.Select(c => c.Key.Entity));
    }

    [Theory]
    [InlineData("tags.x IS NULL", SearchEntity.Tag, Comparator.IsNull)]
    [InlineData("tags.x is not null", SearchEntity.Tag, Comparator.IsNotNull)]
    [InlineData("params.x IS NULL", SearchEntity.Param, Comparator.IsNull)]
    [InlineData("metrics.x IS NOT NULL", SearchEntity.Metric, Comparator.IsNotNull)]
    [InlineData("attributes.end_time IS NULL", SearchEntity.Attribute, Comparator.IsNull)]
    public void Is_null_on_optional_keys(string filter, SearchEntity entity, Comparator comparator)
    {
        var c = Single(filter);
        Assert.Equal(entity, c.Key.Entity);
        Assert.Equal(comparator, c.Comparator);
        Assert.Null(c.Value);
    }

    [Theory]
    [InlineData("attributes.run_name IS NULL", "Invalid comparator 'IS NULL' not one of")]
    [InlineData("attributes.start_time IS NOT NULL", "Invalid comparator 'IS NOT NULL' not one of")]
    [InlineData("datasets.name IS NULL", "Invalid comparator 'IS NULL' not one of")]
    [InlineData("tags.x IS 'a'", "Error on parsing filter 'tags.x IS 'a'': expected NULL or NOT NULL after IS at position 11")]
    public void Is_null_is_rejected_where_a_value_always_exists(string filter, string message) =>
        Assert.StartsWith(message, Rejected(filter));

    // The messages below are MLflow 2.17.2's (shared/mlflow-protocol/errors.jsonl), then Cairn's position.
    [Theory]
    [InlineData("metrics.acc >>> 1", "Invalid comparator '>>>' not one of '{'>=', '!=', '<=', '=', '>', '<'}", 13)]
    [InlineData("foo.bar = 1", "Invalid entity type 'foo'. Valid values are ['metric', 'parameter', 'tag', 'attribute', 'dataset']", 1)]
    [InlineData("params.lr = 0.01", "Expected a quoted string value for parameter (e.g. 'my-value'). Got value 0.01", 13)]
    [InlineData("metrics.acc = 'high'", "Expected numeric value type for metric. Found 'high'", 15)]
    [InlineData("metrics.acc > 1 OR metrics.acc < 0", "Invalid clause(s) in filter string: 'OR'", 17)]
    [InlineData("params.lr > '0.01'", "Invalid comparator '>' not one of '{'ILIKE', 'LIKE', '!=', '='}'", 11)]
    [InlineData("attributes.color = 'red'", "Invalid attribute key 'color' specified. Valid keys are '{'start_time', 'Created', 'Run name', 'run name', 'created', 'Run Name', 'run_name', 'end_time', 'artifact_uri', 'run_id', 'user_id', 'status'}'", 1)]
    [InlineData("datasets.size = 'x'", "Invalid dataset key 'size' specified. Valid keys are '{'context', 'digest', 'name'}'", 1)]
    [InlineData("params.lr IN ('0.1', '0.5')", "Expected a quoted string value for parameter (e.g. 'my-value'). Got value ('0.1', '0.5')", 14)]
    [InlineData("tags.team NOT IN ('a')", "Expected a quoted string value for tag (e.g. 'my-value'). Got value ('a')", 18)]
    [InlineData("tags.x === 1", "Expected a quoted string value for tag (e.g. 'my-value'). Got value 1", 12)]
    public void Mlflow_error_messages_with_position(string filter, string mlflowMessage, int position)
    {
        var message = Rejected(filter);
        Assert.StartsWith(mlflowMessage, message);
        Assert.Contains($"at position {position}", message);
    }

    [Theory]
    [InlineData("metrics.acc LIKE 1", "Invalid comparator 'LIKE' not one of")]
    [InlineData("metrics.acc IN (1)", "While parsing a list in the query, expected string value, punctuation, or whitespace, but got different type in list: (1)")]
    [InlineData("tags.t > 'a'", "Invalid comparator '>' not one of")]
    [InlineData("tags.t = abc", "Parameter value is either not quoted or unidentified quote types used for string value abc")]
    [InlineData("tags.t = `abc`", "Parameter value is either not quoted or unidentified quote types used for string value `abc`")]
    [InlineData("start_time = 'x'", "Expected numeric value type for numeric attribute: start_time. Found 'x'")]
    [InlineData("created LIKE 5", "Invalid comparator 'LIKE' not one of '{'>=', '!=', '<=', '=', '>', '<'}'")]
    [InlineData("status = 1", "Expected a quoted string value for attributes. Got value 1")]
    [InlineData("status > 'A'", "Invalid comparator '>' not one of '{'LIKE', 'ILIKE', 'IN', '!=', '=', 'NOT IN'}'")]
    [InlineData("status IN ('A')", "Only the 'run_id' attribute supports comparison with a list of quoted string values.")]
    [InlineData("run_id IN 'a'", "Expected a list of quoted string values for IN, e.g. ('a', 'b'). Got value 'a'")]
    [InlineData("run_id = ('a')", "Comparator '=' cannot take a list of values.")]
    [InlineData("datasets.name = 5", "Expected a quoted string value for dataset attributes. Got value 5")]
    [InlineData("datasets.name > 'a'", "Invalid comparator '>' not one of")]
    [InlineData("run_id IN ()", "While parsing a list in the query, expected a non-empty list of string values, but got empty list")]
    [InlineData("metrics.acc == 1", "Invalid comparator '==' not one of")]
    [InlineData("metrics.acc <> 1", "Invalid comparator '<>' not one of")]
    [InlineData("lifecycle_stage = 'active'", "Invalid attribute key 'lifecycle_stage' specified.")]
    [InlineData("METRICS.acc > 1", "Invalid entity type 'METRICS'.")]
    public void Wrong_key_value_comparator_combinations(string filter, string message) => Assert.StartsWith(message, Rejected(filter));

    [Theory]
    [InlineData("metrics.acc > 1 AND", "expected a key such as metrics.acc or params.\"my key\" at position 20, found end of input")]
    [InlineData("metrics.acc", "expected a comparator (=, !=, <, <=, >, >=, LIKE, ILIKE, IN, NOT IN) at position 12, found end of input")]
    [InlineData("metrics.acc >", "expected a value: a quoted string, a number or a list like ('a', 'b') at position 14, found end of input")]
    [InlineData("params.model-type = 'x'", "unexpected character '-' at position 13")]
    [InlineData("params.p = 'open", "the quoted text starting at position 12 has no closing '")]
    [InlineData("tags.\"open = 'x'", "the quoted text starting at position 6 has no closing \"")]
    [InlineData("(metrics.acc > 1)", "expected a key such as metrics.acc or params.\"my key\" at position 1, found '('")]
    [InlineData("metrics. acc > 1", "expected a key name right after the '.' at position 10, found 'acc'")]
    [InlineData("metrics.acc NOT LIKE 1", "expected IN after NOT at position 17, found 'LIKE'")]
    [InlineData("run_id IN ('a', 'b'", "expected ',' or ')' in the list at position 20, found end of input")]
    [InlineData("run_id IN ('a' 'b')", "expected ',' or ')' in the list at position 16, found ''b''")]
    [InlineData("metrics.acc > 1abc", "expected a number at position 15, found '1abc'")]
    [InlineData("metrics.acc > 1; DROP TABLE runs", "unexpected character ';' at position 16")]
    public void Syntax_errors_say_where_and_what_was_expected(string filter, string detail)
    {
        var message = Rejected(filter);
        Assert.StartsWith($"Error on parsing filter '{filter}'", message);
        Assert.Contains(detail, message);
    }

    [Fact]
    public void Partly_quoted_keys_are_rejected() =>
        Assert.StartsWith("Invalid identifier 'tags.mlflow.\"x\"'", Rejected("tags.mlflow.\"x\" = 'a'"));

    [Fact]
    public void Order_by_defaults_to_ascending_and_folds_aliases()
    {
        var terms = RunSearchSyntax.ParseOrderBy(["metrics.acc", "params.lr DESC", "tags.`my tag` asc", "created desc", "run_name"]);
        Assert.Equal(
            [
                new OrderByTerm(new SearchKey(SearchEntity.Metric, "acc"), true),
                new OrderByTerm(new SearchKey(SearchEntity.Param, "lr"), false),
                new OrderByTerm(new SearchKey(SearchEntity.Tag, "my tag"), true),
                new OrderByTerm(new SearchKey(SearchEntity.Attribute, "start_time"), false),
                new OrderByTerm(new SearchKey(SearchEntity.Attribute, "run_name"), true),
            ],
            terms);
    }

    [Fact]
    public void Order_by_empty_or_missing_means_default() =>
        Assert.Empty(RunSearchSyntax.ParseOrderBy(null));

    [Fact]
    public void Order_by_mlflow_errors()
    {
        Assert.StartsWith("Invalid ordering key in order_by clause 'metrics.acc SIDEWAYS'.", RejectedOrder("metrics.acc SIDEWAYS"));
        Assert.StartsWith(
            "Invalid entity type 'foo'. Valid values are ['metric', 'parameter', 'tag', 'attribute', 'dataset']",
            RejectedOrder("foo.bar ASC"));
        Assert.StartsWith("`order_by` contains duplicate fields: ['params.lr ASC', 'params.lr DESC']", RejectedOrder("params.lr ASC", "params.lr DESC"));
        Assert.StartsWith("`order_by` contains duplicate fields:", RejectedOrder("created", "start_time DESC"));
        Assert.StartsWith(
            "Invalid attribute key 'Run name' specified. Valid keys are '{'start_time', 'Created', 'created', 'run_name'",
            RejectedOrder("`Run name` ASC"));
        Assert.StartsWith("Invalid identifier type 'dataset'", RejectedOrder("datasets.name"));
    }

    [Theory]
    [InlineData("metrics.acc DESC extra", "Invalid order_by clause 'metrics.acc DESC extra'. Could not be parsed: expected ASC, DESC or the end of the clause at position 18")]
    [InlineData("", "Invalid order_by clause ''. Could not be parsed: expected a key such as metrics.acc at position 1, found end of input")]
    [InlineData("metrics.acc > 1", "Invalid order_by clause 'metrics.acc > 1'. Could not be parsed: expected ASC, DESC or the end of the clause at position 13")]
    public void Order_by_syntax_errors(string clause, string message) => Assert.StartsWith(message, RejectedOrder(clause));
}
