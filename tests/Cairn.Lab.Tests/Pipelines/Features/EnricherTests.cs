using Cairn.Lab.Pipelines;
using Cairn.Lab.Pipelines.Features;

namespace Cairn.Lab.Tests.Pipelines.Features;

public sealed class EnricherTests
{
    /// <summary>x symmetric, y non-negative and right-skewed, z negative, m with a missing value, a text column.</summary>
    internal static DataTable Sample() => new(
        [
            new NumericColumn("x", [1, 2, 3, 4, 5, 6]),
            new NumericColumn("y", [0, 1, 1, 2, 3, 100]),
            new NumericColumn("z", [-1, 0, 1, -2, 2, 0]),
            new NumericColumn("m", [2, float.NaN, 4, 4, 10, 4]),
            new TextColumn("colour", ["red", "blue", null, "red", "green", "blue"]),
        ],
        "label",
        ["a", "b", "a", "b", "a", "b"]);

    private static FeaturePlan Fit(DataTable table, params (string Name, Dictionary<string, object?>? Options)[] chain) =>
        FeaturePlan.Fit([.. chain.Select(s => EnricherCatalog.Create(s.Name, s.Options))], table);

    private static float[] Feature(FeaturePlan plan, float[][] features, string name) => features[plan.FeatureNames.ToList().IndexOf(name)];

    [Fact]
    public void None_keeps_the_raw_columns_and_one_hot_encodes_text()
    {
        var table = Sample();
        var plan = Fit(table, ("none", null));

        var features = plan.Transform(table);

        Assert.Equal(["x", "y", "z", "m", "colour=blue", "colour=green", "colour=red"], plan.FeatureNames);
        Assert.Equal(["x", "y", "z", "m", "colour"], plan.InputColumns);
        Assert.Equal([1f, 2, 3, 4, 5, 6], features[0]);
        Assert.Equal([0f, 1, 0, 0, 0, 1], Feature(plan, features, "colour=blue"));
        Assert.Equal([1f, 0, 0, 1, 0, 0], Feature(plan, features, "colour=red"));
        Assert.Equal([0f, 0, 0], [.. features.Skip(4).Select(f => f[2])]);
        features[0][0] = 99;
        Assert.Equal(1f, ((NumericColumn)table["x"]).Values[0]);
    }

    [Fact]
    public void Zscale_uses_mean_and_population_standard_deviation()
    {
        var table = Sample();
        var plan = Fit(table, ("zscale", null));

        var x = Feature(plan, plan.Transform(table), "x");

        var mean = 3.5;
        var std = Math.Sqrt(new[] { 1, 2, 3, 4, 5, 6 }.Sum(v => (v - mean) * (v - mean)) / 6);
        Assert.Equal([.. new[] { 1, 2, 3, 4, 5, 6 }.Select(v => (float)((v - mean) / std))], x, (a, b) => Math.Abs(a - b) < 1e-6);
        Assert.Equal(0, x.Average(), 5);
        Assert.Contains("zscale", plan.Choices.Keys);
        var m = Feature(plan, plan.Transform(table), "m");
        Assert.True(float.IsNaN(m[1]));
    }

    [Fact]
    public void Minmax_maps_the_training_range_to_zero_one()
    {
        var table = Sample();
        var plan = Fit(table, ("minmax", null));

        var features = plan.Transform(table);

        Assert.Equal([0f, 0.2f, 0.4f, 0.6f, 0.8f, 1f], Feature(plan, features, "x"), (a, b) => Math.Abs(a - b) < 1e-6);
        Assert.Equal([0.25f, 0.5f, 0.75f, 0f, 1f, 0.5f], Feature(plan, features, "z"), (a, b) => Math.Abs(a - b) < 1e-6);
    }

    [Fact]
    public void Log_takes_log1p_of_non_negative_columns_only()
    {
        var table = Sample();
        var plan = Fit(table, ("log", null));

        var features = plan.Transform(table);

        Assert.Equal("x, y, m", plan.Choices["log.columns"]);
        Assert.Equal((float)Math.Log(1 + 100f), Feature(plan, features, "y")[5]);
        Assert.Equal(0f, Feature(plan, features, "y")[0]);
        Assert.Equal([-1f, 0, 1, -2, 2, 0], Feature(plan, features, "z"));

        var onlyY = Fit(table, ("log", new() { ["columns"] = new List<object?> { "y" } }));
        Assert.Equal("y", onlyY.Choices["log.columns"]);
        Assert.Equal([1f, 2, 3, 4, 5, 6], Feature(onlyY, onlyY.Transform(table), "x"));

        var error = Assert.Throws<PipelineConfigException>(() => Fit(table, ("log", new() { ["columns"] = "z" })));
        Assert.Contains("'z' has negative values", error.Message);
        error = Assert.Throws<PipelineConfigException>(() => Fit(table, ("log", new() { ["columns"] = "w" })));
        Assert.Contains("the columns are: x, y, z, m", error.Message);
    }

    [Fact]
    public void Polynomial_adds_products_and_squares()
    {
        var table = new DataTable([new NumericColumn("a", [1, 2, 3]), new NumericColumn("b", [4, 5, 6])], "label", ["p", "q", "p"]);

        var plan = Fit(table, ("polynomial", null));
        var features = plan.Transform(table);

        Assert.Equal(["a", "b", "a^2", "a*b", "b^2"], plan.FeatureNames);
        Assert.Equal([1f, 4, 9], features[2]);
        Assert.Equal([4f, 10, 18], features[3]);
        Assert.Equal([16f, 25, 36], features[4]);

        var interactions = Fit(table, ("polynomial", new() { ["interaction_only"] = true }));
        Assert.Equal(["a", "b", "a*b"], interactions.FeatureNames);

        var cubic = Fit(table, ("polynomial", new() { ["degree"] = 3L }));
        Assert.Equal(["a", "b", "a^2", "a*b", "b^2", "a^3", "a^2*b", "a*b^2", "b^3"], cubic.FeatureNames);
        Assert.Equal([16f, 50, 108], Feature(cubic, cubic.Transform(table), "a*b^2"));
    }

    [Fact]
    public void Subset_keeps_the_named_numeric_and_text_columns_in_order()
    {
        var table = Sample();
        var plan = Fit(table, ("subset", new() { ["columns"] = new[] { "colour", "y" } }));

        Assert.Equal(["y", "colour=blue", "colour=green", "colour=red"], plan.FeatureNames);
        Assert.Equal(["y", "colour"], plan.InputColumns);

        var dropText = Fit(table, ("subset", new() { ["columns"] = "x, y" }));
        Assert.Equal(["x", "y"], dropText.FeatureNames);

        var error = Assert.Throws<PipelineConfigException>(() => Fit(table, ("subset", new() { ["columns"] = new[] { "x", "nope" } })));
        Assert.Contains("'nope'", error.Message);
        Assert.Contains("the columns are: x, y, z, m, colour", error.Message);
    }

    [Theory]
    [InlineData("mean", 4.8f)]
    [InlineData("median", 4f)]
    [InlineData("most_frequent", 4f)]
    public void Impute_fills_missing_values_with_a_training_statistic(string strategy, float expected)
    {
        var table = Sample();
        var plan = Fit(table, ("impute", new() { ["strategy"] = strategy }));

        var m = Feature(plan, plan.Transform(table), "m");

        Assert.Equal(expected, m[1], 5);
        Assert.Equal(10f, m[4]);
        Assert.StartsWith(strategy, plan.Choices["impute.m"]);
        Assert.DoesNotContain("impute.x", plan.Choices.Keys);
    }

    [Fact]
    public void Automated_imputes_logs_skewed_columns_and_scales_and_records_its_choices()
    {
        var table = Sample();
        var plan = Fit(table, ("automated", null));

        var features = plan.Transform(table);

        Assert.Equal("zscale", plan.Choices["automated.x"]);
        Assert.StartsWith("log1p", plan.Choices["automated.y"]);
        Assert.EndsWith("zscale", plan.Choices["automated.y"]);
        Assert.Equal("zscale", plan.Choices["automated.z"]);
        Assert.StartsWith("impute median 4", plan.Choices["automated.m"]);
        foreach (var name in new[] { "x", "y", "z", "m" })
        {
            var values = Feature(plan, features, name);
            Assert.All(values, v => Assert.False(float.IsNaN(v)));
            Assert.Equal(0, values.Average(), 5);
        }

        var y = Feature(plan, features, "y");
        var logged = new[] { 0, 1, 1, 2, 3, 100 }.Select(v => Math.Log(1 + v)).ToArray();
        var mean = logged.Average();
        var std = Math.Sqrt(logged.Sum(v => (v - mean) * (v - mean)) / logged.Length);
        Assert.Equal((float)((logged[5] - mean) / std), y[5], 5);
    }

    [Fact]
    public void Chain_composes_so_zscale_after_polynomial_scales_the_products()
    {
        var table = Sample();
        var plan = Fit(table, ("subset", new() { ["columns"] = new[] { "x", "y" } }), ("polynomial", null), ("zscale", null));

        var features = plan.Transform(table);

        Assert.Equal(["x", "y", "x^2", "x*y", "y^2"], plan.FeatureNames);
        var product = new[] { 0f, 2, 3, 8, 15, 600 };
        var mean = product.Average();
        var std = Math.Sqrt(product.Sum(v => (v - mean) * (v - mean)) / product.Length);
        Assert.Equal([.. product.Select(v => (float)((v - mean) / std))], Feature(plan, features, "x*y"), (a, b) => Math.Abs(a - b) < 1e-5);
        Assert.All(features, f => Assert.Equal(0, f.Average(), 4));
        Assert.Equal("(((x * y) - 104.667) / 221.574)", plan.Expressions[3].ToString());
    }

    [Fact]
    public void Repeated_steps_get_numbered_choice_keys()
    {
        var plan = Fit(Sample(), ("zscale", null), ("polynomial", null), ("zscale", null));

        Assert.Contains("zscale", plan.Choices.Keys);
        Assert.Contains("zscale2", plan.Choices.Keys);
        Assert.Contains("polynomial", plan.Choices.Keys);

        var products = Fit(Sample(), ("subset", new() { ["columns"] = "x, y" }), ("polynomial", null), ("automated", null));
        Assert.EndsWith("zscale", products.Choices["automated.x_y"]);
    }

    [Fact]
    public void Statistics_come_from_the_training_rows_only()
    {
        var table = Sample();
        var train = table.Select([0, 1, 2]);

        var plan = Fit(train, ("impute", new() { ["strategy"] = "mean" }), ("zscale", null));
        var all = plan.Transform(table);

        var x = Feature(plan, all, "x");
        var trainMean = 2.0;
        var trainStd = Math.Sqrt(2.0 / 3);
        Assert.Equal((float)((6 - trainMean) / trainStd), x[5], 5);
        Assert.Equal(0, x.Take(3).Average(), 5);
        Assert.NotEqual(0, x.Average(), 2);
        // m's training rows are 2, NaN, 4: filled with their mean 3, which z-scales to 0 (the mean of all rows would be 4.8).
        Assert.Equal(0f, Feature(plan, all, "m")[1], 5);
    }

    [Fact]
    public void Catalog_rejects_unknown_names_and_options_listing_the_allowed_ones()
    {
        var error = Assert.Throws<PipelineConfigException>(() => EnricherCatalog.Create("squared"));
        Assert.Contains("'squared'", error.Message);
        Assert.Contains("none, log, zscale, minmax, polynomial, subset, impute, automated", error.Message);

        error = Assert.Throws<PipelineConfigException>(() => EnricherCatalog.Create("polynomial", new Dictionary<string, object?> { ["power"] = 2 }));
        Assert.Contains("degree, interaction_only", error.Message);
        error = Assert.Throws<PipelineConfigException>(() => EnricherCatalog.Create("polynomial", new Dictionary<string, object?> { ["degree"] = 9 }));
        Assert.Contains("2 to 5", error.Message);
        error = Assert.Throws<PipelineConfigException>(() => EnricherCatalog.Create("polynomial", new Dictionary<string, object?> { ["degree"] = "two" }));
        Assert.Contains("must be a number", error.Message);
        error = Assert.Throws<PipelineConfigException>(() => EnricherCatalog.Create("impute", new Dictionary<string, object?> { ["strategy"] = "mode" }));
        Assert.Contains("mean, median, most_frequent", error.Message);
        error = Assert.Throws<PipelineConfigException>(() => EnricherCatalog.Create("zscale", new Dictionary<string, object?> { ["columns"] = "x" }));
        Assert.Contains("takes no options", error.Message);
        error = Assert.Throws<PipelineConfigException>(() => EnricherCatalog.Create("subset"));
        Assert.Contains("'columns'", error.Message);
        Assert.Equal(["none", "log", "zscale", "minmax", "polynomial", "subset", "impute", "automated"], EnricherCatalog.Entries.Select(e => e.Name));
        Assert.Equal("polynomial", EnricherCatalog.Create("polynomial", new Dictionary<string, object?> { ["degree"] = "3", ["interaction_only"] = "true" }).Name);
    }

    [Fact]
    public void Plans_that_leave_nothing_or_are_too_wide_are_rejected_and_deep_products_are_allowed()
    {
        var table = new DataTable([new TextColumn("t", [null, null])], "label", ["a", "b"]);
        Assert.Contains("no features", Assert.Throws<PipelineConfigException>(() => Fit(table, ("none", null))).Message);

        var wide = new DataTable([.. Enumerable.Range(0, 70).Select(i => new NumericColumn($"c{i}", [1, 2]))], "label", ["a", "b"]);
        Assert.Contains("subset", Assert.Throws<PipelineConfigException>(() => Fit(wide, ("polynomial", null))).Message);

        // Stacked polynomials may read many raw columns: the saved model computes them in one ONNX graph.
        var six = new DataTable([.. "abcdef".Select(c => new NumericColumn(c.ToString(), [1, 2]))], "label", ["a", "b"]);
        var plan = Fit(
            six,
            ("polynomial", new() { ["interaction_only"] = true }),
            ("subset", new() { ["columns"] = "a*b, c*d, e*f" }),
            ("polynomial", new() { ["degree"] = 3, ["interaction_only"] = true }));
        Assert.Contains("a*b*c*d*e*f", plan.FeatureNames);
    }
}
