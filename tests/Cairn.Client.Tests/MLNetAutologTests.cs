using Cairn.Client.MLNet;
using Cairn.Server.Tests;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Cairn.Client.Tests;

/// <summary>
/// ML.NET autolog against a real server: this project references the interceptor generator as the
/// package's analyzer, so the plain ML.NET calls below are the ones autolog sees.
/// </summary>
public sealed class MLNetAutologTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private sealed class Iris
    {
        [LoadColumn(0)] public float SepalLength { get; set; }

        [LoadColumn(1)] public float SepalWidth { get; set; }

        [LoadColumn(2)] public float PetalLength { get; set; }

        [LoadColumn(3)] public float PetalWidth { get; set; }

        [LoadColumn(4)] public string Label { get; set; } = "";
    }

    private sealed class Point
    {
        public float X { get; set; }

        public float Y { get; set; }

        public bool Positive { get; set; }

        public float Target { get; set; }
    }

    /// <summary>Settings autolog finds (a field whose type is named *Options); the note is too long for an MLflow param.</summary>
    private sealed class NoteOptions
    {
        public string Note = new('x', 10_000);
    }

    /// <summary>
    /// A user-written estimator whose Fit makes a fit of its own (intercepted too, as it is in this
    /// project). Not private: the generated interceptors must be able to name it.
    /// </summary>
    internal sealed class Wrapping(IEstimator<ITransformer> inner) : IEstimator<ITransformer>
    {
        private readonly NoteOptions _options = new();

        public int NoteLength => _options.Note.Length;

        public ITransformer Fit(IDataView input) => inner.Fit(input);

        public SchemaShape GetOutputSchema(SchemaShape inputSchema) => inner.GetOutputSchema(inputSchema);
    }

    private static IDataView LoadIris(MLContext ml) =>
        ml.Data.LoadFromTextFile<Iris>(Path.Combine(CairnProcess.RepoRoot, "samples", "IrisTracking", "iris.csv"), hasHeader: true, separatorChar: ',');

    private static IEstimator<ITransformer> IrisPipeline(MLContext ml) =>
        ml.Transforms.Conversion.MapValueToKey("Label")
            .Append(ml.Transforms.Concatenate("Features", "SepalLength", "SepalWidth", "PetalLength", "PetalWidth"))
            .Append(ml.MulticlassClassification.Trainers.LbfgsMaximumEntropy(l2Regularization: 0.05f));

    private static IDataView Points(MLContext ml)
    {
        var random = new Random(3);
        var rows = Enumerable.Range(0, 200).Select(_ =>
        {
            var x = (float)random.NextDouble();
            var y = (float)random.NextDouble();
            return new Point { X = x, Y = y, Positive = x + y > 1, Target = (3 * x) - y + (0.1f * (float)random.NextDouble()) };
        }).ToList();
        return ml.Data.LoadFromEnumerable(rows);
    }

    private static RunOptions In(string experiment) => new() { ExperimentName = experiment, LogLineage = false };

    private static async Task<List<double>> HistoryAsync(TrackingClient client, string runId, string key) =>
        await client.Store.GetMetricHistoryAsync(runId, key, long.MinValue, int.MaxValue).Select(p => p.Metric.Value).ToListAsync();

    [Fact]
    public async Task Plain_fit_and_evaluate_inside_a_run_log_params_duration_metrics_and_the_model_once()
    {
        var ml = new MLContext(seed: 1);
        using var autolog = MLNetAutolog.Enable(ml);
        var split = ml.Data.TrainTestSplit(LoadIris(ml), 0.3, seed: 1);
        var pipeline = IrisPipeline(ml);

        await using var client = await TrackingClient.ConnectAsync(fixture.Url);
        var run = await client.StartRunAsync(In("autolog"));
        var runId = run.RunId;
        MulticlassClassificationMetrics metrics;
        await using (run)
        {
            var model = pipeline.Fit(split.TrainSet);
            metrics = ml.MulticlassClassification.Evaluate(model.Transform(split.TestSet));
        }

        var got = await client.Store.GetRunAsync(runId);
        Assert.Equal(Core.RunStatus.Finished, got.Info.Status);
        var p = got.Params.ToDictionary(x => x.Key, x => x.Value);
        Assert.Equal("ValueToKeyMappingEstimator", p["mlnet.estimator.0"]);
        Assert.Equal("ColumnConcatenatingEstimator", p["mlnet.estimator.1"]);
        Assert.Equal("LbfgsMaximumEntropyMulticlassTrainer", p["mlnet.estimator.2"]);
        Assert.Equal("0.05", p["LbfgsMaximumEntropyMulticlassTrainer.L2Regularization"]);
        Assert.Equal("Term", p["mlnet.fit.0"]); // ML.NET's log stream, as before

        Assert.True(Assert.Single(await HistoryAsync(client, runId, "fit_duration_seconds")) > 0);
        Assert.Equal(metrics.MacroAccuracy, Assert.Single(await HistoryAsync(client, runId, "eval_macro_accuracy")));
        var m = got.Metrics.ToDictionary(x => x.Key, x => x.Value);
        Assert.Equal(metrics.LogLoss, m["eval_log_loss"]);
        Assert.Equal(metrics.PerClassLogLoss[2], m["eval_per_class_log_loss_2"]);
        Assert.DoesNotContain(m.Keys, k => k.StartsWith("eval_1_", StringComparison.Ordinal));

        var files = (await client.ListArtifactsAsync(runId)).Select(f => f.Path).ToList();
        Assert.Contains("model/MLmodel", files);
        Assert.Contains("model/model.zip", files);
        Assert.DoesNotContain(files, f => f.StartsWith("model_", StringComparison.Ordinal));
        var mlmodel = System.Text.Encoding.UTF8.GetString((await client.ReadArtifactAsync(runId, "model/MLmodel"))!);
        Assert.Contains("mlnet:", mlmodel);
        Assert.Contains("PetalLength", mlmodel);
        var loaded = ml.Model.Load(new MemoryStream((await client.ReadArtifactAsync(runId, "model/model.zip"))!), out _);
        Assert.Equal(metrics.MacroAccuracy, ml.MulticlassClassification.Evaluate(loaded.Transform(split.TestSet)).MacroAccuracy);
    }

    [Fact]
    public async Task Each_fit_and_evaluation_of_a_run_is_numbered()
    {
        var ml = new MLContext(seed: 1);
        using var autolog = MLNetAutolog.Enable(ml);
        var data = Points(ml);
        var features = ml.Transforms.Concatenate("Features", nameof(Point.X), nameof(Point.Y));

        await using var client = await TrackingClient.ConnectAsync(fixture.Url);
        var run = await client.StartRunAsync(In("autolog-numbered"));
        var runId = run.RunId;
        CalibratedBinaryClassificationMetrics binary;
        RegressionMetrics regression;
        BinaryClassificationMetrics perceptron;
        await using (run)
        {
            var logistic = features.Append(ml.BinaryClassification.Trainers.LbfgsLogisticRegression(labelColumnName: nameof(Point.Positive), l2Regularization: 0.5f)).Fit(data);
            binary = ml.BinaryClassification.Evaluate(logistic.Transform(data), labelColumnName: nameof(Point.Positive));

            IEstimator<ITransformer> sdca = features.Append(ml.Regression.Trainers.Sdca(labelColumnName: nameof(Point.Target)));
            regression = ml.Regression.Evaluate(sdca.Fit(data).Transform(data), labelColumnName: nameof(Point.Target)); // through the interface

            var averaged = features.Append(ml.BinaryClassification.Trainers.AveragedPerceptron(labelColumnName: nameof(Point.Positive))).Fit(data);
            perceptron = ml.BinaryClassification.EvaluateNonCalibrated(averaged.Transform(data), labelColumnName: nameof(Point.Positive));
        }

        var got = await client.Store.GetRunAsync(runId);
        var p = got.Params.ToDictionary(x => x.Key, x => x.Value);
        Assert.Equal("LbfgsLogisticRegressionBinaryTrainer", p["mlnet.estimator.1"]); // params: the run's first fit
        Assert.Equal("0.5", p["LbfgsLogisticRegressionBinaryTrainer.L2Regularization"]);
        Assert.Equal(3, (await HistoryAsync(client, runId, "fit_duration_seconds")).Count);

        var m = got.Metrics.ToDictionary(x => x.Key, x => x.Value);
        Assert.Equal(binary.AreaUnderRocCurve, m["eval_area_under_roc_curve"]);
        Assert.Equal(binary.LogLoss, m["eval_log_loss"]);
        Assert.Equal(regression.RSquared, m["eval_1_r_squared"]);
        Assert.Equal(regression.MeanAbsoluteError, m["eval_1_mean_absolute_error"]);
        Assert.Equal(perceptron.Accuracy, m["eval_2_accuracy"]);
        Assert.Single(await HistoryAsync(client, runId, "eval_accuracy"));

        var files = (await client.ListArtifactsAsync(runId)).Select(f => f.Path).ToList();
        Assert.Contains("model/model.zip", files);
        Assert.Contains("model_1/model.zip", files);
        Assert.Contains("model_2/MLmodel", files);
    }

    [Fact]
    public async Task Explicit_run_fit_and_log_metrics_are_not_logged_twice()
    {
        var ml = new MLContext(seed: 1);
        using var autolog = MLNetAutolog.Enable(ml);
        var split = ml.Data.TrainTestSplit(LoadIris(ml), 0.3, seed: 1);

        await using var client = await TrackingClient.ConnectAsync(fixture.Url);
        var run = await client.StartRunAsync(In("autolog-explicit"));
        var runId = run.RunId;
        MulticlassClassificationMetrics metrics;
        await using (run)
        {
            var model = run.Fit(IrisPipeline(ml), split.TrainSet, ml);
            metrics = ml.MulticlassClassification.Evaluate(model.Transform(split.TestSet));
            run.LogMetrics(metrics, "test_");
        }

        var got = await client.Store.GetRunAsync(runId);
        Assert.Equal("LbfgsMaximumEntropyMulticlassTrainer", got.Params.Single(x => x.Key == "mlnet.estimator.2").Value);
        Assert.Single(await HistoryAsync(client, runId, "fit_duration_seconds"));
        var m = got.Metrics.ToDictionary(x => x.Key, x => x.Value);
        Assert.Equal(metrics.MacroAccuracy, m["test_macro_accuracy"]);
        Assert.DoesNotContain(m.Keys, k => k.StartsWith("eval_", StringComparison.Ordinal));
        Assert.Contains("model/model.zip", (await client.ListArtifactsAsync(runId)).Select(f => f.Path));
    }

    [Fact]
    public async Task Nothing_is_logged_without_autolog_or_without_a_run()
    {
        var ml = new MLContext(seed: 1);
        var split = ml.Data.TrainTestSplit(LoadIris(ml), 0.3, seed: 1);
        var pipeline = IrisPipeline(ml);

        // Enabled, but no run: the calls just work.
        using (MLNetAutolog.Enable(ml))
        {
            Assert.Null(Tracking.ActiveRun);
            var model = pipeline.Fit(split.TrainSet);
            Assert.True(ml.MulticlassClassification.Evaluate(model.Transform(split.TestSet)).MacroAccuracy > 0.8);
        }

        // A run, but autolog was disposed (or never enabled).
        await using var client = await TrackingClient.ConnectAsync(fixture.Url);
        var run = await client.StartRunAsync(In("autolog-off"));
        var runId = run.RunId;
        await using (run)
        {
            var model = pipeline.Fit(split.TrainSet);
            Assert.True(ml.MulticlassClassification.Evaluate(model.Transform(split.TestSet)).MacroAccuracy > 0.8);
        }

        var got = await client.Store.GetRunAsync(runId);
        Assert.Empty(got.Params);
        Assert.Empty(got.Metrics);
        Assert.Empty(await client.ListArtifactsAsync(runId));
    }

    [Fact]
    public async Task A_failing_fit_throws_what_ml_net_throws()
    {
        var ml = new MLContext(seed: 1);
        using var autolog = MLNetAutolog.Enable(ml);
        var data = LoadIris(ml);
        var broken = ml.Transforms.Conversion.MapValueToKey("Key", "NoSuchColumn");
        Func<IDataView, ITransformer> direct = broken.Fit; // a method group, not a call: not intercepted
        var expected = Assert.ThrowsAny<Exception>(() => direct(data));

        await using var client = await TrackingClient.ConnectAsync(fixture.Url);
        var run = await client.StartRunAsync(In("autolog-failing"));
        var runId = run.RunId;
        await using (run)
        {
            var thrown = Assert.ThrowsAny<Exception>(() => broken.Fit(data));
            Assert.Equal(expected.GetType(), thrown.GetType());
            Assert.Equal(expected.Message, thrown.Message);
            Assert.Contains(thrown.StackTrace!.Split('\n'), line => line.Contains("MLNetAutologHooks.Fit", StringComparison.Ordinal));
        }

        var got = await client.Store.GetRunAsync(runId);
        Assert.Equal("ValueToKeyMappingEstimator", got.Params.Single(x => x.Key == "mlnet.estimator.0").Value);
        Assert.DoesNotContain(got.Metrics, x => x.Key == "fit_duration_seconds");
    }

    [Fact]
    public async Task A_logging_failure_does_not_break_the_fit_and_nested_fits_are_logged_once()
    {
        var ml = new MLContext(seed: 1);
        using var autolog = MLNetAutolog.Enable(ml);
        var split = ml.Data.TrainTestSplit(LoadIris(ml), 0.3, seed: 1);
        var wrapping = new Wrapping(IrisPipeline(ml));
        Assert.Equal(10_000, wrapping.NoteLength);

        await using var client = await TrackingClient.ConnectAsync(fixture.Url);
        var run = await client.StartRunAsync(In("autolog-resilient"));
        var runId = run.RunId;
        await using (run)
        {
            var model = wrapping.Fit(split.TrainSet); // logging its params throws: the note is over MLflow's limit
            Assert.True(ml.MulticlassClassification.Evaluate(model.Transform(split.TestSet)).MacroAccuracy > 0.8);
        }

        var got = await client.Store.GetRunAsync(runId);
        Assert.Equal(Core.RunStatus.Finished, got.Info.Status);
        Assert.Equal("Wrapping", got.Params.Single(x => x.Key == "mlnet.estimator.0").Value); // the outer fit is the logged one
        Assert.DoesNotContain(got.Params, x => x.Key == "Wrapping.Note");
        Assert.Single(await HistoryAsync(client, runId, "fit_duration_seconds")); // the inner fit is not logged again
        Assert.Contains("model/model.zip", (await client.ListArtifactsAsync(runId)).Select(f => f.Path));
    }
}
