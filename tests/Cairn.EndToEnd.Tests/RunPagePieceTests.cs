using Cairn.Server.Ui;

namespace Cairn.EndToEnd.Tests;

/// <summary>The run page's server-side pieces tested without a browser: chart smoothing, YAML colouring and the MLmodel summary.</summary>
public sealed class RunPagePieceTests
{
    [Fact]
    public void Smoothing_of_zero_keeps_the_values()
    {
        double[] values = [1, 5, -2, 8];
        Assert.Equal(values, Smoothing.Ema(values, 0));
    }

    [Fact]
    public void Smoothing_is_a_debiased_exponential_moving_average()
    {
        var smoothed = Smoothing.Ema([1.0, 0.0, 0.0], 0.5);

        // Averages 0.5, 0.25, 0.125 divided by 1 - 0.5^n: the line starts at the first value, not at 0.5.
        Assert.Equal(1.0, smoothed[0], 12);
        Assert.Equal(0.25 / 0.75, smoothed[1], 12);
        Assert.Equal(0.125 / 0.875, smoothed[2], 12);
    }

    [Fact]
    public void Smoothing_a_constant_gives_the_constant_and_strong_smoothing_flattens_noise()
    {
        Assert.All(Smoothing.Ema([3.0, 3.0, 3.0, 3.0], 0.99), v => Assert.Equal(3.0, v, 9));

        var noisy = Enumerable.Range(0, 1000).Select(i => i % 2 == 0 ? 1.0 : -1.0).ToArray();
        var smoothed = Smoothing.Ema(noisy, 0.9);
        Assert.True(Math.Abs(smoothed[^1]) < 0.1, $"{smoothed[^1]}");
    }

    [Theory]
    [InlineData(null, 0, null)]
    [InlineData("", 0, null)]
    [InlineData("abc", 0, null)]
    [InlineData("NaN", 0, null)]
    [InlineData("0", 0, null)]
    [InlineData("0.6", 0.6, "0.6")]
    [InlineData("0.456", 0.46, "0.46")]
    [InlineData("1", 0.99, "0.99")]
    [InlineData("-3", 0, null)]
    public void Smoothing_weights_from_the_url_are_clamped_and_written_back_short(string? text, double weight, string? query)
    {
        Assert.Equal(weight, Smoothing.Parse(text), 12);
        Assert.Equal(query, Smoothing.ToQuery(Smoothing.Parse(text)));
    }

    [Fact]
    public void Yaml_is_coloured_by_what_the_parser_sees_and_joins_back_to_the_text()
    {
        var preview = YamlPreview.Of(SeededData.ConfigYaml);

        Assert.Null(preview.Error);
        Assert.NotNull(preview.Spans);
        Assert.Equal(SeededData.ConfigYaml, string.Concat(preview.Spans.Select(s => s.Text)));
        Assert.Contains(new YamlSpan(YamlSpanKind.Comment, "# Training configuration"), preview.Spans);
        Assert.Contains(new YamlSpan(YamlSpanKind.Key, "learning_rate"), preview.Spans);
        Assert.Contains(new YamlSpan(YamlSpanKind.Literal, "0.01"), preview.Spans);
        Assert.Contains(new YamlSpan(YamlSpanKind.Literal, "true"), preview.Spans);
        Assert.Contains(new YamlSpan(YamlSpanKind.String, "\"adam\""), preview.Spans);
        Assert.Contains(preview.Spans, s => s.Kind == YamlSpanKind.Plain && s.Text.Trim() == "tree");
    }

    [Fact]
    public void Invalid_yaml_says_where_and_still_shows_all_of_the_text()
    {
        const string text = "a: 1\nb: [unclosed\nc: 3\n";
        var preview = YamlPreview.Of(text);

        Assert.NotNull(preview.Error);
        Assert.Equal(text, string.Concat(preview.Spans!.Select(s => s.Text)));
    }

    [Fact]
    public void An_mlmodel_file_is_summarised_with_flavors_and_signature()
    {
        var summary = MlModelSummary.Parse(SeededData.MlModel("abc123"));

        Assert.NotNull(summary);
        Assert.Contains(new KeyValuePair<string, string>("Model UUID", SeededData.ModelUuid), summary.Fields);
        Assert.Contains(new KeyValuePair<string, string>("Run ID", "abc123"), summary.Fields);
        Assert.Contains(new KeyValuePair<string, string>("Created (UTC)", "2026-11-26 10:00:00.000000"), summary.Fields);
        Assert.Contains(new KeyValuePair<string, string>("Input example", "input_example.json (dataframe)"), summary.Fields);
        Assert.Equal(["python_function", "sklearn"], summary.Flavors.Select(f => f.Name));
        Assert.Contains(new KeyValuePair<string, string>("env.conda", "conda.yaml"), summary.Flavors[0].Settings);
        Assert.Contains(new KeyValuePair<string, string>("code", "—"), summary.Flavors[1].Settings);

        // The signature's parts are JSON inside YAML; a null part (params) is left out.
        Assert.Equal(["inputs", "outputs"], summary.Signature.Select(s => s.Part));
        Assert.Equal(
            [new SignatureField("sepal_length", "double", null, true, null), new SignatureField("species", "string", null, false, null)],
            summary.Signature[0].Fields);
        Assert.Equal([new SignatureField(null, "tensor int64", "(-1)", true, null)], summary.Signature[1].Fields);
    }

    [Fact]
    public void Signature_types_params_and_bad_json_are_described()
    {
        const string text = """
            flavors:
              mlnet: {}
            signature:
              inputs: '[{"type": "array", "items": {"type": "string"}, "name": "tokens"}, {"type": "object", "name": "o", "properties": {"a": {"type": "long"}}}]'
              outputs: 'not json'
              params: '[{"name": "temperature", "type": "float", "default": 0.7, "shape": null}]'
            """;
        var summary = MlModelSummary.Parse(text)!;

        Assert.Empty(summary.Fields);
        Assert.Equal(["array<string>", "object{a: long}"], summary.Signature[0].Fields.Select(f => f.Type));
        Assert.NotNull(summary.Signature[1].Error);
        Assert.Equal(new SignatureField("temperature", "float", null, true, "0.7"), summary.Signature[2].Fields.Single());
    }

    [Theory]
    [InlineData("just text")]
    [InlineData("a: [1, 2")]
    [InlineData("artifact_path: model\n")]
    public void Something_that_is_not_an_mlmodel_file_gets_no_summary(string text)
    {
        Assert.Null(MlModelSummary.Parse(text));
    }
}
