using System.Globalization;

namespace Cairn.Core.Search;

/// <summary>What a search key names: a metric, param, tag, attribute of the entity itself, or a dataset input.</summary>
public enum SearchEntity
{
    Metric,
    Param,
    Tag,
    Attribute,
    Dataset,
}

/// <summary>The comparison operators of MLflow's search language (plus Cairn's <c>IS [NOT] NULL</c>).</summary>
public enum Comparator
{
    Equal,
    NotEqual,
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
    Like,
    ILike,
    In,
    NotIn,
    IsNull,
    IsNotNull,
}

/// <summary>
/// A resolved key such as <c>metrics.acc</c> or <c>attributes.start_time</c>. Aliases are already
/// folded: <see cref="Name"/> of an attribute is its canonical name (<c>created</c> becomes
/// <c>start_time</c>, <c>Run name</c> becomes <c>run_name</c>).
/// </summary>
public sealed record SearchKey(SearchEntity Entity, string Name)
{
    public override string ToString() => $"{Entity}.{Name}";
}

/// <summary>The right-hand side of a comparison.</summary>
public abstract record SearchValue;

/// <summary>A quoted string (single or double quotes), unquoted.</summary>
public sealed record StringValue(string Value) : SearchValue;

/// <summary>A numeric literal; <see cref="Text"/> keeps its spelling so integers stay exact.</summary>
public sealed record NumberValue(double Value, string Text) : SearchValue
{
    /// <summary>The literal as a 64-bit integer when it is written as one (timestamps must not pass through double).</summary>
    public long? AsInt64 => long.TryParse(Text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v) ? v : null;
}

/// <summary>A parenthesised list of quoted strings, the operand of <c>IN</c> and <c>NOT IN</c>.</summary>
public sealed record StringListValue(IReadOnlyList<string> Values) : SearchValue;

/// <summary>
/// One clause of a filter: key, comparator and value. <see cref="Value"/> is null exactly when the
/// comparator is <see cref="Comparator.IsNull"/> or <see cref="Comparator.IsNotNull"/>.
/// </summary>
public sealed record Comparison(SearchKey Key, Comparator Comparator, SearchValue? Value);

/// <summary>A parsed filter: clauses that must all hold (the language has <c>AND</c> only).</summary>
public sealed record SearchFilter(IReadOnlyList<Comparison> Clauses)
{
    public static SearchFilter Empty { get; } = new([]);
}

/// <summary>One <c>order_by</c> entry: the key to sort on and the direction.</summary>
public sealed record OrderByTerm(SearchKey Key, bool Ascending);

/// <summary>Canonical attribute names of runs and experiments as they appear in <see cref="SearchKey.Name"/>.</summary>
public static class SearchAttributes
{
    public const string RunId = "run_id";
    public const string RunName = "run_name";
    public const string UserId = "user_id";
    public const string Status = "status";
    public const string StartTime = "start_time";
    public const string EndTime = "end_time";
    public const string ArtifactUri = "artifact_uri";

    public const string ExperimentId = "experiment_id";
    public const string Name = "name";
    public const string CreationTime = "creation_time";
    public const string LastUpdateTime = "last_update_time";

    public const string DatasetName = "name";
    public const string DatasetDigest = "digest";
    public const string DatasetContext = "context";
}

internal static class ComparatorText
{
    public static string Of(Comparator c) => c switch
    {
        Comparator.Equal => "=",
        Comparator.NotEqual => "!=",
        Comparator.Less => "<",
        Comparator.LessOrEqual => "<=",
        Comparator.Greater => ">",
        Comparator.GreaterOrEqual => ">=",
        Comparator.Like => "LIKE",
        Comparator.ILike => "ILIKE",
        Comparator.In => "IN",
        Comparator.NotIn => "NOT IN",
        Comparator.IsNull => "IS NULL",
        Comparator.IsNotNull => "IS NOT NULL",
        _ => c.ToString(),
    };
}
