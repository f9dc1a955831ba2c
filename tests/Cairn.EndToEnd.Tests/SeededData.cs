using Cairn.Server.Tests;
namespace Cairn.EndToEnd.Tests;

/// <summary>
/// What the UI tests look for, logged through the REST API as any MLflow client would: an
/// experiment with a baseline run, a tuning parent with three child trials, a run with a long
/// history, artifacts of every previewable kind (text, JSON, CSV, image, YAML, an MLmodel), and an
/// experiment with no runs.
/// </summary>
public sealed record SeededData(
    string VisionExperimentId,
    string EmptyExperimentId,
    string BaselineRunId,
    string TuningRunId,
    IReadOnlyList<string> TrialRunIds,
    string LongHistoryRunId)
{
    public const string VisionName = "e2e-vision";
    public const string EmptyName = "e2e-empty";
    public const int LongHistoryPoints = 10_000;
    public static readonly double[] LossHistory = [1.0, 0.7, 0.5, 0.42, 0.4];

    /// <summary>A YAML config with a comment, nesting, a flow list, a quoted string and literals.</summary>
    public const string ConfigYaml = """
        # Training configuration
        model:
          name: tree
          depth: 5
          features: [a, b]
        optimizer: "adam"
        learning_rate: 0.01
        early_stopping: true

        """;

    /// <summary>The model UUID in <see cref="MlModel"/>.</summary>
    public const string ModelUuid = "3f1c2a9be0d84c5e9a7b6c5d4e3f2a1b";

    /// <summary>
    /// An MLmodel file as MLflow writes one for a scikit-learn model: two flavors, a column-based input
    /// signature (one optional column), a tensor output, and an input example.
    /// </summary>
    public static string MlModel(string runId) => $$$"""
        artifact_path: model
        flavors:
          python_function:
            env:
              conda: conda.yaml
              virtualenv: python_env.yaml
            loader_module: mlflow.sklearn
            model_path: model.pkl
            predict_fn: predict
            python_version: 3.11.9
          sklearn:
            code: null
            pickled_model: model.pkl
            serialization_format: cloudpickle
            sklearn_version: 1.5.1
        mlflow_version: 2.16.2
        model_size_bytes: 2048
        model_uuid: {{{ModelUuid}}}
        run_id: {{{runId}}}
        saved_input_example_info:
          artifact_path: input_example.json
          pandas_orient: split
          type: dataframe
        signature:
          inputs: '[{"type": "double", "name": "sepal_length", "required": true}, {"type": "string",
            "name": "species", "required": false}]'
          outputs: '[{"type": "tensor", "tensor-spec": {"dtype": "int64", "shape": [-1]}}]'
          params: null
        utc_time_created: '2026-11-26 10:00:00.000000'

        """;

    /// <summary>A 2x2 PNG (red, green / blue, white).</summary>
    public static readonly byte[] Png = Convert.FromBase64String(
        "iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAEklEQVR4nGP4z8DAAMIM/4EAAB/uBfsL2WiLAAAAAElFTkSuQmCC");

    public static async Task<SeededData> SeedAsync(CairnProcess server)
    {
        var t0 = DateTimeOffset.UtcNow.AddHours(-2).ToUnixTimeMilliseconds();
        var vision = await server.CreateExperimentAsync(VisionName);
        var empty = await server.CreateExperimentAsync(EmptyName);

        var baseline = await server.CreateRunAsync(vision, "baseline", t0);
        await server.LogBatchAsync(baseline,
            metrics: [.. LossHistory.Select((v, i) => (object)new { key = "loss", value = v, timestamp = t0 + (i * 1000), step = i }),
                new { key = "accuracy", value = 0.81, timestamp = t0 + 5000, step = 4 }],
            @params: [new { key = "model", value = "tree" }, new { key = "depth", value = "5" }],
            tags: [new { key = "team", value = "vision" }, new { key = "mlflow.source.name", value = "/home/alice/train.py" }]);
        await server.UploadArtifactAsync(baseline, "notes.txt", "Baseline notes: trained on the full set.\n"u8.ToArray());
        await server.UploadArtifactAsync(baseline, "config.json", """{"model":"tree","depth":5,"features":["a","b"]}"""u8.ToArray());
        await server.UploadArtifactAsync(baseline, "data.csv", "feature,importance\nsepal_length,0.42\n\"petal, width\",0.58\n"u8.ToArray());
        await server.UploadArtifactAsync(baseline, "plots/curve.png", Png);
        await server.UploadArtifactAsync(baseline, "config.yaml", System.Text.Encoding.UTF8.GetBytes(ConfigYaml));
        await server.UploadArtifactAsync(baseline, "model/MLmodel", System.Text.Encoding.UTF8.GetBytes(MlModel(baseline)));
        await server.FinishAsync(baseline, t0 + 65_000);

        var tuning = await server.CreateRunAsync(vision, "tuning", t0 + 1000);
        await server.LogBatchAsync(tuning,
            metrics: [new { key = "accuracy", value = 0.88, timestamp = t0 + 9000, step = 0 }],
            @params: [new { key = "model", value = "mlp" }]);
        var trials = new List<string>();
        double[] accuracies = [0.85, 0.91, 0.87];
        string[] rates = ["0.1", "0.01", "0.001"];
        for (var i = 0; i < 3; i++)
        {
            var trial = await server.CreateRunAsync(vision, $"trial-{i + 1}", t0 + 2000 + (i * 1000), parentRunId: tuning);
            await server.LogBatchAsync(trial,
                metrics: [new { key = "accuracy", value = accuracies[i], timestamp = t0 + 9000, step = 0 }],
                @params: [new { key = "model", value = "mlp" }, new { key = "lr", value = rates[i] }]);
            await server.FinishAsync(trial, t0 + 8000 + (i * 1000));
            trials.Add(trial);
        }

        await server.FinishAsync(tuning, t0 + 12_000);

        // A long, noisy history with one spike that downsampling must keep.
        var longRun = await server.CreateRunAsync(vision, "long-history", t0 + 20_000);
        for (var start = 0; start < LongHistoryPoints; start += 1000)
        {
            var batch = Enumerable.Range(start, 1000).Select(step => (object)new
            {
                key = "noisy",
                value = step == 7777 ? 100.0 : Math.Sin(step / 50.0) + ((step % 7) / 10.0),
                timestamp = t0 + 20_000 + step,
                step,
            }).ToArray();
            await server.LogBatchAsync(longRun, metrics: batch);
        }

        return new SeededData(vision, empty, baseline, tuning, trials, longRun);
    }
}
