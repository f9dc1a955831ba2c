using System.Collections;
using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Runtime.CompilerServices;
using Cairn.Models;
using Microsoft.ML;

namespace Cairn.Client.MLNet;

/// <summary>Explicit logging of ML.NET fits and metrics; <see cref="MLNetAutolog.Enable"/> does the same for plain ML.NET calls.</summary>
public static class MLNetRunExtensions
{
    /// <summary>How many fits and evaluations a run has logged, to number the later ones.</summary>
    private sealed class Counts
    {
        public int Fits;
        public int Evaluations;
    }

    private static readonly ConditionalWeakTable<ActiveRun, Counts> RunCounts = new();

    /// <summary>A logged fit is running on this thread: fits it makes (a custom estimator's inner ones) are not logged again.</summary>
    [ThreadStatic]
    private static int _fitting;

    internal static bool Fitting => _fitting > 0;

    /// <summary>
    /// Fits <paramref name="estimator"/> and logs, at the run's first fit, each estimator of the chain
    /// (<c>mlnet.estimator.{i}</c>) and the public settings of its options object (<c>{Estimator}.{Option}</c>);
    /// at every fit the fit time (<c>fit_duration_seconds</c>, step = the run's fit number 0, 1, ...) and,
    /// when <paramref name="mlContext"/> is given, the fitted model as a package under <c>model/</c>
    /// (the run's later fits: <c>model_{n}/</c>) with Cairn.Models' <c>mlnet</c> flavor: model.zip, an
    /// <c>MLmodel</c> with the signature inferred from <paramref name="data"/>, an input example and the
    /// environment, loadable with <c>ModelLoader</c>. Params are logged once because MLflow params cannot change.
    /// </summary>
    public static TTransformer Fit<TTransformer>(this ActiveRun run, IEstimator<TTransformer> estimator, IDataView data, MLContext? mlContext = null)
        where TTransformer : class, ITransformer
    {
        ArgumentNullException.ThrowIfNull(run);
        var n = NextFit(run);
        if (n == 0)
        {
            LogEstimators(run, estimator);
        }

        var clock = Stopwatch.StartNew();
        var model = FitUnlogged(estimator, data);
        EndFit(run, n, clock.Elapsed, model, data, mlContext is not null);
        return model;
    }

    /// <summary>The number of this fit in <paramref name="run"/>: 0, 1, ...</summary>
    internal static int NextFit(ActiveRun run) => Interlocked.Increment(ref RunCounts.GetOrCreateValue(run).Fits) - 1;

    /// <summary>Logs each estimator of the chain and its options.</summary>
    internal static void LogEstimators(ActiveRun run, object estimator)
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
    }

    /// <summary>Fits with logging of nested fits switched off.</summary>
    internal static TTransformer FitUnlogged<TTransformer>(IEstimator<TTransformer> estimator, IDataView data)
        where TTransformer : ITransformer
    {
        _fitting++;
        try
        {
            return estimator.Fit(data);
        }
        finally
        {
            _fitting--;
        }
    }

    /// <summary>Logs fit number <paramref name="n"/>'s duration and, when asked, its model.</summary>
    internal static void EndFit(ActiveRun run, int n, TimeSpan elapsed, ITransformer model, IDataView data, bool logModel)
    {
        run.LogMetric("fit_duration_seconds", elapsed.TotalSeconds, n);
        if (logModel)
        {
            run.LogModelAsync(model, data, n == 0 ? "model" : $"model_{n}").GetAwaiter().GetResult();
        }
    }

    /// <summary>The metric prefix of the run's next autologged evaluation: <c>eval_</c>, then <c>eval_1_</c>, <c>eval_2_</c>...</summary>
    internal static string NextEvaluationPrefix(ActiveRun run)
    {
        var n = Interlocked.Increment(ref RunCounts.GetOrCreateValue(run).Evaluations) - 1;
        return n == 0 ? "eval_" : $"eval_{n}_";
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
