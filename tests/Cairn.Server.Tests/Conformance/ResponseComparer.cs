using System.Globalization;
using System.Numerics;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Cairn.Server.Tests.Conformance;

/// <summary>
/// Compares an answer with the golden one by the rules of capture_protocol.py's compare mode:
/// status, error_code, JSON or not, then shape (missing and extra keys, list lengths, JSON types)
/// and every non-volatile value, floats within 1e-9, lists of {"key": …} objects matched by key,
/// error messages ignored.
/// </summary>
public static partial class ResponseComparer
{
    public static List<string> Compare(GoldenCase golden, CaseResult actual)
    {
        var diffs = new List<string>();
        if (actual.TransportError is not null)
        {
            diffs.Add("request failed: " + actual.TransportError);
            return diffs;
        }

        if (golden.Status != actual.Status)
        {
            diffs.Add($"status {golden.Status} != {actual.Status}");
        }

        var goldenCode = golden.ResponseIsJson && golden.Response is JsonObject o && o["error_code"] is JsonValue v && v.GetValueKind() == JsonValueKind.String ? (string?)v : null;
        if (goldenCode != actual.ErrorCode)
        {
            diffs.Add($"error_code {goldenCode ?? "None"} != {actual.ErrorCode ?? "None"}");
        }

        var goldenType = MainType(golden.ResponseContentType);
        var actualType = MainType(actual.ContentType);
        if (goldenType != actualType && (golden.ResponseIsJson || actual.IsJson))
        {
            diffs.Add($"content-type '{goldenType}' != '{actualType}'");
        }

        if (golden.ResponseIsJson && actual.IsJson)
        {
            CompareValues(golden.Response, actual.Json, golden.Volatile, "", diffs);
        }
        else if (golden.ResponseIsJson != actual.IsJson)
        {
            diffs.Add($"body: golden is {(golden.ResponseIsJson ? "JSON" : "text")}, actual is {(actual.IsJson ? "JSON" : "text")}");
        }

        return diffs;
    }

    private static string MainType(string? contentType) => (contentType ?? "").Split(';')[0].Trim();

    /// <summary>
    /// Walks golden and actual together. With <paramref name="subset"/>, keys and keyed-list
    /// entries the golden side leaves out are not reported as extra (used for the expected answers
    /// of deliberate differences, which name only what matters).
    /// </summary>
    public static void CompareValues(JsonNode? golden, JsonNode? actual, IReadOnlyCollection<string> vol, string path, List<string> diffs, bool subset = false)
    {
        if (golden is not JsonObject and not JsonArray && IsVolatile(path.Length == 0 ? "$" : path, vol))
        {
            // A volatile value may differ; its JSON type may not.
            if (TypeName(golden) != TypeName(actual))
            {
                diffs.Add($"type {Shown(path)}: {TypeName(golden)} != {TypeName(actual)}");
            }

            return;
        }

        if (golden is JsonObject gobj)
        {
            if (actual is not JsonObject aobj)
            {
                diffs.Add($"type {Shown(path)}: object != {TypeName(actual)}");
                return;
            }

            foreach (var (key, gv) in gobj)
            {
                var p = path.Length > 0 ? $"{path}.{key}" : key;
                if (!aobj.TryGetPropertyValue(key, out var av))
                {
                    if (!IsVolatile(p, vol))
                    {
                        diffs.Add($"missing {p}");
                    }

                    continue;
                }

                CompareValues(gv, av, vol, p, diffs, subset);
            }

            if (!subset)
            {
                foreach (var (key, _) in aobj)
                {
                    var p = path.Length > 0 ? $"{path}.{key}" : key;
                    if (!gobj.ContainsKey(key) && !IsVolatile(p, vol))
                    {
                        diffs.Add($"extra {p}");
                    }
                }
            }

            return;
        }

        if (golden is JsonArray garr)
        {
            if (actual is not JsonArray aarr)
            {
                diffs.Add($"type {Shown(path)}: list != {TypeName(actual)}");
                return;
            }

            if (IsKeyed(garr) && (IsKeyed(aarr) || aarr.Count == 0))
            {
                var byKey = aarr.ToDictionary(e => (string)e!["key"]!, e => e, StringComparer.Ordinal);
                foreach (var g in garr)
                {
                    var key = (string)g!["key"]!;
                    var p = $"{path}[key={key}]";
                    if (!byKey.TryGetValue(key, out var a))
                    {
                        if (!IsVolatile(p, vol))
                        {
                            diffs.Add($"missing {p}");
                        }

                        continue;
                    }

                    CompareValues(g, a, vol, p, diffs, subset);
                }

                if (!subset)
                {
                    var goldenKeys = garr.Select(g => (string)g!["key"]!).ToHashSet(StringComparer.Ordinal);
                    foreach (var key in byKey.Keys.Where(k => !goldenKeys.Contains(k)))
                    {
                        var p = $"{path}[key={key}]";
                        if (!IsVolatile(p, vol))
                        {
                            diffs.Add($"extra {p}");
                        }
                    }
                }

                return;
            }

            if (garr.Count != aarr.Count)
            {
                if (!IsVolatile(path + "[]", vol))
                {
                    diffs.Add($"length {Shown(path)}: {garr.Count} != {aarr.Count}");
                }

                return;
            }

            for (var i = 0; i < garr.Count; i++)
            {
                CompareValues(garr[i], aarr[i], vol, $"{path}[{i}]", diffs, subset);
            }

            return;
        }

        if (TypeName(golden) != TypeName(actual))
        {
            diffs.Add($"type {Shown(path)}: {TypeName(golden)} != {TypeName(actual)}");
            return;
        }

        var last = path.Length > 0 ? LastSegment().Split(path)[^1] : "$";
        if (last == "message")
        {
            return;
        }

        if (TypeName(golden) == "number")
        {
            if (!NumbersEqual(golden!, actual!))
            {
                diffs.Add($"value {path}: {golden!.ToJsonString()} != {actual!.ToJsonString()}");
            }

            return;
        }

        if (!JsonNode.DeepEquals(golden, actual))
        {
            diffs.Add($"value {Shown(path)}: {Short(golden)} != {Short(actual)}");
        }
    }

    [GeneratedRegex(@"[.\[]")]
    private static partial Regex LastSegment();

    private static string Shown(string path) => path.Length > 0 ? path : "$";

    private static string Short(JsonNode? node)
    {
        var text = node?.ToJsonString() ?? "null";
        return text.Length <= 80 ? text : text[..80];
    }

    /// <summary>Python's json keeps integers exact and reads anything with '.', 'e' or 'E' as a float; floats compare within 1e-9.</summary>
    private static bool NumbersEqual(JsonNode golden, JsonNode actual)
    {
        var g = golden.ToJsonString();
        var a = actual.ToJsonString();
        if (!IsFloatLiteral(g) && !IsFloatLiteral(a))
        {
            return BigInteger.Parse(g, CultureInfo.InvariantCulture) == BigInteger.Parse(a, CultureInfo.InvariantCulture);
        }

        var x = double.Parse(g, CultureInfo.InvariantCulture);
        var y = double.Parse(a, CultureInfo.InvariantCulture);
        if (x == y)
        {
            return true;
        }

        return Math.Abs(x - y) <= Math.Max(1e-9 * Math.Max(Math.Abs(x), Math.Abs(y)), 1e-12);
    }

    private static bool IsFloatLiteral(string text) => text.AsSpan().IndexOfAny('.', 'e', 'E') >= 0;

    public static string TypeName(JsonNode? node) => GoldenTranscripts.KindOf(node) switch
    {
        JsonValueKind.True or JsonValueKind.False => "bool",
        JsonValueKind.Number => "number",
        JsonValueKind.String => "string",
        JsonValueKind.Array => "list",
        JsonValueKind.Object => "object",
        _ => "null",
    };

    /// <summary>
    /// A list of {"key": …} objects with unique keys (tags, params, latest metrics) is matched by
    /// key: its order is not part of the contract.
    /// </summary>
    public static bool IsKeyed(JsonArray list)
    {
        if (list.Count == 0)
        {
            return false;
        }

        var keys = new HashSet<string>(StringComparer.Ordinal);
        foreach (var e in list)
        {
            if (e is not JsonObject o || o["key"] is not JsonValue k || k.GetValueKind() != JsonValueKind.String || !keys.Add((string)k!))
            {
                return false;
            }
        }

        return true;
    }

    [GeneratedRegex(@"\[\d+\]")]
    private static partial Regex ListIndex();

    public static bool IsVolatile(string path, IReadOnlyCollection<string> vol)
    {
        if (vol.Count == 0)
        {
            return false;
        }

        var p = ListIndex().Replace(path, "[*]");
        foreach (var v in vol)
        {
            if (v == "$" || p == v || p.StartsWith(v + ".", StringComparison.Ordinal) || p.StartsWith(v + "[", StringComparison.Ordinal))
            {
                return true;
            }

            if (v.EndsWith("[]", StringComparison.Ordinal) && (p == v[..^2] || p.StartsWith(v[..^2] + "[", StringComparison.Ordinal)))
            {
                return true;
            }
        }

        return false;
    }
}
