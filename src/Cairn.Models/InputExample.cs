using System.Text.Json;
using System.Text.Json.Nodes;

namespace Cairn.Models;

/// <summary>
/// A few rows a model accepts, stored as MLflow stores a dataframe example: <c>input_example.json</c>
/// in pandas' split orientation (<c>{"columns": [...], "data": [[...]]}</c>) and
/// <c>serving_input_example.json</c>, the same rows as a scoring-server request (<c>{"dataframe_split": ...}</c>).
/// </summary>
public sealed record InputExample(IReadOnlyList<string> Columns, IReadOnlyList<IReadOnlyList<JsonNode?>> Data)
{
    public const string FileName = "input_example.json";
    public const string ServingFileName = "serving_input_example.json";

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>The rows as column name → value, the shape a predictor takes.</summary>
    public IReadOnlyList<IReadOnlyDictionary<string, object?>> Rows() =>
        Data.Select(row => (IReadOnlyDictionary<string, object?>)Columns.Select((c, i) => (c, v: (object?)row[i]?.DeepClone())).ToDictionary(x => x.c, x => x.v, StringComparer.Ordinal)).ToList();

    public JsonObject ToJson() => new()
    {
        ["columns"] = new JsonArray(Columns.Select(c => (JsonNode)c).ToArray()),
        ["data"] = new JsonArray(Data.Select(r => (JsonNode)new JsonArray(r.Select(v => v?.DeepClone()).ToArray())).ToArray()),
    };

    /// <summary>Writes both files into the package folder and returns the info for <c>MLmodel</c>.</summary>
    public InputExampleInfo Write(string packageDir)
    {
        File.WriteAllText(Path.Combine(packageDir, FileName), ToJson().ToJsonString());
        File.WriteAllText(Path.Combine(packageDir, ServingFileName), new JsonObject { ["dataframe_split"] = ToJson() }.ToJsonString(Indented));
        return new InputExampleInfo();
    }

    /// <summary>Reads a split-orient example (MLflow also accepts a bare <c>dataframe_split</c> wrapper).</summary>
    public static InputExample Read(string path)
    {
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(File.ReadAllText(path));
        }
        catch (JsonException e)
        {
            throw new InvalidModelPackageException($"The input example '{path}' is not valid JSON: {e.Message}", e);
        }

        if (node?["dataframe_split"] is JsonObject wrapped)
        {
            node = wrapped;
        }

        if (node?["columns"] is not JsonArray columns || node["data"] is not JsonArray data)
        {
            throw new InvalidModelPackageException($"The input example '{path}' must be {{\"columns\": [...], \"data\": [[...]]}} (pandas split orientation).");
        }

        var names = columns.Select(c => c?.GetValue<string>() ?? "").ToList();
        var rows = data.Select(r => r is JsonArray a && a.Count == names.Count
            ? (IReadOnlyList<JsonNode?>)a.Select(v => v?.DeepClone()).ToList()
            : throw new InvalidModelPackageException($"The input example '{path}' has a row that is not a list of {names.Count} values.")).ToList();
        return new InputExample(names, rows);
    }
}
