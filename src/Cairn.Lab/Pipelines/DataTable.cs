namespace Cairn.Lab.Pipelines;

/// <summary>One feature column of a <see cref="DataTable"/>.</summary>
public abstract class DataColumn(string name)
{
    /// <summary>The column's name: the name the model's signature (and a scoring request) uses.</summary>
    public string Name { get; } = name;

    public abstract int Length { get; }

    /// <summary>The same column restricted to <paramref name="rows"/> (indexes into this column), in that order.</summary>
    public abstract DataColumn Select(int[] rows);
}

/// <summary>A numeric feature; a missing value is <see cref="float.NaN"/>.</summary>
public sealed class NumericColumn(string name, float[] values) : DataColumn(name)
{
    public float[] Values { get; } = values;

    public override int Length => Values.Length;

    public override DataColumn Select(int[] rows)
    {
        var selected = new float[rows.Length];
        for (var i = 0; i < rows.Length; i++)
        {
            selected[i] = Values[rows[i]];
        }

        return new NumericColumn(Name, selected);
    }
}

/// <summary>A text (categorical) feature; a missing value is <c>null</c>.</summary>
public sealed class TextColumn(string name, string?[] values) : DataColumn(name)
{
    public string?[] Values { get; } = values;

    public override int Length => Values.Length;

    public override DataColumn Select(int[] rows) => new TextColumn(Name, [.. rows.Select(r => Values[r])]);
}

/// <summary>
/// A classification data set in memory, column by column: the feature columns and one label per
/// row (the label's text as it appears in the source, e.g. "setosa" or "1"). Column-major so that
/// enrichers compute statistics over a column without touching the others, and so that an
/// <see cref="Microsoft.ML.IDataView"/> over it needs no copy (<see cref="ColumnarDataView"/>).
/// </summary>
public sealed class DataTable
{
    public DataTable(IReadOnlyList<DataColumn> features, string labelName, string[] labels)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(labels);
        foreach (var column in features)
        {
            if (column.Length != labels.Length)
            {
                throw new ArgumentException($"Column '{column.Name}' has {column.Length} values but there are {labels.Length} labels.", nameof(features));
            }
        }

        var duplicate = features.Select(c => c.Name).Append(labelName).GroupBy(n => n, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new ArgumentException($"Column name '{duplicate.Key}' appears more than once.", nameof(features));
        }

        Features = features;
        LabelName = labelName;
        Labels = labels;
        ClassNames = [.. labels.Distinct(StringComparer.Ordinal).Order(ClassNameComparer.Instance)];
    }

    public IReadOnlyList<DataColumn> Features { get; }

    /// <summary>The label column's name in the source (e.g. <c>species</c>, <c>target</c>, <c>label</c>).</summary>
    public string LabelName { get; }

    public string[] Labels { get; }

    /// <summary>The distinct labels, numbers in numeric order, then text in ordinal order.</summary>
    public IReadOnlyList<string> ClassNames { get; }

    public int RowCount => Labels.Length;

    public DataColumn this[string name] => Features.FirstOrDefault(c => c.Name == name)
        ?? throw new KeyNotFoundException($"No feature column '{name}'; the columns are: {string.Join(", ", Features.Select(c => c.Name))}.");

    /// <summary>The rows at <paramref name="rows"/>, in that order (a copy).</summary>
    public DataTable Select(int[] rows) =>
        new([.. Features.Select(c => c.Select(rows))], LabelName, [.. rows.Select(r => Labels[r])]);

    /// <summary>Each row's class as an index into <see cref="ClassNames"/>.</summary>
    public int[] ClassIndexes()
    {
        var index = ClassNames.Select((name, i) => (name, i)).ToDictionary(p => p.name, p => p.i, StringComparer.Ordinal);
        return [.. Labels.Select(l => index[l])];
    }

    /// <summary>Orders labels that are all numbers numerically ("2" before "10"), others ordinally.</summary>
    private sealed class ClassNameComparer : IComparer<string>
    {
        public static readonly ClassNameComparer Instance = new();

        public int Compare(string? x, string? y)
        {
            var xNumber = double.TryParse(x, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var xv);
            var yNumber = double.TryParse(y, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var yv);
            return (xNumber, yNumber) switch
            {
                (true, true) => xv.CompareTo(yv) is var c && c != 0 ? c : string.CompareOrdinal(x, y),
                (true, false) => -1,
                (false, true) => 1,
                _ => string.CompareOrdinal(x, y),
            };
        }
    }
}
