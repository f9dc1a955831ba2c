using Microsoft.ML;
using Microsoft.ML.Data;

namespace Cairn.Lab.Pipelines.Evaluation;

/// <summary>How much a metric drops when one raw feature column is shuffled (positive = the model relies on it).</summary>
/// <param name="Drops">The drop of each repeat.</param>
public sealed record FeatureImportance(string Feature, double Mean, double StdDev, double[] Drops);

/// <summary>
/// Permutation feature importance over the raw columns of a <see cref="DataTable"/> (before any
/// enricher, so it speaks of the columns the user knows): each column in turn is shuffled, the whole
/// fitted pipeline re-scores the table, and the metric's drop from the unshuffled score is recorded.
/// </summary>
public static class PermutationImportance
{
    /// <summary>Rows scored per repeat; larger tables are subsampled (seeded) so HIGGS-sized test sets stay quick.</summary>
    public const int DefaultMaxRows = 10_000;

    /// <param name="metric">A key of <see cref="EvaluationResult.ToMetrics"/> without prefix, e.g. <c>accuracy</c>, <c>f1_macro</c>, <c>log_loss</c>
    /// (for a loss the increase counts as the drop).</param>
    /// <param name="classNames">The model's classes in Score order; default: the Score column's slot names, else the table's classes.</param>
    /// <returns>One entry per feature column, most important first.</returns>
    /// <exception cref="PipelineConfigException">The metric is not one Evaluator computes.</exception>
    public static IReadOnlyList<FeatureImportance> Compute(ITransformer model, DataTable data, string metric, int seed, int repeats = 3,
        IReadOnlyList<string>? classNames = null, int maxRows = DefaultMaxRows)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(metric);
        ArgumentOutOfRangeException.ThrowIfLessThan(repeats, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxRows, 1);
        var random = new Random(seed);
        if (data.RowCount > maxRows)
        {
            var rows = Enumerable.Range(0, data.RowCount).ToArray();
            random.Shuffle(rows);
            var sample = rows[..maxRows];
            Array.Sort(sample);
            data = data.Select(sample);
        }

        classNames ??= ScoreSlotNames(model, new ColumnarDataView(data)) ?? data.ClassNames;
        var baseline = Evaluator.Evaluate(model, new ColumnarDataView(data), data.LabelName, classNames).ToMetrics();
        if (!baseline.TryGetValue(metric, out var baseValue))
        {
            var known = new[] { "accuracy", "precision_macro", "recall_macro", "f1_macro", "precision_weighted", "recall_weighted", "f1_weighted", "roc_auc", "log_loss" };
            throw new PipelineConfigException(
                known.Contains(metric)
                    ? $"Metric '{metric}' is undefined on this data (e.g. an AUC with a single class present)."
                    : $"Unknown metric '{metric}' for permutation importance; the allowed metrics are: {string.Join(", ", known)}.");
        }

        var lowerIsBetter = metric.Contains("loss", StringComparison.Ordinal);
        var result = new List<FeatureImportance>();
        for (var f = 0; f < data.Features.Count; f++)
        {
            var drops = new double[repeats];
            for (var r = 0; r < repeats; r++)
            {
                var columns = data.Features.ToArray();
                var permutation = Enumerable.Range(0, data.RowCount).ToArray();
                random.Shuffle(permutation);
                columns[f] = columns[f].Select(permutation);
                var shuffled = new DataTable(columns, data.LabelName, data.Labels);
                var value = Evaluator.Evaluate(model, new ColumnarDataView(shuffled), data.LabelName, classNames).ToMetrics()
                    .GetValueOrDefault(metric, double.NaN);
                drops[r] = lowerIsBetter ? value - baseValue : baseValue - value;
            }

            var mean = drops.Average();
            var std = Math.Sqrt(drops.Average(d => (d - mean) * (d - mean)));
            result.Add(new FeatureImportance(data.Features[f].Name, mean, std, drops));
        }

        return [.. result.OrderByDescending(i => i.Mean).ThenBy(i => i.Feature, StringComparer.Ordinal)];
    }

    private static IReadOnlyList<string>? ScoreSlotNames(ITransformer model, IDataView data)
    {
        var score = model.GetOutputSchema(data.Schema).GetColumnOrNull("Score");
        if (score is not { } column || column.Annotations.Schema.GetColumnOrNull("SlotNames") is null)
        {
            return null;
        }

        VBuffer<ReadOnlyMemory<char>> names = default;
        column.GetSlotNames(ref names);
        var list = names.DenseValues().Select(n => n.ToString()).ToList();
        return list.Count >= 2 && list.All(n => n.Length > 0) ? list : null;
    }
}
