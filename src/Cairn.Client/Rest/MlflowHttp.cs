using System.Buffers;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text.Json;
using Polly;
using Polly.Retry;

namespace Cairn.Client.Rest;

/// <summary>
/// HTTP plumbing shared by the REST store and the artifact proxy client: base address, auth header,
/// JSON bodies, error envelopes and the retry pipeline (connection failures, 5xx, 429; never 4xx).
/// </summary>
internal sealed class MlflowHttp : IDisposable
{
    private static readonly MediaTypeHeaderValue Json = new("application/json");

    private readonly HttpClient _http;
    private readonly ResiliencePipeline<HttpResponseMessage> _retry;
    private readonly ResiliencePipeline<HttpResponseMessage> _retryUnsentOnly;

    public MlflowHttp(Uri baseUri, RestOptions options)
    {
        Options = options;
        BaseUri = new Uri(baseUri.AbsoluteUri.TrimEnd('/') + "/");
        HttpMessageHandler handler;
        var ownsHandler = options.Handler is null;
        if (options.Handler is { } custom)
        {
            handler = custom;
        }
        else
        {
            var sockets = new SocketsHttpHandler
            {
                PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30),
                ConnectTimeout = TimeSpan.FromSeconds(10),
                AutomaticDecompression = DecompressionMethods.All,
            };
            if (options.SkipTlsChecks())
            {
                sockets.SslOptions.RemoteCertificateValidationCallback = (_, _, _, _) => true;
            }

            handler = sockets;
        }

        _http = new HttpClient(handler, ownsHandler) { BaseAddress = BaseUri, Timeout = Timeout.InfiniteTimeSpan };
        if (options.Authorization() is { } auth)
        {
            _http.DefaultRequestHeaders.Authorization = auth;
        }

        _http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("cairn-dotnet", typeof(MlflowHttp).Assembly.GetName().Version?.ToString(3) ?? "0"));
        _retry = BuildRetry(options, retryUnknownOutcome: true);
        _retryUnsentOnly = BuildRetry(options, retryUnknownOutcome: false);
    }

    public Uri BaseUri { get; }

    public RestOptions Options { get; }

    private static ResiliencePipeline<HttpResponseMessage> BuildRetry(RestOptions options, bool retryUnknownOutcome) =>
        new ResiliencePipelineBuilder<HttpResponseMessage>()
            .AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                MaxRetryAttempts = Math.Max(options.MaxRetries, 0) is 0 ? 1 : options.MaxRetries,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = options.RetryDelay,
                MaxDelay = options.MaxRetryDelay,
                ShouldHandle = args => ShouldRetryAsync(args.Outcome, retryUnknownOutcome && options.MaxRetries > 0, options.MaxRetries > 0),
                OnRetry = args =>
                {
                    args.Outcome.Result?.Dispose();
                    return default;
                },
            })
            .Build();

    private static async ValueTask<bool> ShouldRetryAsync(Outcome<HttpResponseMessage> outcome, bool retryUnknownOutcome, bool enabled)
    {
        if (!enabled)
        {
            return false;
        }

        if (outcome.Exception is { } ex)
        {
            return ex switch
            {
                OperationCanceledException => false,
                AttemptTimeoutException => retryUnknownOutcome,
                HttpRequestException h when NotSent(h) => true,
                HttpRequestException => retryUnknownOutcome,
                _ => false,
            };
        }

        var response = outcome.Result!;
        var status = (int)response.StatusCode;
        if (status < 500 && status != 429)
        {
            return false;
        }

        string? wire = null;
        if (status == 500 && response.Content.Headers.ContentType?.MediaType == "application/json")
        {
            var body = await response.Content.ReadAsByteArrayAsync().ConfigureAwait(false);
            wire = MlflowErrors.FromResponse(response.StatusCode, "application/json", body, "").WireCode();
        }

        return MlflowErrors.IsTransientStatus(status, wire);
    }

    /// <summary>True when the request certainly never reached the server (no connection could be made).</summary>
    internal static bool NotSent(HttpRequestException ex) =>
        ex.HttpRequestError is HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError or HttpRequestError.ProxyTunnelError
        || ex.InnerException is SocketException { SocketErrorCode: SocketError.ConnectionRefused or SocketError.HostNotFound or SocketError.NetworkUnreachable };

    /// <summary>POSTs a JSON body built by <paramref name="write"/> to <c>api/2.0/mlflow/{path}</c> and parses the answer.</summary>
    /// <param name="appendOnly">The call appends data (metrics): it is retried only when it certainly was not applied.</param>
    public Task<JsonDocument> PostJsonAsync(string path, Action<Utf8JsonWriter> write, CancellationToken ct, bool appendOnly = false) =>
        PostBodyAsync(path, Serialize(write), ct, appendOnly);

    /// <summary>Writes a JSON body with <paramref name="write"/> (so it can be built ahead of sending).</summary>
    public static ReadOnlyMemory<byte> Serialize(Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            write(writer);
        }

        return buffer.WrittenMemory;
    }

    /// <summary>POSTs an already serialized JSON body to <c>api/2.0/mlflow/{path}</c> and parses the answer.</summary>
    public Task<JsonDocument> PostBodyAsync(string path, ReadOnlyMemory<byte> body, CancellationToken ct, bool appendOnly = false) =>
        SendJsonAsync(() => new HttpRequestMessage(HttpMethod.Post, "api/2.0/mlflow/" + path)
        {
            Content = new ReadOnlyMemoryContent(body) { Headers = { ContentType = Json } },
        }, path, ct, appendOnly);

    /// <summary>GETs <c>{prefix}/{pathAndQuery}</c> (prefix defaults to <c>api/2.0/mlflow/</c>) and parses the JSON answer.</summary>
    public Task<JsonDocument> GetJsonAsync(string pathAndQuery, CancellationToken ct, string prefix = "api/2.0/mlflow/") =>
        SendJsonAsync(() => new HttpRequestMessage(HttpMethod.Get, prefix + pathAndQuery), pathAndQuery, ct, appendOnly: false);

    /// <summary>Sends a JSON body with any method (the registry uses PATCH and DELETE with bodies) to <c>api/2.0/mlflow/{path}</c>.</summary>
    public Task<JsonDocument> SendJsonAsync(HttpMethod method, string path, Action<Utf8JsonWriter> write, CancellationToken ct)
    {
        var body = Serialize(write);
        return SendJsonAsync(() => new HttpRequestMessage(method, "api/2.0/mlflow/" + path)
        {
            Content = new ReadOnlyMemoryContent(body) { Headers = { ContentType = Json } },
        }, path, ct, appendOnly: false);
    }

    public Task<JsonDocument> PostJsonAbsoluteAsync(string relativePath, Action<Utf8JsonWriter> write, CancellationToken ct)
    {
        var body = Serialize(write);
        return SendJsonAsync(() => new HttpRequestMessage(HttpMethod.Post, relativePath)
        {
            Content = new ReadOnlyMemoryContent(body) { Headers = { ContentType = Json } },
        }, relativePath, ct, appendOnly: false);
    }

    private async Task<JsonDocument> SendJsonAsync(Func<HttpRequestMessage> request, string what, CancellationToken ct, bool appendOnly)
    {
        using var response = await SendAsync(request, what, ct, appendOnly).ConfigureAwait(false);
        var bytes = await response.Content.ReadAsByteArrayAsync(ct).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw MlflowErrors.FromResponse(response.StatusCode, response.Content.Headers.ContentType?.MediaType, bytes, what);
        }

        try
        {
            return bytes.Length == 0 ? JsonDocument.Parse("{}") : JsonDocument.Parse(bytes);
        }
        catch (JsonException ex)
        {
            throw new Core.MlflowException(Core.ErrorCode.InternalError, $"{what}: the server's answer is not JSON: {ex.Message}");
        }
    }

    /// <summary>
    /// Sends a request (a fresh message per attempt) through the retry pipeline and returns the final
    /// response, successful or not. Connection failures that outlast the retries become
    /// <see cref="TrackingUnavailableException"/>.
    /// </summary>
    public async Task<HttpResponseMessage> SendAsync(Func<HttpRequestMessage> request, string what, CancellationToken ct, bool appendOnly = false)
    {
        var pipeline = appendOnly ? _retryUnsentOnly : _retry;
        try
        {
            return await pipeline.ExecuteAsync(
                static async (state, token) =>
                {
                    using var timeout = CancellationTokenSource.CreateLinkedTokenSource(token);
                    timeout.CancelAfter(state.Self.Options.RequestTimeout);
                    using var message = state.Request();
                    try
                    {
                        var response = await state.Self._http.SendAsync(message, HttpCompletionOption.ResponseContentRead, timeout.Token).ConfigureAwait(false);
                        return response;
                    }
                    catch (OperationCanceledException ex) when (!token.IsCancellationRequested)
                    {
                        throw new AttemptTimeoutException($"{state.What}: no answer within {state.Self.Options.RequestTimeout}", ex);
                    }
                },
                (Self: this, Request: request, What: what),
                ct).ConfigureAwait(false);
        }
        catch (HttpRequestException ex)
        {
            throw new TrackingUnavailableException($"{what}: the tracking server at {BaseUri} is unreachable: {ex.Message}", ex, outcomeUnknown: !NotSent(ex));
        }
        catch (AttemptTimeoutException ex)
        {
            throw new TrackingUnavailableException(ex.Message, ex, outcomeUnknown: true);
        }
    }

    public void Dispose() => _http.Dispose();

    private sealed class AttemptTimeoutException(string message, Exception inner) : Exception(message, inner);
}
