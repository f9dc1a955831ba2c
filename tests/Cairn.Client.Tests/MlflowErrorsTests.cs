using System.Net;
using System.Text;
using Cairn.Client.Rest;
using Cairn.Core;

namespace Cairn.Client.Tests;

/// <summary>How an error answer becomes a typed exception: MLflow's code when the server sent one, else the HTTP status's.</summary>
public class MlflowErrorsTests
{
    [Theory]
    [InlineData(400, "INVALID_PARAMETER_VALUE", ErrorCode.InvalidParameterValue)]
    [InlineData(404, "RESOURCE_DOES_NOT_EXIST", ErrorCode.ResourceDoesNotExist)]
    [InlineData(404, "ENDPOINT_NOT_FOUND", ErrorCode.EndpointNotFound)]
    [InlineData(401, "UNAUTHENTICATED", ErrorCode.Unauthenticated)]
    [InlineData(403, "PERMISSION_DENIED", ErrorCode.PermissionDenied)]
    [InlineData(429, "REQUEST_LIMIT_EXCEEDED", ErrorCode.RequestLimitExceeded)]
    [InlineData(503, "TEMPORARILY_UNAVAILABLE", ErrorCode.TemporarilyUnavailable)]
    [InlineData(400, "SOME_FUTURE_CODE", ErrorCode.BadRequest)]
    public void A_json_error_keeps_the_servers_code_and_message(int status, string wire, ErrorCode expected)
    {
        var body = Encoding.UTF8.GetBytes($$"""{"error_code": "{{wire}}", "message": "nope"}""");
        var e = MlflowErrors.FromResponse((HttpStatusCode)status, "application/json", body, "runs/get");
        Assert.Equal(expected, e.Code);
        Assert.Equal(wire, e.WireCode());
        Assert.Equal(status, e.HttpStatus());
        Assert.Equal("nope", e.Message);
        if (expected != ErrorCode.BadRequest)
        {
            // Core's own mapping agrees with the server's status for every code MLflow defines.
            Assert.Equal(status, e.HttpStatus);
            Assert.Equal(wire, e.WireCode);
        }
    }

    [Theory]
    [InlineData(401, ErrorCode.Unauthenticated, "UNAUTHENTICATED")]
    [InlineData(403, ErrorCode.PermissionDenied, "PERMISSION_DENIED")]
    [InlineData(404, ErrorCode.EndpointNotFound, "ENDPOINT_NOT_FOUND")]
    [InlineData(429, ErrorCode.RequestLimitExceeded, "REQUEST_LIMIT_EXCEEDED")]
    [InlineData(502, ErrorCode.InternalError, "INTERNAL_ERROR")]
    [InlineData(503, ErrorCode.TemporarilyUnavailable, "TEMPORARILY_UNAVAILABLE")]
    public void A_bare_status_from_a_proxy_maps_to_the_nearest_code(int status, ErrorCode expected, string wire)
    {
        var e = MlflowErrors.FromResponse((HttpStatusCode)status, "text/html", Encoding.UTF8.GetBytes("<html>gateway</html>"), "runs/get");
        Assert.Equal(expected, e.Code);
        Assert.Equal(wire, e.WireCode());
        Assert.Contains($"HTTP {status}", e.Message);
        Assert.Equal(status is 429 or 502 or 503, MlflowErrors.IsTransient(e));
    }
}
