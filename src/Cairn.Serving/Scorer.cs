using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Cairn.Models;

namespace Cairn.Serving;

/// <summary>
/// Scores request tables with one loaded model: applies the signature, predicts, and writes
/// predictions as MLflow's <c>{"predictions": ...}</c> or as CSV columns. Thread-safe.
/// </summary>
public sealed class Scorer
{
    public Scorer(IModelPredictor predictor)
    {
        Predictor = predictor;
        Enforcer = new SignatureEnforcer(predictor.Model.Signature);
    }

    public IModelPredictor Predictor { get; }

    public SignatureEnforcer Enforcer { get; }

    /// <summary>Applies the signature and predicts; signature violations and values the model rejects are <see cref="ScoringException"/>s.</summary>
    public IReadOnlyList<Prediction> Predict(InputTable table)
    {
        var rows = Enforcer.Apply(table);
        if (rows.Count == 0)
        {
            return [];
        }

        try
        {
            return Predictor.Predict(rows);
        }
        catch (ArgumentException e)
        {
            throw ScoringException.Bad(e.Message);
        }
    }

    /// <summary>
    /// True when predictions are written as records (label plus scores/probability), false for a
    /// flat list of labels: a model with scores or probabilities gets records.
    /// </summary>
    public static bool AsRecords(IReadOnlyList<Prediction> predictions)
    {
        foreach (var p in predictions)
        {
            if (p.Scores is not null || p.Probability is not null)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Writes <c>{"predictions": [...]}</c>: a flat list of labels (or values) for a model with only a
    /// label, else one object per row with <c>PredictedLabel</c>, <c>Score</c> (a list for
    /// multiclass, in <see cref="IModelPredictor.ClassNames"/> order; a number for binary) and
    /// <c>Probability</c> (binary), as MLflow writes a DataFrame result as records.
    /// </summary>
    public static void WriteResponse(Utf8JsonWriter json, IReadOnlyList<Prediction> predictions)
    {
        json.WriteStartObject();
        json.WritePropertyName("predictions"u8);
        json.WriteStartArray();
        WriteItems(json, predictions, AsRecords(predictions));
        json.WriteEndArray();
        json.WriteEndObject();
    }

    /// <summary>The items of the predictions list (see <see cref="WriteResponse"/>), as records or as plain labels.</summary>
    public static void WriteItems(Utf8JsonWriter json, IReadOnlyList<Prediction> predictions, bool records)
    {
        foreach (var p in predictions)
        {
            if (!records)
            {
                WriteValue(json, p.Label);
                continue;
            }

            json.WriteStartObject();
            json.WritePropertyName("PredictedLabel"u8);
            WriteValue(json, p.Label);
            if (p.Scores is { } scores)
            {
                json.WritePropertyName("Score"u8);
                if (scores.Count == 1 && p.Probability is not null)
                {
                    WriteValue(json, scores[0]);
                }
                else
                {
                    json.WriteStartArray();
                    foreach (var s in scores)
                    {
                        WriteValue(json, s);
                    }

                    json.WriteEndArray();
                }
            }

            if (p.Probability is { } probability)
            {
                json.WritePropertyName("Probability"u8);
                WriteValue(json, probability);
            }

            json.WriteEndObject();
        }
    }

    /// <summary>A label or score as JSON; NaN and infinities (which JSON cannot hold) become null.</summary>
    public static void WriteValue(Utf8JsonWriter json, object? value)
    {
        switch (value)
        {
            case null:
                json.WriteNullValue();
                break;
            case string s:
                json.WriteStringValue(s);
                break;
            case bool b:
                json.WriteBooleanValue(b);
                break;
            case float f when float.IsFinite(f):
                json.WriteNumberValue(f);
                break;
            case double d when double.IsFinite(d):
                json.WriteNumberValue(d);
                break;
            case float or double:
                json.WriteNullValue();
                break;
            case int i:
                json.WriteNumberValue(i);
                break;
            case long l:
                json.WriteNumberValue(l);
                break;
            case uint u:
                json.WriteNumberValue(u);
                break;
            case ulong u:
                json.WriteNumberValue(u);
                break;
            case DateTime t:
                json.WriteStringValue(t.ToString("o", CultureInfo.InvariantCulture));
                break;
            case System.Collections.IEnumerable e:
                json.WriteStartArray();
                foreach (var item in e)
                {
                    WriteValue(json, item);
                }

                json.WriteEndArray();
                break;
            default:
                json.WriteStringValue(Convert.ToString(value, CultureInfo.InvariantCulture));
                break;
        }
    }

    /// <summary>
    /// The CSV header of the prediction columns: <c>PredictedLabel</c>, then for a model with scores one
    /// <c>Score.&lt;class&gt;</c> column per class (<c>Score</c> alone for binary), then <c>Probability</c>.
    /// </summary>
    public List<string> CsvColumns(IReadOnlyList<Prediction> sample)
    {
        var columns = new List<string> { "PredictedLabel" };
        if (sample.FirstOrDefault(p => p.Scores is not null) is { Scores: { } scores } first)
        {
            if (scores.Count == 1 && first.Probability is not null)
            {
                columns.Add("Score");
            }
            else
            {
                var names = Predictor.ClassNames is { } c && c.Count == scores.Count ? c : Enumerable.Range(0, scores.Count).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToList();
                columns.AddRange(names.Select(n => "Score." + n));
            }
        }

        if (sample.Any(p => p.Probability is not null))
        {
            columns.Add("Probability");
        }

        return columns;
    }

    /// <summary>Appends one prediction's CSV fields (as <see cref="CsvColumns"/> names them), each preceded by a comma when <paramref name="leadingComma"/>.</summary>
    public static void AppendCsv(StringBuilder line, Prediction p, int scoreColumns, bool probability, bool leadingComma)
    {
        if (leadingComma)
        {
            line.Append(',');
        }

        AppendCsvField(line, p.Label);
        for (var i = 0; i < scoreColumns; i++)
        {
            line.Append(',');
            if (p.Scores is { } s && i < s.Count)
            {
                AppendCsvField(line, s[i]);
            }
        }

        if (probability)
        {
            line.Append(',');
            AppendCsvField(line, p.Probability);
        }
    }

    public static void AppendCsvField(StringBuilder line, object? value)
    {
        switch (value)
        {
            case null:
                return;
            case float f:
                line.Append(float.IsFinite(f) ? f.ToString("R", CultureInfo.InvariantCulture) : "");
                return;
            case double d:
                line.Append(double.IsFinite(d) ? d.ToString("R", CultureInfo.InvariantCulture) : "");
                return;
            case bool b:
                line.Append(b ? "true" : "false");
                return;
            default:
                var text = Convert.ToString(value, CultureInfo.InvariantCulture) ?? "";
                if (text.AsSpan().IndexOfAny(",\"\r\n") >= 0)
                {
                    line.Append('"').Append(text.Replace("\"", "\"\"", StringComparison.Ordinal)).Append('"');
                }
                else
                {
                    line.Append(text);
                }

                return;
        }
    }

    /// <summary>Scores a whole JSON request body (any of the four shapes) and returns the validated params with it.</summary>
    public (IReadOnlyList<Prediction> Predictions, Dictionary<string, object?> Params) ScoreJson(ReadOnlySequence<byte> body)
    {
        var request = JsonRequestParser.Parse(body);
        var @params = Enforcer.ApplyParams(request.Params);
        return (Predict(request.Table), @params);
    }
}
