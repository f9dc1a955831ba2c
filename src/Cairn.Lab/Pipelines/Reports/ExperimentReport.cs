using System.Globalization;
using System.Text;
using Cairn.Client;
using Cairn.Core;
using ScottPlot;

namespace Cairn.Lab.Pipelines.Reports;

/// <summary>What <see cref="ExperimentReport.WriteAsync"/> wrote.</summary>
public sealed record ReportFiles(string Directory, string Markdown, string Csv, IReadOnlyList<string> Charts, int RunCount);

/// <summary>
/// <c>cairn report -e EXP</c>: a Markdown report of an experiment's pipelines (every configuration
/// ranked by the tuned metric, the best one, what was registered), bar charts comparing models and
/// feature sets, and a CSV of every run with its params and latest metrics.
/// </summary>
public static class ExperimentReport
{
    public static async Task<ReportFiles> WriteAsync(TrackingClient client, string experimentName, string outputRoot, CancellationToken ct = default)
    {
        var experiment = await client.Store.GetExperimentByNameAsync(experimentName, ct).ConfigureAwait(false);
        var runs = await AllRunsAsync(client.Store, experiment.ExperimentId, ct).ConfigureAwait(false);
        var dir = Path.Combine(outputRoot, Safe(experiment.Name));
        Directory.CreateDirectory(dir);

        var pipelines = runs.Where(r => Tag(r, "cairn.pipeline") == "train").OrderBy(r => r.Info.StartTime).ToList();
        var configurations = runs.Where(r => Tag(r, "cairn.model") is not null && Tag(r, "cairn.feature_set") is not null).ToList();
        var metric = pipelines.Select(p => Param(p, "metric")).LastOrDefault(m => m is not null) ?? "accuracy";
        var maximize = !PipelineConfig.Metrics.TryGetValue(metric, out var max) || max;
        var ranked = configurations
            .OrderByDescending(r => Score(Metric(r, "val_" + metric), maximize))
            .ThenByDescending(r => Score(Metric(r, "test_" + metric), maximize))
            .ToList();

        var charts = new List<string>();
        if (configurations.Count > 0)
        {
            charts.Add(WriteComparison(dir, "by_model.png", $"Best test {metric} per model", configurations, r => Tag(r, "cairn.model")!, "test_" + metric, maximize));
            charts.Add(WriteComparison(dir, "by_feature_set.png", $"Best test {metric} per feature set", configurations, r => Tag(r, "cairn.feature_set")!, "test_" + metric, maximize));
        }

        var csv = Path.Combine(dir, "runs.csv");
        await File.WriteAllTextAsync(csv, Csv(runs), ct).ConfigureAwait(false);
        var markdown = Path.Combine(dir, "report.md");
        await File.WriteAllTextAsync(markdown, Markdown(experiment, client.TrackingUri, pipelines, ranked, runs.Count, metric, charts), ct).ConfigureAwait(false);
        return new ReportFiles(dir, markdown, csv, charts, runs.Count);
    }

    private static string Markdown(Experiment experiment, string trackingUri, IReadOnlyList<Run> pipelines, IReadOnlyList<Run> ranked, int runCount, string metric, IReadOnlyList<string> charts)
    {
        var md = new StringBuilder();
        md.AppendLine(CultureInfo.InvariantCulture, $"# Experiment report: {experiment.Name}");
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"Experiment id {experiment.ExperimentId} on `{trackingUri}`, {runCount} runs, generated {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC.");
        md.AppendLine();
        if (ranked.Count > 0)
        {
            var best = ranked[0];
            md.AppendLine("## Best configuration");
            md.AppendLine();
            md.AppendLine(CultureInfo.InvariantCulture, $"**{best.Info.RunName}** (run `{best.Info.RunId}`): validation {metric} {Fmt(Metric(best, "val_" + metric))}, test {metric} {Fmt(Metric(best, "test_" + metric))}.");
            var hyper = best.Params.Where(p => p.Key is not ("feature_set" or "model" or "enrichers" or "features.count")).Select(p => $"{p.Key}={p.Value}");
            md.AppendLine(CultureInfo.InvariantCulture, $"Hyperparameters: {string.Join(", ", hyper)}.");
            md.AppendLine();
        }

        md.AppendLine("## Pipelines");
        md.AppendLine();
        if (pipelines.Count == 0)
        {
            md.AppendLine("No `cairn train` runs in this experiment.");
        }
        else
        {
            md.AppendLine("| Run | Started (UTC) | Status | Data set | Tuner | Metric | Best | Registered |");
            md.AppendLine("|---|---|---|---|---|---|---|---|");
            foreach (var p in pipelines)
            {
                var registered = Tag(p, "registered.model") is { } name ? $"{name} v{Tag(p, "registered.version")}{(Tag(p, "registered.champion") == "true" ? " (champion)" : "")}" : "";
                md.AppendLine(CultureInfo.InvariantCulture, $"| {Cell(p.Info.RunName)} | {DateTimeOffset.FromUnixTimeMilliseconds(p.Info.StartTime).UtcDateTime:yyyy-MM-dd HH:mm} | {p.Info.Status.ToString().ToUpperInvariant()} | {Cell(Param(p, "dataset"))} | {Cell(Param(p, "tuner"))} | {Cell(Param(p, "metric"))} | {Cell(Tag(p, "best.configuration"))} | {Cell(registered)} |");
            }
        }

        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"## Configurations, ranked by validation {metric}");
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"| # | Configuration | Model | Feature set | CV {metric} | Validation {metric} | Test {metric} | Test F1 (macro) | Run |");
        md.AppendLine("|---:|---|---|---|---:|---:|---:|---:|---|");
        for (var i = 0; i < ranked.Count; i++)
        {
            var r = ranked[i];
            md.AppendLine(CultureInfo.InvariantCulture, $"| {i + 1} | {Cell(r.Info.RunName)} | {Cell(Tag(r, "cairn.model"))} | {Cell(Tag(r, "cairn.feature_set"))} | {Fmt(Metric(r, "cv_" + metric))} | {Fmt(Metric(r, "val_" + metric))} | {Fmt(Metric(r, "test_" + metric))} | {Fmt(Metric(r, "test_f1_macro"))} | `{r.Info.RunId}` |");
        }

        md.AppendLine();
        if (charts.Count > 0)
        {
            md.AppendLine("## Comparisons");
            md.AppendLine();
            foreach (var chart in charts)
            {
                md.AppendLine(CultureInfo.InvariantCulture, $"![{Path.GetFileNameWithoutExtension(chart).Replace('_', ' ')}]({Path.GetFileName(chart)})");
                md.AppendLine();
            }
        }

        md.AppendLine("Every run with its params and latest metrics: [runs.csv](runs.csv).");
        return md.ToString();
    }

    /// <summary>One bar per group (model or feature set): the group's best value, labelled.</summary>
    private static string WriteComparison(string dir, string file, string title, IReadOnlyList<Run> runs, Func<Run, string> group, string key, bool maximize)
    {
        var groups = runs.GroupBy(group)
            .Select(g => (Name: g.Key, Value: g.Select(r => Metric(r, key)).Where(double.IsFinite).DefaultIfEmpty(double.NaN).Aggregate((a, b) => maximize ? Math.Max(a, b) : Math.Min(a, b))))
            .OrderBy(g => g.Name, StringComparer.Ordinal)
            .ToList();
        Fonts.Default = Figures.SansFont;
        var plot = new Plot();
        plot.Title(title);
        var bars = groups.Select((g, i) => new Bar
        {
            Position = i,
            Value = double.IsFinite(g.Value) ? g.Value : 0,
            Size = 0.6,
            FillColor = Color.FromHex("#0f766e"),
            LineWidth = 0,
            Label = Fmt(g.Value),
        }).ToList();
        plot.Add.Bars(bars).ValueLabelStyle.FontSize = 13;
        plot.Axes.Bottom.SetTicks([.. bars.Select(b => b.Position)], [.. groups.Select(g => g.Name)]);
        plot.Axes.Bottom.MajorTickStyle.Length = 0;
        var top = groups.Select(g => g.Value).Where(double.IsFinite).DefaultIfEmpty(1).Max();
        plot.Axes.SetLimitsY(0, top * 1.15);
        plot.YLabel(key);
        var path = Path.Combine(dir, file);
        File.WriteAllBytes(path, Figures.RenderPng(plot, Math.Max(600, 160 * groups.Count), 480));
        return path;
    }

    /// <summary>Every run, one row each: identity, status, then every param and metric key as a column.</summary>
    private static string Csv(IReadOnlyList<Run> runs)
    {
        var paramKeys = runs.SelectMany(r => r.Params.Select(p => p.Key)).Distinct().Order(StringComparer.Ordinal).ToList();
        var metricKeys = runs.SelectMany(r => r.Metrics.Select(m => m.Key)).Distinct().Order(StringComparer.Ordinal).ToList();
        var csv = new StringBuilder();
        csv.AppendLine(string.Join(",", new[] { "run_id", "run_name", "parent_run_id", "status", "start_time", "end_time" }
            .Concat(paramKeys.Select(k => "params." + k)).Concat(metricKeys.Select(k => "metrics." + k)).Select(Quote)));
        foreach (var r in runs.OrderBy(r => r.Info.StartTime))
        {
            var cells = new List<string?>
            {
                r.Info.RunId, r.Info.RunName, Tag(r, "mlflow.parentRunId"), r.Info.Status.ToString().ToUpperInvariant(),
                r.Info.StartTime.ToString(CultureInfo.InvariantCulture), r.Info.EndTime?.ToString(CultureInfo.InvariantCulture),
            };
            cells.AddRange(paramKeys.Select(k => Param(r, k)));
            cells.AddRange(metricKeys.Select(k => r.Metrics.FirstOrDefault(m => m.Key == k) is { } m ? m.Value.ToString("R", CultureInfo.InvariantCulture) : null));
            csv.AppendLine(string.Join(",", cells.Select(c => Quote(c ?? ""))));
        }

        return csv.ToString();
    }

    internal static async Task<List<Run>> AllRunsAsync(ITrackingStore store, string experimentId, CancellationToken ct)
    {
        var runs = new List<Run>();
        string? token = null;
        do
        {
            var page = await store.SearchRunsAsync(new RunSearchQuery([experimentId], MaxResults: 1000, PageToken: token), ct).ConfigureAwait(false);
            runs.AddRange(page.Items);
            token = page.NextPageToken;
        }
        while (token is not null);

        return runs;
    }

    private static string Quote(string value) =>
        value.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : value;

    private static string Cell(string? value) => (value ?? "").Replace("|", "\\|", StringComparison.Ordinal);

    private static string Safe(string name) => string.Concat(name.Select(c => char.IsLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_'));

    private static double Score(double value, bool maximize) => double.IsFinite(value) ? (maximize ? value : -value) : double.NegativeInfinity;

    internal static string Fmt(double value) => double.IsFinite(value) ? value.ToString("0.####", CultureInfo.InvariantCulture) : "-";

    internal static string? Tag(Run run, string key) => run.Tags.FirstOrDefault(t => t.Key == key)?.Value;

    internal static string? Param(Run run, string key) => run.Params.FirstOrDefault(p => p.Key == key)?.Value;

    internal static double Metric(Run run, string key) => run.Metrics.FirstOrDefault(m => m.Key == key)?.Value ?? double.NaN;
}
