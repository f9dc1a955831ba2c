namespace Cairn.Lab.Pipelines.Evaluation;

/// <summary>
/// The metric arithmetic, written out so it can be checked by hand: conventions follow scikit-learn
/// (a class never predicted has precision 0; macro averages run over the classes that occur in the
/// true or the predicted labels; ROC ties are one step; average precision is the step-wise sum).
/// </summary>
internal static class ClassificationMath
{
    public const double LogLossEpsilon = 1e-15;

    public static (IReadOnlyList<ClassMetrics> PerClass, double Accuracy, double PrecisionMacro, double RecallMacro, double F1Macro,
        double PrecisionWeighted, double RecallWeighted, double F1Weighted) Summarise(IReadOnlyList<string> classNames, int[][] matrix)
    {
        var k = classNames.Count;
        var total = 0;
        var correct = 0;
        var perClass = new ClassMetrics[k];
        var present = new bool[k];
        for (var c = 0; c < k; c++)
        {
            var truePositive = matrix[c][c];
            var support = matrix[c].Sum();
            var predicted = Enumerable.Range(0, k).Sum(t => matrix[t][c]);
            var precision = predicted == 0 ? 0 : truePositive / (double)predicted;
            var recall = support == 0 ? 0 : truePositive / (double)support;
            var f1 = precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall);
            perClass[c] = new ClassMetrics(classNames[c], precision, recall, f1, support);
            present[c] = support > 0 || predicted > 0;
            total += support;
            correct += truePositive;
        }

        var macro = perClass.Where((_, c) => present[c]).ToList();
        double Macro(Func<ClassMetrics, double> f) => macro.Count == 0 ? double.NaN : macro.Average(f);
        double Weighted(Func<ClassMetrics, double> f) => total == 0 ? double.NaN : perClass.Sum(m => f(m) * m.Support) / total;
        return (perClass, total == 0 ? double.NaN : correct / (double)total,
            Macro(m => m.Precision), Macro(m => m.Recall), Macro(m => m.F1),
            Weighted(m => m.Precision), Weighted(m => m.Recall), Weighted(m => m.F1));
    }

    /// <summary>Mean of −ln p(true class), each probability vector renormalised to sum 1 and clipped away from 0 and 1.</summary>
    public static double LogLoss(int[] trueClasses, float[][] probabilities)
    {
        if (trueClasses.Length == 0)
        {
            return double.NaN;
        }

        var sum = 0.0;
        for (var r = 0; r < trueClasses.Length; r++)
        {
            var row = probabilities[r];
            var total = 0.0;
            foreach (var p in row)
            {
                total += Math.Max(p, 0);
            }

            var pTrue = total > 0 ? Math.Max(row[trueClasses[r]], 0) / total : 0;
            sum -= Math.Log(Math.Clamp(pTrue, LogLossEpsilon, 1 - LogLossEpsilon));
        }

        return sum / trueClasses.Length;
    }

    /// <summary>
    /// The ROC curve of scores against positives, from (0,0) to (1,1) with one point per distinct
    /// score (tied rows move together, a diagonal step), and its trapezoidal area. NaN area without
    /// both positive and negative rows.
    /// </summary>
    public static Curve Roc(string className, bool[] positive, double[] scores)
    {
        var order = Descending(scores);
        var positives = positive.Count(p => p);
        var negatives = positive.Length - positives;
        var fpr = new List<double> { 0 };
        var tpr = new List<double> { 0 };
        var tp = 0;
        var fp = 0;
        for (var i = 0; i < order.Length; i++)
        {
            if (positive[order[i]])
            {
                tp++;
            }
            else
            {
                fp++;
            }

            if (i == order.Length - 1 || scores[order[i + 1]] != scores[order[i]])
            {
                fpr.Add(negatives == 0 ? double.NaN : fp / (double)negatives);
                tpr.Add(positives == 0 ? double.NaN : tp / (double)positives);
            }
        }

        var area = 0.0;
        for (var i = 1; i < fpr.Count; i++)
        {
            area += (fpr[i] - fpr[i - 1]) * (tpr[i] + tpr[i - 1]) / 2;
        }

        return new Curve(className, [.. fpr], [.. tpr], positives == 0 || negatives == 0 ? double.NaN : area);
    }

    /// <summary>
    /// The precision-recall curve, one point per distinct score from the highest, starting at
    /// (recall 0, precision 1), and the average precision Σ (Rₙ − Rₙ₋₁)·Pₙ. NaN without positives.
    /// </summary>
    public static Curve PrecisionRecall(string className, bool[] positive, double[] scores)
    {
        var order = Descending(scores);
        var positives = positive.Count(p => p);
        var recall = new List<double> { 0 };
        var precision = new List<double> { 1 };
        var tp = 0;
        var averagePrecision = 0.0;
        for (var i = 0; i < order.Length; i++)
        {
            if (positive[order[i]])
            {
                tp++;
            }

            if (i == order.Length - 1 || scores[order[i + 1]] != scores[order[i]])
            {
                var r = positives == 0 ? double.NaN : tp / (double)positives;
                var p = tp / (double)(i + 1);
                averagePrecision += (r - recall[^1]) * p;
                recall.Add(r);
                precision.Add(p);
            }
        }

        return new Curve(className, [.. recall], [.. precision], positives == 0 ? double.NaN : averagePrecision);
    }

    private static int[] Descending(double[] scores)
    {
        var order = Enumerable.Range(0, scores.Length).ToArray();
        // Stable, so ties keep row order (it does not matter for the curve: ties are one point).
        return [.. order.OrderByDescending(i => scores[i])];
    }
}
