using System.Diagnostics;
using Cairn.Lab.Pipelines;
using Cairn.Lab.Pipelines.Models;
using Cairn.Models;
using Microsoft.ML;
using Xunit.Abstractions;

namespace Cairn.Lab.Tests.Pipelines.Models;

public sealed class MLNetModelTests(ITestOutputHelper output)
{
    public static TheoryData<string, string, double> ModelsAndFloors => new()
    {
        { "logistic_regression", "iris", 0.9 },
        { "logistic_regression", "breast_cancer", 0.93 },
        { "random_forest", "iris", 0.9 },
        { "random_forest", "breast_cancer", 0.92 },
        { "lightgbm", "iris", 0.88 },
        { "lightgbm", "breast_cancer", 0.92 },
        { "fasttree", "iris", 0.88 },
        { "fasttree", "breast_cancer", 0.92 },
    };

    [Theory]
    [MemberData(nameof(ModelsAndFloors))]
    public void Model_predicts_held_out_rows_with_text_labels_and_class_probabilities(string name, string dataset, double floor)
    {
        var (train, test) = TestData.ScaledSplit(dataset);
        var watch = Stopwatch.StartNew();
        var model = TestData.Fit(ModelCatalog.Create(name), train);
        var fitSeconds = watch.Elapsed.TotalSeconds;
        var (labels, scores) = TestData.Predict(model, new ColumnarDataView(test));

        var accuracy = TestData.Accuracy(labels, test.Labels);
        output.WriteLine($"{name} on {dataset}: accuracy {accuracy:F4}, fit {fitSeconds:F2} s");
        Assert.True(accuracy >= floor, $"{name} on {dataset}: accuracy {accuracy:F3} < {floor}");
        Assert.All(labels, l => Assert.Contains(l, train.ClassNames));
        for (var i = 0; i < scores.Length; i++)
        {
            Assert.Equal(train.ClassNames.Count, scores[i].Length);
            Assert.InRange(scores[i].Sum(), 0.999, 1.001);
            Assert.All(scores[i], p => Assert.InRange(p, 0f, 1f));
            // The label is the most probable class: Score is in ClassNames order.
            Assert.Equal(train.ClassNames[Array.IndexOf(scores[i], scores[i].Max())], labels[i]);
        }
    }

    [Theory]
    [InlineData("logistic_regression")]
    [InlineData("random_forest")]
    [InlineData("lightgbm")]
    [InlineData("fasttree")]
    public void Model_round_trips_through_MLNet_save_and_the_mlnet_flavor(string name)
    {
        var (train, test) = TestData.ScaledSplit("iris");
        TestData.AssertRoundTrips(TestData.Fit(ModelCatalog.Create(name), train), train, test);
    }

    [Theory]
    [InlineData("logistic_regression")]
    [InlineData("random_forest")]
    [InlineData("lightgbm")]
    [InlineData("fasttree")]
    public void Same_seed_gives_the_same_model(string name)
    {
        var (train, test) = TestData.ScaledSplit("breast_cancer");
        var first = TestData.Predict(TestData.Fit(ModelCatalog.Create(name), train, seed: 7), new ColumnarDataView(test));
        var second = TestData.Predict(TestData.Fit(ModelCatalog.Create(name), train, seed: 7), new ColumnarDataView(test));
        Assert.Equal(first.Scores, second.Scores);
    }

    [Theory]
    [InlineData("logistic_regression")]
    [InlineData("random_forest")]
    [InlineData("lightgbm")]
    [InlineData("fasttree")]
    [InlineData("mlp")]
    public void Unknown_hyperparameter_is_named_with_the_allowed_ones(string name)
    {
        var model = ModelCatalog.Create(name);
        var e = Assert.Throws<PipelineConfigException>(() =>
            model.CreateTrainer(new MLContext(1), new TrainerContext("species", ["a", "b"], 1), new Dictionary<string, object?> { ["n_estimatorz"] = 3 }));
        Assert.Contains("'n_estimatorz'", e.Message);
        var entry = ModelCatalog.Entries.Single(x => x.Name == name);
        Assert.All(entry.Options, o => Assert.Contains(o.Name, e.Message));
    }

    [Theory]
    [InlineData("logistic_regression", "l2", -1.0, "at least 0")]
    [InlineData("logistic_regression", "max_iterations", 2.5, "whole number")]
    [InlineData("random_forest", "n_trees", 0, "at least 1")]
    [InlineData("random_forest", "feature_fraction", 1.5, "at most 1")]
    [InlineData("lightgbm", "learning_rate", 0.0, "greater than 0")]
    [InlineData("lightgbm", "num_leaves", "many", "a number")]
    [InlineData("fasttree", "min_samples_leaf", 0, "at least 1")]
    public void Invalid_hyperparameter_value_is_a_config_error(string name, string parameter, object value, string expected)
    {
        var model = ModelCatalog.Create(name);
        var e = Assert.Throws<PipelineConfigException>(() =>
            model.CreateTrainer(new MLContext(1), new TrainerContext("species", ["a", "b"], 1), new Dictionary<string, object?> { [parameter] = value }));
        Assert.Contains($"'{parameter}'", e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Hyperparameters_given_as_text_are_accepted()
    {
        var (train, test) = TestData.ScaledSplit("iris");
        var model = TestData.Fit(ModelCatalog.Create("lightgbm"), train, new Dictionary<string, object?>
        {
            ["num_iterations"] = "30",
            ["learning_rate"] = "0.2",
            ["num_leaves"] = 8L,
            ["min_data_in_leaf"] = 5,
            ["lambda_l2"] = 0.5f,
        });
        var (labels, _) = TestData.Predict(model, new ColumnarDataView(test));
        Assert.True(TestData.Accuracy(labels, test.Labels) > 0.85);
    }

    [Fact]
    public void Unknown_model_lists_the_allowed_models()
    {
        var e = Assert.Throws<PipelineConfigException>(() => ModelCatalog.Create("xgboost"));
        Assert.Contains("'xgboost'", e.Message);
        foreach (var name in new[] { "logistic_regression", "random_forest", "lightgbm", "fasttree", "mlp" })
        {
            Assert.Contains(name, e.Message);
            Assert.Equal(name, ModelCatalog.Create(name).Name);
        }
    }

    [Fact]
    public void Every_default_search_space_names_only_known_hyperparameters_and_trains_at_its_bounds()
    {
        var (train, test) = TestData.ScaledSplit("iris");
        foreach (var entry in ModelCatalog.Entries)
        {
            var model = ModelCatalog.Create(entry.Name);
            Assert.NotEmpty(model.DefaultSearchSpace);
            Assert.All(model.DefaultSearchSpace.Keys, k => Assert.Contains(k, entry.Options.Select(o => o.Name)));
            if (entry.Name == "mlp")
            {
                continue; // trained at its bounds in MlpModelTests (it is slower)
            }

            foreach (var low in new[] { true, false })
            {
                var values = model.DefaultSearchSpace.ToDictionary(kv => kv.Key, kv => kv.Value switch
                {
                    Cairn.Tuning.FloatDistribution f => (object?)(low ? f.Low : f.High),
                    Cairn.Tuning.IntDistribution i => low ? i.Low : i.High,
                    Cairn.Tuning.CategoricalDistribution c => low ? c.Choices[0] : c.Choices[^1],
                    _ => throw new InvalidOperationException(),
                });
                var (labels, _) = TestData.Predict(TestData.Fit(model, train, values), new ColumnarDataView(test));
                Assert.All(labels, l => Assert.Contains(l, train.ClassNames));
            }
        }
    }

    [Fact]
    public void A_single_class_is_a_config_error()
    {
        var e = Assert.Throws<PipelineConfigException>(() =>
            ModelCatalog.Create("logistic_regression").CreateTrainer(new MLContext(1), new TrainerContext("y", ["only"], 1), new Dictionary<string, object?>()));
        Assert.Contains("two classes", e.Message);
    }
}
