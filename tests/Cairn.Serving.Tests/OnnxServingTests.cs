using System.Net;
using System.Text.Json;
using Cairn.Models;
using Cairn.Models.Onnx;

namespace Cairn.Serving.Tests;

/// <summary>A real ONNX model (a softmax classifier written with <see cref="OnnxGraphWriter"/>) served in process and by `cairn models serve`.</summary>
public class OnnxServingTests
{
    internal static readonly string[] Classes = ["setosa", "versicolor", "virginica"];

    /// <summary>features [N, 4] → MatMul + Add → Softmax ("probabilities"), ArgMax ("label", an index into the class names).</summary>
    internal static byte[] Graph()
    {
        var random = new Random(3);
        var w = Enumerable.Range(0, 12).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        return new OnnxGraphWriter("softmax")
            .AddInput("features", OnnxElementType.Float, OnnxGraphWriter.Dynamic, 4)
            .AddInitializer("W", w, 4, 3)
            .AddInitializer("B", [0.1f, -0.2f, 0.05f], 3)
            .AddNode("MatMul", ["features", "W"], ["xw"])
            .AddNode("Add", ["xw", "B"], ["logits"])
            .AddNode("Softmax", ["logits"], ["probabilities"], ("axis", 1L))
            .AddNode("ArgMax", ["logits"], ["label"], ("axis", 1L), ("keepdims", 0L))
            .AddOutput("probabilities", OnnxElementType.Float, OnnxGraphWriter.Dynamic, 3)
            .AddOutput("label", OnnxElementType.Int64, OnnxGraphWriter.Dynamic)
            .ToBytes();
    }

    [Fact]
    public async Task An_onnx_classifier_answers_every_shape_with_its_in_process_predictions()
    {
        var dir = Directory.CreateTempSubdirectory("cairn-serving-onnx-").FullName;
        try
        {
            var signature = new ModelSignature(IrisModels.Features.Select(f => new ColumnSpec(f, ColumnTypes.Float)).ToList());
            OnnxFlavor.Save(dir, Graph(), signature, options: new OnnxSaveOptions { ClassNames = Classes });
            var predictor = ModelLoader.Load(dir);
            var expected = predictor.Predict(IrisModels.Rows());
            Assert.Contains(expected, p => p.Scores is { Count: 3 });

            await using var server = ModelServer.Create(predictor, new ModelServerOptions { Port = 0 });
            await server.StartAsync();
            await using var process = await ServeProcess.StartAsync(dir);
            using var http = new HttpClient();
            var values = IrisModels.Values();
            var split = JsonSerializer.Serialize(new { dataframe_split = new { columns = IrisModels.Features, data = values } });
            var records = JsonSerializer.Serialize(new { inputs = values.Select(v => IrisModels.Features.Zip(v).ToDictionary(p => p.First, p => p.Second)) });
            foreach (var url in new[] { server.Url, process.Url })
            {
                foreach (var (body, type) in new[] { (split, "application/json"), (records, "application/json"), (IrisModels.Csv(), "text/csv") })
                {
                    var (status, json) = await Http.PostAsync(http, url + "/invocations", body, type);
                    Assert.True(status == HttpStatusCode.OK, json?.ToJsonString());
                    var predictions = json!["predictions"]!.AsArray();
                    Assert.Equal(expected.Count, predictions.Count);
                    for (var i = 0; i < expected.Count; i++)
                    {
                        Assert.Equal(Convert.ToString(expected[i].Label, System.Globalization.CultureInfo.InvariantCulture), predictions[i]!["PredictedLabel"]!.ToString());
                        Assert.Contains(predictions[i]!["PredictedLabel"]!.ToString(), Classes);
                        Assert.Equal(expected[i].Scores!, predictions[i]!["Score"]!.AsArray().Select(s => (float)s!).ToArray());
                    }
                }

                var (badStatus, bad) = await Http.PostAsync(http, url + "/invocations", """{"inputs": [{"sepal_length_cm": 1, "sepal_width_cm": 2, "petal_length_cm": "x", "petal_width_cm": 4}]}""", "application/json");
                InvocationTests.AssertError(badStatus, bad, HttpStatusCode.BadRequest, "BAD_REQUEST", "column 'petal_length_cm'");
            }

            (predictor as IDisposable)?.Dispose();
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
