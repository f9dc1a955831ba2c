using System.Buffers;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Cairn.Bench.Rest;

/// <summary>A non-2xx answer from the server, with its status and (start of its) body.</summary>
internal sealed class HttpError(int status, string body)
    : Exception($"HTTP {status}: {(body.Length > 300 ? body[..300] : body)}")
{
    public int Status { get; } = status;
}

/// <summary>
/// Plain MLflow REST client: one <see cref="HttpClient"/> over a keep-alive
/// <see cref="SocketsHttpHandler"/> pool, shared by every phase and every concurrent worker
/// (the pool opens one connection per concurrent request, like one connection per Python thread).
/// Bodies are sent as pre-serialized UTF-8 JSON; answers are returned as raw bytes or parsed.
/// </summary>
internal sealed class MlflowClient : IDisposable
{
    public const string Api = "api/2.0/mlflow";
    private static readonly MediaTypeHeaderValue JsonType = new("application/json");
    private readonly HttpClient _http;

    public MlflowClient(string baseUrl)
    {
        var handler = new SocketsHttpHandler
        {
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(10),
            MaxConnectionsPerServer = 256,
            AutomaticDecompression = DecompressionMethods.None,
            UseProxy = false,
            UseCookies = false,
            AllowAutoRedirect = false,
        };
        BaseUrl = baseUrl.TrimEnd('/');
        _http = new HttpClient(handler)
        {
            BaseAddress = new Uri(BaseUrl + "/"),
            Timeout = TimeSpan.FromSeconds(120),
            DefaultRequestVersion = HttpVersion.Version11,
        };
        _http.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
    }

    public string BaseUrl { get; }

    /// <summary>POST a JSON body to <c>/api/2.0/mlflow{path}</c>; returns the raw answer.</summary>
    public async Task<byte[]> PostAsync(string path, byte[] body)
    {
        using var req = new HttpRequestMessage(HttpMethod.Post, Api + path);
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = JsonType;
        req.Content = content;
        return await SendAsync(req).ConfigureAwait(false);
    }

    /// <summary>GET <c>/api/2.0/mlflow{path}?query</c>; returns the raw answer.</summary>
    public Task<byte[]> GetAsync(string path, params (string Key, string Value)[] query)
    {
        var sb = new StringBuilder(Api).Append(path);
        for (var i = 0; i < query.Length; i++)
        {
            sb.Append(i == 0 ? '?' : '&').Append(Uri.EscapeDataString(query[i].Key)).Append('=')
                .Append(Uri.EscapeDataString(query[i].Value));
        }

        return SendAsync(new HttpRequestMessage(HttpMethod.Get, sb.ToString()));
    }

    /// <summary>GET a path outside the API prefix (e.g. <c>/version</c>); null on any failure.</summary>
    public async Task<string?> TryGetTextAsync(string path)
    {
        try
        {
            using var resp = await _http.GetAsync(path.TrimStart('/')).ConfigureAwait(false);
            var text = (await resp.Content.ReadAsStringAsync().ConfigureAwait(false)).Trim();
            return resp.IsSuccessStatusCode ? (text.Length > 60 ? text[..60] : text) : null;
        }
        catch (Exception)
        {
            return null;
        }
    }

    private async Task<byte[]> SendAsync(HttpRequestMessage req)
    {
        using (req)
        {
            using var resp = await _http.SendAsync(req, HttpCompletionOption.ResponseContentRead).ConfigureAwait(false);
            var bytes = await resp.Content.ReadAsByteArrayAsync().ConfigureAwait(false);
            if (!resp.IsSuccessStatusCode)
            {
                throw new HttpError((int)resp.StatusCode, Encoding.UTF8.GetString(bytes));
            }

            return bytes;
        }
    }

    public void Dispose() => _http.Dispose();

    // ---- typed helpers -------------------------------------------------------------------------

    public async Task<string> CreateExperimentAsync(string name)
    {
        var answer = await PostAsync("/experiments/create", Json.Object(w => w.WriteString("name", name))).ConfigureAwait(false);
        using var doc = JsonDocument.Parse(answer);
        return Json.IdString(doc.RootElement.GetProperty("experiment_id"));
    }

    public async Task<string> CreateRunAsync(string experimentId, string name)
    {
        var body = Json.Object(w =>
        {
            w.WriteString("experiment_id", experimentId);
            w.WriteNumber("start_time", Json.NowMs());
            w.WriteString("run_name", name);
        });
        var answer = await PostAsync("/runs/create", body).ConfigureAwait(false);
        return RunIdOf(answer);
    }

    private static string RunIdOf(byte[] answer)
    {
        var reader = new Utf8JsonReader(answer);
        while (reader.Read())
        {
            if (reader.TokenType == JsonTokenType.PropertyName && reader.CurrentDepth == 3 && reader.ValueTextEquals("run_id"u8))
            {
                reader.Read();
                return reader.GetString()!;
            }
        }

        using var doc = JsonDocument.Parse(answer);
        return doc.RootElement.GetProperty("run").GetProperty("info").GetProperty("run_id").GetString()!;
    }

    /// <summary>One page of a metric history: its (step, value) points and the next token.</summary>
    public static (string? Next, int Count) ParseHistoryPage(byte[] page, List<long> steps, List<double> values)
    {
        using var doc = JsonDocument.Parse(page);
        var count = 0;
        if (doc.RootElement.TryGetProperty("metrics", out var metrics))
        {
            foreach (var m in metrics.EnumerateArray())
            {
                steps.Add(m.TryGetProperty("step", out var s) ? Json.Long(s) : 0);
                values.Add(m.TryGetProperty("value", out var v) ? Json.Double(v) : double.NaN);
                count++;
            }
        }

        var next = doc.RootElement.TryGetProperty("next_page_token", out var t) && t.ValueKind == JsonValueKind.String
            ? t.GetString()
            : null;
        return (string.IsNullOrEmpty(next) ? null : next, count);
    }

    /// <summary>The whole history of one metric, following <c>next_page_token</c> when the server pages.</summary>
    public async Task<(List<long> Steps, List<double> Values, int Pages, long Bytes)> GetHistoryAsync(string runId, string key)
    {
        var steps = new List<long>();
        var values = new List<double>();
        string? token = null;
        var pages = 0;
        long bytes = 0;
        do
        {
            var page = token is null
                ? await GetAsync("/metrics/get-history", ("run_id", runId), ("metric_key", key)).ConfigureAwait(false)
                : await GetAsync("/metrics/get-history", ("run_id", runId), ("metric_key", key), ("page_token", token)).ConfigureAwait(false);
            pages++;
            bytes += page.Length;
            (token, _) = ParseHistoryPage(page, steps, values);
        }
        while (token is not null);
        return (steps, values, pages, bytes);
    }
}

/// <summary>Small JSON helpers: request bodies are written with <see cref="Utf8JsonWriter"/>.</summary>
internal static class Json
{
    public static long NowMs() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    public static byte[] Object(Action<Utf8JsonWriter> body)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            body(w);
            w.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>A log-batch body of <paramref name="n"/> points of one key at consecutive steps.</summary>
    public static byte[] Batch(string runId, string key, long startStep, int n, long ts, Func<long, double>? value = null,
        (string Key, string Value)[]? parameters = null)
    {
        var buffer = new ArrayBufferWriter<byte>(64 + n * (key.Length + 64));
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("run_id", runId);
            w.WriteStartArray("metrics");
            for (var i = 0; i < n; i++)
            {
                var step = startStep + i;
                w.WriteStartObject();
                w.WriteString("key", key);
                w.WriteNumber("value", value is null ? step : value(step));
                w.WriteNumber("timestamp", ts);
                w.WriteNumber("step", step);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            if (parameters is not null)
            {
                w.WriteStartArray("params");
                foreach (var (k, v) in parameters)
                {
                    w.WriteStartObject();
                    w.WriteString("key", k);
                    w.WriteString("value", v);
                    w.WriteEndObject();
                }

                w.WriteEndArray();
            }

            w.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>MLflow sends int64 fields as JSON strings or numbers depending on the server; accept both.</summary>
    public static long Long(JsonElement e) => e.ValueKind == JsonValueKind.String ? long.Parse(e.GetString()!) : e.GetInt64();

    /// <summary>A metric value: a number, or MLflow's "NaN"/"Infinity"/"-Infinity" strings.</summary>
    public static double Double(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Number => e.GetDouble(),
        JsonValueKind.String => e.GetString() switch
        {
            "NaN" => double.NaN,
            "Infinity" => double.PositiveInfinity,
            "-Infinity" => double.NegativeInfinity,
            var s => double.Parse(s!, System.Globalization.CultureInfo.InvariantCulture),
        },
        _ => double.NaN,
    };

    public static string IdString(JsonElement e) => e.ValueKind == JsonValueKind.String ? e.GetString()! : e.GetRawText();
}
