using Cairn.Core;
using Cairn.Storage.Sql;

namespace Cairn.Storage;

/// <summary>
/// The SQL tracking stores for hosts that log in-process, with no server: the .NET SDK (which
/// references no database driver) takes them through its registry,
/// <c>TrackingStores.Register(LocalTrackingStores.Schemes, LocalTrackingStores.OpenAsync)</c>.
/// </summary>
public static class LocalTrackingStores
{
    /// <summary>The URI schemes these stores answer to.</summary>
    public static IReadOnlyList<string> Schemes { get; } = ["sqlite", "postgresql", "postgres"];

    /// <summary>
    /// Opens the store at <paramref name="uri"/>. New experiments keep their artifacts as local
    /// folders (<c>file:</c> URIs) next to a SQLite file (<c>{db folder}/artifacts</c>), or under
    /// <c>./.cairn/artifacts</c> for PostgreSQL, so clients write them directly without a server.
    /// </summary>
    public static async Task<ITrackingStore> OpenAsync(string uri, CancellationToken ct)
    {
        string folder;
        if (uri.StartsWith("sqlite:", StringComparison.OrdinalIgnoreCase))
        {
            var path = uri["sqlite:".Length..];
            path = path.StartsWith("///", StringComparison.Ordinal) ? path[3..] : path.StartsWith("//", StringComparison.Ordinal) ? path[2..] : path;
            folder = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path)) ?? Directory.GetCurrentDirectory(), "artifacts");
        }
        else
        {
            folder = Path.Combine(Directory.GetCurrentDirectory(), ".cairn", "artifacts");
        }

        return await SqlTrackingStore.OpenAsync(uri, new Uri(folder).AbsoluteUri, ct).ConfigureAwait(false);
    }
}
