using System.Globalization;
using System.Text.Json;
using Cairn.Core;

namespace Cairn.Client.Rest;

/// <summary>MLflow's JSON shapes: entities read from answers and the pieces of request bodies.</summary>
internal static class WireJson
{
    // ------------------------------------------------------------ writing

    /// <summary>A metric value as the Python client sends it: a number, or "NaN"/"Infinity"/"-Infinity".</summary>
    public static void WriteValue(Utf8JsonWriter w, string name, double value)
    {
        if (double.IsFinite(value))
        {
            w.WriteNumber(name, value);
        }
        else
        {
            w.WriteString(name, double.IsNaN(value) ? "NaN" : value > 0 ? "Infinity" : "-Infinity");
        }
    }

    public static void WriteMetric(Utf8JsonWriter w, Metric m)
    {
        w.WriteStartObject();
        w.WriteString("key", m.Key);
        WriteValue(w, "value", m.Value);
        w.WriteNumber("timestamp", m.Timestamp);
        w.WriteNumber("step", m.Step);
        w.WriteEndObject();
    }

    public static void WriteKeyValues<T>(Utf8JsonWriter w, string name, IReadOnlyList<T> items, Func<T, string> key, Func<T, string> value)
    {
        if (items.Count == 0)
        {
            return;
        }

        w.WriteStartArray(name);
        foreach (var item in items)
        {
            w.WriteStartObject();
            w.WriteString("key", key(item));
            w.WriteString("value", value(item));
            w.WriteEndObject();
        }

        w.WriteEndArray();
    }

    public static void WriteTags(Utf8JsonWriter w, IReadOnlyList<Tag> tags) => WriteKeyValues(w, "tags", tags, t => t.Key, t => t.Value);

    public static void WriteStrings(Utf8JsonWriter w, string name, IReadOnlyList<string>? items)
    {
        if (items is null || items.Count == 0)
        {
            return;
        }

        w.WriteStartArray(name);
        foreach (var item in items)
        {
            w.WriteStringValue(item);
        }

        w.WriteEndArray();
    }

    public static string ViewTypeName(ViewType viewType) => viewType switch
    {
        ViewType.DeletedOnly => "DELETED_ONLY",
        ViewType.All => "ALL",
        _ => "ACTIVE_ONLY",
    };

    // ------------------------------------------------------------ reading

    public static string Str(JsonElement e, string name, string fallback = "") =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()! : fallback;

    public static string? OptStr(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    public static long? OptLong(JsonElement e, string name)
    {
        if (!e.TryGetProperty(name, out var v))
        {
            return null;
        }

        return v.ValueKind switch
        {
            JsonValueKind.Number => v.TryGetInt64(out var l) ? l : (long)v.GetDouble(),
            JsonValueKind.String when long.TryParse(v.GetString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var l) => l,
            _ => null,
        };
    }

    public static long Long(JsonElement e, string name) => OptLong(e, name) ?? 0;

    public static double Double(JsonElement e, string name)
    {
        if (!e.TryGetProperty(name, out var v))
        {
            return 0;
        }

        return v.ValueKind switch
        {
            JsonValueKind.Number => v.GetDouble(),
            JsonValueKind.String => v.GetString() switch
            {
                "NaN" or "nan" => double.NaN,
                "Infinity" or "inf" => double.PositiveInfinity,
                "-Infinity" or "-inf" => double.NegativeInfinity,
                var s => double.Parse(s!, NumberStyles.Float, CultureInfo.InvariantCulture),
            },
            _ => 0,
        };
    }

    public static IEnumerable<JsonElement> Array(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Array ? v.EnumerateArray() : [];

    public static List<Tag> Tags(JsonElement e, string name = "tags") =>
        Array(e, name).Select(t => new Tag(Str(t, "key"), Str(t, "value"))).ToList();

    public static Experiment Experiment(JsonElement e) => new(
        Str(e, "experiment_id"),
        Str(e, "name"),
        Str(e, "artifact_location"),
        Str(e, "lifecycle_stage", LifecycleStage.Active),
        Long(e, "creation_time"),
        Long(e, "last_update_time"),
        Tags(e));

    public static RunInfo RunInfo(JsonElement e) => new(
        OptStr(e, "run_id") ?? Str(e, "run_uuid"),
        Str(e, "experiment_id"),
        Str(e, "run_name"),
        Str(e, "user_id"),
        Names.TryParseRunStatus(OptStr(e, "status"), out var s) ? s : RunStatus.Running,
        Long(e, "start_time"),
        OptLong(e, "end_time"),
        Str(e, "artifact_uri"),
        Str(e, "lifecycle_stage", LifecycleStage.Active));

    public static Metric Metric(JsonElement e) => new(Str(e, "key"), Double(e, "value"), Long(e, "timestamp"), Long(e, "step"));

    public static Run Run(JsonElement e)
    {
        var info = RunInfo(e.GetProperty("info"));
        var data = e.TryGetProperty("data", out var d) ? d : default;
        var inputs = e.TryGetProperty("inputs", out var i) ? i : default;
        return new Run(
            info,
            data.ValueKind == JsonValueKind.Object ? Array(data, "metrics").Select(Metric).ToList() : [],
            data.ValueKind == JsonValueKind.Object ? Array(data, "params").Select(p => new Param(Str(p, "key"), Str(p, "value"))).ToList() : [],
            data.ValueKind == JsonValueKind.Object ? Tags(data) : [],
            inputs.ValueKind == JsonValueKind.Object ? Array(inputs, "dataset_inputs").Select(DatasetInput).ToList() : []);
    }

    public static DatasetInput DatasetInput(JsonElement e)
    {
        var d = e.GetProperty("dataset");
        return new DatasetInput(Tags(e), new Dataset(Str(d, "name"), Str(d, "digest"), Str(d, "source_type"), Str(d, "source"), OptStr(d, "schema"), OptStr(d, "profile")));
    }
}
