using Cairn.Client.MLNet;
using Cairn.Server.Tests;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Cairn.Client.Tests;

/// <summary>ML.NET autolog on the Iris sample's data, against a real server.</summary>
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

    [Fact]
    public async Task Fits_inside_a_run_log_trainers_options_durations_metrics_and_the_model()
    {
        var ml = new MLContext(seed: 1);
        using var autolog = MLNetAutolog.Enable(ml);
        var data = ml.Data.LoadFromTextFile<Iris>(Path.Combine(CairnProcess.RepoRoot, "samples", "IrisTracking", "iris.csv"), hasHeader: true, separatorChar: ',');
        var split = ml.Data.TrainTestSplit(data, 0.3, seed: 1);
        var pipeline = ml.Transforms.Conversion.MapValueToKey("Label")
            .Append(ml.Transforms.Concatenate("Features", "SepalLength", "SepalWidth", "PetalLength", "PetalWidth"))
            .Append(ml.MulticlassClassification.Trainers.LbfgsMaximumEntropy(l2Regularization: 0.05f));

        await using var client = await TrackingClient.ConnectAsync(fixture.Url);
        string runId;
        MulticlassClassificationMetrics metrics;
        await using (var run = await client.StartRunAsync(new RunOptions { ExperimentName = "autolog", LogLineage = false }))
        {
            runId = run.RunId;
            _ = pipeline.Fit(split.TrainSet); // plain ML.NET call: seen through the context's log
            var model = run.Fit(pipeline, split.TrainSet, ml);
            metrics = ml.MulticlassClassification.Evaluate(model.Transform(split.TestSet));
            run.LogMetrics(metrics, "test_");
        }

        var got = await client.Store.GetRunAsync(runId);
        var p = got.Params.ToDictionary(x => x.Key, x => x.Value);
        Assert.Equal("Term", p["mlnet.fit.0"]);
        Assert.Equal("LbfgsTrainerBase", p["mlnet.fit.1"]);
        Assert.Equal("LbfgsMaximumEntropyMulticlassTrainer", p["mlnet.estimator.2"]);
        Assert.Equal("0.05", p["LbfgsMaximumEntropyMulticlassTrainer.L2Regularization"]);
        var m = got.Metrics.ToDictionary(x => x.Key, x => x.Value);
        Assert.Equal(metrics.MacroAccuracy, m["test_macro_accuracy"]);
        Assert.Equal(metrics.LogLoss, m["test_log_loss"]);
        Assert.Equal(metrics.PerClassLogLoss[2], m["test_per_class_log_loss_2"]);
        Assert.True(m["fit_duration_seconds"] > 0);
        Assert.True(m.ContainsKey("mlnet/LbfgsTrainerBase/fit_seconds"));
        var files = (await client.ListArtifactsAsync(runId)).Select(f => f.Path).ToList();
        Assert.Contains("model/MLmodel", files);
        Assert.Contains("model/model.zip", files);
        Assert.Contains("model/input_example.json", files);
        var mlmodel = System.Text.Encoding.UTF8.GetString((await client.ReadArtifactAsync(runId, "model/MLmodel"))!);
        Assert.Contains("mlnet:", mlmodel);
        Assert.Contains("signature:", mlmodel);
        Assert.Contains("PetalLength", mlmodel);

        var zip = (await client.ReadArtifactAsync(runId, "model/model.zip"))!;
        var loaded = ml.Model.Load(new MemoryStream(zip), out _);
        var again = ml.MulticlassClassification.Evaluate(loaded.Transform(split.TestSet));
        Assert.Equal(metrics.MacroAccuracy, again.MacroAccuracy);
    }
}
