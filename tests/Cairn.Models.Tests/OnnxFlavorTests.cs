using System.Globalization;
using System.Text.Json.Nodes;
using Cairn.Client;
using Cairn.Models.Onnx;
using Cairn.Server.Tests;

namespace Cairn.Models.Tests;

public sealed class OnnxFlavorTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cairn-onnx-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    private static readonly ModelSignature IrisSignature = new(
        Iris.Features.Select(f => new ColumnSpec(f, ColumnTypes.Float)).ToList(),
        [new ColumnSpec("label", ColumnTypes.String), new ColumnSpec("probabilities", ColumnTypes.Array, true, ColumnTypes.Float)]);

    private static IReadOnlyDictionary<string, object?> Row(float[] x) =>
        Iris.Features.Zip(x).ToDictionary(p => p.First, p => (object?)p.Second, StringComparer.Ordinal);

    private static InputExample Example(float[][] rows) =>
        new(Iris.Features, rows.Select(r => (IReadOnlyList<JsonNode?>)r.Select(v => (JsonNode?)JsonValue.Create(v)).ToList()).ToList());

    private static void AssertMatches(OnnxMlp mlp, float[][] rows, IReadOnlyList<Prediction> predictions)
    {
        Assert.Equal(rows.Length, predictions.Count);
        for (var i = 0; i < rows.Length; i++)
        {
            var (label, p) = mlp.Reference(rows[i]);
            Assert.Equal(OnnxMlp.ClassNames[label], predictions[i].Label);
            OnnxMlp.AssertClose(p, predictions[i].Scores!);
        }
    }

    [Fact]
    public void Saved_package_loads_through_ModelLoader_and_predicts_as_the_reference()
    {
        var mlp = new OnnxMlp();
        var rows = OnnxMlp.Rows(40);
        var file = OnnxFlavor.Save(_dir, mlp.Graph(), IrisSignature, Example(rows[..3]), new OnnxSaveOptions { ClassNames = OnnxMlp.ClassNames });

        // MLflow's layout: the onnx flavor with its data file and providers, the signature, example and environment.
        Assert.Equal(["MLmodel", "dotnet_env.yaml", "input_example.json", "model.onnx", "serving_input_example.json"],
            Directory.GetFiles(_dir).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        var read = ModelFile.Read(_dir);
        Assert.Equal(file.ToYaml(), read.ToYaml());
        var flavor = read.Flavor(OnnxFlavor.Name);
        Assert.Equal("model.onnx", flavor["data"]);
        Assert.Equal(["CPUExecutionProvider"], (IEnumerable<object?>)flavor["providers"]!);
        Assert.Equal(OnnxMlp.ClassNames, (IEnumerable<object?>)flavor["class_names"]!);
        Assert.Equal("1.31.1", flavor["onnxruntime_version"]);
        Assert.Equal(IrisSignature.Inputs, read.Signature!.Inputs);
        Assert.Equal(IrisSignature.Outputs, read.Signature.Outputs);
        Assert.Contains("Microsoft.ML.OnnxRuntime", ModelEnvironment.Read(Path.Combine(_dir, ModelEnvironment.FileName)).Packages.Keys);

        var predictor = ModelLoader.Load(_dir);
        Assert.IsType<OnnxPredictor>(predictor);
        Assert.Equal(OnnxMlp.ClassNames, predictor.ClassNames);
        AssertMatches(mlp, rows, predictor.Predict(rows.Select(Row)));

        // The saved example scores as it is; text and JSON values convert as in the mlnet flavor.
        Assert.Equal(3, predictor.Predict(InputExample.Read(Path.Combine(_dir, InputExample.FileName)).Rows()).Count);
        var text = Iris.Features.Zip(rows[0]).ToDictionary(p => p.First, p => (object?)p.Second.ToString(CultureInfo.InvariantCulture));
        AssertMatches(mlp, rows[..1], predictor.Predict([text]));

        // One row at a time from many threads: one shared session.
        Parallel.For(0, 400, i =>
        {
            var row = rows[i % rows.Length];
            AssertMatches(mlp, [row], predictor.Predict([Row(row)]));
        });
        ((IDisposable)predictor).Dispose();
    }

    [Fact]
    public void Signature_is_inferred_from_the_graph_when_not_given()
    {
        var mlp = new OnnxMlp();
        var file = OnnxFlavor.Save(_dir, mlp.Graph(stringLabel: true));
        Assert.Equal([new ColumnSpec("features", ColumnTypes.Array, true, ColumnTypes.Float)], file.Signature!.Inputs);
        Assert.Equal(
            [new ColumnSpec("probabilities", ColumnTypes.Array, true, ColumnTypes.Float), new ColumnSpec("label", ColumnTypes.String)],
            file.Signature.Outputs!.OrderByDescending(c => c.Name, StringComparer.Ordinal));

        // One array column feeds the [N, 4] input; the graph's string label is the prediction.
        using var predictor = OnnxFlavor.Load(_dir);
        var rows = OnnxMlp.Rows(10);
        var predictions = predictor.Predict(rows.Select(r => (IReadOnlyDictionary<string, object?>)new Dictionary<string, object?>
        {
            ["features"] = JsonNode.Parse("[" + string.Join(",", r.Select(v => v.ToString(CultureInfo.InvariantCulture))) + "]"),
        }));
        AssertMatches(mlp, rows, predictions);
        Assert.Null(predictor.ClassNames);

        // An integer label read through class names is inferred as a string column.
        var named = OnnxFlavor.Save(Path.Combine(_dir, "named"), mlp.Graph(), options: new OnnxSaveOptions { ClassNames = OnnxMlp.ClassNames });
        Assert.Equal(ColumnTypes.String, named.Signature!.Outputs!.Single(c => c.Name == "label").Type);
    }

    [Fact]
    public void A_graph_with_one_input_per_column_is_fed_by_name_and_its_single_output_is_the_value()
    {
        // y = a + 2 * b + c, with c an int64 column; the output is neither "label" nor "probabilities".
        var onnx = new OnnxGraphWriter("linear")
            .AddInput("a", OnnxElementType.Float, OnnxGraphWriter.Dynamic, 1)
            .AddInput("b", OnnxElementType.Float, OnnxGraphWriter.Dynamic, 1)
            .AddInput("c", OnnxElementType.Int64, OnnxGraphWriter.Dynamic, 1)
            .AddInitializer("two", [2f], 1)
            .AddNode("Mul", ["b", "two"], ["b2"])
            .AddNode("Add", ["a", "b2"], ["ab"])
            .AddNode("Cast", ["c"], ["cf"], ("to", (long)OnnxElementType.Float))
            .AddNode("Add", ["ab", "cf"], ["y"])
            .AddOutput("y", OnnxElementType.Float, OnnxGraphWriter.Dynamic, 1)
            .ToBytes();
        // The signature lists the columns in another order than the graph: they are matched by name.
        var signature = new ModelSignature([new ColumnSpec("c", ColumnTypes.Long), new ColumnSpec("b", ColumnTypes.Float), new ColumnSpec("a", ColumnTypes.Float)]);
        OnnxFlavor.Save(_dir, onnx, signature);

        var predictor = ModelLoader.Load(_dir);
        var p = predictor.Predict(
        [
            new Dictionary<string, object?> { ["a"] = 1.5, ["b"] = 2, ["c"] = 3L },
            new Dictionary<string, object?> { ["a"] = "0", ["b"] = JsonValue.Create(-1.0), ["c"] = "4.0" },
        ]);
        Assert.Equal([1.5f + 4 + 3, 0f - 2 + 4], p.Select(x => (float)x.Label!));
        Assert.Null(p[0].Scores);

        var bad = Assert.Throws<ArgumentException>(() => predictor.Predict([new Dictionary<string, object?> { ["a"] = 1, ["b"] = 1, ["c"] = 2.5 }]));
        Assert.Contains("'c'", bad.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Predict_names_the_missing_or_unconvertible_column()
    {
        var mlp = new OnnxMlp();
        OnnxFlavor.Save(_dir, mlp.Graph(), IrisSignature, options: new OnnxSaveOptions { ClassNames = OnnxMlp.ClassNames });
        var predictor = ModelLoader.Load(_dir);
        var row = Row(OnnxMlp.Rows(1)[0]).ToDictionary();

        row.Remove("petal_width_cm");
        var missing = Assert.Throws<ArgumentException>(() => predictor.Predict([row]));
        Assert.Contains("'petal_width_cm'", missing.Message, StringComparison.Ordinal);

        row["petal_width_cm"] = "wide";
        var bad = Assert.Throws<ArgumentException>(() => predictor.Predict([row]));
        Assert.Contains("column 'petal_width_cm' expects a float, got 'wide'", bad.Message, StringComparison.Ordinal);

        // An array column of the wrong length names the column and the graph input.
        OnnxFlavor.Save(Path.Combine(_dir, "inferred"), mlp.Graph());
        var inferred = ModelLoader.Load(Path.Combine(_dir, "inferred"));
        var shortRow = new Dictionary<string, object?> { ["features"] = new[] { 1f, 2f } };
        var wrongLength = Assert.Throws<ArgumentException>(() => inferred.Predict([shortRow]));
        Assert.Contains("'features' give 2 values, but the model's input 'features' takes 4", wrongLength.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Save_rejects_bytes_signatures_and_examples_that_do_not_fit_the_graph()
    {
        var mlp = new OnnxMlp();
        var notOnnx = Assert.Throws<ArgumentException>(() => OnnxFlavor.Save(_dir, "not a model"u8.ToArray()));
        Assert.Contains("not an ONNX model", notOnnx.Message, StringComparison.Ordinal);

        var three = new ModelSignature(Iris.Features[..3].Select(f => new ColumnSpec(f, ColumnTypes.Float)).ToList());
        var narrow = Assert.Throws<ArgumentException>(() => OnnxFlavor.Save(_dir, mlp.Graph(), three));
        Assert.Contains("takes 4 values per row, but the signature gives it 3 column(s)", narrow.Message, StringComparison.Ordinal);

        var example = new InputExample(["sepal_length_cm"], [[JsonValue.Create(1.0)]]);
        var badExample = Assert.Throws<ArgumentException>(() => OnnxFlavor.Save(_dir, mlp.Graph(), IrisSignature, example));
        Assert.Contains("'sepal_width_cm'", badExample.Message, StringComparison.Ordinal);

        Assert.False(File.Exists(Path.Combine(_dir, ModelFile.FileName)), "nothing is written when the model is rejected");
    }

    [Fact]
    public void A_corrupt_model_file_fails_to_load_with_a_clear_message()
    {
        OnnxFlavor.Save(_dir, new OnnxMlp().Graph(), IrisSignature);
        File.WriteAllBytes(Path.Combine(_dir, OnnxFlavor.ModelFileName), [0x08, 0x07, 0xff, 0xff, 0x12, 0x40, 1, 2, 3]);
        var corrupt = Assert.Throws<InvalidModelPackageException>(() => ModelLoader.Load(_dir));
        Assert.Contains("model.onnx' is not an ONNX model OnnxRuntime 1.31.1 can load", corrupt.Message, StringComparison.Ordinal);

        File.Delete(Path.Combine(_dir, OnnxFlavor.ModelFileName));
        var missing = Assert.Throws<InvalidModelPackageException>(() => ModelLoader.Load(_dir));
        Assert.Contains("names 'model.onnx', but the package", missing.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LogOnnxModelAsync_uploads_records_and_registers_a_package_that_loads_by_models_uri()
    {
        await using var server = await CairnProcess.StartAsync();
        await using var client = await TrackingClient.ConnectAsync(server.BaseUrl);
        var mlp = new OnnxMlp();
        LoggedModel logged;
        await using (var run = await client.StartRunAsync(new RunOptions { ExperimentName = "onnx", LogLineage = false }))
        {
            logged = await run.LogOnnxModelAsync(mlp.Graph(), "model", IrisSignature, Example(OnnxMlp.Rows(2)), registeredModelName: "mlp",
                options: new OnnxSaveOptions { ClassNames = OnnxMlp.ClassNames });
            Assert.Equal(run.RunId, logged.Model.RunId);
        }

        Assert.Equal("1", logged.RegisteredVersion!.Version);
        var files = (await client.ListArtifactsAsync(logged.Model.RunId!, "model")).Select(f => f.Path).ToList();
        Assert.Equal(["model/MLmodel", "model/dotnet_env.yaml", "model/input_example.json", "model/model.onnx", "model/serving_input_example.json"], files);
        var history = (await client.Store.GetRunAsync(logged.Model.RunId!)).Tags.Single(t => t.Key == "mlflow.log-model.history").Value;
        Assert.Contains("\"onnx\"", history, StringComparison.Ordinal);

        await using var resolver = new ModelUriResolver(client);
        var predictor = await ModelLoader.LoadAsync("models:/mlp/1", resolver);
        var rows = OnnxMlp.Rows(25);
        AssertMatches(mlp, rows, predictor.Predict(rows.Select(Row)));
        ((IDisposable)predictor).Dispose();
        Directory.Delete(predictor.LocalPath, true);
    }
}
