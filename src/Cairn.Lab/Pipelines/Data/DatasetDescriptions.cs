using System.Globalization;
using System.Text.Json;

namespace Cairn.Lab.Pipelines.Data;

/// <summary>MLflow's dataset schema and profile JSON for a loaded <see cref="DataTable"/>.</summary>
internal static class DatasetDescriptions
{
    public static DatasetDescription Describe(string name, string digest, string sourceType, string source, DataTable table) =>
        new(name, digest, sourceType, source, Schema(table), Profile(table));

    /// <summary><c>{"mlflow_colspec": [{"type": "float", "name": "x", "required": true}, ...]}</c>, features then the label.</summary>
    public static string Schema(DataTable table)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteStartArray("mlflow_colspec");
            foreach (var column in table.Features)
            {
                var (type, required) = column switch
                {
                    NumericColumn n => ("float", !n.Values.Any(float.IsNaN)),
                    TextColumn t => ("string", !t.Values.Any(v => v is null)),
                    _ => ("string", true),
                };
                WriteColumn(json, column.Name, type, required);
            }

            WriteColumn(json, table.LabelName, LabelType(table.Labels), true);
            json.WriteEndArray();
            json.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    public static string Profile(DataTable table) =>
        $"{{\"num_rows\": {table.RowCount}, \"num_elements\": {(long)table.RowCount * (table.Features.Count + 1)}}}";

    private static void WriteColumn(Utf8JsonWriter json, string name, string type, bool required)
    {
        json.WriteStartObject();
        json.WriteString("type", type);
        json.WriteString("name", name);
        json.WriteBoolean("required", required);
        json.WriteEndObject();
    }

    /// <summary>The label's type as the source holds it: whole numbers are <c>long</c>, other numbers <c>double</c>.</summary>
    private static string LabelType(string[] labels)
    {
        var distinct = labels.Distinct(StringComparer.Ordinal).ToArray();
        if (distinct.All(l => long.TryParse(l, NumberStyles.Integer, CultureInfo.InvariantCulture, out _)))
        {
            return "long";
        }

        return distinct.All(l => double.TryParse(l, NumberStyles.Float, CultureInfo.InvariantCulture, out _)) ? "double" : "string";
    }
}
