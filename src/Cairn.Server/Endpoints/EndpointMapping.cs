using Cairn.Core;
using Cairn.Server.Http;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Cairn.Server.Endpoints;

/// <summary>A REST handler: the request's parsed parameters in, a response written to the context.</summary>
public delegate Task MlflowHandler(HttpContext context, RequestArgs args);

/// <summary>
/// A hot route's handler for the raw JSON body: it answers the shapes it reads itself and returns
/// false for anything else, which then goes through <see cref="RequestArgs"/> to the general handler.
/// </summary>
public delegate ValueTask<bool> MlflowBodyHandler(HttpContext context, ReadOnlyMemory<byte> body);

/// <summary>Maps MLflow routes under both of MLflow's prefixes and turns failures into MLflow's error envelope.</summary>
public static class EndpointMapping
{
    public static readonly string[] Prefixes = ["/api/2.0/mlflow", "/ajax-api/2.0/mlflow"];

    public static void MapMlflow(this IEndpointRouteBuilder app, string path, string[] methods, MlflowHandler handler, bool ajaxOnly = false)
    {
        foreach (var prefix in ajaxOnly ? Prefixes[1..] : Prefixes)
        {
            app.MapMethods(prefix + path, methods, (HttpContext context) => InvokeAsync(context, handler));
        }
    }

    /// <summary>Maps a POST route whose common requests <paramref name="fastPath"/> answers from the raw body.</summary>
    public static void MapMlflow(this IEndpointRouteBuilder app, string path, MlflowBodyHandler fastPath, MlflowHandler handler)
    {
        foreach (var prefix in Prefixes)
        {
            app.MapMethods(prefix + path, Post, async (HttpContext context) =>
            {
                var body = await RequestArgs.ReadBodyBytesAsync(context.Request).ConfigureAwait(false);
                if (!await fastPath(context, body).ConfigureAwait(false))
                {
                    await handler(context, RequestArgs.FromBody(body)).ConfigureAwait(false);
                }
            });
        }
    }

    public static async Task InvokeAsync(HttpContext context, MlflowHandler handler)
    {
        var args = await RequestArgs.ReadAsync(context).ConfigureAwait(false);
        await handler(context, args).ConfigureAwait(false);
    }

    public static ITrackingStore Store(this HttpContext context) => context.RequestServices.GetRequiredService<ITrackingStore>();

    public static readonly string[] Get = ["GET"];
    public static readonly string[] Post = ["POST"];
    public static readonly string[] GetOrPost = ["GET", "POST"];
}
