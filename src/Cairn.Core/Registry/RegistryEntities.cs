namespace Cairn.Core.Registry;

/// <summary>A named, versioned model in the registry (MLflow's <c>RegisteredModel</c>).</summary>
/// <param name="LatestVersions">The newest version in each stage, in the order MLflow lists them.</param>
public sealed record RegisteredModel(
    string Name,
    long CreationTimestamp,
    long LastUpdatedTimestamp,
    string? Description,
    IReadOnlyList<ModelVersion> LatestVersions,
    IReadOnlyList<Tag> Tags,
    IReadOnlyList<RegisteredModelAlias> Aliases);

/// <summary>A mutable name (<c>champion</c>) pointing at one version of a registered model.</summary>
public sealed record RegisteredModelAlias(string Alias, string Version);

/// <summary>
/// One version of a registered model (MLflow's <c>ModelVersion</c>). <see cref="Version"/> is the
/// decimal number as MLflow sends it; <see cref="Aliases"/> is filled only where MLflow fills it
/// (get, get-by-alias, create, update, transition), and empty in search results.
/// </summary>
public sealed record ModelVersion(
    string Name,
    string Version,
    long CreationTimestamp,
    long LastUpdatedTimestamp,
    string CurrentStage,
    string Description,
    string Source,
    string RunId,
    string Status,
    string RunLink,
    IReadOnlyList<Tag> Tags,
    IReadOnlyList<string> Aliases);

/// <summary>The fields of a new model version; absent values are stored as MLflow stores them (empty strings).</summary>
public sealed record NewModelVersion(
    string Name,
    string Source,
    string? RunId = null,
    IReadOnlyList<Tag>? Tags = null,
    string? RunLink = null,
    string? Description = null);

/// <summary>What a registered-model search asks for (filter and order_by in MLflow's registry search language).</summary>
public sealed record RegisteredModelSearchQuery(
    string? Filter = null,
    int MaxResults = RegistryLimits.DefaultRegisteredModelResults,
    IReadOnlyList<string>? OrderBy = null,
    string? PageToken = null);

/// <summary>What a model-version search asks for.</summary>
public sealed record ModelVersionSearchQuery(
    string? Filter = null,
    int MaxResults = RegistryLimits.DefaultModelVersionResults,
    IReadOnlyList<string>? OrderBy = null,
    string? PageToken = null);

/// <summary>MLflow's model-version stages; input is case-insensitive, output always canonical.</summary>
public static class ModelStages
{
    public const string None = "None";
    public const string Staging = "Staging";
    public const string Production = "Production";
    public const string Archived = "Archived";

    public static IReadOnlyList<string> All { get; } = [None, Staging, Production, Archived];

    /// <summary>The canonical spelling of <paramref name="stage"/>, or MLflow's 400 for anything else.</summary>
    public static string Canonical(string stage) =>
        All.FirstOrDefault(s => s.Equals(stage.Trim(), StringComparison.OrdinalIgnoreCase))
        ?? throw MlflowException.InvalidParameter($"Invalid Model Version stage: {stage}. Value must be one of {string.Join(", ", All)}.");

    /// <summary>Only versions in these stages may archive the others on transition (MLflow's "active" stages).</summary>
    public static bool IsActive(string canonicalStage) => canonicalStage is Staging or Production;
}

/// <summary>A model version's status; a version registered from an existing source is ready at once.</summary>
public static class ModelVersionStatus
{
    public const string Ready = "READY";
}

/// <summary>MLflow's registry limits.</summary>
public static class RegistryLimits
{
    public const int DefaultRegisteredModelResults = 100;
    public const int MaxRegisteredModelResults = 1000;
    public const int DefaultModelVersionResults = 10_000;
    public const int MaxModelVersionResults = 200_000;
    public const int MaxTagValueLength = 5000;
    public const int MaxAliasLength = 255;
}
