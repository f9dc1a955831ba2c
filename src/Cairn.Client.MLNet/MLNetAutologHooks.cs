using System.ComponentModel;
using System.Diagnostics;
using Microsoft.ML;

namespace Cairn.Client.MLNet;

/// <summary>
/// What the interceptors of Cairn.Client.MLNet's source generator call in place of ML.NET's
/// <c>Fit</c> and <c>Evaluate</c>: the original call, then, when <see cref="MLNetAutolog.Enable"/> is in
/// effect and a run is active, the logging of <see cref="MLNetRunExtensions"/>. Logging failures are
/// swallowed (autolog never breaks training); ML.NET's own exceptions propagate unchanged.
/// Not meant to be called directly.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class MLNetAutologHooks
{
    /// <summary><c>estimator.Fit(data)</c>, logged as <see cref="MLNetRunExtensions.Fit"/> logs it (with the model).</summary>
    public static TTransformer Fit<TTransformer>(IEstimator<TTransformer> estimator, IDataView data)
        where TTransformer : ITransformer
    {
        if (!MLNetAutolog.IsEnabled || MLNetRunExtensions.Fitting || Tracking.ActiveRun is not { } run)
        {
            return estimator.Fit(data);
        }

        var n = MLNetRunExtensions.NextFit(run);
        if (n == 0)
        {
            Safely(run, () => MLNetRunExtensions.LogEstimators(run, estimator));
        }

        var clock = Stopwatch.StartNew();
        var model = MLNetRunExtensions.FitUnlogged(estimator, data);
        var elapsed = clock.Elapsed;
        Safely(run, () => MLNetRunExtensions.EndFit(run, n, elapsed, model, data, logModel: true));
        return model;
    }

    /// <summary>Returns <paramref name="metrics"/> after logging them as <see cref="MLNetRunExtensions.LogMetrics"/> does, prefixed <c>eval_</c> (then <c>eval_1_</c>...).</summary>
    public static TMetrics Evaluated<TMetrics>(TMetrics metrics)
        where TMetrics : class
    {
        if (MLNetAutolog.IsEnabled && Tracking.ActiveRun is { } run)
        {
            Safely(run, () => run.LogMetrics(metrics, MLNetRunExtensions.NextEvaluationPrefix(run)));
        }

        return metrics;
    }

    private static void Safely(ActiveRun run, Action log)
    {
        try
        {
            log();
        }
        catch (Exception)
        {
            // Autolog must never break training: a logging failure costs the logged data, not the fit,
            // and is not an exception escaping the run's scope (which would end it FAILED).
            run.Continued();
        }
    }
}
