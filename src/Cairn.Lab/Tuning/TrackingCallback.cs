using System.Collections.Concurrent;
using System.Globalization;
using Cairn.Client;
using Cairn.Core;
using Cairn.Tuning;

namespace Cairn.Lab.Tuning;

/// <summary>Names and switches of what <see cref="TrackingCallback"/> logs.</summary>
public sealed record TrackingCallbackOptions
{
    /// <summary>Metric holding a trial's objective value (Optuna's MLflowCallback calls it <c>value</c> too).</summary>
    public string MetricName { get; init; } = "value";

    /// <summary>Metric holding the values reported with <see cref="Trial.Report"/>, one point per reported step.</summary>
    public string IntermediateMetricName { get; init; } = "intermediate_value";

    /// <summary>The child run's name; by default <c>trial-{number}</c>.</summary>
    public Func<FrozenTrial, string> RunName { get; init; } = t => "trial-" + t.Number.ToString(CultureInfo.InvariantCulture);

    /// <summary>Tags added to every child run (a sweep id, the dataset version...).</summary>
    public IReadOnlyDictionary<string, string>? Tags { get; init; }

    /// <summary>Log trial user attributes (<see cref="Trial.SetUserAttr"/>, <c>fail_reason</c>) as <c>user_attrs.{key}</c> tags.</summary>
    public bool LogUserAttrs { get; init; } = true;
}

/// <summary>
/// Logs a study to tracking, as Optuna's MLflowCallback does: each trial becomes a child run of
/// <c>parent</c> (params, objective value, state, intermediate values with their steps, trial number,
/// start and end), and the parent carries the study's best value and params as they improve.
/// Add it to <see cref="Study.Callbacks"/>; it is safe with <c>parallelism &gt; 1</c>.
/// </summary>
/// <remarks>
/// MLflow params cannot change once logged, so the parent's best params are tags
/// (<c>best_params.{name}</c>, <c>best_trial</c>, <c>best_value</c>) and the best value is also a
/// metric <c>best_value</c> whose step counts the trials finished so far (a best-so-far curve).
/// A tracking failure propagates out of <see cref="Study.OptimizeAsync(Func{Trial, CancellationToken, Task{double}}, int?, TimeSpan?, int, int?, CancellationToken)"/>,
/// as in Optuna: a study whose runs silently went missing would be worse than a stopped one.
/// </remarks>
public sealed class TrackingCallback : ITrialCallback
{
    public const string BestValueMetric = "best_value";
    public const string BestParamsTagPrefix = "best_params.";

    private readonly ActiveRun _parent;
    private readonly ConcurrentDictionary<long, ActiveRun> _runs = new();
    // Reading the best trial and writing it to the parent is one step, so two workers finishing at once
    // cannot leave an older best on the parent after a newer one.
    private readonly SemaphoreSlim _parentLock = new(1, 1);
    private int _finished;
    private int? _bestTrialLogged;
    private bool _studyTagged;
    private HashSet<string> _bestParamNames = [];

    public TrackingCallback(ActiveRun parent, TrackingCallbackOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(parent);
        _parent = parent;
        Options = options ?? new TrackingCallbackOptions();
    }

    public TrackingCallbackOptions Options { get; }

    public ActiveRun Parent => _parent;

    /// <summary>
    /// The child run of a trial in progress, so the objective can log more to it (a learning curve,
    /// a model); null once the trial has finished or when the trial was not started by this study object.
    /// </summary>
    public ActiveRun? RunOf(Trial trial)
    {
        ArgumentNullException.ThrowIfNull(trial);
        return _runs.GetValueOrDefault(trial.TrialId);
    }

    public async ValueTask OnTrialStartedAsync(Study study, FrozenTrial trial, CancellationToken cancellationToken)
    {
        await TagStudyOnceAsync(study, cancellationToken).ConfigureAwait(false);
        // Started now rather than at the end so the run's start time is the trial's and a running trial shows as RUNNING.
        var run = await StartChildAsync(study, trial, cancellationToken).ConfigureAwait(false);
        _runs[trial.TrialId] = run;
    }

    public async ValueTask OnTrialFinishedAsync(Study study, FrozenTrial trial, CancellationToken cancellationToken)
    {
        // A trial finished without a start callback (the callback was added mid-trial) still gets its run.
        if (!_runs.TryRemove(trial.TrialId, out var run))
        {
            await TagStudyOnceAsync(study, cancellationToken).ConfigureAwait(false);
            run = await StartChildAsync(study, trial, cancellationToken).ConfigureAwait(false);
        }

        var completed = trial.CompletedAt ?? DateTimeOffset.UtcNow;
        run.LogParams(trial.Params.Select(p => KeyValuePair.Create(p.Key, FormatParam(p.Value))));
        foreach (var (step, value) in trial.IntermediateValues)
        {
            run.LogMetric(Options.IntermediateMetricName, value, step);
        }

        if (trial.Value is { } v)
        {
            run.LogMetric(Options.MetricName, v, 0, completed.ToUnixTimeMilliseconds());
        }

        var tags = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["state"] = trial.State.ToString().ToUpperInvariant(),
            ["datetime_complete"] = completed.ToString("O", CultureInfo.InvariantCulture),
        };
        if (trial.Duration is { } d)
        {
            tags["duration_seconds"] = d.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture);
        }

        if (Options.LogUserAttrs)
        {
            foreach (var (key, value) in trial.UserAttrs)
            {
                tags["user_attrs." + key] = value;
            }
        }

        run.SetTags(tags);
        // Pruning is a normal outcome of a trial (the state tag tells it apart); only a failed trial is a failed run.
        await run.EndAsync(trial.State == TrialState.Failed ? RunStatus.Failed : RunStatus.Finished, cancellationToken).ConfigureAwait(false);
        await UpdateParentAsync(study, cancellationToken).ConfigureAwait(false);
    }

    private async Task<ActiveRun> StartChildAsync(Study study, FrozenTrial trial, CancellationToken ct)
    {
        var tags = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["trial_number"] = trial.Number.ToString(CultureInfo.InvariantCulture),
            ["study_name"] = study.Name,
            ["direction"] = study.Direction.ToString().ToUpperInvariant(),
            ["state"] = TrialState.Running.ToString().ToUpperInvariant(),
        };
        if (trial.StartedAt is { } started)
        {
            tags["datetime_start"] = started.ToString("O", CultureInfo.InvariantCulture);
        }

        foreach (var (key, value) in Options.Tags ?? new Dictionary<string, string>())
        {
            tags[key] = value;
        }

        // Lineage (git, source upload) belongs to the parent; per trial it would run git and upload the file each time.
        return await _parent.StartChildRunAsync(Options.RunName(trial), new RunOptions { Tags = tags, LogLineage = false }, ct).ConfigureAwait(false);
    }

    private async Task TagStudyOnceAsync(Study study, CancellationToken ct)
    {
        await _parentLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (_studyTagged)
            {
                return;
            }

            _parent.SetTags(new Dictionary<string, string>
            {
                ["study_name"] = study.Name,
                ["direction"] = study.Direction.ToString().ToUpperInvariant(),
                ["sampler"] = study.Sampler.GetType().Name,
                ["pruner"] = study.Pruner.GetType().Name,
            });
            _studyTagged = true;
        }
        finally
        {
            _parentLock.Release();
        }
    }

    private async Task UpdateParentAsync(Study study, CancellationToken ct)
    {
        await _parentLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            var finished = ++_finished;
            // The study's best, read from its storage, so trials of other workers and processes count too.
            var best = await study.GetBestTrialAsync(ct).ConfigureAwait(false);
            // Always touched, also when the best did not change: it gives a best-so-far curve with one point per
            // finished trial, and it tells the SDK that the objective's exceptions were handled (see SDK.md, run status).
            _parent.SetTag("n_finished_trials", finished);
            if (best?.Value is not { } bestValue)
            {
                return;
            }

            _parent.LogMetric(BestValueMetric, bestValue, finished);
            if (_bestTrialLogged == best.Number)
            {
                return;
            }

            var tags = new Dictionary<string, string>(StringComparer.Ordinal)
            {
                ["best_trial"] = best.Number.ToString(CultureInfo.InvariantCulture),
                [BestValueMetric] = bestValue.ToString("R", CultureInfo.InvariantCulture),
            };
            foreach (var (name, value) in best.Params)
            {
                tags[BestParamsTagPrefix + name] = FormatParam(value);
            }

            _parent.SetTags(tags);
            _bestTrialLogged = best.Number;
            var names = best.Params.Keys.ToHashSet(StringComparer.Ordinal);
            if (_bestParamNames.Except(names).ToList() is { Count: > 0 } gone)
            {
                // In a conditional space the new best may lack a parameter the old one had; its tag must go, not linger.
                await _parent.FlushAsync(ct).ConfigureAwait(false);
                foreach (var name in gone)
                {
                    await _parent.Client.Store.DeleteTagAsync(_parent.RunId, BestParamsTagPrefix + name, ct).ConfigureAwait(false);
                }
            }

            _bestParamNames = names;
        }
        finally
        {
            _parentLock.Release();
        }
    }

    /// <summary>Parameter values as MLflow shows them: invariant culture, round-trip doubles, <c>null</c> spelled out.</summary>
    public static string FormatParam(object? value) => value switch
    {
        null => "null",
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        float f => f.ToString("R", CultureInfo.InvariantCulture),
        bool b => b ? "true" : "false",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };
}
