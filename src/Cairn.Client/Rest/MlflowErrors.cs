using System.Net;
using System.Text.Json;
using Cairn.Core;

namespace Cairn.Client.Rest;

/// <summary>
/// Turns MLflow error answers into <see cref="MlflowException"/>s. The wire <c>error_code</c> and the
/// HTTP status are also kept in <see cref="Exception.Data"/> (<see cref="WireCodeKey"/>, <see cref="HttpStatusKey"/>):
/// a server may answer a code MLflow added after this client (it maps to the nearest
/// <see cref="ErrorCode"/> by status) or a status other than the code's usual one.
/// </summary>
public static class MlflowErrors
{
    public const string WireCodeKey = "error_code";
    public const string HttpStatusKey = "http_status";

    /// <summary>The <c>error_code</c> the server sent, or the one Core's code stands for.</summary>
    public static string WireCode(this MlflowException exception) =>
        exception.Data[WireCodeKey] as string ?? exception.WireCode;

    /// <summary>The HTTP status the server answered with, or the one Core's code maps to.</summary>
    public static int HttpStatus(this MlflowException exception) =>
        exception.Data[HttpStatusKey] as int? ?? exception.HttpStatus;

    /// <summary>
    /// Whether retrying the same request later may succeed: the server was unreachable, overloaded
    /// (429) or failed internally (5xx other than 501 and INVALID_STATE, which are answers, not accidents).
    /// </summary>
    public static bool IsTransient(Exception exception) => exception switch
    {
        TrackingUnavailableException => true,
        MlflowException m => IsTransientStatus(m.HttpStatus(), m.WireCode()),
        HttpRequestException => true,
        TimeoutException => true,
        _ => false,
    };

    internal static bool IsTransientStatus(int status, string? wireCode) =>
        status == 429 || (status >= 500 && status != 501 && wireCode is not ("INVALID_STATE" or "NOT_IMPLEMENTED"));

    internal static MlflowException FromResponse(HttpStatusCode status, string? mediaType, byte[] body, string what)
    {
        string? wire = null;
        string? message = null;
        if (body.Length > 0 && (mediaType?.Contains("json", StringComparison.OrdinalIgnoreCase) ?? true))
        {
            try
            {
                using var doc = JsonDocument.Parse(body);
                if (doc.RootElement.ValueKind == JsonValueKind.Object)
                {
                    if (doc.RootElement.TryGetProperty("error_code", out var c) && c.ValueKind == JsonValueKind.String)
                    {
                        wire = c.GetString();
                    }

                    if (doc.RootElement.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String)
                    {
                        message = m.GetString();
                    }
                }
            }
            catch (JsonException)
            {
            }
        }

        var code = (int)status;
        wire ??= code switch
        {
            400 or 405 or 415 => "BAD_REQUEST",
            401 => "UNAUTHENTICATED",
            403 => "PERMISSION_DENIED",
            404 => "ENDPOINT_NOT_FOUND",
            429 => "REQUEST_LIMIT_EXCEEDED",
            501 => "NOT_IMPLEMENTED",
            503 => "TEMPORARILY_UNAVAILABLE",
            _ => "INTERNAL_ERROR",
        };
        message ??= $"{what} failed with HTTP {code}" + (body.Length > 0 ? ": " + Truncate(System.Text.Encoding.UTF8.GetString(body), 500) : "");
        var exception = new MlflowException(ToCode(wire, code), message);
        exception.Data[WireCodeKey] = wire;
        exception.Data[HttpStatusKey] = code;
        return exception;
    }

    private static ErrorCode ToCode(string wire, int status) => wire switch
    {
        "INTERNAL_ERROR" => ErrorCode.InternalError,
        "BAD_REQUEST" => ErrorCode.BadRequest,
        "INVALID_PARAMETER_VALUE" => ErrorCode.InvalidParameterValue,
        "RESOURCE_ALREADY_EXISTS" => ErrorCode.ResourceAlreadyExists,
        "RESOURCE_DOES_NOT_EXIST" => ErrorCode.ResourceDoesNotExist,
        "INVALID_STATE" => ErrorCode.InvalidState,
        "NOT_IMPLEMENTED" => ErrorCode.NotImplemented,
        "ENDPOINT_NOT_FOUND" => ErrorCode.EndpointNotFound,
        "UNAUTHENTICATED" => ErrorCode.Unauthenticated,
        "PERMISSION_DENIED" => ErrorCode.PermissionDenied,
        "REQUEST_LIMIT_EXCEEDED" => ErrorCode.RequestLimitExceeded,
        "TEMPORARILY_UNAVAILABLE" => ErrorCode.TemporarilyUnavailable,
        _ => status switch
        {
            401 => ErrorCode.Unauthenticated,
            403 => ErrorCode.PermissionDenied,
            404 => ErrorCode.ResourceDoesNotExist,
            429 => ErrorCode.RequestLimitExceeded,
            >= 400 and < 500 => ErrorCode.BadRequest,
            501 => ErrorCode.NotImplemented,
            503 => ErrorCode.TemporarilyUnavailable,
            _ => ErrorCode.InternalError,
        },
    };

    private static string Truncate(string text, int max) => text.Length <= max ? text : text[..max] + "...";
}

/// <summary>
/// The tracking server could not be reached or kept failing transiently after the retries ran out.
/// <see cref="OutcomeUnknown"/> is true when a request may have been applied although no answer came
/// back (the connection broke after the request was sent).
/// </summary>
public sealed class TrackingUnavailableException(string message, Exception? inner, bool outcomeUnknown)
    : Exception(message, inner)
{
    public bool OutcomeUnknown { get; } = outcomeUnknown;
}
