using System.Globalization;
using Cairn.Client;
using Cairn.Tuning;
using ScottPlot;

namespace Cairn.Lab.Tuning;

/// <summary>
/// The two pictures of a study that Optuna's dashboard opens with: the optimisation history and the
/// parameter importances, as ScottPlot plots (render with <see cref="Figures.RenderPng"/> or log with
/// <see cref="ActiveRun.LogFigureAsync"/>).
/// </summary>
public static class StudyPlots
{
    private static readonly Color ValueColor = Color.FromHex("#1f77b4");
    private static readonly Color BestColor = Color.FromHex("#d62728");

    /// <summary>Each complete trial's value by trial number, and the best value so far as a step line.</summary>
    public static Plot History(string studyName, StudyDirection direction, IReadOnlyList<FrozenTrial> trials)
    {
        ArgumentNullException.ThrowIfNull(trials);
        // Pruned and failed trials are left out, as in Optuna's plot: a pruned trial's last value is not comparable.
        var complete = trials.Where(t => t.State == TrialState.Complete && t.Value is { } v && double.IsFinite(v))
            .OrderBy(t => t.Number).ToList();
        var plot = NewPlot();
        plot.Title($"Optimization history: {studyName}");
        plot.XLabel("Trial");
        plot.YLabel("Objective value");
        if (complete.Count == 0)
        {
            NoData(plot, "no complete trials yet");
            return plot;
        }

        var xs = complete.Select(t => (double)t.Number).ToArray();
        var ys = complete.Select(t => t.Value!.Value).ToArray();
        var best = new double[ys.Length];
        for (var i = 0; i < ys.Length; i++)
        {
            best[i] = i == 0 ? ys[0] : direction == StudyDirection.Minimize ? Math.Min(best[i - 1], ys[i]) : Math.Max(best[i - 1], ys[i]);
        }

        // The best line is carried to the last trial of any state, so its end shows where the study stopped.
        var lastNumber = trials.Max(t => t.Number);
        var bestXs = xs.Append(lastNumber).ToArray();
        var bestYs = best.Append(best[^1]).ToArray();
        var line = plot.Add.Scatter(bestXs, bestYs, BestColor);
        line.ConnectStyle = ConnectStyle.StepHorizontal;
        line.LineWidth = 2;
        line.MarkerSize = 0;
        line.LegendText = "Best value";

        var points = plot.Add.ScatterPoints(xs, ys, ValueColor);
        points.MarkerSize = 7;
        points.LegendText = "Objective value";

        plot.Legend.IsVisible = true;
        plot.Legend.Alignment = direction == StudyDirection.Minimize ? Alignment.UpperRight : Alignment.LowerRight;
        plot.Axes.SetLimitsX(-0.5 - (lastNumber * 0.02), lastNumber + 0.5 + (lastNumber * 0.02));
        // Whole trial numbers only: "2.5" on a trial axis means nothing.
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
        return plot;
    }

    /// <summary>Horizontal bars of <see cref="ParameterImportances.Evaluate"/>, most important on top, each labelled with its value.</summary>
    public static Plot Importance(string studyName, IReadOnlyList<ParameterImportance> importances)
    {
        ArgumentNullException.ThrowIfNull(importances);
        var plot = NewPlot();
        plot.Title($"Parameter importances: {studyName}");
        plot.XLabel("Importance (share of rank variance explained, first order)");
        if (importances.Count == 0)
        {
            NoData(plot, "no parameters in complete trials");
            return plot;
        }

        // Bottom-up positions, so the first (most important) parameter is drawn at the top.
        var count = importances.Count;
        var bars = importances.Select((p, i) => new Bar
        {
            Position = count - 1 - i,
            Size = 0.7,
            Value = p.Importance,
            FillColor = ValueColor,
            LineWidth = 0,
            Label = p.Importance.ToString("0.00", CultureInfo.InvariantCulture),
        }).ToList();
        var barPlot = plot.Add.Bars(bars);
        barPlot.Horizontal = true;
        barPlot.ValueLabelStyle.FontSize = 13;

        plot.Axes.Left.SetTicks(
            bars.Select(b => b.Position).ToArray(),
            importances.Select(p => p.Name).ToArray());
        plot.Axes.Left.MajorTickStyle.Length = 0;
        plot.Axes.Left.TickLabelStyle.FontSize = 14;
        // Room on the right for the value label of the longest bar; bars start at the axis.
        var max = Math.Max(importances.Max(p => p.Importance), 1e-9);
        plot.Axes.SetLimitsX(0, max * 1.15);
        plot.Axes.SetLimitsY(-0.6, count - 0.4);
        plot.Grid.YAxisStyle.MajorLineStyle.Width = 0;
        return plot;
    }

    /// <summary>Renders both plots of a study as PNG files (either path may be null).</summary>
    public static void SavePngs(string studyName, StudyDirection direction, IReadOnlyList<FrozenTrial> trials,
        string? historyPath, string? importancePath, int width = 900, int height = 560)
    {
        if (historyPath is not null)
        {
            File.WriteAllBytes(historyPath, Figures.RenderPng(History(studyName, direction, trials), width, height));
        }

        if (importancePath is not null)
        {
            var importances = ParameterImportances.Evaluate(trials);
            // Height follows the number of bars so every bar has the same thickness: one parameter is not a slab,
            // twenty still get readable labels.
            var h = 150 + (Math.Max(importances.Count, 2) * 55);
            File.WriteAllBytes(importancePath, Figures.RenderPng(Importance(studyName, importances), width, h));
        }
    }

    private static Plot NewPlot()
    {
        // ScottPlot's default face is a serif one on Linux, and plottables added later (labels, text) read the default.
        Fonts.Default = Figures.SansFont;
        var plot = new Plot();
        plot.Font.Set(Figures.SansFont);
        return plot;
    }

    private static void NoData(Plot plot, string message)
    {
        var text = plot.Add.Text(message, 0, 0);
        text.LabelFontSize = 16;
        text.LabelAlignment = Alignment.MiddleCenter;
        plot.Axes.SetLimits(-1, 1, -1, 1);
        // Ticks and grid of an empty, made-up range would suggest data that is not there.
        plot.HideAxesAndGrid();
        plot.Axes.Title.IsVisible = true;
    }
}
