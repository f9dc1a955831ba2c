using System.Runtime.CompilerServices;
using Cairn.Core;

namespace Cairn.Client;

/// <summary>
/// The fluent entry point, MLflow-style: set (or let the environment decide) the tracking URI and
/// the experiment, then <c>await using var run = await Tracking.StartRunAsync("name");</c>.
/// Logging calls without a run argument go to the run active in the current async flow.
/// </summary>
public static class Tracking
{
    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static string? _explicitUri;
    private static string? _experimentName;
    private static TrackingClient? _client;

    /// <summary>Sets the tracking URI in code (it wins over the environment and config files); null goes back to resolving.</summary>
    public static void SetTrackingUri(string? uri)
    {
        _explicitUri = uri;
        Interlocked.Exchange(ref _client, null);
    }

    /// <summary>The tracking URI runs go to, resolved as <see cref="TrackingUri.Resolve"/> describes.</summary>
    public static string GetTrackingUri() => TrackingUri.Resolve(_explicitUri).Uri;

    /// <summary>Sets the experiment (by name, created on first use) for runs that name none.</summary>
    public static void SetExperiment(string? name)
    {
        _experimentName = name;
        Interlocked.Exchange(ref _client, null);
    }

    /// <summary>The client behind the fluent API, connected on first use.</summary>
    public static async Task<TrackingClient> GetClientAsync(CancellationToken ct = default)
    {
        if (Volatile.Read(ref _client) is { } existing)
        {
            return existing;
        }

        await Gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            return _client ??= await TrackingClient.ConnectAsync(_explicitUri, new TrackingClientOptions { DefaultExperimentName = _experimentName }, ct).ConfigureAwait(false);
        }
        finally
        {
            Gate.Release();
        }
    }

    /// <summary>The run active in the current async flow, if any.</summary>
    public static ActiveRun? ActiveRun => RunContext.Active;

    /// <summary>Starts a run (nested in the active run, if there is one).</summary>
    public static Task<ActiveRun> StartRunAsync(string? runName = null, string? experimentName = null, IReadOnlyDictionary<string, string>? tags = null, CancellationToken ct = default, [CallerFilePath] string callerFile = "") =>
        StartRunAsync(new RunOptions { RunName = runName, ExperimentName = experimentName, Tags = tags }, ct, callerFile);

    public static Task<ActiveRun> StartRunAsync(RunOptions options, CancellationToken ct = default, [CallerFilePath] string callerFile = "")
    {
        var holder = RunContext.Push();
        return StartCoreAsync(holder, options, callerFile, ct);
    }

    private static async Task<ActiveRun> StartCoreAsync(RunContext.Holder holder, RunOptions options, string callerFile, CancellationToken ct)
    {
        var client = await GetClientAsync(ct).ConfigureAwait(false);
        return await client.StartRunCoreAsync(holder, options, callerFile, ct).ConfigureAwait(false);
    }

    /// <summary>Runs <paramref name="body"/> in a new run that ends FINISHED, or FAILED (rethrowing) if it throws.</summary>
    public static async Task RunAsync(Func<ActiveRun, Task> body, RunOptions? options = null, CancellationToken ct = default, [CallerFilePath] string callerFile = "")
    {
        await using var run = await StartRunAsync(options ?? new RunOptions(), ct, callerFile).ConfigureAwait(false);
        try
        {
            await body(run).ConfigureAwait(false);
        }
        catch (Exception ex) when (run.Fail(ex))
        {
        }
    }

    private static ActiveRun Active => RunContext.Active ?? throw new InvalidOperationException("No run is active in this async flow: start one with Tracking.StartRunAsync.");

    public static void LogParam(string key, object? value) => Active.LogParam(key, value);

    public static void LogMetric(string key, double value, long step = 0, long? timestamp = null) => Active.LogMetric(key, value, step, timestamp);

    public static void SetTag(string key, object? value) => Active.SetTag(key, value);

    public static Task FlushAsync(CancellationToken ct = default) => Active.FlushAsync(ct);
}
