namespace Cairn.Core;

/// <summary>MLflow's error codes; each maps to the HTTP status MLflow's server answers with.</summary>
public enum ErrorCode
{
    InternalError,
    BadRequest,
    InvalidParameterValue,
    ResourceAlreadyExists,
    ResourceDoesNotExist,
    InvalidState,
    NotImplemented,
    EndpointNotFound,
    Unauthenticated,
    PermissionDenied,
    RequestLimitExceeded,
    TemporarilyUnavailable,
}

/// <summary>An error that crosses the wire as <c>{"error_code": ..., "message": ...}</c>.</summary>
public sealed class MlflowException(ErrorCode code, string message) : Exception(message)
{
    public ErrorCode Code { get; } = code;

    public string WireCode => Code switch
    {
        ErrorCode.InternalError => "INTERNAL_ERROR",
        ErrorCode.BadRequest => "BAD_REQUEST",
        ErrorCode.InvalidParameterValue => "INVALID_PARAMETER_VALUE",
        ErrorCode.ResourceAlreadyExists => "RESOURCE_ALREADY_EXISTS",
        ErrorCode.ResourceDoesNotExist => "RESOURCE_DOES_NOT_EXIST",
        ErrorCode.InvalidState => "INVALID_STATE",
        ErrorCode.NotImplemented => "NOT_IMPLEMENTED",
        ErrorCode.EndpointNotFound => "ENDPOINT_NOT_FOUND",
        ErrorCode.Unauthenticated => "UNAUTHENTICATED",
        ErrorCode.PermissionDenied => "PERMISSION_DENIED",
        ErrorCode.RequestLimitExceeded => "REQUEST_LIMIT_EXCEEDED",
        ErrorCode.TemporarilyUnavailable => "TEMPORARILY_UNAVAILABLE",
        _ => "INTERNAL_ERROR",
    };

    public int HttpStatus => Code switch
    {
        ErrorCode.BadRequest or ErrorCode.InvalidParameterValue or ErrorCode.ResourceAlreadyExists => 400,
        ErrorCode.ResourceDoesNotExist or ErrorCode.EndpointNotFound => 404,
        ErrorCode.Unauthenticated => 401,
        ErrorCode.PermissionDenied => 403,
        ErrorCode.RequestLimitExceeded => 429,
        ErrorCode.NotImplemented => 501,
        ErrorCode.TemporarilyUnavailable => 503,
        _ => 500,
    };

    public static MlflowException InvalidParameter(string message) => new(ErrorCode.InvalidParameterValue, message);

    public static MlflowException NotFound(string message) => new(ErrorCode.ResourceDoesNotExist, message);
}
