using Cairn.Core;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Cairn.Server.Http;

/// <summary>
/// Turns every failure into MLflow's <c>{"error_code", "message"}</c> envelope: known errors with
/// their own status, oversize or broken requests as 4xx, anything unexpected as 500. The server
/// keeps serving either way.
/// </summary>
public sealed class MlflowErrorMiddleware(RequestDelegate next, ILogger<MlflowErrorMiddleware> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var path = context.Request.Path.Value ?? "";
        if (HttpMethods.IsOptions(context.Request.Method))
        {
            context.Response.Headers.Allow = "GET, POST, PUT, PATCH, DELETE, OPTIONS, HEAD";
            context.Response.StatusCode = StatusCodes.Status200OK;
            return;
        }

        // MLflow's routes have no trailing-slash form; ASP.NET routing would otherwise ignore the slash.
        if (path.Length > 1 && path.EndsWith('/') && (path.StartsWith("/api/", StringComparison.Ordinal) || path.StartsWith("/ajax-api/", StringComparison.Ordinal)))
        {
            await Responses.ErrorAsync(context, 404, "ENDPOINT_NOT_FOUND", $"No endpoint {context.Request.Method} {path}.");
            return;
        }

        try
        {
            await next(context);
        }
        catch (MlflowException ex) when (!context.Response.HasStarted)
        {
            await Responses.ErrorAsync(context, ex);
        }
        catch (BadHttpRequestException ex) when (!context.Response.HasStarted)
        {
            var code = ex.StatusCode == StatusCodes.Status413PayloadTooLarge ? "REQUEST_LIMIT_EXCEEDED" : "BAD_REQUEST";
            await Responses.ErrorAsync(context, ex.StatusCode, code, ex.Message);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client went away; nothing to answer.
        }
        catch (Exception ex) when (!context.Response.HasStarted)
        {
            logger.LogError(ex, "Unhandled error in {Method} {Path}", context.Request.Method, path);
            await Responses.ErrorAsync(context, 500, "INTERNAL_ERROR", ex.Message);
        }
    }
}
