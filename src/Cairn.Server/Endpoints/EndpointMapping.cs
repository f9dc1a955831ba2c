using Cairn.Core;
using Cairn.Server.Http;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Cairn.Server.Endpoints;

/// <summary>A REST handler: the request's parsed parameters in, a response written to the context.</summary>
public delegate Task MlflowHandler(HttpContext context, RequestArgs args);

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
