using System.Text;

namespace Cairn.Lab.Pipelines.Evaluation;

/// <summary>Precision, recall and F1 of one class against the rest, and its number of true rows.</summary>
public sealed record ClassMetrics(string ClassName, double Precision, double Recall, double F1, int Support);

/// <summary>One curve: points in drawing order and the area that summarises it (AUC or average precision).</summary>
public sealed record Curve(string ClassName, double[] X, double[] Y, double Area);

/// <summary>
/// A classifier's scores on one data set: the summary metrics, the confusion matrix and, for curves,
/// each row's true class and probability vector. Class indexes refer to <see cref="ClassNames"/>.
/// </summary>
public sealed class EvaluationResult
{
    internal EvaluationResult(IReadOnlyList<string> classNames, int[] trueClasses, int[] predictedClasses, float[][] probabilities)
    {
        ClassNames = classNames;
        TrueClasses = trueClasses;
        PredictedClasses = predictedClasses;
        Probabilities = probabilities;
        var k = classNames.Count;
        var matrix = new int[k][];
        for (var i = 0; i < k; i++)
        {
            matrix[i] = new int[k];
        }

        for (var r = 0; r < trueClasses.Length; r++)
        {
            matrix[trueClasses[r]][predictedClasses[r]]++;
        }

        ConfusionMatrix = matrix;
        (PerClass, Accuracy, PrecisionMacro, RecallMacro, F1Macro, PrecisionWeighted, RecallWeighted, F1Weighted) = ClassificationMath.Summarise(classNames, matrix);
        LogLoss = ClassificationMath.LogLoss(trueClasses, probabilities);
        RocCurves = [.. Enumerable.Range(0, k).Select(c => ClassificationMath.Roc(classNames[c], Positives(c), Scores(c)))];
        PrecisionRecallCurves = [.. Enumerable.Range(0, k).Select(c => ClassificationMath.PrecisionRecall(classNames[c], Positives(c), Scores(c)))];
        // Binary: the AUC of the second class (the "positive" one, as scikit-learn takes the larger label).
        // Multiclass: the unweighted mean of one-vs-rest AUCs over classes that have both positive and negative rows.
        RocAuc = k == 2 ? RocCurves[1].Area : Mean(RocCurves.Select(c => c.Area).Where(double.IsFinite));
    }

    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>Each row's true class.</summary>
    public int[] TrueClasses { get; }

    /// <summary>Each row's predicted class (the model's PredictedLabel).</summary>
    public int[] PredictedClasses { get; }

    /// <summary>Each row's class probabilities, in <see cref="ClassNames"/> order.</summary>
    public float[][] Probabilities { get; }

    /// <summary>[true class][predicted class] → rows.</summary>
    public int[][] ConfusionMatrix { get; }

    public int RowCount => TrueClasses.Length;

    public double Accuracy { get; }

    public double PrecisionMacro { get; }

    public double RecallMacro { get; }

    public double F1Macro { get; }

    public double PrecisionWeighted { get; }

    public double RecallWeighted { get; }

    public double F1Weighted { get; }

    /// <summary>Binary: AUC of the second class; multiclass: one-vs-rest macro AUC. NaN when undefined (one class only).</summary>
    public double RocAuc { get; }

    /// <summary>Mean negative log-probability of the true class, probabilities clipped to [1e-15, 1 - 1e-15].</summary>
    public double LogLoss { get; }

    public IReadOnlyList<ClassMetrics> PerClass { get; }

    /// <summary>One-vs-rest ROC curve per class: X = false-positive rate, Y = true-positive rate, Area = AUC.</summary>
    public IReadOnlyList<Curve> RocCurves { get; }

    /// <summary>One-vs-rest precision-recall curve per class: X = recall, Y = precision, Area = average precision.</summary>
    public IReadOnlyList<Curve> PrecisionRecallCurves { get; }

    /// <summary>
    /// The metrics as MLflow metric keys, each prefixed (<c>test</c> or <c>test_</c> → <c>test_accuracy</c>):
    /// accuracy, precision/recall/f1 macro and weighted, roc_auc, log_loss, and per class
    /// <c>precision_class_X</c>, <c>recall_class_X</c>, <c>f1_class_X</c> (and <c>roc_auc_class_X</c> for
    /// more than two classes) with X the class name reduced to the characters MLflow allows in a key.
    /// Undefined values (an AUC without both kinds of rows) are left out.
    /// </summary>
    public IReadOnlyDictionary<string, double> ToMetrics(string prefix = "")
    {
        prefix ??= "";
        if (prefix.Length > 0 && !prefix.EndsWith('_'))
        {
            prefix += "_";
        }

        var metrics = new Dictionary<string, double>(StringComparer.Ordinal)
        {
            [prefix + "accuracy"] = Accuracy,
            [prefix + "precision_macro"] = PrecisionMacro,
            [prefix + "recall_macro"] = RecallMacro,
            [prefix + "f1_macro"] = F1Macro,
            [prefix + "precision_weighted"] = PrecisionWeighted,
            [prefix + "recall_weighted"] = RecallWeighted,
            [prefix + "f1_weighted"] = F1Weighted,
            [prefix + "roc_auc"] = RocAuc,
            [prefix + "log_loss"] = LogLoss,
        };
        var keys = MetricKeyNames(ClassNames);
        for (var c = 0; c < ClassNames.Count; c++)
        {
            metrics[$"{prefix}precision_class_{keys[c]}"] = PerClass[c].Precision;
            metrics[$"{prefix}recall_class_{keys[c]}"] = PerClass[c].Recall;
            metrics[$"{prefix}f1_class_{keys[c]}"] = PerClass[c].F1;
            if (ClassNames.Count > 2)
            {
                metrics[$"{prefix}roc_auc_class_{keys[c]}"] = RocCurves[c].Area;
            }
        }

        foreach (var key in metrics.Where(m => !double.IsFinite(m.Value)).Select(m => m.Key).ToList())
        {
            metrics.Remove(key);
        }

        return metrics;
    }

    /// <summary>
    /// Class names as parts of metric keys: MLflow allows letters, digits, <c>_ - . /</c> and spaces;
    /// everything else (and spaces, awkward in keys) becomes <c>_</c>. Names that collide get their index appended.
    /// </summary>
    public static IReadOnlyList<string> MetricKeyNames(IReadOnlyList<string> classNames)
    {
        ArgumentNullException.ThrowIfNull(classNames);
        var result = new string[classNames.Count];
        var used = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < classNames.Count; i++)
        {
            var builder = new StringBuilder();
            foreach (var ch in classNames[i])
            {
                builder.Append(char.IsAsciiLetterOrDigit(ch) || ch is '_' or '-' or '.' or '/' ? ch : '_');
            }

            var name = builder.Length == 0 ? $"{i}" : builder.ToString();
            result[i] = used.Add(name) ? name : $"{name}_{i}";
            used.Add(result[i]);
        }

        return result;
    }

    private bool[] Positives(int c) => [.. TrueClasses.Select(t => t == c)];

    private double[] Scores(int c) => [.. Probabilities.Select(p => (double)p[c])];

    private static double Mean(IEnumerable<double> values)
    {
        var list = values.ToList();
        return list.Count == 0 ? double.NaN : list.Average();
    }
}
