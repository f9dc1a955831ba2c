namespace Cairn.Client;

/// <summary>Where a tracking URI came from, for messages and diagnostics.</summary>
public enum TrackingUriSource
{
    Explicit,
    CairnEnvironment,
    MlflowEnvironment,
    ConfigFile,
    EmbeddedDefault,
}

/// <summary>
/// Resolves the tracking URI in a fixed order: the one set in code, <c>CAIRN_TRACKING_URI</c>,
/// <c>MLFLOW_TRACKING_URI</c>, a configuration file (<see cref="TrackingConfig.Discover"/>), and
/// finally an embedded SQLite database under <c>./.cairn/</c> (served by a registered local store).
/// </summary>
public static class TrackingUri
{
    public const string CairnVariable = "CAIRN_TRACKING_URI";
    public const string MlflowVariable = "MLFLOW_TRACKING_URI";

    /// <summary>The embedded default: <c>sqlite:///{working directory}/.cairn/cairn.db</c>.</summary>
    public static string EmbeddedDefault(string? directory = null) =>
        "sqlite:///" + Path.Combine(Path.GetFullPath(directory ?? Directory.GetCurrentDirectory()), ".cairn", "cairn.db");

    public static (string Uri, TrackingUriSource Source) Resolve(string? explicitUri = null, TrackingConfig? config = null)
    {
        if (!string.IsNullOrWhiteSpace(explicitUri))
        {
            return (explicitUri.Trim(), TrackingUriSource.Explicit);
        }

        if (Environment.GetEnvironmentVariable(CairnVariable) is { Length: > 0 } cairn)
        {
            return (cairn.Trim(), TrackingUriSource.CairnEnvironment);
        }

        if (Environment.GetEnvironmentVariable(MlflowVariable) is { Length: > 0 } mlflow)
        {
            return (mlflow.Trim(), TrackingUriSource.MlflowEnvironment);
        }

        config ??= TrackingConfig.Discover();
        if (!string.IsNullOrWhiteSpace(config.TrackingUri))
        {
            return (config.TrackingUri.Trim(), TrackingUriSource.ConfigFile);
        }

        return (EmbeddedDefault(), TrackingUriSource.EmbeddedDefault);
    }
}
