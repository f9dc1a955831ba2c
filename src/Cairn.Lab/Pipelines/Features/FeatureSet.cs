namespace Cairn.Lab.Pipelines.Features;

/// <summary>A numeric feature: its name after the chain so far and its formula over raw columns.</summary>
internal sealed record Feature(string Name, FeatureExpression Expression);

/// <summary>The features between two steps of a chain: numeric formulas and the text columns still kept.</summary>
internal sealed record FeatureSet(IReadOnlyList<Feature> Numeric, IReadOnlyList<string> Text)
{
    public IEnumerable<string> Names => Numeric.Select(f => f.Name).Concat(Text);
}

/// <summary>What a step sees while fitting: the training rows' values of the current features.</summary>
internal sealed class TrainingRows
{
    private readonly DataTable _train;
    private Dictionary<FeatureExpression, float[]> _values = new(ReferenceEqualityComparer.Instance);

    public TrainingRows(DataTable train) => _train = train;

    public int Count => _train.RowCount;

    /// <summary>The training values of <paramref name="feature"/> (do not write to the array).</summary>
    public float[] Values(Feature feature) => Values(feature.Expression);

    public float[] Values(FeatureExpression expression)
    {
        if (_values.TryGetValue(expression, out var values))
        {
            return values;
        }

        values = expression.Evaluate(RawColumn, _train.RowCount, _values, static _ => false);
        _values[expression] = values;
        return values;
    }

    /// <summary>Keeps only the values of <paramref name="keep"/>: a step's inputs are the next step's sub-expressions.</summary>
    public void Retain(IEnumerable<FeatureExpression> keep)
    {
        var kept = new Dictionary<FeatureExpression, float[]>(ReferenceEqualityComparer.Instance);
        foreach (var expression in keep)
        {
            if (_values.TryGetValue(expression, out var values))
            {
                kept[expression] = values;
            }
        }

        _values = kept;
    }

    public string?[] Text(string column) => ((TextColumn)_train[column]).Values;

    private float[] RawColumn(string name) => _train[name] is NumericColumn numeric
        ? numeric.Values
        : throw new InvalidOperationException($"Column '{name}' is not numeric.");
}

/// <summary>
/// The record of what the steps fitted or chose, keyed <c>step.column</c>. Keys keep to the
/// characters MLflow allows in a tag key (letters, digits, <c>_ - . / </c> and space), so the
/// pipeline can log them as tags: <c>automated.a*b</c> is recorded as <c>automated.a_b</c>.
/// </summary>
internal sealed class ChoiceLog(string step, IDictionary<string, string> choices)
{
    public void Add(string key, string value)
    {
        var safe = new string([.. key.Select(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.' or '/' or ' ' ? c : '_')]);
        choices[safe.Length == 0 ? step : $"{step}.{safe}"] = value;
    }
}
