using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cairn.Models;

namespace Cairn.Serving;

/// <summary>
/// Applies a model signature to request rows the way MLflow's pyfunc does before predicting:
/// a required input missing from the request is an error naming it; columns the signature does not
/// know are dropped (MLflow 2.x logs a warning and ignores them); each value must convert safely to
/// its column's type, or the error names the column, the row and the value. Inference parameters
/// are checked against the signature's <c>params</c>, and defaults fill those not given.
/// </summary>
public sealed class SignatureEnforcer
{
    private readonly ColumnSpec[] _inputs;
    private readonly IReadOnlyList<ParamSpec> _params;

    public SignatureEnforcer(ModelSignature? signature)
    {
        Signature = signature;
        _inputs = signature?.Inputs.Where(c => c.Name is not null).ToArray() ?? [];
        _params = signature?.Params ?? [];
    }

    public ModelSignature? Signature { get; }

    /// <summary>Input columns of the request that the signature does not name (ignored).</summary>
    public IReadOnlyList<string> ExtraColumns(InputTable table) =>
        Signature is null ? [] : table.Columns.Where(c => !_inputs.Any(i => i.Name == c)).ToList();

    /// <summary>The rows as column → typed value, ready for <see cref="IModelPredictor.Predict"/>.</summary>
    /// <exception cref="ScoringException">A required column is missing or a value cannot be converted safely.</exception>
    public List<Dictionary<string, object?>> Apply(InputTable table)
    {
        var rows = new List<Dictionary<string, object?>>(table.Rows.Count);
        if (Signature is null)
        {
            // No signature: nothing to enforce; the predictor converts what it can.
            foreach (var values in table.Rows)
            {
                var row = new Dictionary<string, object?>(table.Columns.Count, StringComparer.Ordinal);
                for (var c = 0; c < table.Columns.Count; c++)
                {
                    row[table.Columns[c]] = c < values.Length ? values[c] : null;
                }

                rows.Add(row);
            }

            return rows;
        }

        var positions = new int[_inputs.Length];
        List<string>? missing = null;
        for (var i = 0; i < _inputs.Length; i++)
        {
            positions[i] = table.IndexOf(_inputs[i].Name!);
            if (positions[i] < 0 && _inputs[i].Required)
            {
                (missing ??= []).Add(_inputs[i].Name!);
            }
        }

        if (missing is not null)
        {
            var extra = ExtraColumns(table);
            throw ScoringException.Bad(
                $"Model is missing inputs [{string.Join(", ", missing.Select(m => $"'{m}'"))}]." +
                (extra.Count > 0 ? $" Note that there were extra inputs: [{string.Join(", ", extra.Select(m => $"'{m}'"))}]." : ""));
        }

        for (var r = 0; r < table.Rows.Count; r++)
        {
            var values = table.Rows[r];
            var row = new Dictionary<string, object?>(_inputs.Length, StringComparer.Ordinal);
            for (var i = 0; i < _inputs.Length; i++)
            {
                var p = positions[i];
                if (p < 0)
                {
                    continue; // an optional input the request does not have
                }

                var spec = _inputs[i];
                row[spec.Name!] = Convert(p < values.Length ? values[p] : null, spec, r, table.FromText);
            }

            rows.Add(row);
        }

        return rows;
    }

    private static object? Convert(object? raw, ColumnSpec spec, int row, bool text)
    {
        if (raw is null)
        {
            return spec.Type switch
            {
                ColumnTypes.Float or ColumnTypes.Double or ColumnTypes.String or ColumnTypes.Binary => null, // NaN / empty, as pandas
                _ when !spec.Required => null,
                _ => throw Incompatible(spec, row, raw, "a missing value (null)"),
            };
        }

        if (spec.Type == ColumnTypes.Array)
        {
            if (text && raw is string s)
            {
                raw = ParseJsonList(s, spec, row);
            }

            if (raw is not List<object?> list)
            {
                throw Incompatible(spec, row, raw, null);
            }

            var item = spec with { Type = spec.Items ?? ColumnTypes.Double, Required = true };
            return item.Type switch
            {
                ColumnTypes.Float => list.Select(v => (float)Scalar(v, item, row, text)!).ToArray(),
                ColumnTypes.Double => list.Select(v => (double)Scalar(v, item, row, text)!).ToArray(),
                _ => list.Select(v => Scalar(v, item, row, text)).ToArray(),
            };
        }

        return Scalar(raw, spec, row, text);
    }

    private static object ParseJsonList(string s, ColumnSpec spec, int row)
    {
        try
        {
            using var doc = JsonDocument.Parse(s);
            return JsonRequestParser.Value(doc.RootElement) ?? throw Incompatible(spec, row, s, null);
        }
        catch (JsonException)
        {
            throw Incompatible(spec, row, s, null);
        }
    }

    /// <summary>MLflow's safe conversions: ints widen to floats, integral-valued numbers narrow to ints within range, text only where the request is text (CSV).</summary>
    private static object? Scalar(object? raw, ColumnSpec spec, int row, bool text)
    {
        if (raw is null)
        {
            return spec.Type is ColumnTypes.Float or ColumnTypes.Double ? (spec.Type == ColumnTypes.Float ? float.NaN : double.NaN)
                : throw Incompatible(spec, row, raw, "a missing value (null)");
        }

        switch (spec.Type)
        {
            case ColumnTypes.Float:
            case ColumnTypes.Double:
                {
                    double d;
                    switch (raw)
                    {
                        case long l:
                            d = l;
                            break;
                        case double x:
                            d = x;
                            break;
                        case string s when text && double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed):
                            d = parsed;
                            break;
                        default:
                            throw Incompatible(spec, row, raw, null);
                    }

                    if (spec.Type == ColumnTypes.Double)
                    {
                        return d;
                    }

                    if (double.IsFinite(d) && Math.Abs(d) > float.MaxValue)
                    {
                        throw Incompatible(spec, row, raw, "a number beyond a float's range");
                    }

                    return (float)d;
                }

            case ColumnTypes.Integer:
            case ColumnTypes.Long:
                {
                    long l;
                    switch (raw)
                    {
                        case long x:
                            l = x;
                            break;
                        case double d when d == Math.Floor(d) && d >= long.MinValue && d < 9.2233720368547758E+18:
                            l = (long)d;
                            break;
                        case string s when text && long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed):
                            l = parsed;
                            break;
                        case string s when text && double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var d)
                                                && d == Math.Floor(d) && d >= long.MinValue && d < 9.2233720368547758E+18:
                            l = (long)d;
                            break;
                        default:
                            throw Incompatible(spec, row, raw, null);
                    }

                    if (spec.Type == ColumnTypes.Integer)
                    {
                        return l is >= int.MinValue and <= int.MaxValue ? (int)l : throw Incompatible(spec, row, raw, "a number beyond a 32-bit integer's range");
                    }

                    return l;
                }

            case ColumnTypes.Boolean:
                return raw switch
                {
                    bool b => b,
                    string s when text && bool.TryParse(s.Trim(), out var b) => b,
                    _ => throw Incompatible(spec, row, raw, null),
                };
            case ColumnTypes.String:
                return raw is string str ? str : throw Incompatible(spec, row, raw, null);
            case ColumnTypes.Binary:
                return raw is string bin ? bin : throw Incompatible(spec, row, raw, null);
            case ColumnTypes.DateTime:
                return raw is string t && DateTime.TryParse(t, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var dt)
                    ? dt
                    : throw Incompatible(spec, row, raw, null);
            default:
                return raw;
        }
    }

    private static ScoringException Incompatible(ColumnSpec spec, int row, object? raw, string? what)
    {
        var expects = spec.Type == ColumnTypes.Array ? $"a list of {spec.Items}" : spec.Type;
        return ScoringException.Bad(
            $"Incompatible input types for column '{spec.Name}': it expects {expects}, but row {row} has {what ?? Describe(raw)}, which cannot be converted safely.");
    }

    private static string Describe(object? raw) => raw switch
    {
        null => "null",
        string s => $"the string \"{Shorten(s)}\"",
        bool b => $"the boolean {(b ? "true" : "false")}",
        long l => $"the integer {l.ToString(CultureInfo.InvariantCulture)}",
        double d => $"the number {d.ToString("R", CultureInfo.InvariantCulture)}",
        JsonOther { IsNumber: true } o => $"the number {Shorten(o.Raw)}, beyond a double's range",
        JsonOther o => $"the JSON value {Shorten(o.Raw)}",
        List<object?> => "a list",
        _ => raw.GetType().Name,
    };

    private static string Shorten(string s) => s.Length <= 40 ? s : s[..40] + "...";

    /// <summary>
    /// The inference parameters to use: each given one checked against its spec (type and shape), the
    /// signature's defaults for the rest. A parameter the signature does not declare is an error
    /// (MLflow 2.x ignores it with a warning; Cairn rejects it so a typo does not pass unnoticed).
    /// </summary>
    /// <exception cref="ScoringException">INVALID_PARAMETER_VALUE naming the parameter.</exception>
    public Dictionary<string, object?> ApplyParams(Dictionary<string, object?>? given)
    {
        var result = new Dictionary<string, object?>(StringComparer.Ordinal);
        if (given is not null)
        {
            foreach (var name in given.Keys)
            {
                if (!_params.Any(p => p.Name == name))
                {
                    throw new ScoringException(ScoringException.InvalidParameterValue,
                        _params.Count == 0
                            ? $"Unknown parameter '{name}': this model's signature declares no inference parameters."
                            : $"Unknown parameter '{name}': this model accepts [{string.Join(", ", _params.Select(p => $"'{p.Name}'"))}].");
                }
            }
        }

        foreach (var spec in _params)
        {
            if (given is not null && given.TryGetValue(spec.Name, out var value))
            {
                result[spec.Name] = Param(spec, value);
            }
            else
            {
                result[spec.Name] = spec.Default is null ? null : Param(spec, JsonRequestParser.Value(JsonSerializer.SerializeToElement(spec.Default)));
            }
        }

        return result;
    }

    private static object? Param(ParamSpec spec, object? value)
    {
        var column = new ColumnSpec(spec.Name, spec.Type, Required: true);
        try
        {
            if (spec.Shape is { Count: > 0 })
            {
                return value is List<object?> list
                    ? list.Select(v => Scalar(v, column, 0, text: false)).ToArray()
                    : throw new ScoringException(ScoringException.InvalidParameterValue, $"Parameter '{spec.Name}' expects a list of {spec.Type}; got {Describe(value)}.");
            }

            if (value is null)
            {
                return null;
            }

            return Scalar(value, column, 0, text: false);
        }
        catch (ScoringException e) when (e.ErrorCode == ScoringException.BadRequest)
        {
            throw new ScoringException(ScoringException.InvalidParameterValue, $"Invalid value for parameter '{spec.Name}': it expects {spec.Type}{(spec.Shape is { Count: > 0 } ? " values" : "")}, got {Describe(value)}.");
        }
    }

    internal static JsonNode? ToNode(object? value) => value switch
    {
        null => null,
        string s => s,
        bool b => b,
        long l => l,
        int i => i,
        double d => d,
        float f => f,
        DateTime t => t.ToString("o", CultureInfo.InvariantCulture),
        System.Collections.IEnumerable e => new JsonArray(e.Cast<object?>().Select(ToNode).ToArray()),
        _ => value.ToString(),
    };
}
