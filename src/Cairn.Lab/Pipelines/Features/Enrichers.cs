using System.Globalization;
using static Cairn.Lab.Pipelines.Features.FeatureExpression;

namespace Cairn.Lab.Pipelines.Features;

/// <summary>An enricher that can fit itself: from the features before it to the features after it.</summary>
internal interface IFittableEnricher : IFeatureEnricher
{
    FeatureSet Fit(FeatureSet input, TrainingRows train, ChoiceLog choices);
}

/// <summary>Statistics over training values, missing values (NaN) left out.</summary>
internal static class Statistics
{
    public static double[] Present(float[] values) => [.. values.Where(v => !float.IsNaN(v)).Select(v => (double)v)];

    public static double Mean(double[] values) => values.Length == 0 ? 0 : values.Average();

    /// <summary>The population standard deviation (as scikit-learn's StandardScaler).</summary>
    public static double StandardDeviation(double[] values)
    {
        if (values.Length == 0)
        {
            return 0;
        }

        var mean = values.Average();
        return Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / values.Length);
    }

    public static double Median(double[] values)
    {
        if (values.Length == 0)
        {
            return 0;
        }

        var sorted = values.Order().ToArray();
        var middle = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }

    /// <summary>The most frequent value; the smallest of equally frequent ones.</summary>
    public static double MostFrequent(double[] values) => values.Length == 0
        ? 0
        : values.GroupBy(v => v).OrderByDescending(g => g.Count()).ThenBy(g => g.Key).First().Key;

    /// <summary>The sample skewness g1 = m3 / m2^1.5 (0 for a constant column).</summary>
    public static double Skewness(double[] values)
    {
        if (values.Length < 3)
        {
            return 0;
        }

        var mean = values.Average();
        double m2 = 0, m3 = 0;
        foreach (var v in values)
        {
            var d = v - mean;
            m2 += d * d;
            m3 += d * d * d;
        }

        m2 /= values.Length;
        m3 /= values.Length;
        return m2 <= 0 ? 0 : m3 / Math.Pow(m2, 1.5);
    }

    public static string Format(double value) => value.ToString("G6", CultureInfo.InvariantCulture);

    /// <summary><c>(x - center) / scale</c>, with a scale of 1 when the training values do not vary.</summary>
    public static FeatureExpression Scale(FeatureExpression x, double center, double scale) =>
        (x - new Constant((float)center)) / new Constant(scale > 0 && double.IsFinite(scale) && (float)scale > 0 ? (float)scale : 1f);
}

/// <summary><c>none</c>: the raw columns as they are.</summary>
internal sealed class NoEnricher : IFittableEnricher
{
    public string Name => "none";

    public FeatureSet Fit(FeatureSet input, TrainingRows train, ChoiceLog choices) => input;
}

/// <summary><c>log</c>: log1p of non-negative columns (all of them, or those named).</summary>
internal sealed class LogEnricher(IReadOnlyList<string>? columns) : IFittableEnricher
{
    public string Name => "log";

    public FeatureSet Fit(FeatureSet input, TrainingRows train, ChoiceLog choices)
    {
        if (columns is not null)
        {
            EnricherCatalog.RequireColumns("log", columns, input.Numeric.Select(f => f.Name));
        }

        var chosen = new List<string>();
        var output = input.Numeric.Select(feature =>
        {
            var values = Statistics.Present(train.Values(feature));
            var nonNegative = values.Length == 0 || values.Min() >= 0;
            if (columns is not null && columns.Contains(feature.Name) && !nonNegative)
            {
                throw new PipelineConfigException(
                    $"Enricher 'log': column '{feature.Name}' has negative values in the training rows (min {Statistics.Format(values.Min())}); log1p needs non-negative columns.");
            }

            if (!(columns?.Contains(feature.Name) ?? nonNegative))
            {
                return feature;
            }

            chosen.Add(feature.Name);
            return feature with { Expression = new Ln(new Constant(1) + feature.Expression) };
        }).ToList();
        choices.Add("columns", chosen.Count == 0 ? "(none)" : string.Join(", ", chosen));
        return input with { Numeric = output };
    }
}

/// <summary><c>zscale</c>: (x - mean) / standard deviation of the training rows.</summary>
internal sealed class ZScaleEnricher : IFittableEnricher
{
    public string Name => "zscale";

    public FeatureSet Fit(FeatureSet input, TrainingRows train, ChoiceLog choices)
    {
        var output = input.Numeric.Select(feature =>
        {
            var values = Statistics.Present(train.Values(feature));
            return feature with { Expression = Statistics.Scale(feature.Expression, Statistics.Mean(values), Statistics.StandardDeviation(values)) };
        }).ToList();
        choices.Add("", $"{output.Count} columns, mean and standard deviation of {train.Count} training rows");
        return input with { Numeric = output };
    }
}

/// <summary><c>minmax</c>: (x - min) / (max - min) of the training rows.</summary>
internal sealed class MinMaxEnricher : IFittableEnricher
{
    public string Name => "minmax";

    public FeatureSet Fit(FeatureSet input, TrainingRows train, ChoiceLog choices)
    {
        var output = input.Numeric.Select(feature =>
        {
            var values = Statistics.Present(train.Values(feature));
            var (min, max) = values.Length == 0 ? (0, 0) : (values.Min(), values.Max());
            return feature with { Expression = Statistics.Scale(feature.Expression, min, max - min) };
        }).ToList();
        choices.Add("", $"{output.Count} columns, min and max of {train.Count} training rows");
        return input with { Numeric = output };
    }
}

/// <summary><c>polynomial</c>: the columns plus their products up to a degree (squares included unless interaction only).</summary>
internal sealed class PolynomialEnricher(int degree, bool interactionOnly) : IFittableEnricher
{
    /// <summary>More terms than this would make a model of thousands of transforms: choose a subset first.</summary>
    public const int MaxFeatures = 2_000;

    public string Name => "polynomial";

    public FeatureSet Fit(FeatureSet input, TrainingRows train, ChoiceLog choices)
    {
        var features = input.Numeric;
        var output = new List<Feature>(features);
        var terms = new List<int[]>();
        for (var d = 2; d <= degree; d++)
        {
            Combine(new int[d], 0, 0, terms, features.Count);
        }

        if (features.Count + terms.Count > MaxFeatures)
        {
            throw new PipelineConfigException(
                $"Enricher 'polynomial' of degree {degree} over {features.Count} columns makes {features.Count + terms.Count} features, more than {MaxFeatures}; put a 'subset' before it or lower the degree.");
        }

        foreach (var term in terms)
        {
            var expression = features[term[0]].Expression;
            for (var i = 1; i < term.Length; i++)
            {
                expression *= features[term[i]].Expression;
            }

            var name = string.Join("*", term.GroupBy(i => i).Select(g => g.Count() == 1 ? features[g.Key].Name : $"{features[g.Key].Name}^{g.Count()}"));
            output.Add(new Feature(name, expression));
        }

        choices.Add("", $"degree {degree}{(interactionOnly ? ", interaction only" : "")}: {features.Count} columns + {terms.Count} products");
        return input with { Numeric = output };
    }

    /// <summary>Index multisets in non-decreasing order (strictly increasing when interaction only).</summary>
    private void Combine(int[] term, int position, int start, List<int[]> terms, int count)
    {
        if (position == term.Length)
        {
            terms.Add((int[])term.Clone());
            return;
        }

        for (var i = start; i < count; i++)
        {
            term[position] = i;
            Combine(term, position + 1, interactionOnly ? i + 1 : i, terms, count);
        }
    }
}

/// <summary><c>subset</c>: only the named columns (numeric or text), in the order given.</summary>
internal sealed class SubsetEnricher(IReadOnlyList<string> columns) : IFittableEnricher
{
    public string Name => "subset";

    public FeatureSet Fit(FeatureSet input, TrainingRows train, ChoiceLog choices)
    {
        EnricherCatalog.RequireColumns("subset", columns, input.Names);
        var numeric = columns.Select(c => input.Numeric.FirstOrDefault(f => f.Name == c)).OfType<Feature>().ToList();
        var text = columns.Where(input.Text.Contains).ToList();
        choices.Add("columns", string.Join(", ", columns));
        return new FeatureSet(numeric, text);
    }
}

/// <summary><c>impute</c>: a missing value becomes the training rows' mean, median or most frequent value.</summary>
internal sealed class ImputeEnricher(string strategy) : IFittableEnricher
{
    public static readonly string[] Strategies = ["mean", "median", "most_frequent"];

    public string Name => "impute";

    public FeatureSet Fit(FeatureSet input, TrainingRows train, ChoiceLog choices)
    {
        // Every numeric column gets the fill, not only those missing values in training: a
        // scoring request may leave out a value the training rows always had.
        var output = input.Numeric.Select(feature =>
        {
            var all = train.Values(feature);
            var values = Statistics.Present(all);
            var fill = Fill(values);
            if (values.Length < all.Length)
            {
                choices.Add(feature.Name, $"{strategy} {Statistics.Format(fill)} ({all.Length - values.Length} missing in training)");
            }

            return feature with { Expression = new FillMissing(feature.Expression, (float)fill) };
        }).ToList();
        choices.Add("", $"{strategy}, {output.Count} columns");
        return input with { Numeric = output };
    }

    private double Fill(double[] values) => strategy switch
    {
        "median" => Statistics.Median(values),
        "most_frequent" => Statistics.MostFrequent(values),
        _ => Statistics.Mean(values),
    };
}

/// <summary>
/// <c>automated</c>: per column, from the training rows: median imputation if values are
/// missing, log1p if the column is non-negative and right-skewed beyond the threshold, then
/// z-scaling. What it chose is recorded per column.
/// </summary>
internal sealed class AutomatedEnricher(double skewThreshold) : IFittableEnricher
{
    public string Name => "automated";

    public FeatureSet Fit(FeatureSet input, TrainingRows train, ChoiceLog choices)
    {
        var output = input.Numeric.Select(feature =>
        {
            var steps = new List<string>();
            var expression = feature.Expression;
            var all = train.Values(feature);
            var present = Statistics.Present(all);
            if (present.Length < all.Length)
            {
                var median = Statistics.Median(present);
                expression = new FillMissing(expression, (float)median);
                steps.Add($"impute median {Statistics.Format(median)}");
            }

            var values = train.Values(expression);
            var observed = Statistics.Present(values);
            var skewness = Statistics.Skewness(observed);
            if (observed.Length > 0 && observed.Min() >= 0 && skewness > skewThreshold)
            {
                expression = new Ln(new Constant(1) + expression);
                steps.Add($"log1p (skewness {Statistics.Format(skewness)})");
                observed = Statistics.Present(train.Values(expression));
            }

            expression = Statistics.Scale(expression, Statistics.Mean(observed), Statistics.StandardDeviation(observed));
            steps.Add("zscale");
            choices.Add(feature.Name, string.Join(", ", steps));
            return feature with { Expression = expression };
        }).ToList();
        return input with { Numeric = output };
    }
}
