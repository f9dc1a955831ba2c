using System.Reflection;
using Cairn.Core;
using Cairn.Core.Registry;
using Cairn.Server.Endpoints;
using Cairn.Server.Http;
using Cairn.Server.Ui;
using Cairn.Storage.Sql;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Cairn.Server;

/// <summary>Builds the Cairn web application: the MLflow REST API over a tracking store and artifact repository.</summary>
public static class CairnServer
{
    public static string Version { get; } =
        typeof(CairnServer).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    public static async Task<WebApplication> BuildAsync(CairnServerOptions options, CancellationToken ct = default)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.UseUrls($"http://{options.Host}:{options.Port}");
        builder.WebHost.ConfigureKestrel(k =>
        {
            // MLflow clients put up to 1,000 run ids in one GET query string (about 14 KB).
            k.Limits.MaxRequestLineSize = 256 * 1024;
            k.Limits.MaxRequestHeadersTotalSize = 512 * 1024;
            k.Limits.MaxRequestBodySize = null;
            k.AddServerHeader = false;
        });

        var store = await SqlTrackingStore.OpenAsync(options.BackendStoreUri, options.EffectiveArtifactRoot, ct).ConfigureAwait(false);
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton<ITrackingStore>(store);
        builder.Services.AddSingleton<IModelRegistryStore>(SqlModelRegistryStore.On(store));
        builder.Services.AddArtifacts(options);
        builder.Services.AddCairnUi();

        var app = builder.Build();
        app.UseMiddleware<MlflowErrorMiddleware>();
        app.UseStatusCodePages(StatusPageAsync);

        app.MapMethods("/health", ["GET", "HEAD"], () => Results.Text("OK"));
        app.MapGet("/version", () => Results.Text(Version));
        app.MapTracking();
        app.MapArtifacts();
        app.MapRegistry();
        app.MapCairnUi();
        return app;
    }

    /// <summary>A browser asking for a page (not an MLflow client calling the API).</summary>
    private static bool WantsPage(HttpRequest request) =>
        HttpMethods.IsGet(request.Method)
        && request.Headers.Accept.ToString().Contains("text/html", StringComparison.OrdinalIgnoreCase)
        && !(request.Path.StartsWithSegments("/api") || request.Path.StartsWithSegments("/ajax-api"));

    /// <summary>Routing's own 404 and 405 answers, in MLflow's error envelope instead of an empty body.</summary>
    private static Task StatusPageAsync(StatusCodeContext status)
    {
        var context = status.HttpContext;
        if (context.Response.StatusCode == StatusCodes.Status404NotFound && WantsPage(context.Request))
        {
            // A person typed or followed a bad address: show the web UI's page, not the API's JSON.
            context.Response.Redirect("/not-found");
            return Task.CompletedTask;
        }

        return context.Response.StatusCode switch
        {
            StatusCodes.Status404NotFound => Responses.ErrorAsync(context, 404, "ENDPOINT_NOT_FOUND", $"No endpoint {context.Request.Method} {context.Request.Path}."),
            StatusCodes.Status405MethodNotAllowed => Responses.ErrorAsync(context, 405, "BAD_REQUEST", $"The method {context.Request.Method} is not allowed for {context.Request.Path}."),
            _ => Task.CompletedTask,
        };
    }
}
