namespace Cairn.Core.Artifacts;

/// <summary>One entry of an artifact listing; <see cref="Path"/> is relative to the listed root.</summary>
public sealed record ArtifactFile(string Path, bool IsDir, long? FileSize);

/// <summary>
/// A place artifacts live (a local folder, an S3 bucket). Paths are relative, '/'-separated and
/// already checked by <c>ArtifactPaths</c>; a repository never reaches outside its root.
/// </summary>
public interface IArtifactRepository
{
    /// <summary>The entries directly under <paramref name="path"/> (the root when null), sorted by path; empty when missing or a file.</summary>
    Task<IReadOnlyList<ArtifactFile>> ListAsync(string? path, CancellationToken ct = default);

    /// <summary>Opens a file for reading, or returns null when there is no such file.</summary>
    Task<Stream?> OpenReadAsync(string path, CancellationToken ct = default);

    /// <summary>Writes a file, creating folders as needed and replacing any file already there.</summary>
    Task WriteAsync(string path, Stream content, CancellationToken ct = default);

    /// <summary>Deletes a file or a whole folder; deleting what is not there is not an error.</summary>
    Task DeleteAsync(string path, CancellationToken ct = default);
}
