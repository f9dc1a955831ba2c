using System.Globalization;
using System.Text.Json;

namespace Cairn.Lab.Pipelines.Models;

/// <summary>
/// A model's hyperparameters as given in config or by a tuner, read with one clear error per mistake:
/// unknown names (listing the allowed ones), values of the wrong kind and values out of range.
/// Numbers may arrive as any numeric type or as text (YAML scalars), so all are accepted.
/// </summary>
internal sealed class Hyperparameters
{
    private readonly string _model;
    private readonly IReadOnlyDictionary<string, object?> _values;

    public Hyperparameters(string model, IReadOnlyList<OptionInfo> options, IReadOnlyDictionary<string, object?>? values)
    {
        _model = model;
        _values = values ?? new Dictionary<string, object?>();
        var allowed = options.Select(o => o.Name).ToHashSet(StringComparer.Ordinal);
        var unknown = _values.Keys.Where(k => !allowed.Contains(k)).Order(StringComparer.Ordinal).ToList();
        if (unknown.Count > 0)
        {
            throw new PipelineConfigException(
                $"Model '{model}' has no hyperparameter {string.Join(", ", unknown.Select(u => $"'{u}'"))}; the allowed ones are: {string.Join(", ", options.Select(o => o.Name))}.");
        }
    }

    public int Int(string name, int defaultValue, int min, int max = int.MaxValue)
    {
        if (!TryGet(name, out var raw))
        {
            return defaultValue;
        }

        var value = ToDouble(name, raw);
        if (value != Math.Floor(value))
        {
            throw Invalid(name, raw, "a whole number");
        }

        if (value < min || value > max)
        {
            throw Invalid(name, raw, max == int.MaxValue ? $"at least {min}" : $"between {min} and {max}");
        }

        return (int)value;
    }

    /// <summary>A float in [<paramref name="min"/>, <paramref name="max"/>], or (min, max] when <paramref name="minExclusive"/>.</summary>
    public double Float(string name, double defaultValue, double min, double max = double.PositiveInfinity, bool minExclusive = false)
    {
        if (!TryGet(name, out var raw))
        {
            return defaultValue;
        }

        var value = ToDouble(name, raw);
        if (!double.IsFinite(value) || (minExclusive ? value <= min : value < min) || value > max)
        {
            var low = minExclusive ? $"greater than {Format(min)}" : $"at least {Format(min)}";
            throw Invalid(name, raw, double.IsPositiveInfinity(max) ? low : $"{low} and at most {Format(max)}");
        }

        return value;
    }

    public string Choice(string name, string defaultValue, params string[] choices)
    {
        if (!TryGet(name, out var raw))
        {
            return defaultValue;
        }

        var text = Convert.ToString(raw is JsonElement e ? e.ToString() : raw, CultureInfo.InvariantCulture)?.Trim().ToLowerInvariant();
        return choices.FirstOrDefault(c => c == text) ?? throw Invalid(name, raw, $"one of {string.Join(", ", choices)}");
    }

    public string? Text(string name, string? defaultValue)
    {
        if (!TryGet(name, out var raw))
        {
            return defaultValue;
        }

        return raw switch
        {
            string s => s,
            JsonElement e => e.ToString(),
            System.Collections.IEnumerable list => string.Join(",", list.Cast<object?>().Select(o => Convert.ToString(o, CultureInfo.InvariantCulture))),
            _ => Convert.ToString(raw, CultureInfo.InvariantCulture),
        };
    }

    public PipelineConfigException Invalid(string name, object? raw, string expected) =>
        new($"Model '{_model}': hyperparameter '{name}' must be {expected}, but is {Describe(raw)}.");

    private bool TryGet(string name, out object? value) => _values.TryGetValue(name, out value) && value is not null;

    private double ToDouble(string name, object? raw)
    {
        switch (raw)
        {
            case JsonElement { ValueKind: JsonValueKind.Number } e:
                return e.GetDouble();
            case JsonElement { ValueKind: JsonValueKind.String } e when TryParse(e.GetString(), out var fromJson):
                return fromJson;
            case string s when TryParse(s, out var parsed):
                return parsed;
            case byte or sbyte or short or ushort or int or uint or long or ulong or float or double or decimal:
                return Convert.ToDouble(raw, CultureInfo.InvariantCulture);
            default:
                throw Invalid(name, raw, "a number");
        }
    }

    private static bool TryParse(string? s, out double value) =>
        double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out value);

    private static string Format(double v) => v.ToString("G", CultureInfo.InvariantCulture);

    private static string Describe(object? raw) => raw switch
    {
        string s => $"'{s}'",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => $"'{raw}'",
    };
}
