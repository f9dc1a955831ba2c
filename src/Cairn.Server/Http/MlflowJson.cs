using System.Text.Json;
using Cairn.Core;

namespace Cairn.Server.Http;

/// <summary>
/// Writes entities in MLflow's JSON shape straight to a <see cref="Utf8JsonWriter"/>, leaving out
/// fields that hold proto defaults (empty lists, absent optionals) exactly where MLflow does.
/// </summary>
public static class MlflowJson
{
    public static void WriteExperiment(Utf8JsonWriter w, Experiment e)
    {
        w.WriteStartObject();
        w.WriteString("experiment_id", e.ExperimentId);
        w.WriteString("name", e.Name);
        w.WriteString("artifact_location", e.ArtifactLocation);
        w.WriteString("lifecycle_stage", e.LifecycleStage);
        w.WriteNumber("last_update_time", e.LastUpdateTime);
        w.WriteNumber("creation_time", e.CreationTime);
        WriteKeyValues(w, "tags", e.Tags, t => t.Key, t => t.Value);
        w.WriteEndObject();
    }

    public static void WriteRunInfo(Utf8JsonWriter w, RunInfo info)
    {
        w.WriteStartObject();
        w.WriteString("run_uuid", info.RunId);
        w.WriteString("experiment_id", info.ExperimentId);
        w.WriteString("run_name", info.RunName);
        w.WriteString("user_id", info.UserId);
        w.WriteString("status", info.Status.ToWire());
        w.WriteNumber("start_time", info.StartTime);
        if (info.EndTime is { } end)
        {
            w.WriteNumber("end_time", end);
        }

        w.WriteString("artifact_uri", info.ArtifactUri);
        w.WriteString("lifecycle_stage", info.LifecycleStage);
        w.WriteString("run_id", info.RunId);
        w.WriteEndObject();
    }

    public static void WriteRun(Utf8JsonWriter w, Run run, bool withInputs = true)
    {
        w.WriteStartObject();
        w.WritePropertyName("info");
        WriteRunInfo(w, run.Info);
        w.WriteStartObject("data");
        if (run.Metrics.Count > 0)
        {
            w.WriteStartArray("metrics");
            foreach (var m in run.Metrics)
            {
                WriteMetric(w, m);
            }

            w.WriteEndArray();
        }

        WriteKeyValues(w, "params", run.Params, p => p.Key, p => p.Value);
        WriteKeyValues(w, "tags", run.Tags, t => t.Key, t => t.Value);
        w.WriteEndObject();
        if (withInputs)
        {
            w.WriteStartObject("inputs");
            if (run.Inputs.Count > 0)
            {
                w.WriteStartArray("dataset_inputs");
                foreach (var input in run.Inputs)
                {
                    w.WriteStartObject();
                    WriteKeyValues(w, "tags", input.Tags, t => t.Key, t => t.Value);
                    w.WriteStartObject("dataset");
                    w.WriteString("name", input.Dataset.Name);
                    w.WriteString("digest", input.Dataset.Digest);
                    w.WriteString("source_type", input.Dataset.SourceType);
                    w.WriteString("source", input.Dataset.Source);
                    if (input.Dataset.Schema is { } schema)
                    {
                        w.WriteString("schema", schema);
                    }

                    if (input.Dataset.Profile is { } profile)
                    {
                        w.WriteString("profile", profile);
                    }

                    w.WriteEndObject();
                    w.WriteEndObject();
                }

                w.WriteEndArray();
            }

            w.WriteEndObject();
        }

        w.WriteEndObject();
    }

    private static readonly JsonEncodedText KeyName = JsonEncodedText.Encode("key");
    private static readonly JsonEncodedText ValueName = JsonEncodedText.Encode("value");
    private static readonly JsonEncodedText TimestampName = JsonEncodedText.Encode("timestamp");
    private static readonly JsonEncodedText StepName = JsonEncodedText.Encode("step");
    private static readonly JsonEncodedText RunIdName = JsonEncodedText.Encode("run_id");
    private static readonly JsonEncodedText NaNText = JsonEncodedText.Encode("NaN");

    /// <summary>A metric point; NaN travels as the string "NaN", as MLflow sends it.</summary>
    public static void WriteMetric(Utf8JsonWriter w, Metric m, string? runId = null) => WriteMetric(w, JsonEncodedText.Encode(m.Key, w.Options.Encoder), m, runId);

    /// <summary>A metric point whose key is already encoded (a history repeats one key many times).</summary>
    public static void WriteMetric(Utf8JsonWriter w, JsonEncodedText key, Metric m, string? runId = null)
    {
        w.WriteStartObject();
        w.WriteString(KeyName, key);
        WriteValue(w, m.Value);
        w.WriteNumber(TimestampName, m.Timestamp);
        w.WriteNumber(StepName, m.Step);
        if (runId is not null)
        {
            w.WriteString(RunIdName, runId);
        }

        w.WriteEndObject();
    }

    public static void WriteValue(Utf8JsonWriter w, double value)
    {
        if (double.IsNaN(value))
        {
            w.WriteString(ValueName, NaNText);
        }
        else if (double.IsInfinity(value))
        {
            w.WriteString(ValueName, value > 0 ? "Infinity" : "-Infinity");
        }
        else
        {
            w.WriteNumber(ValueName, value);
        }
    }

    private static void WriteKeyValues<T>(Utf8JsonWriter w, string name, IReadOnlyList<T> items, Func<T, string> key, Func<T, string> value)
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
}
