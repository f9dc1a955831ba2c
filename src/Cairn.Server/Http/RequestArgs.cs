using System.Buffers;
using System.Globalization;
using System.Text.Json;
using Cairn.Core;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Primitives;

namespace Cairn.Server.Http;

/// <summary>
/// The parameters of one MLflow REST request, read the way MLflow's server reads them: GET from the
/// query string (or, when there is none, from a JSON body), other methods from a JSON body.
/// Accessors apply MLflow's leniencies (numeric strings for numbers, a single value for a list) and
/// raise MLflow's INVALID_PARAMETER_VALUE errors for values of the wrong type.
/// </summary>
public sealed class RequestArgs
{
    private readonly IQueryCollection? _query;
    private readonly JsonElement _body;

    private RequestArgs(IQueryCollection? query, JsonElement body)
    {
        _query = query;
        _body = body;
    }

    public static async Task<RequestArgs> ReadAsync(HttpContext context)
    {
        var request = context.Request;
        if ((HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method)) && request.QueryString.HasValue)
        {
            return new RequestArgs(request.Query, default);
        }

        return FromBody(await ReadBodyBytesAsync(request).ConfigureAwait(false));
    }

    /// <summary>The arguments of a JSON body already read with <see cref="ReadBodyBytesAsync"/>.</summary>
    public static RequestArgs FromBody(ReadOnlyMemory<byte> body) => new(null, ParseBody(body));

    /// <summary>
    /// A POST or PUT's JSON body as bytes, after MLflow's content-type checks and within the size
    /// limit (413 beyond it); empty when there is none.
    /// </summary>
    public static async Task<ReadOnlyMemory<byte>> ReadBodyBytesAsync(HttpRequest request)
    {
        if (HttpMethods.IsPost(request.Method) || HttpMethods.IsPut(request.Method))
        {
            var contentType = request.ContentType;
            if (string.IsNullOrEmpty(contentType))
            {
                throw MlflowException.InvalidParameter("Bad Request. Content-Type header is missing.");
            }

            var mediaType = contentType.Split(';', 2)[0].Trim();
            if (!mediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase))
            {
                throw MlflowException.InvalidParameter("Bad Request. Content-Type must be one of ['application/json'].");
            }
        }

        if (request.ContentLength == 0)
        {
            return default;
        }

        // JSON bodies are bounded (artifact uploads stream elsewhere); a larger body fails with 413.
        // Kestrel's own cap sits well above that limit: if Kestrel enforced the limit itself it would
        // drop the connection while the client is still uploading, and most clients (Python's
        // requests, HttpClient) then report a broken pipe instead of the 413. Up to the cap, Kestrel
        // drains the rest of the body after the answer; beyond it the connection is dropped.
        var limit = request.HttpContext.RequestServices.GetService<CairnServerOptions>()?.MaxJsonBodyBytes ?? 16 * 1024 * 1024;
        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } sizeFeature)
        {
            sizeFeature.MaxRequestBodySize = limit <= long.MaxValue / 4 ? limit * 4 : long.MaxValue;
        }

        if (request.ContentLength > limit)
        {
            throw BodyTooLarge(limit);
        }

        using var buffer = new MemoryStream(request.ContentLength is { } length ? (int)length : 0);
        var chunk = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            int read;
            while ((read = await request.Body.ReadAsync(chunk, request.HttpContext.RequestAborted).ConfigureAwait(false)) > 0)
            {
                if (buffer.Length + read > limit)
                {
                    throw BodyTooLarge(limit);
                }

                buffer.Write(chunk, 0, read);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }

        return new ReadOnlyMemory<byte>(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    /// <summary>Unparsable JSON counts as an empty body; a JSON string holding JSON is decoded twice (as MLflow does).</summary>
    private static JsonElement ParseBody(ReadOnlyMemory<byte> bytes)
    {
        if (bytes.IsEmpty)
        {
            return default;
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(bytes, JsonOptions);
        }
        catch (JsonException)
        {
            // Python clients may send bare NaN/Infinity tokens; read them as the strings MLflow's
            // clients normally send. Anything else unparsable counts as an empty body, as in MLflow.
            try
            {
                document = JsonDocument.Parse(JsonLiterals.QuoteNonFinite(System.Text.Encoding.UTF8.GetString(bytes.Span)), JsonOptions);
            }
            catch (JsonException)
            {
                return default;
            }
        }

        var root = document.RootElement;
        if (root.ValueKind == JsonValueKind.String)
        {
            try
            {
                root = JsonDocument.Parse(root.GetString()!, JsonOptions).RootElement;
            }
            catch (Exception ex) when (ex is JsonException or InvalidOperationException)
            {
                return default;
            }
        }

        return root.ValueKind switch
        {
            JsonValueKind.Object => root,
            JsonValueKind.Null => default,
            _ => throw MlflowException.InvalidParameter("Invalid request body: expected a JSON object."),
        };
    }

    private static BadHttpRequestException BodyTooLarge(long limit) =>
        new($"Request body too large. The max request body size is {limit} bytes.", StatusCodes.Status413PayloadTooLarge);

    private static readonly JsonDocumentOptions JsonOptions = new() { AllowTrailingCommas = true, MaxDepth = 64 };

    private bool TryGet(string name, out JsonElement value)
    {
        value = default;
        return _body.ValueKind == JsonValueKind.Object && _body.TryGetProperty(name, out value) && value.ValueKind != JsonValueKind.Null;
    }

    private bool TryQuery(string name, out StringValues values)
    {
        values = default;
        return _query is not null && _query.TryGetValue(name, out values) && values.Count > 0;
    }

    /// <summary>The MLflow error for a value of the wrong JSON type.</summary>
    public static MlflowException InvalidValue(string name, JsonElement value)
    {
        var (shown, type) = value.ValueKind switch
        {
            JsonValueKind.String => (value.GetRawText(), "str"),
            JsonValueKind.Number => (value.GetRawText(), value.GetRawText().Contains('.', StringComparison.Ordinal) ? "float" : "int"),
            JsonValueKind.True or JsonValueKind.False => (value.GetRawText(), "bool"),
            JsonValueKind.Array => (value.GetRawText(), "list"),
            _ => (value.GetRawText(), "dict"),
        };
        return MlflowException.InvalidParameter(
            $"Invalid value {shown} for parameter '{name}' supplied:  Hint: Value was of type '{type}'. See the API docs for more information about request parameters.");
    }

    public static MlflowException Missing(string name) => MlflowException.InvalidParameter(Validation.MissingParameterMessage(name));

    public string? String(string name)
    {
        if (TryQuery(name, out var values))
        {
            return Storable(name, values[^1]!);
        }

        return TryGet(name, out var v) ? StringOf(name, v) : null;
    }

    public static string StringOf(string name, JsonElement v) =>
        v.ValueKind == JsonValueKind.String ? TextOf(name, v) : throw InvalidValue(name, v);

    /// <summary>
    /// A JSON string's text. The parser accepts escapes that decode to no valid Unicode text (a lone
    /// surrogate such as "\ud800"); that is the client's mistake, so it is a 400 and not a server failure.
    /// </summary>
    private static string TextOf(string name, JsonElement v)
    {
        string text;
        try
        {
            text = v.GetString()!;
        }
        catch (InvalidOperationException)
        {
            throw MlflowException.InvalidParameter(
                $"Invalid value {v.GetRawText()} for parameter '{name}' supplied: the string is not valid Unicode text. See the API docs for more information about request parameters.");
        }

        return Storable(name, text);
    }

    /// <summary>
    /// PostgreSQL cannot store a NUL character in text, so a string holding one is refused here,
    /// for every route and on every backend alike, instead of failing inside the store.
    /// </summary>
    private static string Storable(string name, string text) =>
        text.Contains('\0', StringComparison.Ordinal)
            ? throw MlflowException.InvalidParameter($"Invalid value for parameter '{name}' supplied: the string contains a NUL character. See the API docs for more information about request parameters.")
            : text;

    /// <summary>A required string; an empty string counts as missing, as in MLflow.</summary>
    public string RequiredString(string name) => String(name) is { Length: > 0 } s ? s : throw Missing(name);

    /// <summary>The first of several names that is present (e.g. <c>run_id</c> then the older <c>run_uuid</c>).</summary>
    public string RequiredString(string name, string alternative) =>
        String(name) is { Length: > 0 } s ? s : String(alternative) is { Length: > 0 } a ? a : throw Missing(name);

    public long? Long(string name)
    {
        if (TryQuery(name, out var values))
        {
            return ParseLong(name, values[^1]!);
        }

        return TryGet(name, out var v) ? LongOf(name, v) : null;
    }

    public static long LongOf(string name, JsonElement v)
    {
        switch (v.ValueKind)
        {
            case JsonValueKind.Number when v.TryGetInt64(out var l):
                return l;
            case JsonValueKind.Number when v.TryGetDouble(out var d) && double.IsFinite(d) && Math.Abs(d) < 9.2e18:
                return (long)d;
            case JsonValueKind.String when long.TryParse(TextOf(name, v), NumberStyles.Integer, CultureInfo.InvariantCulture, out var s):
                return s;
            default:
                throw InvalidValue(name, v);
        }
    }

    private static long ParseLong(string name, string text) =>
        long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw MlflowException.InvalidParameter(
                $"Invalid value \"{text}\" for parameter '{name}' supplied:  Hint: Value was of type 'str'. See the API docs for more information about request parameters.");

    public int? Int(string name)
    {
        var value = Long(name);
        return value switch
        {
            null => null,
            > int.MaxValue => int.MaxValue,
            < int.MinValue => int.MinValue,
            _ => (int)value.Value,
        };
    }

    public bool? Bool(string name)
    {
        if (TryQuery(name, out var values))
        {
            return bool.TryParse(values[^1], out var b) ? b : throw MlflowException.InvalidParameter($"Invalid value \"{values[^1]}\" for parameter '{name}': expected true or false.");
        }

        if (!TryGet(name, out var v))
        {
            return null;
        }

        return v.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw InvalidValue(name, v),
        };
    }

    /// <summary>A metric value: a number, a numeric string ("NaN" and "Infinity" included) or a boolean.</summary>
    public static double DoubleOf(string name, JsonElement v) => v.ValueKind switch
    {
        JsonValueKind.Number => v.GetDouble(),
        JsonValueKind.True => 1,
        JsonValueKind.False => 0,
        JsonValueKind.String when ParseDouble(TextOf(name, v)) is { } d => d,
        _ => throw InvalidValue(name, v),
    };

    public static double? ParseDouble(string text) =>
        text switch
        {
            "NaN" or "nan" => double.NaN,
            "Infinity" or "inf" or "+Infinity" => double.PositiveInfinity,
            "-Infinity" or "-inf" => double.NegativeInfinity,
            _ => double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d : null,
        };

    public double RequiredDouble(string name)
    {
        if (TryQuery(name, out var values))
        {
            return ParseDouble(values[^1]!) ?? throw MlflowException.InvalidParameter($"Invalid value \"{values[^1]}\" for parameter '{name}' supplied.");
        }

        return TryGet(name, out var v) ? DoubleOf(name, v) : throw Missing(name);
    }

    /// <summary>A list of strings; a single string counts as a list of one.</summary>
    public IReadOnlyList<string> StringList(string name)
    {
        if (TryQuery(name, out var values))
        {
            return values.Where(v => v is not null).Select(v => Storable(name, v!)).ToList();
        }

        if (!TryGet(name, out var v))
        {
            return [];
        }

        return v.ValueKind switch
        {
            JsonValueKind.Array => v.EnumerateArray().Select(e => StringOf(name, e)).ToList(),
            JsonValueKind.String => [TextOf(name, v)],
            _ => throw InvalidValue(name, v),
        };
    }

    /// <summary>A list of strings that must be a JSON list (MLflow rejects a bare string for <c>order_by</c>).</summary>
    public IReadOnlyList<string> StrictStringList(string name)
    {
        if (TryQuery(name, out var values))
        {
            return values.Where(v => v is not null).Select(v => Storable(name, v!)).ToList();
        }

        if (!TryGet(name, out var v))
        {
            return [];
        }

        return v.ValueKind == JsonValueKind.Array ? v.EnumerateArray().Select(e => StringOf(name, e)).ToList() : throw InvalidValue(name, v);
    }

    /// <summary>A JSON list of objects (a body-only field); absent gives an empty list.</summary>
    public IReadOnlyList<JsonElement> ObjectList(string name) => TryGet(name, out var v) ? ObjectListOf(name, v) : [];

    /// <summary>A list of objects, also where one is nested in another (a dataset input's tags).</summary>
    public static IReadOnlyList<JsonElement> ObjectListOf(string name, JsonElement v)
    {
        if (v.ValueKind != JsonValueKind.Array)
        {
            throw InvalidValue(name, v);
        }

        var list = new List<JsonElement>(v.GetArrayLength());
        foreach (var e in v.EnumerateArray())
        {
            if (e.ValueKind != JsonValueKind.Object)
            {
                throw InvalidValue(name, e);
            }

            list.Add(e);
        }

        return list;
    }

    public bool Has(string name) => TryQuery(name, out _) || TryGet(name, out _);

    /// <summary>Tags in the <c>[{"key": …, "value": …}]</c> form.</summary>
    public IReadOnlyList<Tag> Tags(string name = "tags")
    {
        var list = ObjectList(name);
        var tags = new List<Tag>(list.Count);
        for (var i = 0; i < list.Count; i++)
        {
            tags.Add(TagOf(list[i], $"{name}[{i}]"));
        }

        return tags;
    }

    public static Tag TagOf(JsonElement e, string path)
    {
        var key = Field(e, "key") is { } k ? StringOf($"{path}.key", k) : throw Missing($"{path}.key");
        var value = Field(e, "value") is { } v ? StringOf($"{path}.value", v) : "";
        return new Tag(key, value);
    }

    /// <summary>A nested object; anything else is a value of the wrong type.</summary>
    public static JsonElement ObjectOf(string name, JsonElement v) =>
        v.ValueKind == JsonValueKind.Object ? v : throw InvalidValue(name, v);

    /// <summary>A field of an object (see <see cref="ObjectOf"/>); JSON null counts as absent.</summary>
    public static JsonElement? Field(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null ? v : null;
}
