using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using Microsoft.ML;
using Microsoft.ML.Runtime;

namespace Cairn.Client.MLNet;

/// <summary>
/// ML.NET autolog. <see cref="Enable"/> is the one call: from then on, inside an active run,
/// <list type="bullet">
/// <item>every <c>Fit(IDataView)</c> of an ML.NET estimator in the calling project logs what
/// <see cref="MLNetRunExtensions.Fit"/> logs (estimators and their options as params,
/// <c>fit_duration_seconds</c>, the model package under <c>model/</c>): Cairn.Client.MLNet's source
/// generator replaces those calls at compile time with <see cref="MLNetAutologHooks"/>;</item>
/// <item>every <c>Evaluate</c> of ML.NET's task catalogs logs its metrics as <c>eval_{name}</c>
/// (the run's second evaluation <c>eval_1_{name}</c>, and so on);</item>
/// <item>every fit done with the given <see cref="MLContext"/> logs, from ML.NET's own log stream, each
/// fitted component (<c>mlnet.fit.{n}</c>), the values ML.NET reports choosing
/// (<c>mlnet.fit.{n}.{option}</c>, e.g. auto-tuned L2) and the component's fit time
/// (<c>mlnet/{component}/fit_seconds</c>).</item>
/// </list>
/// </summary>
public static partial class MLNetAutolog
{
    private sealed class RunState
    {
        public int Fits;
        public readonly Dictionary<string, int> Open = new(StringComparer.Ordinal);
    }

    private static readonly ConditionalWeakTable<ActiveRun, RunState> States = new();

    private static int _enabled;

    /// <summary>Some <see cref="Enable"/> is in effect (not disposed yet).</summary>
    internal static bool IsEnabled => Volatile.Read(ref _enabled) > 0;

    /// <summary>Starts autologging ML.NET fits and evaluations (and the log stream of <paramref name="mlContext"/>); dispose the result to stop.</summary>
    public static IDisposable Enable(MLContext mlContext)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        EventHandler<LoggingEventArgs> handler = (_, e) => OnLog(e);
        mlContext.Log += handler;
        Interlocked.Increment(ref _enabled);
        return new Subscription(() =>
        {
            mlContext.Log -= handler;
            Interlocked.Decrement(ref _enabled);
        });
    }

    private sealed class Subscription(Action stop) : IDisposable
    {
        private Action? _stop = stop;

        public void Dispose() => Interlocked.Exchange(ref _stop, null)?.Invoke();
    }

    [GeneratedRegex(@"^Channel finished\. Elapsed (?<elapsed>\d+:\d+:\d+(?:\.\d+)?)")]
    private static partial Regex Finished();

    [GeneratedRegex(@"^(?:Auto-tuning parameters: )?(?<name>[A-Za-z][A-Za-z0-9_ ()/]*?) = (?<value>[^ ]+?)\.?$")]
    private static partial Regex Setting();

    private static void OnLog(LoggingEventArgs e)
    {
        try
        {
            Record(e);
        }
        catch (Exception ex) when (ex is FormatException or OverflowException or InvalidOperationException or Core.MlflowException)
        {
            // Autolog must never break training.
        }
    }

    private static void Record(LoggingEventArgs e)
    {
        if (Tracking.ActiveRun is not { } run || e.Source is null)
        {
            return;
        }

        var parts = e.Source.Split("; ");
        if (parts.Length != 2 || parts[1] != "Training")
        {
            return;
        }

        var component = parts[0];
        var state = States.GetOrCreateValue(run);
        lock (state)
        {
            var message = e.RawMessage ?? e.Message;
            if (message == "Channel started")
            {
                var n = state.Fits++;
                state.Open[component] = n;
                run.LogParam($"mlnet.fit.{n}", component);
            }
            else if (Finished().Match(message) is { Success: true } done && state.Open.Remove(component, out var n))
            {
                var elapsed = TimeSpan.Parse(done.Groups["elapsed"].Value, CultureInfo.InvariantCulture);
                run.LogMetric($"mlnet/{component}/fit_seconds", elapsed.TotalSeconds, n);
            }
            else if (e.Kind == ChannelMessageKind.Info && state.Open.TryGetValue(component, out var open) && Setting().Match(message) is { Success: true } setting)
            {
                var name = Regex.Replace(setting.Groups["name"].Value.Trim(), "[^A-Za-z0-9_.-]+", "_");
                run.LogParam($"mlnet.fit.{open}.{name}", setting.Groups["value"].Value);
            }
        }
    }
}
