using System.Text.Json;
using Cairn.Core;
using Microsoft.AspNetCore.Http;

namespace Cairn.Server.Http;

/// <summary>Writes JSON responses straight to the response body, without building object graphs.</summary>
public static class Responses
{
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static async Task WriteJsonAsync(HttpContext context, Action<Utf8JsonWriter> write, int status = StatusCodes.Status200OK)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await using (var writer = new Utf8JsonWriter(context.Response.BodyWriter, WriterOptions))
        {
            write(writer);
        }

        await context.Response.BodyWriter.FlushAsync(context.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>Creates a writer for a response streamed in several flushes (large listings and histories).</summary>
    public static Utf8JsonWriter StreamingWriter(HttpContext context)
    {
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "application/json";
        return new Utf8JsonWriter(context.Response.BodyWriter, WriterOptions);
    }

    public static Task EmptyAsync(HttpContext context) => WriteJsonAsync(context, w =>
    {
        w.WriteStartObject();
        w.WriteEndObject();
    });

    public static Task ErrorAsync(HttpContext context, MlflowException error) => ErrorAsync(context, error.HttpStatus, error.WireCode, error.Message);

    public static Task ErrorAsync(HttpContext context, int status, string code, string message) => WriteJsonAsync(context, w =>
    {
        w.WriteStartObject();
        w.WriteString("error_code", code);
        w.WriteString("message", message);
        w.WriteEndObject();
    }, status);
}
