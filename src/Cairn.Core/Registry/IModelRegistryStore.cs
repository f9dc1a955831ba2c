namespace Cairn.Core.Registry;

/// <summary>
/// Registered models, their versions, stages, tags and aliases (MLflow's model registry store).
/// Versions are addressed by their decimal number as text, as on the wire; a version that is not
/// an integer is a 400. Every write is all-or-nothing, and failures are <see cref="MlflowException"/>s
/// carrying MLflow's error codes.
/// </summary>
public interface IModelRegistryStore
{
    Task<RegisteredModel> CreateRegisteredModelAsync(string name, IReadOnlyList<Tag> tags, string? description, CancellationToken ct = default);

    Task<RegisteredModel> GetRegisteredModelAsync(string name, CancellationToken ct = default);

    Task<RegisteredModel> RenameRegisteredModelAsync(string name, string newName, CancellationToken ct = default);

    /// <summary>Replaces the description; null or empty clears it.</summary>
    Task<RegisteredModel> UpdateRegisteredModelAsync(string name, string? description, CancellationToken ct = default);

    /// <summary>Deletes the model with all its versions, tags and aliases.</summary>
    Task DeleteRegisteredModelAsync(string name, CancellationToken ct = default);

    Task<Page<RegisteredModel>> SearchRegisteredModelsAsync(RegisteredModelSearchQuery query, CancellationToken ct = default);

    Task SetRegisteredModelTagAsync(string name, Tag tag, CancellationToken ct = default);

    /// <summary>Deleting a tag that is not set is not an error (the model must exist).</summary>
    Task DeleteRegisteredModelTagAsync(string name, string key, CancellationToken ct = default);

    /// <summary>The newest version in each of <paramref name="stages"/> (all stages when empty).</summary>
    Task<IReadOnlyList<ModelVersion>> GetLatestVersionsAsync(string name, IReadOnlyList<string> stages, CancellationToken ct = default);

    /// <summary>Points <paramref name="alias"/> at <paramref name="version"/>, moving it if it pointed elsewhere.</summary>
    Task SetRegisteredModelAliasAsync(string name, string alias, string version, CancellationToken ct = default);

    /// <summary>Deleting an alias that does not exist is not an error.</summary>
    Task DeleteRegisteredModelAliasAsync(string name, string alias, CancellationToken ct = default);

    Task<ModelVersion> GetModelVersionByAliasAsync(string name, string alias, CancellationToken ct = default);

    /// <summary>Registers a new version numbered one above any version the model ever had (numbers are never reused).</summary>
    Task<ModelVersion> CreateModelVersionAsync(NewModelVersion version, CancellationToken ct = default);

    Task<ModelVersion> GetModelVersionAsync(string name, string version, CancellationToken ct = default);

    Task<ModelVersion> UpdateModelVersionAsync(string name, string version, string? description, CancellationToken ct = default);

    /// <summary>Deletes the version, its tags and the aliases pointing at it.</summary>
    Task DeleteModelVersionAsync(string name, string version, CancellationToken ct = default);

    /// <summary>
    /// Moves a version to <paramref name="stage"/> (any case). With <paramref name="archiveExistingVersions"/>
    /// (allowed only for Staging and Production), the model's other versions in that stage become Archived.
    /// </summary>
    Task<ModelVersion> TransitionModelVersionStageAsync(string name, string version, string stage, bool archiveExistingVersions, CancellationToken ct = default);

    Task<Page<ModelVersion>> SearchModelVersionsAsync(ModelVersionSearchQuery query, CancellationToken ct = default);

    Task SetModelVersionTagAsync(string name, string version, Tag tag, CancellationToken ct = default);

    Task DeleteModelVersionTagAsync(string name, string version, string key, CancellationToken ct = default);

    /// <summary>Where the version's files are: its source as registered.</summary>
    Task<string> GetModelVersionDownloadUriAsync(string name, string version, CancellationToken ct = default);
}
