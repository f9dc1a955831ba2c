using Cairn.Lab.Pipelines;
using Cairn.Lab.Pipelines.Evaluation;
using Cairn.Lab.Pipelines.Models;
using Cairn.Lab.Tests.Pipelines.Models;

namespace Cairn.Lab.Tests.Pipelines.Evaluation;

public sealed class EvaluatorTests
{
    [Fact]
    public void Evaluate_reads_the_models_predictions_and_probabilities()
    {
        var (train, test) = TestData.ScaledSplit("iris");
        var model = TestData.Fit(ModelCatalog.Create("logistic_regression"), train);
        var (labels, scores) = TestData.Predict(model, new ColumnarDataView(test));

        var result = Evaluator.Evaluate(model, new ColumnarDataView(test), test.LabelName, train.ClassNames);

        Assert.Equal(test.RowCount, result.RowCount);
        Assert.Equal(TestData.Accuracy(labels, test.Labels), result.Accuracy, 10);
        Assert.Equal(test.ClassIndexes(), result.TrueClasses);
        Assert.Equal(scores, result.Probabilities);
        Assert.Equal(test.RowCount, result.ConfusionMatrix.Sum(r => r.Sum()));
        Assert.InRange(result.RocAuc, 0.95, 1.0);
        Assert.InRange(result.LogLoss, 0, 0.5);
    }

    [Fact]
    public void Evaluate_names_a_label_the_model_does_not_know()
    {
        var (train, test) = TestData.ScaledSplit("iris");
        var model = TestData.Fit(ModelCatalog.Create("logistic_regression"), train);
        var e = Assert.Throws<ArgumentException>(() => Evaluator.Evaluate(model, new ColumnarDataView(test), test.LabelName, ["setosa", "versicolor", "other"]));
        Assert.Contains("virginica", e.Message);
        Assert.Throws<ArgumentException>(() => Evaluator.Evaluate(model, new ColumnarDataView(test), "no_such_column", train.ClassNames));
    }

    [Fact]
    public void Permutation_importance_ranks_the_petal_measurements_of_iris_first()
    {
        var (train, test) = TestData.ScaledSplit("iris");
        var model = TestData.Fit(ModelCatalog.Create("random_forest"), train);
        var importance = PermutationImportance.Compute(model, test, "accuracy", seed: 3);

        Assert.Equal(test.Features.Select(f => f.Name).Order(), importance.Select(i => i.Feature).Order());
        Assert.StartsWith("petal", importance[0].Feature, StringComparison.Ordinal);
        Assert.True(importance[0].Mean > 0.1, $"top drop {importance[0].Mean}");
        Assert.All(importance, i => Assert.Equal(3, i.Drops.Length));
        // Same seed, same shuffles.
        var again = PermutationImportance.Compute(model, test, "accuracy", seed: 3);
        Assert.Equal(importance.Select(i => i.Mean), again.Select(i => i.Mean));
    }

    [Fact]
    public void Permutation_importance_counts_a_rise_in_log_loss_as_a_drop_and_rejects_unknown_metrics()
    {
        var (train, test) = TestData.ScaledSplit("breast_cancer");
        var model = TestData.Fit(ModelCatalog.Create("logistic_regression"), train);
        var importance = PermutationImportance.Compute(model, test, "log_loss", seed: 1, repeats: 2);
        Assert.True(importance[0].Mean > 0);
        Assert.Equal(30, importance.Count);

        var e = Assert.Throws<PipelineConfigException>(() => PermutationImportance.Compute(model, test, "auc", seed: 1));
        Assert.Contains("roc_auc", e.Message);
    }
}
