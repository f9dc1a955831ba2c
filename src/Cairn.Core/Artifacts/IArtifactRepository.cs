namespace Cairn.Core.Artifacts;

/// <summary>
/// One entry of an artifact listing. <see cref="Path"/> is relative to the repository's root
/// (<c>dir/sub</c>, as MLflow lists a run's artifacts); <see cref="FileSize"/> is null for folders.
/// </summary>
public sealed record ArtifactFile(string Path, bool IsDir, long? FileSize);

/// <summary>
/// A place artifacts live (a local folder, an S3 bucket). Paths are relative and '/'-separated;
/// a repository checks them with <see cref="ArtifactPaths"/> itself and never reaches outside its root.
/// </summary>
public interface IArtifactRepository
{
    /// <summary>The entries directly under <paramref name="path"/> (the root when null or ""), sorted by path; empty when missing or a file.</summary>
    Task<IReadOnlyList<ArtifactFile>> ListAsync(string? path, CancellationToken ct = default);

    /// <summary>Opens a file for reading, or returns null when there is no such file (a folder is not a file).</summary>
    Task<Stream?> OpenReadAsync(string path, CancellationToken ct = default);

    /// <summary>
    /// Streams <paramref name="content"/> into a file, creating folders as needed and replacing any
    /// file already there. The file appears only once complete: a failed write leaves nothing behind.
    /// </summary>
    Task WriteAsync(string path, Stream content, CancellationToken ct = default);

    /// <summary>Deletes a file or a whole folder ("" empties the root); deleting what is not there is not an error.</summary>
    Task DeleteAsync(string path, CancellationToken ct = default);
}
