using System.Diagnostics;
using System.Globalization;
using Cairn.Client;
using Cairn.Core;
using Cairn.Core.Registry;
using Cairn.Lab.Pipelines.Data;
using Cairn.Lab.Pipelines.Evaluation;
using Cairn.Lab.Pipelines.Features;
using Cairn.Lab.Pipelines.Models;
using Cairn.Lab.Tuning;
using Cairn.Models;
using Cairn.Tuning;
using Cairn.Tuning.Pruners;
using Cairn.Tuning.Samplers;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Cairn.Lab.Pipelines;

/// <summary>Where a pipeline is, for a progress display: the configuration and trial, the best value so far, the time left.</summary>
public sealed record PipelineProgress(
    string Stage,
    string? Configuration = null,
    int ConfigurationIndex = 0,
    int ConfigurationCount = 0,
    int Trial = 0,
    int TrialCount = 0,
    double? BestValue = null,
    TimeSpan Elapsed = default,
    TimeSpan? Remaining = null);

/// <summary>One feature set × model, tuned, refitted on the training split and evaluated.</summary>
/// <param name="Metrics">train_, val_ and test_ metrics of the refitted model.</param>
public sealed record ConfigurationResult(
    string FeatureSet,
    string Model,
    string RunId,
    double CvValue,
    IReadOnlyDictionary<string, object?> BestParams,
    IReadOnlyDictionary<string, double> Metrics,
    LoggedModel LoggedModel)
{
    public string Name => $"{FeatureSet}-{Model}";
}

/// <param name="RegisteredVersion">The version registered for the best configuration (null when registration is off).</param>
/// <param name="BecameChampion">Whether the champion alias moved to that version.</param>
public sealed record PipelineResult(
    DatasetDescription Dataset,
    string ExperimentId,
    string ParentRunId,
    IReadOnlyList<ConfigurationResult> Configurations,
    ConfigurationResult Best,
    ModelVersion? RegisteredVersion,
    bool BecameChampion,
    TimeSpan Elapsed);

/// <summary>
/// Runs a <see cref="PipelineConfig"/>: loads and splits the data set, tunes every feature set × model
/// with stratified k-fold cross-validation on the training split (each trial a child run), refits the
/// best parameters on the training split, evaluates on train/validation/test, logs each model package,
/// and registers the configuration with the best validation score, moving the champion alias only
/// when it beats the current champion on the test split.
/// </summary>
public sealed class PipelineRunner(TrackingClient client, IModelRegistryStore? registry, IProgress<PipelineProgress>? progress = null)
{
    /// <summary>Train metrics of a larger training split come from a stratified sample of this many rows.</summary>
    public const int MaxTrainEvaluationRows = 100_000;

    /// <summary>Permutation importance shuffles each column of at most this many test rows (3 repeats).</summary>
    public const int MaxImportanceRows = 5_000;

    /// <summary>A config whose every catalog name, option and search space was checked: what <see cref="RunAsync"/> runs.</summary>
    public sealed record Plan(
        PipelineConfig Config,
        IReadOnlyList<(string Name, IReadOnlyList<IFeatureEnricher> Chain)> FeatureSets,
        IReadOnlyList<(IPipelineModel Model, IReadOnlyDictionary<string, Distribution> Space)> Models);

    /// <exception cref="PipelineConfigException">A name, option or search space is not valid.</exception>
    public static Plan Validate(PipelineConfig config)
    {
        PipelineConfig.Require([.. DatasetCatalog.Entries.Select(e => e.Name)], config.Dataset.Name, "dataset", "dataset");
        var featureSets = config.FeatureSets
            .Select(fs => (fs.Key, (IReadOnlyList<IFeatureEnricher>)[.. fs.Value.Select(e => EnricherCatalog.Create(e.Name, e.Options))]))
            .ToList();
        var models = new List<(IPipelineModel, IReadOnlyDictionary<string, Distribution>)>();
        foreach (var m in config.Models)
        {
            var model = ModelCatalog.Create(m.Name);
            var space = m.SearchSpace.Count > 0 ? m.SearchSpace : model.DefaultSearchSpace;
            // Building (not training) a trainer at every bound and choice of the space checks the
            // hyperparameter names and values before any run exists.
            foreach (var probe in Probes(space))
            {
                model.CreateTrainer(new MLContext(config.Seed), new TrainerContext("Label", ["a", "b"], config.Seed), probe);
            }

            models.Add((model, space));
        }

        return new Plan(config, featureSets, models);
    }

    /// <param name="plan">The checked config (<see cref="Validate"/>), so a mistake is reported before any store is opened.</param>
    /// <param name="tags">Extra tags for the pipeline run (e.g. what a rerun reproduces).</param>
    public async Task<PipelineResult> RunAsync(Plan plan, IReadOnlyDictionary<string, string>? tags = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(plan);

        // ML.NET writes a file for every ONNX model it scores (feature graphs, the MLP) and keeps it
        // while the model lives; the models of a pipeline live until it ends, then the files go.
        var scratch = Directory.CreateTempSubdirectory("cairn-pipeline-");
        try
        {
            return await RunCoreAsync(plan, tags, scratch.FullName, ct).ConfigureAwait(false);
        }
        finally
        {
            scratch.Delete(recursive: true);
        }
    }

    private async Task<PipelineResult> RunCoreAsync(Plan plan, IReadOnlyDictionary<string, string>? tags, string scratch, CancellationToken ct)
    {
        var config = plan.Config;
        var clock = Stopwatch.StartNew();
        Report(new PipelineProgress($"Loading data set '{config.Dataset.Name}'", Elapsed: clock.Elapsed));
        var dataset = await DatasetCatalog.LoadAsync(config.Dataset, new InlineProgress<string>(m => Report(new PipelineProgress(m, Elapsed: clock.Elapsed))), ct).ConfigureAwait(false);
        var table = dataset.Table;
        var (trainRows, validationRows, testRows) = Splits.Stratified(table, config.TestFraction, config.ValidationFraction, config.Seed);
        var train = table.Select(trainRows);
        var validation = table.Select(validationRows);
        var test = table.Select(testRows);
        // Large data sets tune on a stratified sample of the training rows; the refit uses them all.
        var tuning = config.Tuner.TuneRows is { } cap && cap < train.RowCount
            ? train.Select(Splits.Stratified(train, 1 - (cap / (double)train.RowCount), 0, config.Seed).Train)
            : train;
        var folds = Splits.StratifiedKFold(tuning.ClassIndexes(), config.Tuner.Folds, config.Seed);

        var experiment = await client.GetOrCreateExperimentAsync(config.Experiment, ct).ConfigureAwait(false);
        await using var parent = await client.StartRunAsync(new RunOptions
        {
            ExperimentId = experiment.ExperimentId,
            RunName = $"{config.Dataset.Name}-{config.Tuner.Name}-{DateTime.UtcNow:yyyyMMdd-HHmmss}",
            Tags = new Dictionary<string, string>(tags ?? new Dictionary<string, string>()) { ["cairn.pipeline"] = "train", ["cairn.dataset"] = config.Dataset.Name },
        }, ct, config.SourcePath ?? "").ConfigureAwait(false);
        try
        {
            parent.LogParams(new Dictionary<string, object?>
            {
                ["dataset"] = config.Dataset.Name,
                ["tuner"] = config.Tuner.Name,
                ["metric"] = config.Tuner.Metric,
                ["folds"] = config.Tuner.Folds,
                ["trials"] = config.Tuner.Trials,
                ["seed"] = config.Seed,
                ["rows.train"] = train.RowCount,
                ["rows.validation"] = validation.RowCount,
                ["rows.test"] = test.RowCount,
                ["rows.tuning"] = tuning.RowCount,
            });
            await LogDatasetAsync(parent, dataset, ct).ConfigureAwait(false);
            await parent.LogTextAsync(config.ToYaml(), "config.yaml", ct).ConfigureAwait(false);

            var results = new List<ConfigurationResult>();
            var count = plan.FeatureSets.Count * plan.Models.Count;
            foreach (var (featureSetName, chain) in plan.FeatureSets)
            {
                // The features of each fold (and of the whole training split) are fitted and computed
                // once per feature set and shared by every trial of every model.
                Report(new PipelineProgress($"Fitting feature set '{featureSetName}'", Elapsed: clock.Elapsed));
                var foldFeatures = folds.Select(f => FoldFeatures.Fit(NewContext(config.Seed, scratch), chain, tuning.Select(f.Train), tuning.Select(f.Validation))).ToList();
                var trainFeatures = FoldFeatures.Fit(NewContext(config.Seed, scratch), chain, train, null);
                foreach (var (model, space) in plan.Models)
                {
                    var context = new ConfigurationContext(config, $"{featureSetName}-{model.Name}", results.Count, count, clock, scratch);
                    results.Add(await RunConfigurationAsync(parent, dataset, train, validation, test, foldFeatures, trainFeatures, featureSetName, model, space, context, ct).ConfigureAwait(false));
                }
            }

            var best = Best(results, "val_" + config.Tuner.Metric, config.MetricIsMaximized);
            parent.SetTags(new Dictionary<string, string>
            {
                ["best.configuration"] = best.Name,
                ["best.run_id"] = best.RunId,
            });
            foreach (var (key, value) in best.Metrics)
            {
                parent.LogMetric("best_" + key, value);
            }

            ModelVersion? version = null;
            var champion = false;
            if (config.Registry.Register)
            {
                Report(new PipelineProgress($"Registering {best.Name}", Elapsed: clock.Elapsed));
                (version, champion) = await RegisterAsync(config, best, ct).ConfigureAwait(false);
                parent.SetTags(new Dictionary<string, string>
                {
                    ["registered.model"] = version.Name,
                    ["registered.version"] = version.Version,
                    ["registered.champion"] = champion ? "true" : "false",
                });
            }

            await parent.EndAsync(RunStatus.Finished, ct).ConfigureAwait(false);
            return new PipelineResult(dataset.Description, experiment.ExperimentId, parent.RunId, results, best, version, champion, clock.Elapsed);
        }
        catch (Exception e)
        {
            parent.Fail(e);
            throw;
        }
    }

    /// <param name="Scratch">Where ML.NET puts the files of the models it builds (see <see cref="RunAsync"/>).</param>
    private sealed record ConfigurationContext(PipelineConfig Config, string Name, int Index, int Count, Stopwatch Clock, string Scratch);

    private static MLContext NewContext(int seed, string scratch) => new(seed) { TempFilePath = scratch };

    private async Task<ConfigurationResult> RunConfigurationAsync(
        ActiveRun parent,
        LoadedDataset dataset,
        DataTable train,
        DataTable validation,
        DataTable test,
        IReadOnlyList<FoldFeatures> folds,
        FoldFeatures trainFeatures,
        string featureSetName,
        IPipelineModel model,
        IReadOnlyDictionary<string, Distribution> space,
        ConfigurationContext context,
        CancellationToken ct)
    {
        var config = context.Config;
        await using var run = await parent.StartChildRunAsync(context.Name, new RunOptions
        {
            Tags = new Dictionary<string, string> { ["cairn.feature_set"] = featureSetName, ["cairn.model"] = model.Name },
        }, ct).ConfigureAwait(false);
        try
        {
            run.LogParams(new Dictionary<string, object?> { ["feature_set"] = featureSetName, ["model"] = model.Name, ["enrichers"] = string.Join(" > ", config.FeatureSets.First(f => f.Key == featureSetName).Value.Select(e => e.Name)) });
            var direction = config.MetricIsMaximized ? StudyDirection.Maximize : StudyDirection.Minimize;
            var study = await Study.CreateAsync(
                $"{context.Name}-{Guid.NewGuid():N}",
                direction,
                CreateSampler(config, space),
                config.Tuner.Pruner == "median" ? new MedianPruner(nStartupTrials: 3, nWarmupSteps: 1) : new NopPruner(),
                cancellationToken: ct).ConfigureAwait(false);
            var metricKey = "cv_" + config.Tuner.Metric;
            var tracking = new TrackingCallback(run, new TrackingCallbackOptions { MetricName = metricKey, IntermediateMetricName = metricKey + "_running" });
            study.Callbacks.Add(tracking);
            var trialCount = TrialCount(config, space);
            study.Callbacks.Add(new ProgressCallback(this, context, trialCount));
            Report(Progress(context, 0, trialCount, null));

            await study.OptimizeAsync(async (trial, token) =>
            {
                var hyperparameters = space.ToDictionary(kv => kv.Key, kv => (object?)kv.Value.ToExternal(trial.Suggest(kv.Key, kv.Value)));
                var scores = new List<double>();
                for (var f = 0; f < folds.Count; f++)
                {
                    token.ThrowIfCancellationRequested();
                    var fold = folds[f];
                    var fitted = Train(NewContext(config.Seed, context.Scratch), model, hyperparameters, fold, train, config.Seed);
                    var metrics = Evaluator.Evaluate(fitted, fold.Validation!, train.LabelName, train.ClassNames).ToMetrics("");
                    scores.Add(metrics[config.Tuner.Metric]);
                    trial.Report(scores.Average(), f);
                    if (await trial.ShouldPruneAsync(token).ConfigureAwait(false))
                    {
                        throw new TrialPrunedException($"Pruned after fold {f + 1} of {folds.Count}.");
                    }
                }

                var mean = scores.Average();
                var std = Std(scores, mean);
                trial.SetUserAttr("cv_std", std.ToString("R", CultureInfo.InvariantCulture));
                tracking.RunOf(trial)?.LogMetric(metricKey + "_std", std);
                return mean;
            }, nTrials: trialCount, cancellationToken: ct).ConfigureAwait(false);

            var bestTrial = await study.GetBestTrialAsync(ct).ConfigureAwait(false)
                ?? throw new InvalidOperationException($"No trial of {context.Name} completed; see its failed child runs.");
            var bestParams = bestTrial.Params;
            Report(new PipelineProgress($"Refitting {context.Name} on {train.RowCount:N0} rows", Elapsed: context.Clock.Elapsed));

            // The saved model is the feature transform followed by the trained model: it takes the raw columns.
            var model0 = new TransformerChain<ITransformer>(trainFeatures.Transformer, Train(NewContext(config.Seed, context.Scratch), model, bestParams, trainFeatures, train, config.Seed));
            var featurePlan = trainFeatures.Plan;
            run.LogParams(bestParams.Select(p => KeyValuePair.Create(p.Key, TrackingCallback.FormatParam(p.Value))));
            run.SetTags(featurePlan.Choices.Select(c => KeyValuePair.Create("cairn.features." + c.Key, c.Value)));
            run.LogParam("features.count", featurePlan.FeatureNames.Count);
            run.LogMetric("cv_" + config.Tuner.Metric, bestTrial.Value!.Value);
            if (bestTrial.UserAttrs.TryGetValue("cv_std", out var std) && double.TryParse(std, NumberStyles.Float, CultureInfo.InvariantCulture, out double stdValue))
            {
                run.LogMetric("cv_" + config.Tuner.Metric + "_std", stdValue);
            }

            Report(new PipelineProgress($"Evaluating {context.Name} on the train, validation and test splits", Elapsed: context.Clock.Elapsed));
            var metricsAll = new Dictionary<string, double>(StringComparer.Ordinal);
            EvaluationResult? testResult = null;
            // Train metrics are a check for over-fitting, not an estimate: a large training split is sampled.
            var trainSample = train.RowCount > MaxTrainEvaluationRows
                ? train.Select(Splits.Stratified(train, 1 - (MaxTrainEvaluationRows / (double)train.RowCount), 0, config.Seed).Train)
                : train;
            foreach (var (prefix, part) in new[] { ("train_", trainSample), ("val_", validation), ("test_", test) })
            {
                var result = Evaluator.Evaluate(model0, new ColumnarDataView(part), part.LabelName, train.ClassNames);
                foreach (var (key, value) in result.ToMetrics(prefix))
                {
                    metricsAll[key] = value;
                }

                if (prefix == "test_")
                {
                    testResult = result;
                }
            }

            run.LogMetrics(metricsAll.Where(m => double.IsFinite(m.Value)));
            await LogDatasetAsync(run, dataset, ct).ConfigureAwait(false);
            Report(new PipelineProgress($"Plotting {context.Name}: confusion matrix, curves, permutation importance", Elapsed: context.Clock.Elapsed));
            await LogEvaluationArtifactsAsync(run, model0, test, testResult!, config, ct).ConfigureAwait(false);
            Report(new PipelineProgress($"Logging the model of {context.Name}", Elapsed: context.Clock.Elapsed));
            var logged = await run.LogModelAsync(model0, new ColumnarDataView(train), "model", options: new MLNetSaveOptions { LabelColumn = train.LabelName }, ct: ct).ConfigureAwait(false);
            await run.EndAsync(RunStatus.Finished, ct).ConfigureAwait(false);
            return new ConfigurationResult(featureSetName, model.Name, run.RunId, bestTrial.Value!.Value, bestParams, metricsAll, logged);
        }
        catch (Exception e)
        {
            run.Fail(e);
            throw;
        }
    }

    private static ITransformer Train(MLContext ml, IPipelineModel model, IReadOnlyDictionary<string, object?> hyperparameters, FoldFeatures data, DataTable train, int seed) =>
        model.CreateTrainer(ml, new TrainerContext(train.LabelName, train.ClassNames, seed), hyperparameters).Fit(data.Train);

    /// <summary>A feature plan fitted on some training rows, and those rows (and optionally validation rows) with their features computed, cached in memory.</summary>
    private sealed record FoldFeatures(FeaturePlan Plan, ITransformer Transformer, IDataView Train, IDataView? Validation)
    {
        public static FoldFeatures Fit(MLContext ml, IReadOnlyList<IFeatureEnricher> chain, DataTable train, DataTable? validation)
        {
            var plan = FeaturePlan.Fit(chain, train);
            var transformer = plan.ToEstimator(ml).Fit(new ColumnarDataView(train));
            IDataView Cached(DataTable table) => ml.Data.Cache(transformer.Transform(new ColumnarDataView(table)), "Features", table.LabelName);
            return new FoldFeatures(plan, transformer, Cached(train), validation is null ? null : Cached(validation));
        }
    }

    private static async Task LogEvaluationArtifactsAsync(ActiveRun run, ITransformer model, DataTable test, EvaluationResult result, PipelineConfig config, CancellationToken ct)
    {
        var dir = Directory.CreateTempSubdirectory("cairn-eval-").FullName;
        try
        {
            EvaluationPlots.WriteAll(result, dir);
            var importance = PermutationImportance.Compute(model, test, config.Tuner.Metric, config.Seed, maxRows: MaxImportanceRows);
            EvaluationPlots.WriteImportance(importance, config.Tuner.Metric, Path.Combine(dir, "feature_importance.png"));
            await run.LogArtifactsAsync(dir, "evaluation", ct).ConfigureAwait(false);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static Task LogDatasetAsync(ActiveRun run, LoadedDataset dataset, CancellationToken ct)
    {
        var d = dataset.Description;
        return run.LogInputAsync(new Dataset(d.Name, d.Digest, d.SourceType, d.Source, d.Schema, d.Profile), "training", ct: ct);
    }

    private async Task<(ModelVersion Version, bool Champion)> RegisterAsync(PipelineConfig config, ConfigurationResult best, CancellationToken ct)
    {
        var store = registry ?? throw new InvalidOperationException($"Registering needs a model registry, but the tracking URI '{client.TrackingUri}' has none.");
        var name = config.Registry.ModelName ?? config.Experiment;
        var testKey = "test_" + config.Tuner.Metric;
        double? championValue = null;
        ModelVersion? current = null;
        try
        {
            current = await store.GetModelVersionByAliasAsync(name, config.Registry.ChampionAlias, ct).ConfigureAwait(false);
        }
        catch (MlflowException e) when (e.Code is ErrorCode.ResourceDoesNotExist or ErrorCode.InvalidParameterValue)
        {
            // No such model or no champion yet.
        }

        if (current?.RunId is { } championRun)
        {
            var run = await client.Store.GetRunAsync(championRun, ct).ConfigureAwait(false);
            championValue = run.Metrics.FirstOrDefault(m => m.Key == testKey)?.Value;
        }

        try
        {
            await store.CreateRegisteredModelAsync(name, [], $"Registered by cairn train from experiment '{config.Experiment}'.", ct).ConfigureAwait(false);
        }
        catch (MlflowException e) when (e.Code == ErrorCode.ResourceAlreadyExists)
        {
            // A new version of an existing model.
        }

        var version = await store.CreateModelVersionAsync(new NewModelVersion(name, best.LoggedModel.ArtifactUri, best.RunId), ct).ConfigureAwait(false);
        await store.SetRegisteredModelAliasAsync(name, config.Registry.Alias, version.Version, ct).ConfigureAwait(false);
        var value = best.Metrics.GetValueOrDefault(testKey, double.NaN);
        var beats = championValue is not { } cv || !double.IsFinite(cv) || (config.MetricIsMaximized ? value > cv : value < cv);
        if (beats)
        {
            await store.SetRegisteredModelAliasAsync(name, config.Registry.ChampionAlias, version.Version, ct).ConfigureAwait(false);
        }

        return (version, beats);
    }

    private static ConfigurationResult Best(IReadOnlyList<ConfigurationResult> results, string key, bool maximize)
    {
        double Score(ConfigurationResult r) => r.Metrics.TryGetValue(key, out var v) && double.IsFinite(v) ? (maximize ? v : -v) : double.NegativeInfinity;
        return results.OrderByDescending(Score).ThenByDescending(r => maximize ? r.CvValue : -r.CvValue).First();
    }

    private static ISampler CreateSampler(PipelineConfig config, IReadOnlyDictionary<string, Distribution> space) => config.Tuner.Name switch
    {
        "grid" => new GridSampler(space.Select(kv => KeyValuePair.Create(kv.Key, GridValues(kv.Value, config.Tuner.GridPoints))), config.Seed, shuffle: false),
        "random" => new RandomSampler(config.Seed),
        _ => new TpeSampler(config.Seed),
    };

    /// <summary>The trials a configuration runs: a grid's size (capped by trials), else the configured number.</summary>
    private static int TrialCount(PipelineConfig config, IReadOnlyDictionary<string, Distribution> space) =>
        config.Tuner.Name == "grid"
            ? (int)Math.Min(config.Tuner.Trials, space.Values.Aggregate(1L, (n, d) => n * GridValues(d, config.Tuner.GridPoints).Count))
            : config.Tuner.Trials;

    /// <summary>Grid points of one parameter: every choice, every step of a short integer range, else evenly spaced (log-spaced for log ranges) points.</summary>
    internal static IReadOnlyList<object?> GridValues(Distribution distribution, int points)
    {
        switch (distribution)
        {
            case CategoricalDistribution c:
                return c.Choices;
            case IntDistribution i when (i.High - i.Low) / i.Step + 1 <= Math.Max(points, 10) && !i.Log:
                return [.. Enumerable.Range(0, (int)((i.High - i.Low) / i.Step) + 1).Select(k => (object?)(i.Low + (k * i.Step)))];
            default:
                var values = new List<object?>();
                for (var k = 0; k < points; k++)
                {
                    var internalValue = Spaced(distribution, points == 1 ? 0.5 : k / (double)(points - 1));
                    var external = distribution.ToExternal(internalValue);
                    if (!values.Contains(external))
                    {
                        values.Add(external);
                    }
                }

                return values;
        }
    }

    private static double Spaced(Distribution distribution, double fraction)
    {
        var (low, high, log, step) = distribution switch
        {
            FloatDistribution f => (f.Low, f.High, f.Log, f.Step),
            IntDistribution i => (i.Low, (double)i.High, i.Log, (double?)i.Step),
            _ => throw new ArgumentOutOfRangeException(nameof(distribution)),
        };
        var value = log ? Math.Exp(Math.Log(low) + (fraction * (Math.Log(high) - Math.Log(low)))) : low + (fraction * (high - low));
        if (step is { } s)
        {
            value = low + (Math.Round((value - low) / s) * s);
        }

        return Math.Clamp(distribution is IntDistribution ? Math.Round(value) : value, low, high);
    }

    /// <summary>The space's lowest point, then that point with one parameter moved to each of its other bounds or choices.</summary>
    private static IEnumerable<Dictionary<string, object?>> Probes(IReadOnlyDictionary<string, Distribution> space)
    {
        static IEnumerable<double> Extremes(Distribution d) => d switch
        {
            FloatDistribution f => [f.Low, f.High],
            IntDistribution i => [i.Low, i.High],
            CategoricalDistribution c => Enumerable.Range(0, c.Choices.Count).Select(i => (double)i),
            _ => [],
        };

        var lowest = space.ToDictionary(kv => kv.Key, kv => kv.Value.ToExternal(Extremes(kv.Value).First()));
        yield return lowest;
        foreach (var (name, distribution) in space)
        {
            foreach (var value in Extremes(distribution).Skip(1))
            {
                yield return new Dictionary<string, object?>(lowest) { [name] = distribution.ToExternal(value) };
            }
        }
    }

    private static double Std(IReadOnlyList<double> values, double mean) =>
        values.Count < 2 ? 0 : Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Count - 1));

    private static PipelineProgress Progress(ConfigurationContext c, int trial, int trials, double? best)
    {
        var elapsed = c.Clock.Elapsed;
        var done = c.Index + (trials == 0 ? 0 : trial / (double)trials);
        TimeSpan? remaining = done > 0 ? TimeSpan.FromSeconds(elapsed.TotalSeconds / done * (c.Count - done)) : null;
        return new PipelineProgress($"Tuning {c.Name}", c.Name, c.Index + 1, c.Count, trial, trials, best, elapsed, remaining);
    }

    private void Report(PipelineProgress p) => progress?.Report(p);

    /// <summary>Reports trial n of N and the best value so far after each trial.</summary>
    private sealed class ProgressCallback(PipelineRunner runner, ConfigurationContext context, int trials) : ITrialCallback
    {
        private int _finished;

        public async ValueTask OnTrialFinishedAsync(Study study, FrozenTrial trial, CancellationToken cancellationToken)
        {
            var best = await study.GetBestTrialAsync(cancellationToken).ConfigureAwait(false);
            runner.Report(Progress(context, Interlocked.Increment(ref _finished), trials, best?.Value));
        }
    }
}
