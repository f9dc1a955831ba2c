using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Cairn.Server.Tests.Conformance;

/// <summary>What the server under test answered to one golden case.</summary>
public sealed record CaseResult(int Status, string? ContentType, bool IsJson, JsonNode? Json, string Text, string? TransportError = null)
{
    /// <summary>The envelope's error_code, when the answer is a JSON object carrying one.</summary>
    public string? ErrorCode => IsJson && Json is JsonObject o && o["error_code"] is JsonValue v && v.GetValueKind() == JsonValueKind.String ? (string?)v : null;
}

/// <summary>
/// Sends golden cases exactly as shared/mlflow-protocol/capture_protocol.py does: the same
/// variable substitution, path quoting (percent-escapes kept as they are), query encoding
/// (repeated parameters for lists), raw bodies and content types (none at all when the case says
/// null), and no redirects followed.
/// </summary>
public sealed partial class ProtocolReplayer : IDisposable
{
    private readonly HttpClient _http;
    private readonly string _baseUrl;
    private readonly Dictionary<string, JsonNode?> _variables = new(StringComparer.Ordinal);

    public ProtocolReplayer(string baseUrl)
    {
        _baseUrl = baseUrl.TrimEnd('/');
        _http = new HttpClient(new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseCookies = false,
            AutomaticDecompression = System.Net.DecompressionMethods.None,
        })
        {
            Timeout = TimeSpan.FromSeconds(120),
        };
    }

    /// <summary>Sends one case and records the variables it defines for the cases after it.</summary>
    public async Task<CaseResult> SendAsync(GoldenCase c)
    {
        var result = await SendCoreAsync(c);
        foreach (var (name, path) in c.Defines)
        {
            var value = result.IsJson ? GetPath(result.Json, path) : null;
            if (value is not null)
            {
                _variables[name] = value.DeepClone();
            }
            else
            {
                _variables.Remove(name);
            }
        }

        return result;
    }

    private async Task<CaseResult> SendCoreAsync(GoldenCase c)
    {
        var target = Quote((string)Substitute(JsonValue.Create(c.Path))!, PathSafe);
        if (c.Query is { Count: > 0 } query)
        {
            target += "?" + EncodeQuery((JsonObject)Substitute(query)!);
        }

        // Canonicalization would resolve "..", which the traversal cases must send as written.
        var uri = new Uri(_baseUrl + target, new UriCreationOptions { DangerousDisablePathAndQueryCanonicalization = true });
        using var request = new HttpRequestMessage(new HttpMethod(c.Method), uri);
        byte[]? body = null;
        if (c.RawRequest)
        {
            body = Encoding.UTF8.GetBytes((string)Substitute(c.Request)!);
        }
        else if (c.Request is not null)
        {
            body = Encoding.UTF8.GetBytes(PythonJsonDumps(Substitute(c.Request)));
        }

        if (body is not null)
        {
            request.Content = new ByteArrayContent(body);
            var contentType = c.HasRequestContentType ? c.RequestContentType : "application/json";
            if (contentType is not null)
            {
                request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
            }
        }

        try
        {
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead);
            var bytes = await response.Content.ReadAsByteArrayAsync();
            var contentType = response.Content.Headers.TryGetValues("Content-Type", out var values) ? values.FirstOrDefault() : null;
            var text = Encoding.UTF8.GetString(bytes);
            if (bytes.Length > 0 && contentType?.Contains("json", StringComparison.Ordinal) == true)
            {
                try
                {
                    return new CaseResult((int)response.StatusCode, contentType, true, JsonNode.Parse(text), text);
                }
                catch (JsonException)
                {
                }
            }

            return new CaseResult((int)response.StatusCode, contentType, false, null, text);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or TaskCanceledException)
        {
            return new CaseResult(0, null, false, null, "", ex.GetType().Name + ": " + ex.Message);
        }
    }

    [GeneratedRegex(@"\$\{(\w+)\}")]
    private static partial Regex VariablePattern();

    /// <summary>"${v}" as a whole string becomes v's value (any JSON type); inside a longer string it is interpolated.</summary>
    private JsonNode? Substitute(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject o:
                var copy = new JsonObject();
                foreach (var (key, value) in o)
                {
                    copy[key] = Substitute(value);
                }

                return copy;
            case JsonArray a:
                return new JsonArray(a.Select(Substitute).ToArray());
            case JsonValue v when v.GetValueKind() == JsonValueKind.String:
                var text = (string)v!;
                var whole = VariablePattern().Match(text);
                if (whole.Success && whole.Length == text.Length)
                {
                    return _variables.GetValueOrDefault(whole.Groups[1].Value)?.DeepClone() ?? JsonValue.Create("MISSING-" + whole.Groups[1].Value);
                }

                return JsonValue.Create(VariablePattern().Replace(text, m =>
                    _variables.GetValueOrDefault(m.Groups[1].Value) is { } value ? PythonStr(value) : "MISSING-" + m.Groups[1].Value));
            default:
                return node?.DeepClone();
        }
    }

    /// <summary>Python's str() of a parsed JSON value, as the script interpolates it.</summary>
    private static string PythonStr(JsonNode value) => value.GetValueKind() switch
    {
        JsonValueKind.String => (string)value!,
        JsonValueKind.True => "True",
        JsonValueKind.False => "False",
        _ => value.ToJsonString(),
    };

    /// <summary>'run.info.run_id', 'runs[0].info.run_id': the value there, or null.</summary>
    public static JsonNode? GetPath(JsonNode? node, string path)
    {
        var current = node;
        foreach (Match part in PathPart().Matches(path))
        {
            if (part.Value.StartsWith('['))
            {
                var index = int.Parse(part.Value[1..^1], CultureInfo.InvariantCulture);
                if (current is not JsonArray array || index >= array.Count)
                {
                    return null;
                }

                current = array[index];
            }
            else
            {
                if (current is not JsonObject obj || !obj.TryGetPropertyValue(part.Value, out current))
                {
                    return null;
                }
            }
        }

        return current;
    }

    [GeneratedRegex(@"[^.\[\]]+|\[\d+\]")]
    private static partial Regex PathPart();

    // urllib.parse.quote: these plus ASCII letters, digits and "_.-~" stay as they are; '%' is
    // among them, so escapes written into a case's path reach the server unchanged.
    private const string PathSafe = "/%:@!$&'()*+,;=-._~";

    private static string Quote(string text, string safe)
    {
        var sb = new StringBuilder(text.Length);
        foreach (var b in Encoding.UTF8.GetBytes(text))
        {
            var c = (char)b;
            if (b < 0x80 && (char.IsAsciiLetterOrDigit(c) || "_.-~".Contains(c, StringComparison.Ordinal) || safe.Contains(c, StringComparison.Ordinal)))
            {
                sb.Append(c);
            }
            else
            {
                sb.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
            }
        }

        return sb.ToString();
    }

    /// <summary>urllib.parse.urlencode(query, doseq=True): quote_plus on names and values, a list as a repeated parameter.</summary>
    private static string EncodeQuery(JsonObject query)
    {
        static string QuotePlus(string s) => Quote(s, " ").Replace(' ', '+');
        var parts = new List<string>();
        foreach (var (name, value) in query)
        {
            var values = value is JsonArray list ? list.Select(v => v is null ? "None" : PythonStr(v)) : [value is null ? "None" : PythonStr(value)];
            parts.AddRange(values.Select(v => QuotePlus(name) + "=" + QuotePlus(v)));
        }

        return string.Join('&', parts);
    }

    /// <summary>json.dumps with its defaults: ", " and ": " separators, non-ASCII escaped, numbers as written.</summary>
    private static string PythonJsonDumps(JsonNode? node)
    {
        var sb = new StringBuilder();
        Write(node);
        return sb.ToString();

        void Write(JsonNode? n)
        {
            switch (n)
            {
                case null:
                    sb.Append("null");
                    break;
                case JsonObject o:
                    sb.Append('{');
                    var first = true;
                    foreach (var (key, value) in o)
                    {
                        sb.Append(first ? "" : ", ");
                        first = false;
                        WriteString(key);
                        sb.Append(": ");
                        Write(value);
                    }

                    sb.Append('}');
                    break;
                case JsonArray a:
                    sb.Append('[');
                    for (var i = 0; i < a.Count; i++)
                    {
                        sb.Append(i == 0 ? "" : ", ");
                        Write(a[i]);
                    }

                    sb.Append(']');
                    break;
                default:
                    if (n.GetValueKind() == JsonValueKind.String)
                    {
                        WriteString((string)n!);
                    }
                    else
                    {
                        sb.Append(n.ToJsonString());
                    }

                    break;
            }
        }

        void WriteString(string s)
        {
            sb.Append('"');
            foreach (var ch in s)
            {
                switch (ch)
                {
                    case '"': sb.Append("\\\""); break;
                    case '\\': sb.Append("\\\\"); break;
                    case '\n': sb.Append("\\n"); break;
                    case '\r': sb.Append("\\r"); break;
                    case '\t': sb.Append("\\t"); break;
                    case '\b': sb.Append("\\b"); break;
                    case '\f': sb.Append("\\f"); break;
                    default:
                        if (ch < 0x20 || ch > 0x7e)
                        {
                            sb.Append("\\u").Append(((int)ch).ToString("x4", CultureInfo.InvariantCulture));
                        }
                        else
                        {
                            sb.Append(ch);
                        }

                        break;
                }
            }

            sb.Append('"');
        }
    }

    public void Dispose() => _http.Dispose();
}
