using Cairn.Core;
using Cairn.Core.Artifacts;

namespace Cairn.Storage.Artifacts;

/// <summary>
/// Artifacts in a folder on the local disk. Every path is checked with <see cref="ArtifactPaths"/> and
/// then resolved through symbolic links, so nothing outside the boundary folder is ever read, written
/// or deleted, whatever links a user has placed inside it. Files are streamed both ways and written
/// under a temporary name first, so a reader never sees half a file.
/// </summary>
public sealed class LocalArtifactRepository : IArtifactRepository
{
    /// <summary>Uploads in progress are written under this prefix beside their target and hidden from listings.</summary>
    internal const string TempPrefix = ".cairn-upload-";

    private const int BufferSize = 81_920;
    private const int MaxLinkHops = 40;

    private static readonly StringComparison PathComparison = OperatingSystem.IsWindows() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;

    private readonly string _root;
    private readonly string _boundary;

    /// <summary>A repository over <paramref name="root"/>, confined to it.</summary>
    public LocalArtifactRepository(string root)
        : this(root, root)
    {
    }

    /// <summary>
    /// A repository over <paramref name="root"/> (a run's folder, say) that may follow links anywhere
    /// inside <paramref name="boundary"/> (the artifact destination it lies in) but never beyond it.
    /// </summary>
    public LocalArtifactRepository(string root, string boundary)
    {
        _root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(root));
        _boundary = Path.TrimEndingDirectorySeparator(Path.GetFullPath(boundary));
        if (!IsWithin(_root, _boundary))
        {
            throw new ArgumentException($"The artifact root {_root} is not inside {_boundary}.", nameof(root));
        }
    }

    /// <summary>The folder this repository's relative paths start from.</summary>
    public string Root => _root;

    public Task<IReadOnlyList<ArtifactFile>> ListAsync(string? path, CancellationToken ct = default)
    {
        var relative = ArtifactPaths.Normalize(path ?? "");
        var folder = Resolve(relative, followFinalLink: true, out var boundary);
        if (!Directory.Exists(folder))
        {
            return Task.FromResult<IReadOnlyList<ArtifactFile>>([]);
        }

        var files = new List<ArtifactFile>();
        foreach (var entry in new DirectoryInfo(folder).EnumerateFileSystemInfos())
        {
            ct.ThrowIfCancellationRequested();
            if (entry.Name.StartsWith(TempPrefix, StringComparison.Ordinal))
            {
                continue;
            }

            var entryPath = ArtifactPaths.Combine(relative, entry.Name);
            if (entry.LinkTarget is null)
            {
                files.Add(entry is FileInfo file ? new ArtifactFile(entryPath, false, file.Length) : new ArtifactFile(entryPath, true, null));
                continue;
            }

            // A link is listed as what it points at, and only when that lies inside the boundary:
            // a link leading out of the repository is not part of it.
            var target = RealPath(entry.FullName);
            if (!IsWithin(target, boundary))
            {
                continue;
            }

            if (Directory.Exists(target))
            {
                files.Add(new ArtifactFile(entryPath, true, null));
            }
            else if (File.Exists(target))
            {
                files.Add(new ArtifactFile(entryPath, false, new FileInfo(target).Length));
            }
        }

        files.Sort((a, b) => string.CompareOrdinal(a.Path, b.Path));
        return Task.FromResult<IReadOnlyList<ArtifactFile>>(files);
    }

    public Task<Stream?> OpenReadAsync(string path, CancellationToken ct = default)
    {
        var relative = ArtifactPaths.Normalize(path);
        if (relative.Length == 0)
        {
            return Task.FromResult<Stream?>(null);
        }

        var file = Resolve(relative, followFinalLink: true, out _);
        try
        {
            // FileShare.Delete lets a download continue while the artifact is deleted or replaced.
            return Task.FromResult<Stream?>(File.Exists(file)
                ? new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, BufferSize, FileOptions.Asynchronous | FileOptions.SequentialScan)
                : null);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return Task.FromResult<Stream?>(null);
        }
    }

    public async Task WriteAsync(string path, Stream content, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(content);
        var relative = ArtifactPaths.Normalize(path);
        if (relative.Length == 0)
        {
            throw ArtifactPaths.InvalidPath();
        }

        var target = Resolve(relative, followFinalLink: true, out _);
        if (Directory.Exists(target))
        {
            throw MlflowException.InvalidParameter($"Cannot write artifact '{relative}': a folder of that name exists.");
        }

        var folder = Path.GetDirectoryName(target)!;
        var firstCreated = FirstMissingAncestor(folder);
        try
        {
            Directory.CreateDirectory(folder);
        }
        catch (IOException)
        {
            RemoveEmptyFolders(folder, firstCreated);
            throw MlflowException.InvalidParameter($"Cannot write artifact '{relative}': part of its folder path is a file.");
        }

        var temp = Path.Join(folder, TempPrefix + Guid.NewGuid().ToString("N"));
        try
        {
            await using (var output = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, BufferSize, FileOptions.Asynchronous | FileOptions.SequentialScan))
            {
                await content.CopyToAsync(output, BufferSize, ct).ConfigureAwait(false);
            }

            File.Move(temp, target, overwrite: true);
        }
        catch
        {
            TryDeleteFile(temp);
            RemoveEmptyFolders(folder, firstCreated);
            throw;
        }
    }

    public Task DeleteAsync(string path, CancellationToken ct = default)
    {
        var relative = ArtifactPaths.Normalize(path);
        if (relative.Length == 0)
        {
            var root = Resolve("", followFinalLink: true, out _);
            if (Directory.Exists(root))
            {
                foreach (var entry in new DirectoryInfo(root).EnumerateFileSystemInfos())
                {
                    DeleteEntry(entry.FullName);
                }
            }

            return Task.CompletedTask;
        }

        // The last segment itself is not followed: deleting a link removes the link, not its target.
        DeleteEntry(Resolve(relative, followFinalLink: false, out _));
        return Task.CompletedTask;
    }

    private static void DeleteEntry(string fullPath)
    {
        var info = new FileInfo(fullPath);
        if (info.LinkTarget is not null || File.Exists(fullPath))
        {
            File.Delete(fullPath);
        }
        else if (Directory.Exists(fullPath))
        {
            // Directory.Delete unlinks links it meets inside the folder rather than following them.
            Directory.Delete(fullPath, recursive: true);
        }
    }

    /// <summary>
    /// The real location of <paramref name="relative"/>, checked to lie inside the boundary once every
    /// link on the way is followed; <paramref name="boundary"/> gets the boundary's own real location.
    /// </summary>
    private string Resolve(string relative, bool followFinalLink, out string boundary)
    {
        boundary = RealPath(_boundary);
        var full = relative.Length == 0 ? _root : Path.Join(_root, relative.Replace('/', Path.DirectorySeparatorChar));
        string real;
        if (followFinalLink || relative.Length == 0)
        {
            real = RealPath(full);
        }
        else
        {
            var parent = RealPath(Path.GetDirectoryName(full)!);
            real = Path.Join(parent, Path.GetFileName(full));
            if (!IsWithin(parent, boundary))
            {
                throw ArtifactPaths.InvalidPath();
            }
        }

        if (!IsWithin(real, boundary))
        {
            throw ArtifactPaths.InvalidPath();
        }

        return real;
    }

    /// <summary>
    /// Like POSIX realpath: follows every link from the filesystem root down, one segment at a time,
    /// so a link's own <c>..</c> is taken relative to where the link really is. Segments that do not
    /// exist yet are kept as they are.
    /// </summary>
    internal static string RealPath(string path)
    {
        var full = Path.GetFullPath(path);
        var current = Path.GetPathRoot(full)!;
        var pending = new List<string>(full[current.Length..].Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries));
        var hops = 0;
        var exists = true;
        for (var i = 0; i < pending.Count; i++)
        {
            var segment = pending[i];
            if (segment == ".")
            {
                continue;
            }

            if (segment == "..")
            {
                current = Path.GetDirectoryName(current) ?? current;
                exists = true;
                continue;
            }

            var next = Path.Join(current, segment);
            var link = exists ? LinkTargetOf(next, out exists) : null;
            if (link is null)
            {
                current = next;
                continue;
            }

            if (++hops > MaxLinkHops)
            {
                throw ArtifactPaths.InvalidPath();
            }

            if (Path.IsPathRooted(link))
            {
                current = Path.GetPathRoot(link)!;
                link = link[current.Length..];
            }

            pending.InsertRange(i + 1, link.Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries));
        }

        return Path.TrimEndingDirectorySeparator(current);
    }

    private static string? LinkTargetOf(string path, out bool exists)
    {
        try
        {
            var info = new FileInfo(path);
            exists = info.Exists || Directory.Exists(path) || info.LinkTarget is not null;
            return info.LinkTarget;
        }
        catch (IOException)
        {
            // Missing, or a segment below a file: nothing further down can be a link.
            exists = false;
            return null;
        }
    }

    private static bool IsWithin(string path, string folder) =>
        path.Equals(folder, PathComparison)
        || (path.StartsWith(folder, PathComparison) && (path[folder.Length] == Path.DirectorySeparatorChar || folder.EndsWith(Path.DirectorySeparatorChar)));

    private static string? FirstMissingAncestor(string folder)
    {
        string? missing = null;
        for (var current = folder; current is not null && !Directory.Exists(current) && !File.Exists(current); current = Path.GetDirectoryName(current))
        {
            missing = current;
        }

        return missing;
    }

    /// <summary>Removes the folders a failed write created, from the deepest up, as long as they are empty.</summary>
    private static void RemoveEmptyFolders(string folder, string? firstCreated)
    {
        if (firstCreated is null)
        {
            return;
        }

        for (var current = folder; current is not null && current.Length >= firstCreated.Length; current = Path.GetDirectoryName(current))
        {
            try
            {
                Directory.Delete(current, recursive: false);
            }
            catch (IOException)
            {
                return;
            }
            catch (UnauthorizedAccessException)
            {
                return;
            }
        }
    }

    private static void TryDeleteFile(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
