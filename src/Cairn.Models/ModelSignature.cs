using System.Text.Json;
using System.Text.Json.Nodes;

namespace Cairn.Models;

/// <summary>MLflow's column data types as they appear in a signature's <c>type</c> field.</summary>
public static class ColumnTypes
{
    public const string Boolean = "boolean";
    public const string Integer = "integer";
    public const string Long = "long";
    public const string Float = "float";
    public const string Double = "double";
    public const string String = "string";
    public const string Binary = "binary";
    public const string DateTime = "datetime";
    public const string Array = "array";

    public static IReadOnlyList<string> Scalars { get; } = [Boolean, Integer, Long, Float, Double, String, Binary, DateTime];
}

/// <summary>
/// One named column of a signature (MLflow's <c>ColSpec</c>). <see cref="Items"/> is the element
/// type when <see cref="Type"/> is <c>array</c> (an ML.NET vector column).
/// </summary>
public sealed record ColumnSpec(string? Name, string Type, bool Required = true, string? Items = null)
{
    internal JsonObject ToJson()
    {
        var o = new JsonObject { ["type"] = Type };
        if (Items is not null)
        {
            o["items"] = new JsonObject { ["type"] = Items };
        }

        if (Name is not null)
        {
            o["name"] = Name;
        }

        o["required"] = Required;
        return o;
    }

    internal static ColumnSpec FromJson(JsonNode? node, string where)
    {
        if (node is not JsonObject o)
        {
            throw new InvalidModelPackageException($"{where}: each column must be an object like {{\"name\": \"x\", \"type\": \"double\"}}.");
        }

        var type = (o["type"] as JsonValue)?.TryGetValue<string>(out var t) == true ? t : throw new InvalidModelPackageException($"{where}: a column has no 'type'.");
        var name = o["name"] is JsonValue n && n.TryGetValue<string>(out var s) ? s : null;
        string? items = null;
        if (type == ColumnTypes.Array)
        {
            items = o["items"]?["type"] is JsonValue it && it.TryGetValue<string>(out var i) ? i
                : throw new InvalidModelPackageException($"{where}: array column '{name}' has no 'items.type'.");
        }
        else if (!ColumnTypes.Scalars.Contains(type))
        {
            throw new InvalidModelPackageException($"{where}: column '{name}' has unknown type '{type}' (expected one of {string.Join(", ", ColumnTypes.Scalars)}, array).");
        }

        var required = o["required"] is not JsonValue r || !r.TryGetValue<bool>(out var b) || b;
        return new ColumnSpec(name, type, required, items);
    }
}

/// <summary>An inference parameter a model accepts beside its input (MLflow's <c>ParamSpec</c>).</summary>
public sealed record ParamSpec(string Name, string Type, JsonNode? Default = null, IReadOnlyList<int>? Shape = null);

/// <summary>What a model takes and returns: input and output columns, and optional inference parameters.</summary>
public sealed record ModelSignature(IReadOnlyList<ColumnSpec> Inputs, IReadOnlyList<ColumnSpec>? Outputs = null, IReadOnlyList<ParamSpec>? Params = null)
{
    /// <summary>The JSON text MLflow stores for a column list inside the YAML file.</summary>
    internal static string ColumnsJson(IReadOnlyList<ColumnSpec> columns) =>
        new JsonArray(columns.Select(c => (JsonNode)c.ToJson()).ToArray()).ToJsonString();

    internal static IReadOnlyList<ColumnSpec> ParseColumns(string json, string where)
    {
        return ParseList(json, where, "columns").Select(c => ColumnSpec.FromJson(c, where)).ToList();
    }

    internal static string ParamsJson(IReadOnlyList<ParamSpec> @params) =>
        new JsonArray(@params.Select(p => (JsonNode)new JsonObject
        {
            ["name"] = p.Name,
            ["type"] = p.Type,
            ["default"] = p.Default?.DeepClone(),
            ["shape"] = p.Shape is null ? null : new JsonArray(p.Shape.Select(s => (JsonNode)s).ToArray()),
        }).ToArray()).ToJsonString();

    internal static IReadOnlyList<ParamSpec> ParseParams(string json, string where)
    {
        return ParseList(json, where, "parameters").Select(p =>
        {
            var name = p?["name"] is JsonValue n && n.TryGetValue<string>(out var s) ? s : throw new InvalidModelPackageException($"{where}: a parameter has no 'name'.");
            var type = p["type"] is JsonValue t && t.TryGetValue<string>(out var ts) ? ts : throw new InvalidModelPackageException($"{where}: parameter '{name}' has no 'type'.");
            var shape = p["shape"] is JsonArray sh ? sh.Select(x => x!.GetValue<int>()).ToList() : null;
            return new ParamSpec(name, type, p["default"]?.DeepClone(), shape);
        }).ToList();
    }

    /// <summary>Parses the JSON list MLflow stores as text inside the MLmodel YAML, naming <paramref name="where"/> on failure.</summary>
    private static JsonArray ParseList(string json, string where, string items)
    {
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(json);
        }
        catch (JsonException e)
        {
            throw new InvalidModelPackageException($"{where} is not valid JSON: {e.Message}");
        }

        return node as JsonArray ?? throw new InvalidModelPackageException($"{where} must be a JSON list of {items}.");
    }
}
