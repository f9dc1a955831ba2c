using Cairn.Core;

namespace Cairn.Core.Tests;

public class ValidationTests
{
    [Theory]
    [InlineData("a/../b", "b")]
    [InlineData("/abs", "/abs")]
    [InlineData(".", ".")]
    [InlineData("../etc", "../etc")]
    [InlineData("a//b", "a/b")]
    public void ValidateKey_rejects_names_that_resolve_to_other_paths(string key, string resolved)
    {
        var ex = Assert.Throws<MlflowException>(() => Validation.ValidateKey(key, "Metric name", "name"));
        Assert.Equal(ErrorCode.InvalidParameterValue, ex.Code);
        Assert.EndsWith($"would resolve to '{resolved}'", ex.Message);
    }

    [Theory]
    [InlineData("val/acc:top-1 x.y")]
    [InlineData("übung_1")]
    [InlineData("")]
    public void ValidateKey_accepts_mlflow_name_characters(string key) => Validation.ValidateKey(key, "Metric name", "name");

    [Theory]
    [InlineData("bad!")]
    [InlineData("p@ram")]
    public void ValidateKey_rejects_other_characters(string key)
    {
        var ex = Assert.Throws<MlflowException>(() => Validation.ValidateKey(key, "Param key", "key"));
        Assert.Contains("Names may only contain alphanumerics", ex.Message);
    }

    [Fact]
    public void ValidateKey_rejects_keys_over_250_characters()
    {
        Validation.ValidateKey(new string('k', 250), "Param key", "key");
        Assert.Throws<MlflowException>(() => Validation.ValidateKey(new string('k', 251), "Param key", "key"));
    }

    [Fact]
    public void ValidateBatch_rejects_more_than_1000_metrics()
    {
        var metrics = Enumerable.Range(0, 1001).Select(i => new Metric("m", i, 0, i)).ToList();
        var ex = Assert.Throws<MlflowException>(() => Validation.ValidateBatch(metrics, [], []));
        Assert.Contains("at most 1000 metrics. Got 1001", ex.Message);
    }

    [Fact]
    public void ValidateBatch_rejects_more_than_1000_entities_in_total()
    {
        var metrics = Enumerable.Range(0, 1000).Select(i => new Metric("m", i, 0, i)).ToList();
        var ex = Assert.Throws<MlflowException>(() => Validation.ValidateBatch(metrics, [new Param("p", "1")], []));
        Assert.Contains("Got 1001 metrics, params, and tags", ex.Message);
    }

    [Fact]
    public void ValidateBatch_rejects_duplicate_param_keys()
    {
        var ex = Assert.Throws<MlflowException>(() => Validation.ValidateBatch([], [new Param("q", "1"), new Param("q", "1")], []));
        Assert.Contains("Duplicate parameter keys have been submitted: ['q']", ex.Message);
    }

    [Fact]
    public void ValidateParamValue_rejects_values_over_6000_characters_instead_of_truncating()
    {
        Validation.ValidateParamValue(new Param("p", new string('x', 6000)));
        Assert.Throws<MlflowException>(() => Validation.ValidateParamValue(new Param("p", new string('x', 6001))));
    }
}
