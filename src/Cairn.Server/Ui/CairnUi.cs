using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor.Services;

namespace Cairn.Server.Ui;

/// <summary>
/// The web UI: Blazor components rendered interactively on the server, reading the same
/// <see cref="Cairn.Core.ITrackingStore"/> and artifact repositories the REST API uses (never the
/// REST API itself), plus the embedded scripts and styles they need.
/// </summary>
public static class CairnUi
{
    public static IServiceCollection AddCairnUi(this IServiceCollection services)
    {
        services.AddRazorComponents().AddInteractiveServerComponents();

        // Keys protect circuit descriptors, which die with the process anyway; in-memory keys avoid
        // writing a key ring into the user's home at start-up (and its "unencrypted key" warning).
        services.AddDataProtection().UseEphemeralDataProtectionProvider();
        services.AddMudServices();
        return services;
    }

    /// <summary>Maps the pages at <c>/</c> and the UI's assets; the REST routes are unaffected (they are more specific).</summary>
    public static WebApplication MapCairnUi(this WebApplication app)
    {
        // Razor component endpoints carry antiforgery metadata and refuse to run without this middleware.
        app.UseAntiforgery();
        app.MapUiAssets();
        app.MapRazorComponents<App>().AddInteractiveServerRenderMode();
        return app;
    }
}
