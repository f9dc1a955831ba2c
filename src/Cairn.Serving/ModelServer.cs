using System.Buffers;
using System.IO.Pipelines;
using System.Reflection;
using System.Text.Encodings.Web;
using System.Text.Json;
using Cairn.Models;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Cairn.Serving;

/// <summary>How <see cref="ModelServer"/> listens and what it accepts.</summary>
public sealed record ModelServerOptions
{
    public string Host { get; init; } = "127.0.0.1";

    /// <summary>0 picks a free port (see <see cref="ModelServer.Url"/>).</summary>
    public int Port { get; init; } = 5001;

    /// <summary>Largest request body accepted; larger ones get 413. Default 64 MiB.</summary>
    public long MaxRequestBytes { get; init; } = 64L * 1024 * 1024;

    /// <summary>Rows scored per batch when a CSV body is read (the body is parsed as it arrives).</summary>
    public int CsvChunkRows { get; init; } = 10_000;

    /// <summary>Log level of the server's console log (warnings: extra columns, unexpected errors).</summary>
    public LogLevel LogLevel { get; init; } = LogLevel.Warning;
}

/// <summary>
/// MLflow's scoring server for one loaded model: <c>GET /ping</c>, <c>GET /health</c>,
/// <c>GET /version</c> and <c>POST /invocations</c> (JSON in MLflow's four shapes, or CSV), with
/// signature enforcement and MLflow's error envelope. Predictions run on the request thread
/// through the predictor's pooled engines (no per-request model state).
/// </summary>
public sealed class ModelServer : IAsyncDisposable
{
    private const string JsonType = "application/json";
    private const string CsvType = "text/csv";

    private readonly WebApplication _app;
    private readonly Scorer _scorer;
    private readonly ModelServerOptions _options;
    private readonly ILogger _log;
    private readonly HashSet<string> _warnedExtra = new(StringComparer.Ordinal);

    public static string Version { get; } =
        typeof(ModelServer).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    private ModelServer(WebApplication app, Scorer scorer, ModelServerOptions options)
    {
        _app = app;
        _scorer = scorer;
        _options = options;
        _log = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Cairn.Serving");
    }

    public IModelPredictor Predictor => _scorer.Predictor;

    /// <summary>The address the server listens on, e.g. <c>http://127.0.0.1:5001</c> (known after <see cref="StartAsync"/>).</summary>
    public string Url { get; private set; } = "";

    public static ModelServer Create(IModelPredictor predictor, ModelServerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(predictor);
        options ??= new ModelServerOptions();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
        builder.Logging.SetMinimumLevel(options.LogLevel);
        builder.WebHost.UseUrls($"http://{options.Host}:{options.Port}");
        builder.WebHost.ConfigureKestrel(k =>
        {
            // Up to the limit the handler answers 413 itself and Kestrel drains the rest; far beyond
            // it Kestrel drops the connection rather than read an unbounded upload.
            k.Limits.MaxRequestBodySize = options.MaxRequestBytes <= long.MaxValue / 4 ? options.MaxRequestBytes * 4 : long.MaxValue;
            k.AddServerHeader = false;
        });

        var app = builder.Build();
        var server = new ModelServer(app, new Scorer(predictor), options);
        app.MapMethods("/ping", ["GET", "HEAD"], Ping);
        app.MapMethods("/health", ["GET", "HEAD"], Ping);
        app.MapGet("/version", context => Text(context, Version));
        app.MapPost("/invocations", server.InvocationsAsync);
        app.MapFallback(NotFound);
        return server;
    }

    public async Task StartAsync(CancellationToken ct = default)
    {
        await _app.StartAsync(ct).ConfigureAwait(false);
        var addresses = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses;
        Url = addresses?.FirstOrDefault()?.Replace("[::]", _options.Host, StringComparison.Ordinal) ?? $"http://{_options.Host}:{_options.Port}";
    }

    public Task WaitForShutdownAsync(CancellationToken ct = default) => _app.WaitForShutdownAsync(ct);

    public Task StopAsync(CancellationToken ct = default) => _app.StopAsync(ct);

    public async ValueTask DisposeAsync() => await _app.DisposeAsync().ConfigureAwait(false);

    private static Task Ping(HttpContext context)
    {
        context.Response.StatusCode = 200;
        context.Response.ContentType = JsonType;
        return context.Response.WriteAsync("\n");
    }

    private static Task Text(HttpContext context, string text)
    {
        context.Response.ContentType = "text/plain; charset=utf-8";
        return context.Response.WriteAsync(text);
    }

    private static Task NotFound(HttpContext context)
    {
        var known = context.Request.Path.Value is "/ping" or "/health" or "/version" or "/invocations";
        return WriteErrorAsync(context, known ? 405 : 404, known ? "BAD_REQUEST" : "ENDPOINT_NOT_FOUND",
            known ? $"Method {context.Request.Method} is not allowed on {context.Request.Path}." : $"No endpoint {context.Request.Method} {context.Request.Path}; the scoring server answers /ping, /health, /version and POST /invocations.");
    }

    private async Task InvocationsAsync(HttpContext context)
    {
        try
        {
            var mediaType = MediaType(context.Request.ContentType);
            if (mediaType == JsonType)
            {
                await JsonAsync(context).ConfigureAwait(false);
            }
            else if (mediaType == CsvType)
            {
                await CsvAsync(context).ConfigureAwait(false);
            }
            else
            {
                throw new ScoringException(ScoringException.BadRequest,
                    $"This predictor only supports the content types ['{JsonType}', '{CsvType}']; got '{context.Request.ContentType}'.", 415);
            }
        }
        catch (ScoringException e)
        {
            await WriteErrorAsync(context, e.Status, e.ErrorCode, e.Message).ConfigureAwait(false);
        }
        catch (BadHttpRequestException e)
        {
            await WriteErrorAsync(context, e.StatusCode, e.StatusCode == 413 ? "REQUEST_LIMIT_EXCEEDED" : "BAD_REQUEST", e.Message).ConfigureAwait(false);
        }
        catch (Exception) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client went away; there is no one to answer.
        }
        catch (Exception e)
        {
            _log.LogError(e, "Scoring failed");
            await WriteErrorAsync(context, 500, "INTERNAL_ERROR", $"Encountered an unexpected error while scoring: {e.GetType().Name}: {e.Message}").ConfigureAwait(false);
        }
    }

    private static string? MediaType(string? contentType)
    {
        if (string.IsNullOrEmpty(contentType))
        {
            return null;
        }

        var semicolon = contentType.IndexOf(';', StringComparison.Ordinal);
        return (semicolon < 0 ? contentType : contentType[..semicolon]).Trim().ToLowerInvariant();
    }

    private void CheckLength(HttpRequest request)
    {
        if (request.ContentLength > _options.MaxRequestBytes)
        {
            throw TooLarge();
        }
    }

    private ScoringException TooLarge() =>
        new("REQUEST_LIMIT_EXCEEDED", $"Request body too large. The max request body size is {_options.MaxRequestBytes} bytes.", 413);

    private async Task JsonAsync(HttpContext context)
    {
        CheckLength(context.Request);
        var reader = context.Request.BodyReader;
        ReadResult read;
        while (true)
        {
            read = await reader.ReadAsync(context.RequestAborted).ConfigureAwait(false);
            if (read.Buffer.Length > _options.MaxRequestBytes)
            {
                reader.AdvanceTo(read.Buffer.End);
                throw TooLarge();
            }

            if (read.IsCompleted)
            {
                break;
            }

            reader.AdvanceTo(read.Buffer.Start, read.Buffer.End);
        }

        JsonScoringRequest request;
        try
        {
            request = JsonRequestParser.Parse(read.Buffer);
        }
        finally
        {
            reader.AdvanceTo(read.Buffer.End);
        }

        // Params are checked (and defaults applied) even though no flavor takes inference params yet.
        _scorer.Enforcer.ApplyParams(request.Params);
        WarnExtra(request.Table);
        await WritePredictionsAsync(context, _scorer.Predict(request.Table)).ConfigureAwait(false);
    }

    private async Task CsvAsync(HttpContext context)
    {
        CheckLength(context.Request);
        var body = new LimitedStream(context.Request.Body, _options.MaxRequestBytes, TooLarge);
        var csv = new CsvInput(body);
        await csv.ReadHeaderAsync(context.RequestAborted).ConfigureAwait(false);
        var all = new List<Prediction>();
        while (true)
        {
            var first = csv.RowsRead == 0;
            var chunk = await csv.ReadChunkAsync(_options.CsvChunkRows, context.RequestAborted).ConfigureAwait(false);
            if (first)
            {
                WarnExtra(chunk);
            }

            if (chunk.Rows.Count == 0)
            {
                break;
            }

            all.AddRange(_scorer.Predict(chunk));
        }

        await WritePredictionsAsync(context, all).ConfigureAwait(false);
    }

    private void WarnExtra(InputTable table)
    {
        var extra = _scorer.Enforcer.ExtraColumns(table);
        if (extra.Count == 0)
        {
            return;
        }

        var key = string.Join('\u0001', extra);
        lock (_warnedExtra)
        {
            // Once per distinct set, so a client sending extra columns on every request does not flood the log.
            if (_warnedExtra.Count > 1000 || !_warnedExtra.Add(key))
            {
                return;
            }
        }

        _log.LogWarning("Found extra inputs in the request that the model signature does not define: [{Columns}]. These inputs are ignored.", string.Join(", ", extra));
    }

    // Messages and labels are written as they are ('column' not \u0027column\u0027): the body is
    // application/json for API clients, never embedded in HTML.
    private static readonly JsonWriterOptions WriterOptions = new() { SkipValidation = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static readonly JsonWriterOptions ErrorOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static async Task WritePredictionsAsync(HttpContext context, IReadOnlyList<Prediction> predictions)
    {
        context.Response.StatusCode = 200;
        context.Response.ContentType = JsonType;
        var output = context.Response.BodyWriter;
        await using (var json = new Utf8JsonWriter(output, WriterOptions))
        {
            Scorer.WriteResponse(json, predictions);
        }

        await output.FlushAsync(context.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>MLflow's error envelope: <c>{"error_code": ..., "message": ...}</c>.</summary>
    internal static async Task WriteErrorAsync(HttpContext context, int status, string code, string message)
    {
        if (context.Response.HasStarted)
        {
            return;
        }

        context.Response.StatusCode = status;
        context.Response.ContentType = JsonType;
        var output = context.Response.BodyWriter;
        await using (var json = new Utf8JsonWriter(output, ErrorOptions))
        {
            json.WriteStartObject();
            json.WriteString("error_code"u8, code);
            json.WriteString("message"u8, message);
            json.WriteEndObject();
        }

        await output.FlushAsync().ConfigureAwait(false);
    }

    /// <summary>A read-only view of a stream that fails once more than <c>limit</c> bytes have been read.</summary>
    private sealed class LimitedStream(Stream inner, long limit, Func<Exception> tooLarge) : Stream
    {
        private long _read;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => _read; set => throw new NotSupportedException(); }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => Count(inner.Read(buffer, offset, count));

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            Count(await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        private int Count(int n)
        {
            _read += n;
            return _read > limit ? throw tooLarge() : n;
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
