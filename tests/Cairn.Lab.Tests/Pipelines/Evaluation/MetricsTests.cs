using Cairn.Lab.Pipelines.Evaluation;

namespace Cairn.Lab.Tests.Pipelines.Evaluation;

/// <summary>The metric arithmetic against small cases worked out by hand.</summary>
public sealed class MetricsTests
{
    private const int Precision = 6;

    // Binary: true [0,0,1,1], P(class 1) = [0.1, 0.4, 0.35, 0.8] (the textbook ROC example: AUC 0.75).
    private static EvaluationResult Binary() => Evaluator.FromPredictions(
        ["0", "1"], [0, 0, 1, 1], [0, 0, 0, 1],
        [[0.9f, 0.1f], [0.6f, 0.4f], [0.65f, 0.35f], [0.2f, 0.8f]]);

    // Three classes, supports a=3, b=2, c=2; predictions are the argmax of each row.
    private static EvaluationResult Multiclass() => Evaluator.FromPredictions(
        ["a", "b", "c"], [0, 0, 1, 1, 2, 2, 0], [0, 1, 1, 2, 2, 2, 0],
        [
            [0.7f, 0.2f, 0.1f], [0.3f, 0.4f, 0.3f], [0.2f, 0.6f, 0.2f], [0.1f, 0.3f, 0.6f],
            [0.1f, 0.1f, 0.8f], [0.2f, 0.2f, 0.6f], [0.8f, 0.1f, 0.1f],
        ]);

    [Fact]
    public void Binary_metrics_match_hand_computation()
    {
        var r = Binary();
        Assert.Equal(0.75, r.Accuracy, Precision);
        Assert.Equal([[2, 0], [1, 1]], r.ConfusionMatrix);
        // class 0: P 2/3, R 1, F1 0.8; class 1: P 1, R 1/2, F1 2/3
        Assert.Equal(2.0 / 3, r.PerClass[0].Precision, Precision);
        Assert.Equal(1.0, r.PerClass[0].Recall, Precision);
        Assert.Equal(0.8, r.PerClass[0].F1, Precision);
        Assert.Equal(1.0, r.PerClass[1].Precision, Precision);
        Assert.Equal(0.5, r.PerClass[1].Recall, Precision);
        Assert.Equal(2.0 / 3, r.PerClass[1].F1, Precision);
        Assert.Equal(5.0 / 6, r.PrecisionMacro, Precision);
        Assert.Equal(0.75, r.RecallMacro, Precision);
        Assert.Equal((0.8 + (2.0 / 3)) / 2, r.F1Macro, Precision);
        Assert.Equal(0.75, r.RocAuc, Precision);
        // -(ln .9 + ln .6 + ln .35 + ln .8) / 4
        Assert.Equal(-(Math.Log(0.9) + Math.Log(0.6) + Math.Log(0.35) + Math.Log(0.8)) / 4, r.LogLoss, 5);
        Assert.Equal(5.0 / 6, r.PrecisionRecallCurves[1].Area, Precision);
    }

    [Fact]
    public void Multiclass_metrics_match_hand_computation()
    {
        var r = Multiclass();
        Assert.Equal([[2, 1, 0], [0, 1, 1], [0, 0, 2]], r.ConfusionMatrix);
        Assert.Equal(5.0 / 7, r.Accuracy, Precision);
        // a: P 1, R 2/3, F1 .8; b: P .5, R .5, F1 .5; c: P 2/3, R 1, F1 .8
        Assert.Equal((1 + 0.5 + (2.0 / 3)) / 3, r.PrecisionMacro, Precision);
        Assert.Equal(((2.0 / 3) + 0.5 + 1) / 3, r.RecallMacro, Precision);
        Assert.Equal(0.7, r.F1Macro, Precision);
        Assert.Equal(((3 * 1.0) + (2 * 0.5) + (2 * 2.0 / 3)) / 7, r.PrecisionWeighted, Precision);
        Assert.Equal(5.0 / 7, r.RecallWeighted, Precision);
        Assert.Equal(((3 * 0.8) + (2 * 0.5) + (2 * 0.8)) / 7, r.F1Weighted, Precision);
        Assert.Equal([3, 2, 2], r.PerClass.Select(c => c.Support));
        // One-vs-rest AUCs: a 1 (every positive above every negative), b 9/10, c 9.5/10 (one tie).
        Assert.Equal(1.0, r.RocCurves[0].Area, Precision);
        Assert.Equal(0.9, r.RocCurves[1].Area, Precision);
        Assert.Equal(0.95, r.RocCurves[2].Area, Precision);
        Assert.Equal(0.95, r.RocAuc, Precision);
        var expectedLogLoss = -new[] { 0.7, 0.3, 0.6, 0.3, 0.8, 0.6, 0.8 }.Sum(Math.Log) / 7;
        Assert.Equal(expectedLogLoss, r.LogLoss, 5);
        // c: .8 (pos) → R .5 P 1; tie at .6 (pos + neg) → R 1 P 2/3 → AP = .5 + .5 * 2/3
        Assert.Equal(0.5 + (0.5 * 2 / 3.0), r.PrecisionRecallCurves[2].Area, Precision);
    }

    [Fact]
    public void Roc_curve_runs_from_origin_to_one_one_and_ties_are_one_diagonal_step()
    {
        var r = Evaluator.FromPredictions(["n", "p"], [0, 1], [0, 0], [[0.5f, 0.5f], [0.5f, 0.5f]]);
        Assert.Equal(0.5, r.RocAuc, Precision);
        Assert.Equal([0.0, 1.0], r.RocCurves[1].X);
        Assert.Equal([0.0, 1.0], r.RocCurves[1].Y);
    }

    [Fact]
    public void Log_loss_clips_zero_probabilities_and_a_class_never_predicted_has_precision_zero()
    {
        var r = Evaluator.FromPredictions(["x", "y"], [0, 1], [0, 0], [[1f, 0f], [1f, 0f]]);
        Assert.Equal(-Math.Log(1e-15) / 2, r.LogLoss, 3);
        Assert.Equal(0, r.PerClass[1].Precision);
        Assert.Equal(0, r.PerClass[1].F1);
        Assert.True(double.IsFinite(r.LogLoss));
    }

    [Fact]
    public void Auc_is_left_out_when_only_one_class_is_present()
    {
        var r = Evaluator.FromPredictions(["x", "y"], [1, 1], [1, 0], [[0.2f, 0.8f], [0.6f, 0.4f]]);
        Assert.True(double.IsNaN(r.RocAuc));
        Assert.DoesNotContain("roc_auc", r.ToMetrics().Keys);
        // Class x has no true rows but is predicted once: it counts in the macro average (as in scikit-learn).
        Assert.Equal(0.25, r.RecallMacro, Precision);
    }

    [Fact]
    public void ToMetrics_prefixes_keys_and_names_classes_safely()
    {
        var metrics = Multiclass().ToMetrics("test");
        Assert.Equal(5.0 / 7, metrics["test_accuracy"], Precision);
        Assert.Equal(0.7, metrics["test_f1_macro"], Precision);
        Assert.Equal(0.95, metrics["test_roc_auc"], Precision);
        Assert.True(metrics.ContainsKey("test_log_loss"));
        Assert.True(metrics.ContainsKey("test_f1_weighted"));
        Assert.Equal(0.8, metrics["test_f1_class_a"], Precision);
        Assert.Equal(0.9, metrics["test_roc_auc_class_b"], Precision);
        Assert.Equal(metrics.Keys.Order(), Multiclass().ToMetrics("test_").Keys.Order());
        Assert.Contains("accuracy", Multiclass().ToMetrics().Keys);
        Assert.DoesNotContain(Binary().ToMetrics().Keys, k => k.StartsWith("roc_auc_class", StringComparison.Ordinal));

        Assert.Equal(["Iris_setosa", "a/b", "x_y", "x_y_3", "4"], EvaluationResult.MetricKeyNames(["Iris setosa", "a/b", "x:y", "x?y", ""]));
        Assert.All(Multiclass().ToMetrics("val_").Keys, k => Assert.Matches("^[A-Za-z0-9_./ -]+$", k));
    }

    [Fact]
    public void FromPredictions_rejects_mismatched_inputs()
    {
        Assert.Throws<ArgumentException>(() => Evaluator.FromPredictions(["x", "y"], [0, 1], [0], [[1f, 0f], [1f, 0f]]));
        Assert.Throws<ArgumentException>(() => Evaluator.FromPredictions(["x", "y"], [0, 2], [0, 0], [[1f, 0f], [1f, 0f]]));
        Assert.Throws<ArgumentException>(() => Evaluator.FromPredictions(["x", "y"], [0, 1], [0, 0], [[1f, 0f], [1f]]));
    }
}
