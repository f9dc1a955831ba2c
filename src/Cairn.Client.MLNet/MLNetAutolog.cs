using System.Collections;
using System.Globalization;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using Cairn.Models;
using Microsoft.ML;
using Microsoft.ML.Runtime;

namespace Cairn.Client.MLNet;

/// <summary>
/// ML.NET autolog. <see cref="Enable"/> is the one call: from then on, every fit done with that
/// <see cref="MLContext"/> inside an active run logs, from ML.NET's own log stream, the name of each
/// fitted component (<c>mlnet.fit.{n}</c> params), the values ML.NET reports choosing
/// (<c>mlnet.fit.{n}.{option}</c>, e.g. auto-tuned L2 or iteration counts) and the fit time
/// (<c>mlnet/{component}/fit_seconds</c>). ML.NET has no hook on Fit or Evaluate, so the trainer
/// options it does not print, the evaluation metrics and the fitted model need one call each:
/// <see cref="MLNetRunExtensions.Fit"/>, <see cref="MLNetRunExtensions.LogMetrics(ActiveRun, object, string, long)"/>
/// and Cairn.Models' <c>run.LogModelAsync(model, trainingData)</c>.
/// </summary>
public static partial class MLNetAutolog
{
    private sealed class RunState
    {
        public int Fits;
        public readonly Dictionary<string, int> Open = new(StringComparer.Ordinal);
    }

    private static readonly ConditionalWeakTable<ActiveRun, RunState> States = new();

    /// <summary>Starts autologging the fits of <paramref name="mlContext"/>; dispose the result to stop.</summary>
    public static IDisposable Enable(MLContext mlContext)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        EventHandler<LoggingEventArgs> handler = (_, e) => OnLog(e);
        mlContext.Log += handler;
        return new Subscription(() => mlContext.Log -= handler);
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

/// <summary>The ML.NET calls that ML.NET offers no hook for: options of a fitted pipeline, evaluation metrics, the model.</summary>
public static class MLNetRunExtensions
{
    /// <summary>
    /// Fits <paramref name="estimator"/> and logs each estimator of the chain (<c>mlnet.estimator.{i}</c>),
    /// the public settings of its options object (<c>{Estimator}.{Option}</c>), the fit time (<c>fit_duration_seconds</c>)
    /// and, when <paramref name="mlContext"/> is given, the fitted model as a package under <c>model/</c>
    /// (Cairn.Models' <c>mlnet</c> flavor: model.zip, an <c>MLmodel</c> with the signature inferred from
    /// <paramref name="data"/>, an input example and the environment), loadable with <c>ModelLoader</c>.
    /// </summary>
    public static TTransformer Fit<TTransformer>(this ActiveRun run, IEstimator<TTransformer> estimator, IDataView data, MLContext? mlContext = null)
        where TTransformer : class, ITransformer
    {
        var index = 0;
        foreach (var e in Flatten(estimator))
        {
            var name = DisplayName(e.GetType());
            run.LogParam($"mlnet.estimator.{index++}", name);
            foreach (var (key, value) in Options(e))
            {
                run.LogParam($"{name}.{key}", value);
            }
        }

        var clock = System.Diagnostics.Stopwatch.StartNew();
        var model = estimator.Fit(data);
        run.LogMetric("fit_duration_seconds", clock.Elapsed.TotalSeconds);
        if (mlContext is not null)
        {
            run.LogModelAsync(model, data).GetAwaiter().GetResult();
        }

        return model;
    }

    /// <summary>
    /// Logs every number of an ML.NET metrics object (<c>MulticlassClassificationMetrics</c>,
    /// <c>BinaryClassificationMetrics</c>, <c>RegressionMetrics</c>...) as <c>{prefix}{snake_case name}</c>;
    /// lists of numbers (per-class log-loss, top-k accuracies) become <c>{name}_{i}</c>.
    /// </summary>
    public static void LogMetrics(this ActiveRun run, object metrics, string prefix = "", long step = 0)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        foreach (var p in metrics.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (p.GetIndexParameters().Length > 0)
            {
                continue;
            }

            object? value;
            try
            {
                value = p.GetValue(metrics);
            }
            catch (TargetInvocationException)
            {
                continue;
            }

            var key = prefix + SnakeCase(p.Name);
            switch (value)
            {
                case double or float or int or long:
                    run.LogMetric(key, Convert.ToDouble(value, CultureInfo.InvariantCulture), step);
                    break;
                case IEnumerable list and not string:
                    var i = 0;
                    foreach (var item in list)
                    {
                        if (item is double or float or int or long)
                        {
                            run.LogMetric($"{key}_{i}", Convert.ToDouble(item, CultureInfo.InvariantCulture), step);
                        }

                        i++;
                    }

                    break;
            }
        }
    }

    private static IEnumerable<object> Flatten(object estimator)
    {
        var field = estimator.GetType().GetField("_estimators", BindingFlags.NonPublic | BindingFlags.Instance);
        if (field?.GetValue(estimator) is IEnumerable inner)
        {
            foreach (var e in inner)
            {
                foreach (var leaf in Flatten(e!))
                {
                    yield return leaf;
                }
            }
        }
        else
        {
            yield return estimator;
        }
    }

    /// <summary>Settings of an estimator's options object (any field whose type is named *Options).</summary>
    private static IEnumerable<(string, string)> Options(object estimator)
    {
        for (var type = estimator.GetType(); type is not null && type != typeof(object); type = type.BaseType)
        {
            foreach (var f in type.GetFields(BindingFlags.NonPublic | BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly))
            {
                if (!f.FieldType.Name.EndsWith("Options", StringComparison.Ordinal) || f.GetValue(estimator) is not { } options)
                {
                    continue;
                }

                foreach (var member in options.GetType().GetFields(BindingFlags.Public | BindingFlags.Instance))
                {
                    if (Simple(member.GetValue(options)) is { } text)
                    {
                        yield return (member.Name, text);
                    }
                }

                foreach (var member in options.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance))
                {
                    if (member.GetIndexParameters().Length == 0 && Simple(member.GetValue(options)) is { } text)
                    {
                        yield return (member.Name, text);
                    }
                }

                yield break;
            }
        }
    }

    private static string? Simple(object? value) => value switch
    {
        null => null,
        string s => s,
        bool b => b ? "true" : "false",
        Enum e => e.ToString(),
        IFormattable f when value.GetType().IsPrimitive || value is decimal => f.ToString(null, CultureInfo.InvariantCulture),
        _ => null,
    };

    private static string DisplayName(Type type)
    {
        var name = type.Name;
        var tick = name.IndexOf('`', StringComparison.Ordinal);
        return tick < 0 ? name : name[..tick];
    }

    internal static string SnakeCase(string name)
    {
        var sb = new System.Text.StringBuilder(name.Length + 8);
        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            if (char.IsUpper(c) && i > 0 && (char.IsLower(name[i - 1]) || (i + 1 < name.Length && char.IsLower(name[i + 1]))))
            {
                sb.Append('_');
            }

            sb.Append(char.ToLowerInvariant(c));
        }

        return sb.ToString();
    }
}
