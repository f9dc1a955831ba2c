using System.Buffers;
using System.Text.Json;

namespace Cairn.Serving;

/// <summary>A request the scoring server rejects: MLflow's error code, a message, and the HTTP status.</summary>
public sealed class ScoringException(string errorCode, string message, int status = 400) : Exception(message)
{
    public const string BadRequest = "BAD_REQUEST";
    public const string InvalidParameterValue = "INVALID_PARAMETER_VALUE";

    public string ErrorCode { get; } = errorCode;

    public int Status { get; } = status;

    public static ScoringException Bad(string message) => new(BadRequest, message);
}

/// <summary>
/// The rows of a scoring request before the signature is applied: column names in order of first
/// appearance and, per row, the raw values by column position (a row shorter than
/// <see cref="Columns"/> has nulls for the rest, as pandas fills a record missing a key).
/// Raw values are what the request carried: JSON gives <c>null</c>, <see cref="bool"/>,
/// <see cref="long"/> (integer literals), <see cref="double"/>, <see cref="string"/>, lists and
/// <see cref="JsonOther"/>; CSV gives strings (and null for an empty field).
/// </summary>
public sealed class InputTable
{
    private readonly Dictionary<string, int> _index = new(StringComparer.Ordinal);

    public InputTable(bool fromText = false)
    {
        FromText = fromText;
    }

    public List<string> Columns { get; } = [];

    public List<object?[]> Rows { get; } = [];

    /// <summary>Values are text to be parsed (CSV), not typed JSON values.</summary>
    public bool FromText { get; }

    public int IndexOf(string column) => _index.TryGetValue(column, out var i) ? i : -1;

    /// <summary>Adds a column (if new) and returns its position.</summary>
    public int AddColumn(string column, bool allowDuplicate = true)
    {
        if (_index.TryGetValue(column, out var i))
        {
            return allowDuplicate ? i : throw ScoringException.Bad($"Column '{column}' appears more than once.");
        }

        _index[column] = Columns.Count;
        Columns.Add(column);
        return Columns.Count - 1;
    }
}

/// <summary>A JSON value a column type cannot take as it is (an object, or a number beyond double's range), kept as its text.</summary>
public sealed record JsonOther(string Raw, bool IsNumber = false)
{
    public override string ToString() => Raw;
}

/// <summary>A parsed JSON scoring request: its rows and its raw <c>params</c> (null when absent).</summary>
public sealed record JsonScoringRequest(InputTable Table, Dictionary<string, object?>? Params);

/// <summary>
/// Parses MLflow's JSON scoring requests: a JSON object with exactly one of <c>dataframe_split</c>,
/// <c>dataframe_records</c>, <c>instances</c>, <c>inputs</c>, and optionally <c>params</c>. Other keys
/// are ignored, as MLflow's server ignores them.
/// </summary>
public static class JsonRequestParser
{
    public static readonly string[] Formats = ["dataframe_split", "dataframe_records", "instances", "inputs"];

    private static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = 64 };

    private const string Shape =
        "The request must be a JSON object with exactly one of the input fields 'dataframe_split', 'dataframe_records', 'instances' or 'inputs'";

    public static JsonScoringRequest Parse(ReadOnlySequence<byte> body)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(body, DocumentOptions);
        }
        catch (JsonException e)
        {
            throw ScoringException.Bad($"Invalid input. The body is not valid JSON: {e.Message}");
        }

        using (doc)
        {
            return Parse(doc.RootElement);
        }
    }

    public static JsonScoringRequest Parse(ReadOnlyMemory<byte> body) => Parse(new ReadOnlySequence<byte>(body));

    public static JsonScoringRequest Parse(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw ScoringException.Bad($"Invalid input. {Shape}; got a JSON {Kind(root)}.");
        }

        JsonElement? data = null;
        string? format = null;
        JsonElement? @params = null;
        var seen = new List<string>();
        foreach (var property in root.EnumerateObject())
        {
            seen.Add(property.Name);
            if (property.NameEquals("params"))
            {
                @params = property.Value;
                continue;
            }

            if (Array.IndexOf(Formats, property.Name) < 0)
            {
                continue;
            }

            if (format is not null)
            {
                throw ScoringException.Bad($"Invalid input. {Shape}; got both '{format}' and '{property.Name}'.");
            }

            format = property.Name;
            data = property.Value;
        }

        if (format is null)
        {
            throw ScoringException.Bad($"Invalid input. {Shape}. Received a dictionary with fields: [{string.Join(", ", seen.Select(s => $"'{s}'"))}].");
        }

        var table = format switch
        {
            "dataframe_split" => Split(data!.Value),
            "dataframe_records" => Records(data!.Value, format),
            _ => Instances(data!.Value, format),
        };
        return new JsonScoringRequest(table, @params is { } p ? Params(p) : null);
    }

    private static Dictionary<string, object?>? Params(JsonElement p)
    {
        if (p.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (p.ValueKind != JsonValueKind.Object)
        {
            throw new ScoringException(ScoringException.InvalidParameterValue, $"'params' must be a JSON object of name to value; got a JSON {Kind(p)}.");
        }

        var result = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var property in p.EnumerateObject())
        {
            result[property.Name] = Value(property.Value);
        }

        return result;
    }

    /// <summary><c>{"columns": [...], "data": [[...], ...], "index": [...]}</c> (pandas' split orient; the index is ignored).</summary>
    private static InputTable Split(JsonElement split)
    {
        if (split.ValueKind != JsonValueKind.Object)
        {
            throw ScoringException.Bad($"Invalid input. 'dataframe_split' must be an object with 'columns' and 'data'; got a JSON {Kind(split)}.");
        }

        var table = new InputTable();
        if (!split.TryGetProperty("columns", out var columns) || columns.ValueKind != JsonValueKind.Array)
        {
            throw ScoringException.Bad("Invalid input. 'dataframe_split' needs 'columns', a list of column names.");
        }

        foreach (var c in columns.EnumerateArray())
        {
            if (c.ValueKind != JsonValueKind.String)
            {
                throw ScoringException.Bad($"Invalid input. 'dataframe_split.columns' must hold column names (strings); got {c.GetRawText()}.");
            }

            table.AddColumn(c.GetString()!, allowDuplicate: false);
        }

        if (!split.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Array)
        {
            throw ScoringException.Bad("Invalid input. 'dataframe_split' needs 'data', a list of rows (each a list of values).");
        }

        var rowIndex = 0;
        foreach (var row in data.EnumerateArray())
        {
            if (row.ValueKind != JsonValueKind.Array)
            {
                throw ScoringException.Bad($"Invalid input. 'dataframe_split.data' row {rowIndex} is a JSON {Kind(row)}, not a list of values.");
            }

            var length = row.GetArrayLength();
            if (length != table.Columns.Count)
            {
                throw ScoringException.Bad($"Invalid input. 'dataframe_split.data' row {rowIndex} has {length} values for {table.Columns.Count} columns.");
            }

            var values = new object?[length];
            var i = 0;
            foreach (var v in row.EnumerateArray())
            {
                values[i++] = Value(v);
            }

            table.Rows.Add(values);
            rowIndex++;
        }

        return table;
    }

    /// <summary>A list of objects (pandas' records orient).</summary>
    private static InputTable Records(JsonElement records, string format)
    {
        if (records.ValueKind != JsonValueKind.Array)
        {
            throw ScoringException.Bad($"Invalid input. '{format}' must be a list of objects (column → value); got a JSON {Kind(records)}.");
        }

        var table = new InputTable();
        var rowIndex = 0;
        foreach (var record in records.EnumerateArray())
        {
            if (record.ValueKind != JsonValueKind.Object)
            {
                throw ScoringException.Bad(
                    $"Invalid input. '{format}' item {rowIndex} is a JSON {Kind(record)}; each row must be an object of column name to value{(record.ValueKind == JsonValueKind.Array ? " (this model's inputs are named columns)" : "")}.");
            }

            var values = new object?[Math.Max(table.Columns.Count, 4)];
            foreach (var property in record.EnumerateObject())
            {
                var i = table.AddColumn(property.Name);
                if (i >= values.Length)
                {
                    Array.Resize(ref values, Math.Max(i + 1, values.Length * 2));
                }

                values[i] = Value(property.Value);
            }

            table.Rows.Add(values);
            rowIndex++;
        }

        return table;
    }

    /// <summary>TF-serving style: a list of objects (row format) or an object of column → list (columnar format; all scalars is one row).</summary>
    private static InputTable Instances(JsonElement input, string format)
    {
        if (input.ValueKind == JsonValueKind.Array)
        {
            return Records(input, format);
        }

        if (input.ValueKind != JsonValueKind.Object)
        {
            throw ScoringException.Bad($"Invalid input. '{format}' must be a list of objects or an object of column → list of values; got a JSON {Kind(input)}.");
        }

        var table = new InputTable();
        bool? lists = null;
        var length = -1;
        foreach (var property in input.EnumerateObject())
        {
            table.AddColumn(property.Name, allowDuplicate: false);
            var isList = property.Value.ValueKind == JsonValueKind.Array;
            if (lists is { } l && l != isList)
            {
                throw ScoringException.Bad($"Invalid input. '{format}' mixes lists and single values; column '{property.Name}' {(isList ? "is" : "is not")} a list.");
            }

            lists = isList;
            if (isList)
            {
                var n = property.Value.GetArrayLength();
                if (length >= 0 && n != length)
                {
                    throw ScoringException.Bad($"Invalid input. '{format}' columns must have the same length; column '{property.Name}' has {n} values, the columns before it {length}.");
                }

                length = n;
            }
        }

        if (lists != true)
        {
            var row = new object?[table.Columns.Count];
            var i = 0;
            foreach (var property in input.EnumerateObject())
            {
                row[i++] = Value(property.Value);
            }

            if (row.Length > 0)
            {
                table.Rows.Add(row);
            }

            return table;
        }

        for (var r = 0; r < length; r++)
        {
            table.Rows.Add(new object?[table.Columns.Count]);
        }

        var c = 0;
        foreach (var property in input.EnumerateObject())
        {
            var r = 0;
            foreach (var v in property.Value.EnumerateArray())
            {
                table.Rows[r++][c] = Value(v);
            }

            c++;
        }

        return table;
    }

    /// <summary>A JSON value as a raw CLR value (see <see cref="InputTable"/>).</summary>
    internal static object? Value(JsonElement v)
    {
        switch (v.ValueKind)
        {
            case JsonValueKind.Null:
                return null;
            case JsonValueKind.True:
                return true;
            case JsonValueKind.False:
                return false;
            case JsonValueKind.String:
                return v.GetString();
            case JsonValueKind.Number:
                if (v.TryGetInt64(out var l))
                {
                    return l;
                }

                return v.TryGetDouble(out var d) && double.IsFinite(d) ? d : new JsonOther(v.GetRawText(), IsNumber: true);
            case JsonValueKind.Array:
                {
                    var list = new List<object?>(v.GetArrayLength());
                    foreach (var item in v.EnumerateArray())
                    {
                        list.Add(Value(item));
                    }

                    return list;
                }

            default:
                return new JsonOther(v.GetRawText());
        }
    }

    internal static string Kind(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Object => "object",
        JsonValueKind.Array => "list",
        JsonValueKind.String => "string",
        JsonValueKind.Number => "number",
        JsonValueKind.True or JsonValueKind.False => "boolean",
        _ => "null",
    };
}
