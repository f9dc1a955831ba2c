using Cairn.Core;
using Cairn.Core.Registry;
using Cairn.Core.Search;

namespace Cairn.Core.Tests.Registry;

public class RegistrySyntaxAndValidationTests
{
    [Theory]
    [InlineData("none", "None")]
    [InlineData("STAGING", "Staging")]
    [InlineData("production", "Production")]
    [InlineData("Archived", "Archived")]
    public void Stages_are_case_insensitive_and_come_back_canonical(string input, string canonical) =>
        Assert.Equal(canonical, ModelStages.Canonical(input));

    [Fact]
    public void An_unknown_stage_is_rejected_with_mlflows_message()
    {
        var e = Assert.Throws<MlflowException>(() => ModelStages.Canonical("Prod"));
        Assert.Equal("Invalid Model Version stage: Prod. Value must be one of None, Staging, Production, Archived.", e.Message);
    }

    [Theory]
    [InlineData("latest")]
    [InlineData("Latest")]
    [InlineData("v1")]
    [InlineData("V42")]
    [InlineData("bad alias!")]
    [InlineData("")]
    public void Reserved_and_malformed_aliases_are_rejected(string alias) =>
        Assert.Equal(ErrorCode.InvalidParameterValue, Assert.Throws<MlflowException>(() => RegistryValidation.ValidateAlias(alias)).Code);

    [Theory]
    [InlineData("champion")]
    [InlineData("v1-candidate")]
    [InlineData("prod_2")]
    public void Ordinary_aliases_are_accepted(string alias) => RegistryValidation.ValidateAlias(alias);

    [Theory]
    [InlineData("mlflow-artifacts:/../../../etc/passwd")]
    [InlineData("http://host/api/2.0/mlflow-artifacts/artifacts/..%2f..%2fetc")]
    [InlineData("s3://bucket/a/%252e%252e/b")]
    [InlineData("s3://bucket")]
    public void Remote_sources_with_relative_references_are_rejected(string source) =>
        Assert.Throws<MlflowException>(() => RegistryValidation.ValidateRemoteSource(source));

    [Theory]
    [InlineData("s3://bucket/path/model")]
    [InlineData("runs:/0123/model")]
    [InlineData("mlflow-artifacts:/1/abc/artifacts/model")]
    [InlineData("models:/iris/3")]
    public void Absolute_remote_sources_are_accepted(string source) => RegistryValidation.ValidateRemoteSource(source);

    [Theory]
    [InlineData("/etc/passwd", true)]
    [InlineData("relative/dir", true)]
    [InlineData("file:///tmp/m", true)]
    [InlineData("s3://b/m", false)]
    [InlineData("runs:/r/m", false)]
    public void Local_sources_are_plain_paths_and_file_uris(string source, bool local) => Assert.Equal(local, RegistryValidation.IsLocalSource(source));

    [Fact]
    public void Version_numbers_must_be_integers()
    {
        Assert.Equal(3, RegistryValidation.ParseVersion(" 3 "));
        Assert.Equal("Model version must be an integer, got 'abc'", Assert.Throws<MlflowException>(() => RegistryValidation.ParseVersion("abc")).Message);
    }

    [Fact]
    public void Registered_model_search_takes_name_and_tags_and_folds_timestamp_into_last_update()
    {
        var filter = RegisteredModelSearchSyntax.ParseFilter("name LIKE 'iris%' AND tags.`team` = 'ml'");
        Assert.Equal([new SearchKey(SearchEntity.Attribute, "name"), new SearchKey(SearchEntity.Tag, "team")], filter.Clauses.Select(c => c.Key));
        var order = RegisteredModelSearchSyntax.ParseOrderBy(["timestamp DESC"]);
        Assert.Equal(new OrderByTerm(new SearchKey(SearchEntity.Attribute, RegistrySearchAttributes.LastUpdatedTimestamp), false), Assert.Single(order));
    }

    [Theory]
    [InlineData("run_id = 'x'", "Invalid attribute key 'run_id' specified. Valid keys are '{'name'}'")]
    [InlineData("name > 'x'", "Invalid comparator for attribute: >")]
    public void Registered_model_search_rejects_other_keys_and_comparators(string filter, string message) =>
        Assert.StartsWith(message, Assert.Throws<MlflowException>(() => RegisteredModelSearchSyntax.ParseFilter(filter)).Message);

    [Fact]
    public void Registered_model_order_by_rejects_a_column_named_twice()
    {
        var e = Assert.Throws<MlflowException>(() => RegisteredModelSearchSyntax.ParseOrderBy(["timestamp DESC", "last_updated_timestamp ASC"]));
        Assert.Equal(ErrorCode.InvalidParameterValue, e.Code);
        Assert.StartsWith("`order_by` contains duplicate fields", e.Message);
        Assert.StartsWith("Invalid order by key 'color' specified", Assert.Throws<MlflowException>(() => RegisteredModelSearchSyntax.ParseOrderBy(["color ASC"])).Message);
    }

    [Fact]
    public void Model_version_search_takes_run_id_lists_and_numeric_version_numbers()
    {
        var filter = ModelVersionSearchSyntax.ParseFilter("run_id IN ('a', 'b') AND version_number >= 2 AND source_path = 's3://x'");
        Assert.Equal(new StringListValue(["a", "b"]).Values, ((StringListValue)filter.Clauses[0].Value!).Values);
        Assert.Equal(2, ((NumberValue)filter.Clauses[1].Value!).AsInt64);
        Assert.Throws<MlflowException>(() => ModelVersionSearchSyntax.ParseFilter("name IN ('a')"));
        Assert.Throws<MlflowException>(() => ModelVersionSearchSyntax.ParseFilter("version_number = 'two'"));
        Assert.StartsWith("Invalid attribute key 'color' specified. Valid keys are '{'last_updated_timestamp', 'name', 'creation_timestamp', 'version_number'}'",
            Assert.Throws<MlflowException>(() => ModelVersionSearchSyntax.ParseOrderBy(["color ASC"])).Message);
    }
}
