using System.Globalization;
using Cairn.Client;
using Cairn.Client.MLNet;
using Cairn.Storage;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers;

// Local stores are opt-in for the SDK; a host that wants the embedded default registers them.
TrackingStores.Register(LocalTrackingStores.Schemes, LocalTrackingStores.OpenAsync);

var config = TrackingConfig.Load(Path.Combine(AppContext.BaseDirectory, "cairn.yaml"));
if (args.Length > 0)
{
    Tracking.SetTrackingUri(args[0]);
}

Tracking.SetExperiment(config.Experiment ?? "iris");
Console.WriteLine($"Tracking to {Tracking.GetTrackingUri()}");

double P(string key) => double.Parse(config.Parameters[key], CultureInfo.InvariantCulture);
var csv = Path.Combine(AppContext.BaseDirectory, "iris.csv");
var ml = new MLContext(seed: (int)P("seed"));
using var autolog = MLNetAutolog.Enable(ml);

var data = ml.Data.LoadFromTextFile<Iris>(csv, hasHeader: true, separatorChar: ',');
var split = ml.Data.TrainTestSplit(data, testFraction: P("test_fraction"), seed: (int)P("seed"));
var shuffledTrain = ml.Data.ShuffleRows(split.TrainSet, seed: (int)P("seed")); // iris.csv is sorted by species
var features = ml.Transforms.Conversion.MapValueToKey("Label")
    .Append(ml.Transforms.Concatenate("Features", nameof(Iris.SepalLength), nameof(Iris.SepalWidth), nameof(Iris.PetalLength), nameof(Iris.PetalWidth)))
    .Append(ml.Transforms.NormalizeMinMax("Features"));

await using var parent = await Tracking.StartRunAsync(new RunOptions { RunName = "iris-comparison", LogSystemMetrics = true, SystemMetricsInterval = TimeSpan.FromSeconds(1) });
parent.LogParams(config.Parameters);
await parent.LogInputAsync(Datasets.FromCsv(csv, "iris"), "training");
await parent.LogDictAsync(config.Parameters, "config/parameters.yaml");

var trainers = new Dictionary<string, IEstimator<ITransformer>>
{
    ["lbfgs"] = ml.MulticlassClassification.Trainers.LbfgsMaximumEntropy(new LbfgsMaximumEntropyMulticlassTrainer.Options { L2Regularization = (float)P("lbfgs.l2"), MaximumNumberOfIterations = (int)P("lbfgs.max_iterations") }),
    ["sdca"] = ml.MulticlassClassification.Trainers.SdcaMaximumEntropy(new SdcaMaximumEntropyMulticlassTrainer.Options { MaximumNumberOfIterations = (int)P("sdca.max_iterations") }),
};

var accuracy = new Dictionary<string, double>();
foreach (var (name, trainer) in trainers)
{
    // A nested run per trainer. Autolog logs the plain ML.NET calls: the first Fit logs the pipeline's
    // estimators and options as params, its duration and the model under model/; each Evaluate logs its
    // metrics (eval_macro_accuracy..., then eval_1_..., eval_2_... for the learning curve's evaluations).
    await using var run = await Tracking.StartRunAsync(name);
    var pipeline = features.Append(trainer);
    var model = pipeline.Fit(split.TrainSet);
    var metrics = ml.MulticlassClassification.Evaluate(model.Transform(split.TestSet));
    await run.LogTextAsync(metrics.ConfusionMatrix.GetFormattedConfusionTable(), "evaluation/confusion_matrix.txt");

    // A learning curve: later fits add their duration (fit_duration_seconds, step = fit number) and model (model_{n}/).
    var fractions = new[] { 0.2, 0.4, 0.6, 0.8, 1.0 };
    var curve = new List<double>();
    for (var step = 0; step < fractions.Length; step++)
    {
        var subset = ml.Data.TakeRows(shuffledTrain, (long)(105 * fractions[step]));
        var m = ml.MulticlassClassification.Evaluate(pipeline.Fit(subset).Transform(split.TestSet));
        run.LogMetric("learning_curve/macro_accuracy", m.MacroAccuracy, step);
        curve.Add(m.MacroAccuracy);
    }

    var plot = new ScottPlot.Plot();
    plot.Add.Scatter(fractions.Select(f => f * 100).ToArray(), curve.ToArray());
    plot.Title($"{name}: test macro accuracy by training-set size");
    plot.XLabel("% of training set");
    plot.YLabel("macro accuracy");
    await run.LogFigureAsync(plot, "plots/learning_curve.png", 640, 400);

    accuracy[name] = metrics.MacroAccuracy;
    Console.WriteLine($"{name}: macro accuracy {metrics.MacroAccuracy:F3} (run {run.RunId})");
}

var best = accuracy.MaxBy(p => p.Value);
parent.SetTag("best_trainer", best.Key);
parent.LogMetric("best_macro_accuracy", best.Value);
Console.WriteLine($"Best: {best.Key}. Parent run {parent.RunId} in experiment {parent.ExperimentId}.");

/// <summary>One row of iris.csv.</summary>
internal sealed class Iris
{
    [LoadColumn(0)]
    public float SepalLength { get; set; }

    [LoadColumn(1)]
    public float SepalWidth { get; set; }

    [LoadColumn(2)]
    public float PetalLength { get; set; }

    [LoadColumn(3)]
    public float PetalWidth { get; set; }

    [LoadColumn(4)]
    public string Label { get; set; } = "";
}
