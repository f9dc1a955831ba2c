using System.Globalization;
using Cairn.Client;
using ScottPlot;

namespace Cairn.Lab.Pipelines.Evaluation;

/// <summary>
/// The evaluation pictures logged with a run: confusion matrix, ROC and precision-recall curves,
/// permutation importance. Each is a ScottPlot <see cref="Plot"/> (log it with
/// <see cref="ActiveRun.LogFigureAsync"/>) or written as PNG by <see cref="WriteAll"/>.
/// </summary>
public static class EvaluationPlots
{
    public const string ConfusionMatrixFile = "confusion_matrix.png";
    public const string RocCurveFile = "roc_curve.png";
    public const string PrecisionRecallFile = "precision_recall_curve.png";
    public const string FeatureImportanceFile = "feature_importance.png";

    private static readonly Color BarColor = Color.FromHex("#1f77b4");

    /// <summary>Counts per (true, predicted) class on a colour scale, each cell labelled with its count.</summary>
    public static Plot ConfusionMatrix(EvaluationResult result, string title = "Confusion matrix")
    {
        ArgumentNullException.ThrowIfNull(result);
        var k = result.ClassNames.Count;
        var plot = NewPlot();
        plot.Title(title);
        var counts = new double[k, k];
        var max = 1;
        for (var t = 0; t < k; t++)
        {
            for (var p = 0; p < k; p++)
            {
                counts[t, p] = result.ConfusionMatrix[t][p];
                max = Math.Max(max, result.ConfusionMatrix[t][p]);
            }
        }

        // Row 0 of the array is drawn at the top, so true class t sits at y = k - 1 - t.
        var heatmap = plot.Add.Heatmap(counts);
        heatmap.Colormap = new ScottPlot.Colormaps.Viridis();
        heatmap.ManualRange = new ScottPlot.Range(0, max);
        heatmap.Position = new CoordinateRect(-0.5, k - 0.5, -0.5, k - 0.5);
        plot.Add.ColorBar(heatmap);
        var fontSize = k <= 4 ? 22 : k <= 8 ? 16 : 11;
        for (var t = 0; t < k; t++)
        {
            for (var p = 0; p < k; p++)
            {
                var count = result.ConfusionMatrix[t][p];
                var text = plot.Add.Text(count.ToString(CultureInfo.InvariantCulture), p, k - 1 - t);
                text.LabelFontSize = fontSize;
                text.LabelBold = true;
                text.LabelAlignment = Alignment.MiddleCenter;
                // Viridis is dark at the low end and yellow at the top: white text below the middle, black above.
                text.LabelFontColor = count > max * 0.55 ? Colors.Black : Colors.White;
            }
        }

        var positions = Enumerable.Range(0, k).Select(i => (double)i).ToArray();
        plot.Axes.Bottom.SetTicks(positions, [.. result.ClassNames]);
        plot.Axes.Left.SetTicks([.. positions.Select(p => k - 1 - p)], [.. result.ClassNames]);
        plot.XLabel("Predicted class");
        plot.YLabel("True class");
        plot.Axes.SetLimits(-0.5, k - 0.5, -0.5, k - 0.5);
        plot.Grid.IsVisible = false;
        return plot;
    }

    /// <summary>
    /// One-vs-rest ROC curves with their AUC in the legend: one per class, or for two classes the
    /// curve of the second (positive) class only, as the other is its mirror image.
    /// </summary>
    public static Plot RocCurves(EvaluationResult result, string title = "ROC curve")
    {
        ArgumentNullException.ThrowIfNull(result);
        var plot = NewPlot();
        plot.Title(title);
        plot.XLabel("False positive rate");
        plot.YLabel("True positive rate");
        var chance = plot.Add.Line(0, 0, 1, 1);
        chance.LineColor = Colors.Gray;
        chance.LinePattern = LinePattern.Dashed;
        chance.LegendText = "chance (AUC = 0.500)";
        var curves = result.ClassNames.Count == 2 ? [result.RocCurves[1]] : result.RocCurves;
        AddCurves(plot, curves, "AUC");
        plot.Legend.Alignment = Alignment.LowerRight;
        return plot;
    }

    /// <summary>One-vs-rest precision-recall curves, average precision in the legend (two classes: the positive class only).</summary>
    public static Plot PrecisionRecallCurves(EvaluationResult result, string title = "Precision-recall curve")
    {
        ArgumentNullException.ThrowIfNull(result);
        var plot = NewPlot();
        plot.Title(title);
        plot.XLabel("Recall");
        plot.YLabel("Precision");
        var curves = result.ClassNames.Count == 2 ? [result.PrecisionRecallCurves[1]] : result.PrecisionRecallCurves;
        AddCurves(plot, curves, "AP");
        plot.Legend.Alignment = Alignment.LowerLeft;
        return plot;
    }

    /// <summary>Horizontal bars of the metric drop per feature, most important on top, with the spread over repeats as error bars.</summary>
    public static Plot Importance(IReadOnlyList<FeatureImportance> importances, string metric, string title = "Permutation feature importance")
    {
        ArgumentNullException.ThrowIfNull(importances);
        var plot = NewPlot();
        plot.Title(title);
        plot.XLabel($"Drop in {metric} when the feature is shuffled");
        if (importances.Count == 0)
        {
            var text = plot.Add.Text("no features", 0, 0);
            text.LabelFontSize = 16;
            text.LabelAlignment = Alignment.MiddleCenter;
            plot.Axes.SetLimits(-1, 1, -1, 1);
            return plot;
        }

        var count = importances.Count;
        var bars = importances.Select((f, i) => new Bar
        {
            Position = count - 1 - i,
            Size = 0.7,
            Value = f.Mean,
            Error = f.StdDev,
            FillColor = BarColor,
            LineWidth = 0,
            Label = f.Mean.ToString("0.000", CultureInfo.InvariantCulture),
        }).ToList();
        var barPlot = plot.Add.Bars(bars);
        barPlot.Horizontal = true;
        barPlot.ValueLabelStyle.FontSize = 12;
        plot.Axes.Left.SetTicks([.. bars.Select(b => b.Position)], [.. importances.Select(f => f.Feature)]);
        plot.Axes.Left.MajorTickStyle.Length = 0;
        var low = Math.Min(0, importances.Min(f => f.Mean - f.StdDev));
        var high = Math.Max(importances.Max(f => f.Mean + f.StdDev), 1e-9);
        plot.Axes.SetLimitsX(low - ((high - low) * 0.02), high + ((high - low) * 0.15));
        plot.Axes.SetLimitsY(-0.6, count - 0.4);
        plot.Grid.YAxisStyle.MajorLineStyle.Width = 0;
        return plot;
    }

    /// <summary>Writes the confusion matrix, ROC and precision-recall PNGs into <paramref name="directory"/>; returns their paths.</summary>
    public static IReadOnlyList<string> WriteAll(EvaluationResult result, string directory, string titlePrefix = "")
    {
        ArgumentNullException.ThrowIfNull(result);
        Directory.CreateDirectory(directory);
        var k = result.ClassNames.Count;
        var side = Math.Clamp(420 + (k * 60), 600, 1400);
        var files = new List<string>();
        void Write(Plot plot, string name, int width, int height)
        {
            var path = Path.Combine(directory, name);
            File.WriteAllBytes(path, Figures.RenderPng(plot, width, height));
            files.Add(path);
        }

        Write(ConfusionMatrix(result, titlePrefix + "Confusion matrix"), ConfusionMatrixFile, side + 100, side);
        Write(RocCurves(result, titlePrefix + "ROC curve"), RocCurveFile, 800, 650);
        Write(PrecisionRecallCurves(result, titlePrefix + "Precision-recall curve"), PrecisionRecallFile, 800, 650);
        return files;
    }

    /// <summary>Writes <see cref="Importance"/> as a PNG whose height follows the number of features.</summary>
    public static void WriteImportance(IReadOnlyList<FeatureImportance> importances, string metric, string path)
    {
        ArgumentNullException.ThrowIfNull(importances);
        var height = Math.Clamp(150 + (Math.Max(importances.Count, 2) * 32), 300, 3000);
        File.WriteAllBytes(path, Figures.RenderPng(Importance(importances, metric), 900, height));
    }

    private static void AddCurves(Plot plot, IReadOnlyList<Curve> curves, string areaName)
    {
        var palette = new ScottPlot.Palettes.Category10();
        for (var i = 0; i < curves.Count; i++)
        {
            var curve = curves[i];
            var finite = Enumerable.Range(0, curve.X.Length).Where(j => double.IsFinite(curve.X[j]) && double.IsFinite(curve.Y[j])).ToArray();
            if (finite.Length == 0)
            {
                continue;
            }

            var line = plot.Add.Scatter(finite.Select(j => curve.X[j]).ToArray(), finite.Select(j => curve.Y[j]).ToArray(), palette.GetColor(i));
            line.LineWidth = 2;
            line.MarkerSize = 0;
            var area = double.IsFinite(curve.Area) ? curve.Area.ToString("0.000", CultureInfo.InvariantCulture) : "n/a";
            line.LegendText = $"{curve.ClassName} ({areaName} = {area})";
        }

        plot.Legend.IsVisible = true;
        plot.Legend.FontSize = 13;
        plot.Axes.SetLimits(-0.02, 1.02, -0.02, 1.02);
    }

    private static Plot NewPlot()
    {
        // ScottPlot's default face is serif on Linux, and text added later reads the default (as in StudyPlots).
        Fonts.Default = Figures.SansFont;
        var plot = new Plot();
        plot.Font.Set(Figures.SansFont);
        return plot;
    }
}
