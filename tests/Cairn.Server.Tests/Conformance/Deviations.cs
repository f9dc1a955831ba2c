using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Cairn.Server.Tests.Conformance;

/// <summary>
/// A golden case where Cairn deliberately answers differently from MLflow 2.17.2, why, and what
/// Cairn answers instead: a status, an error_code (then the body must be MLflow's JSON error
/// envelope), optionally JSON that the answer must contain (objects and {"key": …} lists are
/// matched as subsets, other lists element by element) and paths that must be absent.
/// </summary>
public sealed record Deviation(string Case, string Reason, int Status, string? ErrorCode = null, string? Contains = null, string[]? Absent = null);

/// <summary>
/// The one table of deliberate differences from MLflow 2.17.2. docs/COMPATIBILITY.md lists the same
/// cases for users; <see cref="ConformanceTests"/> keeps the two in step.
/// </summary>
public static partial class Deviations
{
    private const string HtmlToJson = "Flask answers with an HTML page; Cairn answers every error with MLflow's JSON envelope and the same status, so clients can always parse it.";
    private const string Truncation = "MLflow 2.17.2 silently truncates an over-long value (param > 6000, run tag > 8000 characters) and stores a value the client never sent; Cairn rejects it with 400 like every other limit.";

    public static IReadOnlyList<Deviation> All { get; } =
    [
        // ------------------------------------------------------------ routes Cairn does not serve
        new("graphql_get_experiment", "/graphql is an internal endpoint of MLflow's own web UI that no MLflow client calls; Cairn does not serve it.", 404, "ENDPOINT_NOT_FOUND"),
        new("graphql_invalid_query", "/graphql is not served (see graphql_get_experiment).", 404, "ENDPOINT_NOT_FOUND"),

        // ------------------------------------------------------------ HTML error pages
        new("search_datasets_route_missing_slash", HtmlToJson, 404, "ENDPOINT_NOT_FOUND"),
        new("search_datasets_documented_route", HtmlToJson + " (Like MLflow, search-datasets is served only under /ajax-api.)", 404, "ENDPOINT_NOT_FOUND"),
        new("history_bulk_ui_on_api_prefix", HtmlToJson, 404, "ENDPOINT_NOT_FOUND"),
        new("unknown_endpoint", HtmlToJson, 404, "ENDPOINT_NOT_FOUND"),
        new("unknown_api_version_prefix", HtmlToJson, 404, "ENDPOINT_NOT_FOUND"),
        new("trailing_slash", HtmlToJson, 404, "ENDPOINT_NOT_FOUND"),
        new("static_file_missing", HtmlToJson, 404, "ENDPOINT_NOT_FOUND"),
        new("get_history_post_not_allowed", HtmlToJson, 405, "BAD_REQUEST"),
        new("wrong_method_get_on_post_route", HtmlToJson, 405, "BAD_REQUEST"),
        new("wrong_method_post_on_get_route", HtmlToJson, 405, "BAD_REQUEST"),
        new("wrong_method_delete_on_experiments_get", HtmlToJson, 405, "BAD_REQUEST"),
        new("wrong_method_put_on_search", HtmlToJson, 405, "BAD_REQUEST"),
        new("wrong_method_post_on_patch_route", HtmlToJson, 405, "BAD_REQUEST"),
        new("wrong_method_patch_on_model_version_delete", HtmlToJson, 405, "BAD_REQUEST"),
        new("search_registered_models_post_not_allowed", HtmlToJson + " (Like MLflow, registered-models/search is GET only.)", 405, "BAD_REQUEST"),

        // ------------------------------------------------------------ 500s for bad input
        new("json_array_body", "MLflow fails with an unhandled exception (500, HTML) on a JSON body that is not an object; it is the client's mistake, so Cairn answers 400.", 400, "INVALID_PARAMETER_VALUE"),
        new("search_registered_models_duplicate_order_field",
            "MLflow fails with 500 INTERNAL_ERROR when order_by names one column twice ('timestamp' and 'last_updated_timestamp'); it is the client's mistake, so Cairn answers 400 with the same message.",
            400, "INVALID_PARAMETER_VALUE"),
        new("log_metric_value_object", "MLflow fails with an unhandled exception (500, HTML) on a metric value that is an object; Cairn answers 400 as for any other value of the wrong type.", 400, "INVALID_PARAMETER_VALUE"),

        // ------------------------------------------------------------ values MLflow stores wrongly
        new("log_batch_param_value_too_long", Truncation, 400, "INVALID_PARAMETER_VALUE"),
        new("log_param_value_too_long", Truncation, 400, "INVALID_PARAMETER_VALUE"),
        new("set_tag_value_too_long", Truncation, 400, "INVALID_PARAMETER_VALUE"),
        new("get_history_infinity_literal_bug",
            "MLflow stores a bare Infinity token in a JSON body as value 0 with timestamp 0; Cairn reads it as the client meant it (stored clamped to ±1.7976931348623157e308, as MLflow stores the \"Infinity\" string).",
            200, Contains: """{"metrics": [{"key": "infm", "value": 1.7976931348623157e308, "timestamp": 1700000000000, "step": 0}]}"""),
        new("get_run_with_nan_inf_metrics",
            "Follows from the rows above: the bare NaN and Infinity metrics hold the values and timestamps the client sent, and the over-long param and tag values were rejected, not stored truncated.",
            200,
            Contains: """{"run": {"data": {"metrics": [{"key": "nanm", "value": "NaN", "timestamp": 1700000000000}, {"key": "infm", "value": 1.7976931348623157e308, "timestamp": 1700000000000}]}}}""",
            Absent: ["run.data.params[key=longp]", "run.data.params[key=longp2]", "run.data.tags[key=tv]"]),

        // ------------------------------------------------------------ metric-history paging
        new("get_history_max_results_10",
            "MLflow ignores max_results and page_token on metrics/get-history and returns the whole history at once; Cairn pages as the proto documents, so a history of any size is answered in bounded memory.",
            200, Contains: """{"metrics": [{"step": 0}, {"step": 1}, {"step": 2}, {"step": 3}, {"step": 4}, {"step": 5}, {"step": 6}, {"step": 7}, {"step": 8}, {"step": 9}], "next_page_token": "<string>"}"""),
        new("get_history_page_token_ignored",
            "Cairn honours page_token on metrics/get-history (see get_history_max_results_10), so a garbage token is rejected like every other bad page token.",
            400, "INVALID_PARAMETER_VALUE"),

        // ------------------------------------------------------------ artifacts
        new("mlflow_artifacts_download_missing", "A missing artifact is the client's mistake: Cairn answers 404 RESOURCE_DOES_NOT_EXIST where MLflow fails with 500.", 404, "RESOURCE_DOES_NOT_EXIST"),
        new("get_artifact_ui_missing_file", "A missing artifact: 404 RESOURCE_DOES_NOT_EXIST in the JSON envelope where MLflow fails with a 500 HTML page.", 404, "RESOURCE_DOES_NOT_EXIST"),
        new("get_artifact_ui_missing_path_param", HtmlToJson, 400, "INVALID_PARAMETER_VALUE"),
        new("mlflow_artifacts_download_absolute_double_slash",
            "MLflow redirects (308) a '//' in an artifact path to the collapsed path; Cairn treats a path that starts absolute as the traversal attempt it looks like.",
            400, "INVALID_PARAMETER_VALUE"),
        new("mlflow_artifacts_upload_backslash",
            "A backslash is a separator on Windows and to many consumers of the artifact tree, so a '..' between backslashes is rejected as traversal instead of stored as a file name.",
            400, "INVALID_PARAMETER_VALUE"),
    ];

    public static IReadOnlyDictionary<string, Deviation> ByCase { get; } = All.ToDictionary(d => d.Case, StringComparer.Ordinal);

    /// <summary>How Cairn's answer differs from what the table says it should be; empty when it matches.</summary>
    public static List<string> Check(Deviation expected, CaseResult actual)
    {
        var diffs = new List<string>();
        if (actual.TransportError is not null)
        {
            diffs.Add("request failed: " + actual.TransportError);
            return diffs;
        }

        if (actual.Status != expected.Status)
        {
            diffs.Add($"status {actual.Status}, expected {expected.Status}");
        }

        if (expected.ErrorCode is not null)
        {
            if (actual.Json is not JsonObject envelope || envelope["message"]?.GetValueKind() != JsonValueKind.String)
            {
                diffs.Add("not MLflow's JSON error envelope: " + Short(actual));
            }
            else if (actual.ErrorCode != expected.ErrorCode)
            {
                diffs.Add($"error_code {actual.ErrorCode ?? "None"}, expected {expected.ErrorCode}");
            }
        }

        if (expected.Contains is not null)
        {
            if (!actual.IsJson)
            {
                diffs.Add("not JSON: " + Short(actual));
            }
            else
            {
                var want = JsonNode.Parse(expected.Contains);
                var anyString = new List<string>();
                FindAnyStrings(want, "", anyString);
                ResponseComparer.CompareValues(want, actual.Json, anyString, "", diffs, subset: true);
            }
        }

        foreach (var path in expected.Absent ?? [])
        {
            if (Resolve(actual.Json, path) is not null)
            {
                diffs.Add($"{path} is present");
            }
        }

        return diffs;
    }

    private static string Short(CaseResult r) => r.Text.Length <= 120 ? r.Text : r.Text[..120];

    /// <summary>"&lt;string&gt;" in an expected answer stands for any string (tokens, ids).</summary>
    private static void FindAnyStrings(JsonNode? node, string path, List<string> found)
    {
        switch (node)
        {
            case JsonObject o:
                foreach (var (key, value) in o)
                {
                    FindAnyStrings(value, path.Length > 0 ? $"{path}.{key}" : key, found);
                }

                break;
            case JsonArray a:
                for (var i = 0; i < a.Count; i++)
                {
                    FindAnyStrings(a[i], $"{path}[*]", found);
                }

                break;
            case JsonValue v when v.GetValueKind() == JsonValueKind.String && (string)v! == "<string>":
                found.Add(path);
                break;
        }
    }

    [GeneratedRegex(@"\[key=([^\]]*)\]|\[(\d+)\]|([^.\[\]]+)")]
    private static partial Regex Segment();

    /// <summary>Resolves "a.b[key=k].c" or "a[0]"; null when absent.</summary>
    private static JsonNode? Resolve(JsonNode? node, string path)
    {
        var current = node;
        foreach (Match m in Segment().Matches(path))
        {
            current = m.Groups[1].Success
                ? (current as JsonArray)?.FirstOrDefault(e => e is JsonObject o && o["key"] is JsonValue k && k.GetValueKind() == JsonValueKind.String && (string)k! == m.Groups[1].Value)
                : m.Groups[2].Success
                    ? (current is JsonArray a && int.Parse(m.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture) is var i && i < a.Count ? a[i] : null)
                    : (current as JsonObject)?[m.Groups[3].Value];
            if (current is null)
            {
                return null;
            }
        }

        return current;
    }
}
