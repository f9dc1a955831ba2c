using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cairn.Client.Artifacts;
using Cairn.Client.Lineage;
using Cairn.Client.Rest;
using Cairn.Core;
using Cairn.Core.Artifacts;

namespace Cairn.Client;

/// <summary>Settings of a <see cref="TrackingClient"/>.</summary>
public sealed record TrackingClientOptions
{
    public RestOptions Rest { get; init; } = new();

    /// <summary>Default buffering and retry of each run's background logger.</summary>
    public BatchLoggerOptions Logger { get; init; } = new();

    /// <summary>Experiment for runs that name none (default: <c>MLFLOW_EXPERIMENT_NAME</c>, the config file, else "Default").</summary>
    public string? DefaultExperimentName { get; init; }
}

/// <summary>
/// A connection to one tracking store (a server over REST, or a database in-process) with the
/// conveniences the fluent API is made of: get-or-create experiments, start runs, find a run's artifacts.
/// </summary>
public sealed class TrackingClient : IAsyncDisposable
{
    private readonly bool _ownsStore;

    public TrackingClient(ITrackingStore store, string trackingUri, TrackingClientOptions? options = null, bool ownsStore = true)
    {
        Store = store;
        TrackingUri = trackingUri;
        Options = options ?? new TrackingClientOptions();
        _ownsStore = ownsStore;
    }

    /// <summary>Connects to <paramref name="trackingUri"/>, or to the URI <see cref="Client.TrackingUri.Resolve"/> finds.</summary>
    public static async Task<TrackingClient> ConnectAsync(string? trackingUri = null, TrackingClientOptions? options = null, CancellationToken ct = default)
    {
        var (uri, _) = Client.TrackingUri.Resolve(trackingUri);
        options ??= new TrackingClientOptions();
        var store = await TrackingStores.OpenAsync(uri, options.Rest, ct).ConfigureAwait(false);
        return new TrackingClient(store, uri, options);
    }

    public ITrackingStore Store { get; }

    public string TrackingUri { get; }

    public TrackingClientOptions Options { get; }

    /// <summary>The experiment called <paramref name="name"/>, created if it does not exist.</summary>
    public async Task<Experiment> GetOrCreateExperimentAsync(string name, CancellationToken ct = default)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                var experiment = await Store.GetExperimentByNameAsync(name, ct).ConfigureAwait(false);
                if (experiment.LifecycleStage == LifecycleStage.Deleted)
                {
                    throw new MlflowException(ErrorCode.InvalidState, $"Experiment '{name}' is deleted; restore it or choose another name.");
                }

                return experiment;
            }
            catch (MlflowException e) when (e.Code == ErrorCode.ResourceDoesNotExist)
            {
                try
                {
                    var id = await Store.CreateExperimentAsync(name, null, [], ct).ConfigureAwait(false);
                    return await Store.GetExperimentAsync(id, ct).ConfigureAwait(false);
                }
                catch (MlflowException c) when (c.Code == ErrorCode.ResourceAlreadyExists && attempt == 0)
                {
                    // Someone else created it in between: read theirs.
                }
            }
        }
    }

    /// <summary>The artifact repository behind an artifact URI (the server's proxy or a folder).</summary>
    public IArtifactRepository ArtifactsFor(string artifactUri) =>
        Store is RestTrackingStore rest ? rest.ArtifactsFor(artifactUri) : ArtifactLocations.Open(artifactUri);

    /// <summary>Every file under a run's artifact root (or <paramref name="path"/>), recursively.</summary>
    public async Task<IReadOnlyList<ArtifactFile>> ListArtifactsAsync(string runId, string? path = null, CancellationToken ct = default)
    {
        var run = await Store.GetRunAsync(runId, ct).ConfigureAwait(false);
        var repo = ArtifactsFor(run.Info.ArtifactUri);
        var result = new List<ArtifactFile>();
        var pending = new Stack<string>();
        pending.Push(path ?? "");
        while (pending.TryPop(out var dir))
        {
            foreach (var f in await repo.ListAsync(dir, ct).ConfigureAwait(false))
            {
                if (f.IsDir)
                {
                    pending.Push(f.Path);
                }
                else
                {
                    result.Add(f);
                }
            }
        }

        return result.OrderBy(f => f.Path, StringComparer.Ordinal).ToList();
    }

    /// <summary>Reads a run's artifact as bytes, or null if it does not exist.</summary>
    public async Task<byte[]?> ReadArtifactAsync(string runId, string path, CancellationToken ct = default)
    {
        var run = await Store.GetRunAsync(runId, ct).ConfigureAwait(false);
        await using var stream = await ArtifactsFor(run.Info.ArtifactUri).OpenReadAsync(path, ct).ConfigureAwait(false);
        if (stream is null)
        {
            return null;
        }

        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy, ct).ConfigureAwait(false);
        return copy.ToArray();
    }

    internal async Task RecordLoggedModelAsync(string runId, JsonObject model, CancellationToken ct)
    {
        if (Store is RestTrackingStore rest)
        {
            await rest.LogModelAsync(runId, model.ToJsonString(), ct).ConfigureAwait(false);
            return;
        }

        // In-process stores have no log-model call: append to the history tag as MLflow's server does.
        var run = await Store.GetRunAsync(runId, ct).ConfigureAwait(false);
        var history = run.Tags.FirstOrDefault(t => t.Key == MlflowTags.LoggedModels) is { } tag && JsonNode.Parse(tag.Value) is JsonArray previous ? previous : [];
        history.Add(model);
        await Store.LogBatchAsync(runId, [], [], [new Tag(MlflowTags.LoggedModels, history.ToJsonString())], ct).ConfigureAwait(false);
    }

    /// <summary>
    /// Starts a run. With no experiment in <paramref name="options"/> it goes to the parent's
    /// experiment (nested runs) or the default experiment. The run becomes the active run of the
    /// calling async flow until it ends; see <see cref="RunOptions.Nested"/>.
    /// </summary>
    public Task<ActiveRun> StartRunAsync(RunOptions? options = null, CancellationToken ct = default, [CallerFilePath] string callerFile = "")
    {
        // Synchronous on purpose: the holder must be installed in the caller's async flow.
        var holder = RunContext.Push();
        return StartRunCoreAsync(holder, options ?? new RunOptions(), callerFile, ct);
    }

    internal async Task<ActiveRun> StartRunCoreAsync(RunContext.Holder holder, RunOptions options, string callerFile, CancellationToken ct)
    {
        var active = RunContext.Active;
        ActiveRun? parent = null;
        string? parentId = options.ParentRunId;
        if (parentId is null && options.Nested != false && active is not null)
        {
            parent = active;
            parentId = active.RunId;
        }
        else if (parentId is not null && active?.RunId == parentId)
        {
            parent = active;
        }

        if (options.Nested == true && parentId is null)
        {
            throw new InvalidOperationException("A nested run needs a parent: start it inside an active run or set RunOptions.ParentRunId.");
        }

        var lineageTask = options.LogLineage ? CodeLineage.CollectAsync(callerFile, ct) : Task.FromResult<CodeLineage?>(null)!;
        var experimentId = options.ExperimentId ?? (options.ExperimentName is { } name
            ? (await GetOrCreateExperimentAsync(name, ct).ConfigureAwait(false)).ExperimentId
            : parent?.ExperimentId ?? await DefaultExperimentIdAsync(ct).ConfigureAwait(false));

        var user = options.UserId ?? Environment.UserName;
        var tags = new Dictionary<string, string>(StringComparer.Ordinal) { [MlflowTags.User] = user };
        var lineage = await lineageTask.ConfigureAwait(false);
        if (lineage is not null)
        {
            foreach (var t in lineage.Tags())
            {
                tags[t.Key] = t.Value;
            }
        }
        else
        {
            tags[MlflowTags.SourceType] = "LOCAL";
            if (callerFile.Length > 0)
            {
                tags[MlflowTags.SourceName] = callerFile;
            }
        }

        if (parentId is not null)
        {
            tags[MlflowTags.ParentRunId] = parentId;
        }

        if (options.RunName is not null)
        {
            tags[MlflowTags.RunName] = options.RunName;
        }

        if (options.Description is not null)
        {
            tags["mlflow.note.content"] = options.Description;
        }

        foreach (var (k, v) in options.Tags ?? new Dictionary<string, string>())
        {
            tags[k] = v;
        }

        var created = await Store.CreateRunAsync(
            new NewRun(experimentId, user, ActiveRun.Now(), options.RunName, tags.Select(t => new Tag(t.Key, t.Value)).ToList()), ct).ConfigureAwait(false);
        var run = new ActiveRun(this, created, parent, holder, options);
        holder.Run = run;

        if (lineage is not null)
        {
            await LogLineageArtifactsAsync(run, lineage, ct).ConfigureAwait(false);
        }

        return run;
    }

    private static async Task LogLineageArtifactsAsync(ActiveRun run, CodeLineage lineage, CancellationToken ct)
    {
        if (lineage.SourceFile is { } source && File.Exists(source) && new FileInfo(source).Length < 4 * 1024 * 1024)
        {
            await run.LogArtifactAsync(source, "code", ct).ConfigureAwait(false);
        }

        if (!string.IsNullOrEmpty(lineage.GitDiff))
        {
            await run.LogTextAsync(lineage.GitDiff, "code/git.diff", ct).ConfigureAwait(false);
        }
    }

    private string? _defaultExperimentId;

    private async Task<string> DefaultExperimentIdAsync(CancellationToken ct)
    {
        if (_defaultExperimentId is { } known)
        {
            return known;
        }

        var name = Options.DefaultExperimentName ?? Environment.GetEnvironmentVariable("MLFLOW_EXPERIMENT_NAME") ?? TrackingConfig.Discover().Experiment;
        var id = Environment.GetEnvironmentVariable("MLFLOW_EXPERIMENT_ID") is { Length: > 0 } envId && name is null
            ? envId
            : name is null ? "0" : (await GetOrCreateExperimentAsync(name, ct).ConfigureAwait(false)).ExperimentId;
        return _defaultExperimentId = id;
    }

    public async ValueTask DisposeAsync()
    {
        if (_ownsStore)
        {
            await Store.DisposeAsync().ConfigureAwait(false);
        }
    }
}
