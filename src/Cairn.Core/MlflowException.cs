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
        _ => "INTERNAL_ERROR",
    };

    public int HttpStatus => Code switch
    {
        ErrorCode.BadRequest or ErrorCode.InvalidParameterValue or ErrorCode.ResourceAlreadyExists => 400,
        ErrorCode.ResourceDoesNotExist => 404,
        ErrorCode.NotImplemented => 501,
        _ => 500,
    };

    public static MlflowException InvalidParameter(string message) => new(ErrorCode.InvalidParameterValue, message);

    public static MlflowException NotFound(string message) => new(ErrorCode.ResourceDoesNotExist, message);
}
