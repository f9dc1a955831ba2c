using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms;

namespace Cairn.Lab.Pipelines.Features;

/// <summary>
/// A chain of enrichers fitted on the training rows: each numeric feature as one formula over the
/// raw columns, and the text columns with the categories seen in training. It becomes ML.NET
/// transforms (<see cref="ToEstimator"/>) that sit inside the saved model, so a served model takes
/// the raw columns; <see cref="Transform"/> computes the same features in C# for models trained
/// outside ML.NET.
/// </summary>
public sealed class FeaturePlan
{
    private readonly IReadOnlyList<Feature> _numeric;
    private readonly IReadOnlyList<(string Column, string[] Categories)> _text;

    private FeaturePlan(IReadOnlyList<Feature> numeric, IReadOnlyList<(string, string[])> text, IReadOnlyDictionary<string, string> choices)
    {
        _numeric = numeric;
        _text = text;
        Choices = choices;
        FeatureNames = [.. numeric.Select(f => f.Name), .. text.SelectMany(t => t.Item2.Select(c => $"{t.Item1}={c}"))];
        InputColumns = [.. numeric.SelectMany(f => f.Expression.Columns()).Concat(text.Select(t => t.Item1)).Distinct()];
    }

    /// <summary>The names of the slots of the features vector, in order: numeric features, then one slot per text category (<c>colour=red</c>).</summary>
    public IReadOnlyList<string> FeatureNames { get; }

    /// <summary>What each step fitted or chose, e.g. <c>automated.petal_length</c> → <c>log1p (skewness 1.3), zscale</c>.</summary>
    public IReadOnlyDictionary<string, string> Choices { get; }

    /// <summary>The raw columns a model with this plan reads (its signature's inputs).</summary>
    public IReadOnlyList<string> InputColumns { get; }

    /// <summary>The numeric features' formulas over the raw columns, in <see cref="FeatureNames"/> order.</summary>
    public IReadOnlyList<FeatureExpression> Expressions => [.. _numeric.Select(f => f.Expression)];

    /// <summary>Fits <paramref name="chain"/> step by step on <paramref name="train"/> (the training rows only).</summary>
    /// <exception cref="PipelineConfigException">A step's options do not fit the data (unknown column, negative column for log, nothing left).</exception>
    public static FeaturePlan Fit(IReadOnlyList<IFeatureEnricher> chain, DataTable train)
    {
        ArgumentNullException.ThrowIfNull(chain);
        ArgumentNullException.ThrowIfNull(train);
        var set = new FeatureSet(
            [.. train.Features.OfType<NumericColumn>().Select(c => new Feature(c.Name, new FeatureExpression.Column(c.Name)))],
            [.. train.Features.OfType<TextColumn>().Select(c => c.Name)]);
        var rows = new TrainingRows(train);
        var choices = new Dictionary<string, string>(StringComparer.Ordinal);
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        FeatureSet? previous = null;
        foreach (var enricher in chain)
        {
            if (enricher is not IFittableEnricher step)
            {
                throw new PipelineConfigException($"Enricher '{enricher.Name}' is not one of EnricherCatalog's: {string.Join(", ", EnricherCatalog.Entries.Select(e => e.Name))}.");
            }

            // A step's inputs are the next step's sub-expressions: keep their values, drop older ones.
            rows.Retain([.. (previous?.Numeric ?? []).Concat(set.Numeric).Select(f => f.Expression)]);
            seen[step.Name] = seen.GetValueOrDefault(step.Name) + 1;
            var key = seen[step.Name] == 1 ? step.Name : $"{step.Name}{seen[step.Name]}";
            previous = set;
            set = step.Fit(set, rows, new ChoiceLog(key, choices));
        }

        // A text column's categories are those of the training rows, in ordinal order; a column with none adds nothing.
        var text = set.Text
            .Select(t => (Column: t, Categories: rows.Text(t).OfType<string>().Where(v => v.Length > 0).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray()))
            .Where(t => t.Categories.Length > 0)
            .ToList();
        if (set.Numeric.Count == 0 && text.Count == 0)
        {
            throw new PipelineConfigException("The feature enrichers leave no features to train on.");
        }

        return new FeaturePlan(set.Numeric, text, choices);
    }

    /// <summary>
    /// The ML.NET estimator that computes the features from the raw columns into the float vector
    /// column <paramref name="outputColumn"/>: every computed feature from one vectorised ONNX graph
    /// (<see cref="FeatureGraph"/>, applied by ML.NET's ONNX transform and saved inside the model),
    /// one-hot encoding of text columns over the training categories (an unseen category is all
    /// zeros), then concatenation. Nothing in it is fitted again: the statistics are constants.
    /// </summary>
    public IEstimator<ITransformer> ToEstimator(MLContext ml, string outputColumn = "Features")
    {
        ArgumentNullException.ThrowIfNull(ml);
        var steps = new List<IEstimator<ITransformer>>();
        var parts = new List<string>();
        var temporary = new List<string>();
        if (_numeric.All(f => f.Expression is FeatureExpression.Column))
        {
            // Raw columns only (no enricher, or a column subset): nothing to compute.
            parts.AddRange(_numeric.Select(f => ((FeatureExpression.Column)f.Expression).Name));
        }
        else if (_numeric.Count > 0)
        {
            // Every numeric feature from one vectorised ONNX graph over the raw numeric columns.
            var raw = _numeric.SelectMany(f => f.Expression.Columns()).Distinct(StringComparer.Ordinal).ToList();
            var graph = FeatureGraph.Compile(raw, [.. _numeric.Select(f => f.Expression)]);
            steps.Add(ml.Transforms.Concatenate(FeatureGraph.InputName, [.. raw]));
            steps.Add(ml.Transforms.ApplyOnnxModel([FeatureGraph.OutputName], [FeatureGraph.InputName], new MemoryStream(graph)));
            parts.Add(FeatureGraph.OutputName);
            temporary.Add(FeatureGraph.InputName);
            temporary.Add(FeatureGraph.OutputName);
        }

        foreach (var (column, categories) in _text)
        {
            var name = $"{outputColumn}.__{column}";
            var keys = ml.Data.LoadFromEnumerable(categories.Select(c => new Category { Value = c }));
            steps.Add(ml.Transforms.Categorical.OneHotEncoding(name, column, OneHotEncodingEstimator.OutputKind.Indicator, keyData: keys));
            parts.Add(name);
            temporary.Add(name);
        }

        steps.Add(ml.Transforms.Concatenate(outputColumn, [.. parts]));
        if (temporary.Count > 0)
        {
            steps.Add(ml.Transforms.DropColumns([.. temporary]));
        }

        var chain = new EstimatorChain<ITransformer>();
        foreach (var step in steps)
        {
            chain = chain.Append(step);
        }

        return chain;
    }

    /// <summary>The features of every row of <paramref name="table"/>, column-major: <c>[feature][row]</c>, in <see cref="FeatureNames"/> order.</summary>
    /// <exception cref="PipelineConfigException">The table lacks a column the plan reads.</exception>
    public float[][] Transform(DataTable table)
    {
        ArgumentNullException.ThrowIfNull(table);
        var rows = table.RowCount;

        // Sub-formulas shared between features (a scaled column in many products) are computed once.
        var shared = SharedNodes();
        var cache = new Dictionary<FeatureExpression, float[]>(ReferenceEqualityComparer.Instance);
        var result = new List<float[]>(FeatureNames.Count);
        foreach (var feature in _numeric)
        {
            var values = feature.Expression.Evaluate(name => Numeric(table, name), rows, cache, shared.Contains);
            result.Add(feature.Expression is FeatureExpression.Column || shared.Contains(feature.Expression) ? (float[])values.Clone() : values);
        }

        foreach (var (column, categories) in _text)
        {
            var values = table[column] is TextColumn text
                ? text.Values
                : throw new PipelineConfigException($"Column '{column}' must be text; the model was fitted with it as text.");
            foreach (var category in categories)
            {
                var indicator = new float[rows];
                for (var r = 0; r < rows; r++)
                {
                    indicator[r] = values[r] == category ? 1f : 0f;
                }

                result.Add(indicator);
            }
        }

        return [.. result];
    }

    private HashSet<FeatureExpression> SharedNodes()
    {
        var visited = new HashSet<FeatureExpression>(ReferenceEqualityComparer.Instance);
        var shared = new HashSet<FeatureExpression>(ReferenceEqualityComparer.Instance);
        foreach (var feature in _numeric)
        {
            Visit(feature.Expression);
        }

        return shared;

        void Visit(FeatureExpression e)
        {
            if (e is FeatureExpression.Column or FeatureExpression.Constant)
            {
                return;
            }

            if (!visited.Add(e))
            {
                shared.Add(e);
                return;
            }

            switch (e)
            {
                case FeatureExpression.Binary b:
                    Visit(b.Left);
                    Visit(b.Right);
                    break;
                case FeatureExpression.Ln l:
                    Visit(l.Operand);
                    break;
                case FeatureExpression.FillMissing f:
                    Visit(f.Value);
                    break;
            }
        }
    }

    private static float[] Numeric(DataTable table, string name)
    {
        var column = table.Features.FirstOrDefault(c => c.Name == name)
            ?? throw new PipelineConfigException($"The data has no column '{name}', which the features read; the columns are: {string.Join(", ", table.Features.Select(c => c.Name))}.");
        return column is NumericColumn numeric
            ? numeric.Values
            : throw new PipelineConfigException($"Column '{name}' must be numeric; the model was fitted with it as a number.");
    }

    private sealed class Category
    {
        public string Value { get; set; } = "";
    }
}
