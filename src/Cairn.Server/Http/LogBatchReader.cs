using System.Text.Json;
using Cairn.Core;

namespace Cairn.Server.Http;

/// <summary>
/// Reads the common shape of a log-batch body — a run id and plain metric objects, with params and
/// tags absent or empty — in one forward pass, without building a document: ingest's hot path.
/// Anything else (other fields, a field twice, numbers as strings, NaN tokens, nulls, malformed
/// JSON) is declined, and the request takes the general path, which alone decides what is an error.
/// </summary>
public static class LogBatchReader
{
    private static readonly JsonReaderOptions Options = new() { AllowTrailingCommas = true, MaxDepth = 64 };

    public static bool TryRead(ReadOnlySpan<byte> json, out string runId, out List<Metric> metrics)
    {
        runId = "";
        metrics = [];
        try
        {
            var reader = new Utf8JsonReader(json, Options);
            return ReadBatch(ref reader, ref runId, ref metrics) && !reader.Read();
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            return false;
        }
    }

    private static bool ReadBatch(ref Utf8JsonReader reader, ref string runId, ref List<Metric> metrics)
    {
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return false;
        }

        bool seenRun = false, seenMetrics = false, seenParams = false, seenTags = false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("run_id"u8) && !seenRun)
            {
                seenRun = true;
                if (!reader.Read() || reader.TokenType != JsonTokenType.String)
                {
                    return false;
                }

                runId = reader.GetString()!;
            }
            else if (reader.ValueTextEquals("metrics"u8) && !seenMetrics)
            {
                seenMetrics = true;
                if (!ReadMetrics(ref reader, metrics))
                {
                    return false;
                }
            }
            else if ((reader.ValueTextEquals("params"u8) && !seenParams) || (reader.ValueTextEquals("tags"u8) && !seenTags))
            {
                seenParams |= reader.ValueTextEquals("params"u8);
                seenTags |= reader.ValueTextEquals("tags"u8);
                if (!reader.Read() || reader.TokenType != JsonTokenType.StartArray || !reader.Read() || reader.TokenType != JsonTokenType.EndArray)
                {
                    return false;
                }
            }
            else
            {
                return false;
            }
        }

        return reader.TokenType == JsonTokenType.EndObject && runId.Length > 0 && !runId.Contains('\0', StringComparison.Ordinal);
    }

    private static bool ReadMetrics(ref Utf8JsonReader reader, List<Metric> metrics)
    {
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartArray)
        {
            return false;
        }

        string? lastKey = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.StartObject)
        {
            string? key = null;
            double? value = null;
            long? timestamp = null;
            long? step = null;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("key"u8) && key is null)
                {
                    if (!reader.Read() || reader.TokenType != JsonTokenType.String)
                    {
                        return false;
                    }

                    // One metric over many steps repeats its key: the previous string is reused.
                    key = lastKey is not null && reader.ValueTextEquals(lastKey) ? lastKey : reader.GetString()!;
                }
                else if (reader.ValueTextEquals("value"u8) && value is null)
                {
                    if (!reader.Read() || reader.TokenType != JsonTokenType.Number || !reader.TryGetDouble(out var v))
                    {
                        return false;
                    }

                    value = v;
                }
                else if (reader.ValueTextEquals("timestamp"u8) && timestamp is null)
                {
                    if (!reader.Read() || reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out var t))
                    {
                        return false;
                    }

                    timestamp = t;
                }
                else if (reader.ValueTextEquals("step"u8) && step is null)
                {
                    if (!reader.Read() || reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out var st))
                    {
                        return false;
                    }

                    step = st;
                }
                else
                {
                    return false;
                }
            }

            if (reader.TokenType != JsonTokenType.EndObject || key is not { Length: > 0 } || key.Contains('\0', StringComparison.Ordinal) || value is null || timestamp is null)
            {
                return false;
            }

            lastKey = key;
            metrics.Add(new Metric(key, value.Value, timestamp.Value, step ?? 0));
        }

        return reader.TokenType == JsonTokenType.EndArray;
    }
}
