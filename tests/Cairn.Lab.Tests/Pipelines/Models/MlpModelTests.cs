using System.Diagnostics;
using Cairn.Lab.Pipelines;
using Cairn.Lab.Pipelines.Models;
using Cairn.Models;
using Microsoft.ML;
using Xunit.Abstractions;

namespace Cairn.Lab.Tests.Pipelines.Models;

public sealed class MlpModelTests(ITestOutputHelper output)
{
    private static readonly Dictionary<string, object?> NoHyperparameters = [];

    [Theory]
    [InlineData("iris", 0.9)]
    [InlineData("wine", 0.9)]
    [InlineData("breast_cancer", 0.93)]
    public void Mlp_is_about_as_accurate_as_logistic_regression(string dataset, double floor)
    {
        // Over three seeds: with 100-400 training rows one network can land a few rows off either way.
        var (train, test) = TestData.ScaledSplit(dataset);
        var accuracies = new List<double>();
        var watch = Stopwatch.StartNew();
        foreach (var seed in new[] { 1, 2, 3 })
        {
            var mlp = TestData.Fit(ModelCatalog.Create("mlp"), train, seed: seed);
            var (labels, scores) = TestData.Predict(mlp, new ColumnarDataView(test));
            accuracies.Add(TestData.Accuracy(labels, test.Labels));
            for (var i = 0; i < scores.Length; i++)
            {
                Assert.Equal(train.ClassNames.Count, scores[i].Length);
                Assert.InRange(scores[i].Sum(), 0.999, 1.001);
                Assert.Equal(train.ClassNames[Array.IndexOf(scores[i], scores[i].Max())], labels[i]);
            }
        }

        var mlpSeconds = watch.Elapsed.TotalSeconds / 3;
        watch.Restart();
        var lr = TestData.Fit(ModelCatalog.Create("logistic_regression"), train);
        var lrSeconds = watch.Elapsed.TotalSeconds;
        var lrAccuracy = TestData.Accuracy(TestData.Predict(lr, new ColumnarDataView(test)).Labels, test.Labels);
        var mean = accuracies.Average();
        output.WriteLine($"{dataset}: mlp accuracy {mean:F4} [{string.Join(" ", accuracies.Select(a => a.ToString("F3")))}] ({mlpSeconds:F2} s per fit), logistic_regression {lrAccuracy:F4} ({lrSeconds:F2} s)");

        Assert.True(mean >= floor, $"mlp mean accuracy {mean:F3} < {floor}");
        Assert.True(mean >= lrAccuracy - 0.04, $"mlp {mean:F3} vs logistic regression {lrAccuracy:F3}");
    }

    [Fact]
    public void Scores_are_the_networks_own_probabilities()
    {
        var (train, test) = TestData.ScaledSplit("iris");
        var ml = new MLContext(5);
        var estimator = (MlpEstimator)ModelCatalog.Create("mlp").CreateTrainer(ml, new TrainerContext(train.LabelName, train.ClassNames, 5), NoHyperparameters);
        var model = ml.Transforms.Concatenate("Features", [.. train.Features.Select(f => f.Name)]).Append(estimator).Fit(new ColumnarDataView(train));
        var (_, scores) = TestData.Predict(model, new ColumnarDataView(test));

        var rows = Enumerable.Range(0, test.RowCount).Select(r => test.Features.Select(f => ((NumericColumn)f).Values[r]).ToArray()).ToArray();
        var expected = estimator.LastNetwork!.Predict(rows);
        for (var r = 0; r < rows.Length; r++)
        {
            for (var c = 0; c < expected[r].Length; c++)
            {
                Assert.True(Math.Abs(expected[r][c] - scores[r][c]) < 1e-4, $"row {r} class {c}: network {expected[r][c]}, model {scores[r][c]}");
            }
        }
    }

    [Fact]
    public void Mlp_round_trips_through_MLNet_save_and_the_mlnet_flavor()
    {
        var (train, test) = TestData.ScaledSplit("breast_cancer");
        var model = TestData.Fit(ModelCatalog.Create("mlp"), train, new Dictionary<string, object?> { ["hidden_layers"] = "16", ["epochs"] = 30 });
        TestData.AssertRoundTrips(model, train, test, (predictor, expected) =>
        {
            // As served: rows of raw feature values, without the label, one at a time and in a batch.
            var rows = Enumerable.Range(0, test.RowCount)
                .Select(r => (IReadOnlyDictionary<string, object?>)test.Features.ToDictionary(f => f.Name, f => (object?)((NumericColumn)f).Values[r]))
                .ToList();
            var single = predictor.Predict([rows[0]])[0];
            Assert.Equal(expected.Labels[0], single.Label);
            Assert.Equal(expected.Scores[0], single.Scores!);
            Assert.Equal(expected.Labels, predictor.Predict(rows).Select(p => (string)p.Label!));
        });
    }

    [Fact]
    public void Same_seed_gives_the_same_network_and_another_seed_a_different_one()
    {
        var (train, test) = TestData.ScaledSplit("wine");
        var hp = new Dictionary<string, object?> { ["epochs"] = 20 };
        var first = TestData.Predict(TestData.Fit(ModelCatalog.Create("mlp"), train, hp, seed: 11), new ColumnarDataView(test)).Scores;
        var second = TestData.Predict(TestData.Fit(ModelCatalog.Create("mlp"), train, hp, seed: 11), new ColumnarDataView(test)).Scores;
        var other = TestData.Predict(TestData.Fit(ModelCatalog.Create("mlp"), train, hp, seed: 12), new ColumnarDataView(test)).Scores;
        Assert.Equal(first, second);
        Assert.NotEqual(first, other);
    }

    [Fact]
    public void Each_epoch_reports_its_validation_loss_and_a_false_answer_stops_training()
    {
        var (train, _) = TestData.ScaledSplit("iris");
        var reported = new List<(int Epoch, double Loss)>();
        var ml = new MLContext(1);
        var estimator = (MlpEstimator)ModelCatalog.Create("mlp").CreateTrainer(ml,
            new TrainerContext(train.LabelName, train.ClassNames, 1, OnIteration: (epoch, loss) =>
            {
                reported.Add((epoch, loss));
                return epoch < 4;
            }),
            new Dictionary<string, object?> { ["patience"] = 0 });
        ml.Transforms.Concatenate("Features", [.. train.Features.Select(f => f.Name)]).Append(estimator).Fit(new ColumnarDataView(train));

        Assert.Equal([1, 2, 3, 4], reported.Select(r => r.Epoch));
        Assert.All(reported, r => Assert.True(double.IsFinite(r.Loss) && r.Loss > 0));
        Assert.Equal(4, estimator.LastNetwork!.Epochs);
    }

    [Fact]
    public void Early_stopping_ends_training_when_the_validation_loss_stops_improving()
    {
        var (train, _) = TestData.ScaledSplit("breast_cancer");
        var ml = new MLContext(1);
        var estimator = (MlpEstimator)ModelCatalog.Create("mlp").CreateTrainer(ml, new TrainerContext(train.LabelName, train.ClassNames, 1),
            new Dictionary<string, object?> { ["epochs"] = 2000, ["patience"] = 5, ["learning_rate"] = 0.01 });
        ml.Transforms.Concatenate("Features", [.. train.Features.Select(f => f.Name)]).Append(estimator).Fit(new ColumnarDataView(train));
        var network = estimator.LastNetwork!;
        output.WriteLine($"stopped after {network.Epochs} epochs; best validation loss {network.Losses.Min():F4}");
        Assert.True(network.Epochs < 2000);
        // The last `patience` epochs did not beat the best one before them.
        Assert.True(network.Losses.TakeLast(5).Min() >= network.Losses.SkipLast(5).Min() - 1e-6);
    }

    [Theory]
    [InlineData("tanh", "sgd", "32")]
    [InlineData("relu", "adam", "")]
    [InlineData("relu", "sgd", "16,16,8")]
    public void Activations_optimizers_and_depths_all_learn_iris(string activation, string optimizer, string layers)
    {
        var (train, test) = TestData.ScaledSplit("iris");
        var model = TestData.Fit(ModelCatalog.Create("mlp"), train, new Dictionary<string, object?>
        {
            ["activation"] = activation,
            ["optimizer"] = optimizer,
            ["hidden_layers"] = layers,
            ["learning_rate"] = optimizer == "sgd" ? 0.02 : 0.01,
            ["epochs"] = 150,
        });
        var accuracy = TestData.Accuracy(TestData.Predict(model, new ColumnarDataView(test)).Labels, test.Labels);
        output.WriteLine($"{activation}/{optimizer}/[{layers}]: {accuracy:F4}");
        Assert.True(accuracy >= 0.85, $"accuracy {accuracy}");
    }

    [Theory]
    [InlineData("hidden_layers", "64,x", "layer sizes")]
    [InlineData("hidden_layers", "0", "layer sizes")]
    [InlineData("activation", "sigmoid", "relu, tanh")]
    [InlineData("optimizer", "rmsprop", "adam, sgd")]
    [InlineData("batch_size", 0, "at least 1")]
    [InlineData("validation_fraction", 0.9, "at most 0.5")]
    public void Invalid_mlp_hyperparameters_are_config_errors(string name, object value, string expected)
    {
        var e = Assert.Throws<PipelineConfigException>(() => ModelCatalog.Create("mlp")
            .CreateTrainer(new MLContext(1), new TrainerContext("y", ["a", "b"], 1), new Dictionary<string, object?> { [name] = value }));
        Assert.Contains($"'{name}'", e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Default_search_space_trains_at_its_bounds()
    {
        var (train, test) = TestData.ScaledSplit("iris");
        var model = ModelCatalog.Create("mlp");
        foreach (var low in new[] { true, false })
        {
            var values = model.DefaultSearchSpace.ToDictionary(kv => kv.Key, kv => kv.Value switch
            {
                Cairn.Tuning.FloatDistribution f => (object?)(low ? f.Low : f.High),
                Cairn.Tuning.CategoricalDistribution c => low ? c.Choices[0] : c.Choices[^1],
                _ => throw new InvalidOperationException(),
            });
            values["epochs"] = 20;
            var (labels, _) = TestData.Predict(TestData.Fit(model, train, values), new ColumnarDataView(test));
            Assert.All(labels, l => Assert.Contains(l, train.ClassNames));
        }
    }
}
