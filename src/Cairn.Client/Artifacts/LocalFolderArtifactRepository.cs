using Cairn.Core.Artifacts;

namespace Cairn.Client.Artifacts;

/// <summary>Artifacts in a local (or mounted) folder: <c>file:</c> artifact URIs, written directly, no server involved.</summary>
internal sealed class LocalFolderArtifactRepository(string root) : IArtifactRepository
{
    private string Full(string? path)
    {
        var relative = ArtifactLocations.Relative(path ?? "");
        return relative.Length == 0 ? root : Path.Join(root, relative);
    }

    public Task<IReadOnlyList<ArtifactFile>> ListAsync(string? path, CancellationToken ct = default)
    {
        var dir = new DirectoryInfo(Full(path));
        var prefix = ArtifactLocations.Relative(path ?? "");
        IReadOnlyList<ArtifactFile> files = !dir.Exists
            ? []
            : dir.EnumerateFileSystemInfos()
                .Select(i => new ArtifactFile(ArtifactLocations.Join(prefix, i.Name), i is DirectoryInfo, i is FileInfo f ? f.Length : null))
                .OrderBy(f => f.Path, StringComparer.Ordinal)
                .ToList();
        return Task.FromResult(files);
    }

    public Task<Stream?> OpenReadAsync(string path, CancellationToken ct = default)
    {
        var full = Full(path);
        return Task.FromResult<Stream?>(File.Exists(full) ? File.OpenRead(full) : null);
    }

    public async Task WriteAsync(string path, Stream content, CancellationToken ct = default)
    {
        var full = Full(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        var temp = full + ".tmp-" + Guid.NewGuid().ToString("N")[..8];
        try
        {
            await using (var file = File.Create(temp))
            {
                await content.CopyToAsync(file, ct).ConfigureAwait(false);
            }

            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            File.Delete(temp);
        }
    }

    public Task DeleteAsync(string path, CancellationToken ct = default)
    {
        var full = Full(path);
        if (Directory.Exists(full))
        {
            Directory.Delete(full, recursive: true);
        }
        else if (File.Exists(full))
        {
            File.Delete(full);
        }

        return Task.CompletedTask;
    }
}
