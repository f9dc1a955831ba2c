using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cairn.Client.Artifacts;
using Cairn.Client.Rest;
using Cairn.Client.SystemMetrics;
using Cairn.Core;
using Cairn.Core.Artifacts;

namespace Cairn.Client;

/// <summary>
/// A run in progress. Metrics, params and tags are queued and sent in the background; artifacts are
/// written when the call completes. Disposing ends the run FINISHED, or FAILED when an exception is
/// escaping the scope (or <see cref="Fail"/> was called, or logging lost data).
/// </summary>
public sealed class ActiveRun : IAsyncDisposable
{
    private readonly RunContext.Holder _holder;
    private readonly BatchLogger _logger;
    private SystemMetricsSampler? _sampler;
    private IArtifactRepository? _artifacts;
    private Exception? _pendingException;
    private Exception? _failure;
    private int _ended;

    internal ActiveRun(TrackingClient client, Run run, ActiveRun? parent, RunContext.Holder holder, RunOptions options)
    {
        Client = client;
        Info = run.Info;
        Parent = parent;
        _holder = holder;
        _logger = new BatchLogger(client.Store, run.Info.RunId, options.Logger ?? client.Options.Logger);
        if (options.LogSystemMetrics)
        {
            _sampler = new SystemMetricsSampler((key, value, step) => _logger.LogMetric(key, value, Now(), step), options.SystemMetricsInterval);
        }
    }

    public TrackingClient Client { get; }

    /// <summary>The run's metadata as it was when the run started.</summary>
    public RunInfo Info { get; }

    public string RunId => Info.RunId;

    public string ExperimentId => Info.ExperimentId;

    public string RunName => Info.RunName;

    public string ArtifactUri => Info.ArtifactUri;

    /// <summary>The run this one is nested in, if any.</summary>
    public ActiveRun? Parent { get; }

    /// <summary>The status the run ended with; null while it is running.</summary>
    public RunStatus? EndStatus { get; private set; }

    /// <summary>The background logger (items sent, requests made).</summary>
    public BatchLogger Logger => _logger;

    /// <summary>The run's artifact repository (the server's proxy or a folder, from <see cref="ArtifactUri"/>).</summary>
    public IArtifactRepository Artifacts => _artifacts ??= Client.ArtifactsFor(ArtifactUri);

    internal static long Now() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    internal bool IsEnded => Volatile.Read(ref _ended) == 1;

    internal void NoteException(Exception exception) => _pendingException = exception;

    /// <summary>The code went on after any exception seen so far, so that exception was handled.</summary>
    internal void Continued() => _pendingException = null;

    // ------------------------------------------------------------ params, metrics, tags

    public void LogParam(string key, object? value)
    {
        _logger.LogParam(key, TrackingConfig.Invariant(value));
        Continued();
    }

    public void LogParams<T>(IEnumerable<KeyValuePair<string, T>> @params)
    {
        foreach (var (key, value) in @params)
        {
            _logger.LogParam(key, TrackingConfig.Invariant(value));
        }

        Continued();
    }

    /// <summary>Queues a metric point; <paramref name="timestamp"/> defaults to now (Unix ms).</summary>
    public void LogMetric(string key, double value, long step = 0, long? timestamp = null)
    {
        _logger.LogMetric(key, value, timestamp ?? Now(), step);
        _pendingException = null;
    }

    /// <summary>As <see cref="LogMetric"/>, waiting asynchronously (not blocking) when the buffer is full.</summary>
    public ValueTask LogMetricAsync(string key, double value, long step = 0, long? timestamp = null, CancellationToken ct = default)
    {
        _pendingException = null;
        return _logger.LogMetricAsync(key, value, timestamp ?? Now(), step, ct);
    }

    public void LogMetrics(IEnumerable<KeyValuePair<string, double>> metrics, long step = 0, long? timestamp = null)
    {
        var ts = timestamp ?? Now();
        foreach (var (key, value) in metrics)
        {
            _logger.LogMetric(key, value, ts, step);
        }

        Continued();
    }

    public void SetTag(string key, object? value)
    {
        _logger.SetTag(key, TrackingConfig.Invariant(value));
        Continued();
    }

    public void SetTags<T>(IEnumerable<KeyValuePair<string, T>> tags)
    {
        foreach (var (key, value) in tags)
        {
            _logger.SetTag(key, TrackingConfig.Invariant(value));
        }

        Continued();
    }

    /// <summary>Waits until everything logged so far is stored; throws <see cref="BatchLoggingException"/> if something was lost.</summary>
    public async Task FlushAsync(CancellationToken ct = default)
    {
        await _logger.FlushAsync(ct).ConfigureAwait(false);
        Continued();
    }

    public void Flush() => FlushAsync().GetAwaiter().GetResult();

    // ------------------------------------------------------------ artifacts

    /// <summary>Uploads one file as <c>{artifactPath}/{file name}</c>.</summary>
    public async Task LogArtifactAsync(string localPath, string? artifactPath = null, CancellationToken ct = default)
    {
        if (Directory.Exists(localPath))
        {
            await LogArtifactsAsync(localPath, ArtifactLocations.Join(artifactPath, Path.GetFileName(Path.TrimEndingDirectorySeparator(localPath))), ct).ConfigureAwait(false);
            return;
        }

        await using (var file = File.OpenRead(localPath))
        {
            await Artifacts.WriteAsync(ArtifactLocations.Join(artifactPath, Path.GetFileName(localPath)), file, ct).ConfigureAwait(false);
        }

        Continued();
    }

    /// <summary>Uploads every file under a folder, keeping the folder's layout under <paramref name="artifactPath"/>.</summary>
    public async Task LogArtifactsAsync(string localDir, string? artifactPath = null, CancellationToken ct = default)
    {
        var root = Path.GetFullPath(localDir);
        foreach (var file in Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var relative = Path.GetRelativePath(root, file).Replace(Path.DirectorySeparatorChar, '/');
            await using var stream = File.OpenRead(file);
            await Artifacts.WriteAsync(ArtifactLocations.Join(artifactPath, relative), stream, ct).ConfigureAwait(false);
        }

        Continued();
    }

    /// <summary>Writes bytes as the artifact <paramref name="artifactFile"/> (a path relative to the run's root).</summary>
    public async Task LogBytesAsync(ReadOnlyMemory<byte> content, string artifactFile, CancellationToken ct = default)
    {
        await using var stream = new MemoryStream(content.ToArray(), writable: false);
        await Artifacts.WriteAsync(ArtifactLocations.Relative(artifactFile), stream, ct).ConfigureAwait(false);
        Continued();
    }

    public Task LogTextAsync(string text, string artifactFile, CancellationToken ct = default) =>
        LogBytesAsync(Encoding.UTF8.GetBytes(text), artifactFile, ct);

    /// <summary>Serializes a dictionary (or any object) as JSON (<c>.json</c>) or YAML (<c>.yaml</c>/<c>.yml</c>), chosen by the file's extension.</summary>
    public Task LogDictAsync(object dictionary, string artifactFile, CancellationToken ct = default)
    {
        var ext = Path.GetExtension(artifactFile).ToLowerInvariant();
        string text = ext is ".yaml" or ".yml"
            ? new YamlDotNet.Serialization.SerializerBuilder().Build().Serialize(dictionary)
            : JsonSerializer.Serialize(dictionary, dictionary.GetType(), IndentedJson);
        return LogTextAsync(text, artifactFile, ct);
    }

    private static readonly JsonSerializerOptions IndentedJson = new() { WriteIndented = true };

    /// <summary>Renders a ScottPlot plot to PNG and logs it as <paramref name="artifactFile"/>.</summary>
    public Task LogFigureAsync(ScottPlot.Plot plot, string artifactFile, int width = 800, int height = 600, CancellationToken ct = default) =>
        LogBytesAsync(Figures.RenderPng(plot, width, height), artifactFile, ct);

    /// <summary>
    /// Logs any model file or folder under <paramref name="artifactPath"/> with a minimal <c>MLmodel</c>
    /// file (flavor <paramref name="flavor"/>), and records it in the run's logged-model history.
    /// </summary>
    public async Task LogModelFileAsync(string localPath, string artifactPath = "model", string flavor = "cairn_file", IReadOnlyDictionary<string, string>? flavorOptions = null, CancellationToken ct = default)
    {
        artifactPath = ArtifactLocations.Relative(artifactPath);
        var isDir = Directory.Exists(localPath);
        if (isDir)
        {
            await LogArtifactsAsync(localPath, artifactPath, ct).ConfigureAwait(false);
        }
        else
        {
            await LogArtifactAsync(localPath, artifactPath, ct).ConfigureAwait(false);
        }

        var created = DateTime.UtcNow;
        var uuid = Guid.NewGuid().ToString("N");
        var yaml = new StringBuilder()
            .Append("artifact_path: ").AppendLine(artifactPath)
            .AppendLine("flavors:")
            .Append("  ").Append(flavor).AppendLine(":")
            .Append("    ").Append(isDir ? "path" : "file").Append(": ").AppendLine(Quote(Path.GetFileName(Path.TrimEndingDirectorySeparator(localPath))));
        foreach (var (key, value) in flavorOptions ?? new Dictionary<string, string>())
        {
            yaml.Append("    ").Append(key).Append(": ").AppendLine(Quote(value));
        }

        yaml.Append("model_uuid: ").AppendLine(uuid)
            .Append("run_id: ").AppendLine(RunId)
            .Append("utc_time_created: '").Append(created.ToString("yyyy-MM-dd HH:mm:ss.ffffff", CultureInfo.InvariantCulture)).AppendLine("'");
        await LogTextAsync(yaml.ToString(), ArtifactLocations.Join(artifactPath, "MLmodel"), ct).ConfigureAwait(false);

        var flavorJson = new JsonObject { [isDir ? "path" : "file"] = Path.GetFileName(Path.TrimEndingDirectorySeparator(localPath)) };
        foreach (var (key, value) in flavorOptions ?? new Dictionary<string, string>())
        {
            flavorJson[key] = value;
        }

        var model = new JsonObject
        {
            ["run_id"] = RunId,
            ["artifact_path"] = artifactPath,
            ["utc_time_created"] = created.ToString("yyyy-MM-dd HH:mm:ss.ffffff", CultureInfo.InvariantCulture),
            ["model_uuid"] = uuid,
            ["flavors"] = new JsonObject { [flavor] = flavorJson },
        };
        await Client.RecordLoggedModelAsync(RunId, model, ct).ConfigureAwait(false);
        Continued();
    }

    private static string Quote(string value) => "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";

    // ------------------------------------------------------------ datasets

    /// <summary>Records a dataset the run used, with its context (<c>training</c>, <c>evaluation</c>...) as MLflow does.</summary>
    public async Task LogInputAsync(Dataset dataset, string? context = "training", IReadOnlyDictionary<string, string>? tags = null, CancellationToken ct = default)
    {
        var inputTags = new List<Tag>();
        if (context is not null)
        {
            inputTags.Add(new Tag(MlflowTags.DatasetContext, context));
        }

        foreach (var (k, v) in tags ?? new Dictionary<string, string>())
        {
            inputTags.Add(new Tag(k, v));
        }

        await Client.Store.LogInputsAsync(RunId, [new DatasetInput(inputTags, dataset)], ct).ConfigureAwait(false);
        Continued();
    }

    // ------------------------------------------------------------ nesting and ending

    /// <summary>Starts a run nested in this one.</summary>
    public Task<ActiveRun> StartChildRunAsync(string? runName = null, RunOptions? options = null, CancellationToken ct = default) =>
        Client.StartRunAsync((options ?? new RunOptions()) with { RunName = runName ?? options?.RunName, ParentRunId = RunId, Nested = true, ExperimentId = options?.ExperimentId ?? ExperimentId }, ct);

    /// <summary>
    /// Marks the run to end FAILED. Returns false so it can sit in an exception filter without
    /// catching: <c>catch (Exception e) when (run.Fail(e)) { }</c>.
    /// </summary>
    public bool Fail(Exception? exception = null)
    {
        _failure = exception ?? new InvalidOperationException("The run was marked failed.");
        return false;
    }

    /// <summary>Flushes, stops the samplers and sets the final status and end time.</summary>
    public async Task EndAsync(RunStatus status = RunStatus.Finished, CancellationToken ct = default)
    {
        if (Interlocked.Exchange(ref _ended, 1) == 1)
        {
            return;
        }

        BatchLoggingException? lost = null;
        try
        {
            if (_sampler is not null)
            {
                await _sampler.DisposeAsync().ConfigureAwait(false);
                _sampler = null;
            }

            try
            {
                await _logger.DisposeAsync().ConfigureAwait(false);
            }
            catch (BatchLoggingException ex)
            {
                lost = ex;
                status = RunStatus.Failed;
            }

            await Client.Store.UpdateRunAsync(RunId, status, Now(), null, ct).ConfigureAwait(false);
            EndStatus = status;
        }
        finally
        {
            if (ReferenceEquals(_holder.Run, this))
            {
                _holder.Run = Parent is { IsEnded: false } ? Parent : null;
            }
        }

        if (lost is not null)
        {
            throw lost;
        }
    }

    /// <summary>Ends the run: FAILED if an exception is escaping the scope or <see cref="Fail"/> was called, else FINISHED.</summary>
    public async ValueTask DisposeAsync()
    {
        var escaping = _pendingException;
        var failed = _failure ?? escaping;
        try
        {
            await EndAsync(failed is null ? RunStatus.Finished : RunStatus.Failed).ConfigureAwait(false);
        }
        catch (Exception) when (escaping is not null)
        {
            // The escaping exception matters more than a logging failure; the run is FAILED either way.
        }
    }
}
