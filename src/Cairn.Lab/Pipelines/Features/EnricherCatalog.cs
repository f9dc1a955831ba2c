using System.Collections;
using System.Globalization;

namespace Cairn.Lab.Pipelines.Features;

/// <summary>
/// The feature enrichers a pipeline config can name and chain. Each is fitted on the training rows
/// only (<see cref="FeaturePlan.Fit"/>) and ends up inside the saved model as ML.NET transforms.
/// </summary>
public static class EnricherCatalog
{
    public static IReadOnlyList<CatalogEntry> Entries { get; } =
    [
        new("none", "The raw columns as they are.", []),
        new("log", "log1p (ln(1 + x)) of non-negative columns.",
            [new("columns", "The columns to transform (each must be non-negative in the training rows).", "every non-negative column")]),
        new("zscale", "(x - mean) / standard deviation, from the training rows.", []),
        new("minmax", "(x - min) / (max - min), from the training rows.", []),
        new("polynomial", "The columns plus their products up to a degree (the seed's 'squared' is degree 2).",
        [
            new("degree", "The highest total degree of a product, 2 to 5.", "2"),
            new("interaction_only", "Only products of distinct columns (no squares).", "false"),
        ]),
        new("subset", "Only the named columns (numeric or text), in that order.", [new("columns", "The column names to keep (required).")]),
        new("impute", "A missing value becomes a statistic of the training rows.", [new("strategy", "mean, median or most_frequent.", "mean")]),
        new("automated", "Per column from the training rows: median imputation if values are missing, log1p if non-negative and right-skewed, then z-scaling; logs what it chose.",
            [new("skew_threshold", "The skewness above which a non-negative column gets log1p.", "1")]),
    ];

    /// <summary>A configured enricher by catalog name.</summary>
    /// <exception cref="PipelineConfigException">An unknown name, an unknown option or a bad option value.</exception>
    public static IFeatureEnricher Create(string name, IReadOnlyDictionary<string, object?>? options = null)
    {
        var entry = Entries.FirstOrDefault(e => e.Name == name)
            ?? throw new PipelineConfigException($"Unknown feature enricher '{name}'; the enrichers are: {string.Join(", ", Entries.Select(e => e.Name))}.");
        options ??= new Dictionary<string, object?>();
        foreach (var key in options.Keys)
        {
            if (!entry.Options.Any(o => o.Name == key))
            {
                throw new PipelineConfigException(entry.Options.Count == 0
                    ? $"Enricher '{name}' takes no options, but was given '{key}'."
                    : $"Enricher '{name}' has no option '{key}'; its options are: {string.Join(", ", entry.Options.Select(o => o.Name))}.");
            }
        }

        return name switch
        {
            "none" => new NoEnricher(),
            "log" => new LogEnricher(options.TryGetValue("columns", out var columns) && columns is not null ? Names(name, "columns", columns) : null),
            "zscale" => new ZScaleEnricher(),
            "minmax" => new MinMaxEnricher(),
            "polynomial" => new PolynomialEnricher(Integer(name, options, "degree", 2, 2, 5), Boolean(name, options, "interaction_only", false)),
            "subset" => new SubsetEnricher(options.TryGetValue("columns", out var kept) && kept is not null
                ? Names(name, "columns", kept) is { Count: > 0 } list ? list : throw new PipelineConfigException("Enricher 'subset' needs at least one column in 'columns'.")
                : throw new PipelineConfigException("Enricher 'subset' needs the option 'columns': the list of columns to keep.")),
            "impute" => new ImputeEnricher(Choice(name, options, "strategy", "mean", ImputeEnricher.Strategies)),
            "automated" => new AutomatedEnricher(Number(name, options, "skew_threshold", 1.0)),
            _ => throw new InvalidOperationException($"Enricher '{name}' is listed but not built."),
        };
    }

    /// <summary>Fails naming the columns that exist when <paramref name="wanted"/> names one that does not.</summary>
    internal static void RequireColumns(string enricher, IEnumerable<string> wanted, IEnumerable<string> available)
    {
        var names = available.ToList();
        var unknown = wanted.Where(w => !names.Contains(w)).ToList();
        if (unknown.Count > 0)
        {
            throw new PipelineConfigException(
                $"Enricher '{enricher}': unknown column{(unknown.Count > 1 ? "s" : "")} {string.Join(", ", unknown.Select(u => $"'{u}'"))}; the columns are: {string.Join(", ", names)}.");
        }
    }

    private static List<string> Names(string enricher, string option, object value) => value switch
    {
        string s => [.. s.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)],
        IEnumerable items => [.. items.Cast<object?>().Select(i => Convert.ToString(i, CultureInfo.InvariantCulture) ?? "")],
        _ => throw new PipelineConfigException($"Enricher '{enricher}': option '{option}' must be a list of column names, not '{value}'."),
    };

    private static int Integer(string enricher, IReadOnlyDictionary<string, object?> options, string option, int fallback, int min, int max)
    {
        if (!options.TryGetValue(option, out var value) || value is null)
        {
            return fallback;
        }

        var number = Number(enricher, options, option, fallback);
        if (number != Math.Floor(number) || number < min || number > max)
        {
            throw new PipelineConfigException($"Enricher '{enricher}': option '{option}' must be a whole number from {min} to {max}, not '{value}'.");
        }

        return (int)number;
    }

    private static double Number(string enricher, IReadOnlyDictionary<string, object?> options, string option, double fallback)
    {
        if (!options.TryGetValue(option, out var value) || value is null)
        {
            return fallback;
        }

        return value switch
        {
            IConvertible c when value is not string and not bool => c.ToDouble(CultureInfo.InvariantCulture),
            string s when double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed) => parsed,
            _ => throw new PipelineConfigException($"Enricher '{enricher}': option '{option}' must be a number, not '{value}'."),
        };
    }

    private static bool Boolean(string enricher, IReadOnlyDictionary<string, object?> options, string option, bool fallback)
    {
        if (!options.TryGetValue(option, out var value) || value is null)
        {
            return fallback;
        }

        return value switch
        {
            bool b => b,
            string s when bool.TryParse(s, out var parsed) => parsed,
            _ => throw new PipelineConfigException($"Enricher '{enricher}': option '{option}' must be true or false, not '{value}'."),
        };
    }

    private static string Choice(string enricher, IReadOnlyDictionary<string, object?> options, string option, string fallback, string[] allowed)
    {
        if (!options.TryGetValue(option, out var value) || value is null)
        {
            return fallback;
        }

        var text = Convert.ToString(value, CultureInfo.InvariantCulture) ?? "";
        return allowed.Contains(text)
            ? text
            : throw new PipelineConfigException($"Enricher '{enricher}': option '{option}' is '{text}'; it must be one of: {string.Join(", ", allowed)}.");
    }
}
