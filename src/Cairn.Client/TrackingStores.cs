using System.Collections.Concurrent;
using Cairn.Client.Rest;
using Cairn.Core;

namespace Cairn.Client;

/// <summary>Opens the tracking store behind a URI (and the artifact location its runs use by default).</summary>
public delegate Task<ITrackingStore> TrackingStoreFactory(string uri, CancellationToken ct);

/// <summary>
/// Which store a tracking URI means, by scheme, as MLflow decides it: <c>http(s)://</c> is the REST
/// client; any other scheme (<c>sqlite</c>, <c>postgresql</c>...) must be registered by the host,
/// because this SDK references no database driver. A host that wants in-process stores references
/// Cairn.Storage and calls <c>TrackingStores.Register(LocalTrackingStores.Schemes, LocalTrackingStores.OpenAsync)</c>.
/// </summary>
public static class TrackingStores
{
    private static readonly ConcurrentDictionary<string, TrackingStoreFactory> Factories = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Registers (or replaces) the factory for a URI scheme such as "sqlite".</summary>
    public static void Register(string scheme, TrackingStoreFactory factory)
    {
        ArgumentException.ThrowIfNullOrEmpty(scheme);
        ArgumentNullException.ThrowIfNull(factory);
        Factories[scheme.TrimEnd(':')] = factory;
    }

    public static void Register(IEnumerable<string> schemes, TrackingStoreFactory factory)
    {
        foreach (var scheme in schemes)
        {
            Register(scheme, factory);
        }
    }

    public static bool IsRegistered(string scheme) => Factories.ContainsKey(scheme.TrimEnd(':'));

    /// <summary>The scheme of a tracking URI ("sqlite" for <c>sqlite:///x.db</c>, "postgresql" for <c>postgresql+psycopg2://</c>).</summary>
    public static string? SchemeOf(string uri)
    {
        var colon = uri.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 1)
        {
            return null;
        }

        var scheme = uri[..colon];
        var plus = scheme.IndexOf('+', StringComparison.Ordinal);
        return (plus > 0 ? scheme[..plus] : scheme).ToLowerInvariant();
    }

    /// <summary>Opens the store for <paramref name="uri"/>.</summary>
    /// <exception cref="InvalidOperationException">No store is registered for the URI's scheme.</exception>
    public static async Task<ITrackingStore> OpenAsync(string uri, RestOptions? restOptions = null, CancellationToken ct = default)
    {
        var scheme = SchemeOf(uri);
        if (scheme is "http" or "https")
        {
            return new RestTrackingStore(uri, restOptions);
        }

        if (scheme is not null && Factories.TryGetValue(scheme, out var factory))
        {
            return await factory(uri, ct).ConfigureAwait(false);
        }

        throw new InvalidOperationException(scheme is null
            ? $"'{uri}' is not a tracking URI: use http(s)://host:port for a server, or sqlite:///path.db / postgresql://... for a local store."
            : $"No tracking store is registered for '{scheme}:' URIs ({uri}). Cairn.Client talks to servers over http(s) only; " +
              "to use a database in-process, reference Cairn.Storage and call " +
              "TrackingStores.Register(LocalTrackingStores.Schemes, LocalTrackingStores.OpenAsync) at start-up, " +
              "or set CAIRN_TRACKING_URI / MLFLOW_TRACKING_URI to a server such as http://127.0.0.1:5000.");
    }
}
