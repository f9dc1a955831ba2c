namespace Cairn.Server;

/// <summary>How a Cairn server is started; the names follow <c>mlflow server</c>'s flags.</summary>
public sealed record CairnServerOptions
{
    /// <summary>Where tracking data lives: <c>sqlite:///path.db</c> or <c>postgresql://…</c>.</summary>
    public string BackendStoreUri { get; init; } = "sqlite:///.cairn/cairn.db";

    /// <summary>The folder (or URI) the artifact proxy stores files in when <see cref="ServeArtifacts"/> is on.</summary>
    public string ArtifactsDestination { get; init; } = ".cairn/artifacts";

    /// <summary>
    /// The root new experiments' artifact locations start with. When null: <c>mlflow-artifacts:/</c>
    /// if the server proxies artifacts, else the artifacts destination itself (clients then write there directly).
    /// </summary>
    public string? DefaultArtifactRoot { get; init; }

    public bool ServeArtifacts { get; init; } = true;

    public string Host { get; init; } = "127.0.0.1";

    public int Port { get; init; } = 5000;

    /// <summary>Largest JSON request body accepted by the REST API (artifact uploads are not limited by this).</summary>
    public long MaxJsonBodyBytes { get; init; } = 16 * 1024 * 1024;

    public string EffectiveArtifactRoot =>
        DefaultArtifactRoot ?? (ServeArtifacts ? "mlflow-artifacts:/" : new Uri(Path.GetFullPath(ArtifactsDestination)).AbsoluteUri);
}
