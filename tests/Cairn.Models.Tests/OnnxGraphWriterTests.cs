using Cairn.Models.Onnx;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Cairn.Models.Tests;

public class OnnxGraphWriterTests
{
    [Fact]
    public void Written_mlp_runs_in_OnnxRuntime_and_matches_the_reference_computation()
    {
        var mlp = new OnnxMlp();
        using var session = new InferenceSession(mlp.Graph());

        // The declared types and the symbolic batch dimension survive the encoding.
        var input = session.InputMetadata["features"];
        Assert.Equal(TensorElementType.Float, input.ElementDataType);
        Assert.Equal([-1, OnnxMlp.Inputs], input.Dimensions);
        Assert.Equal("N", input.SymbolicDimensions[0]);
        Assert.Equal(TensorElementType.Int64, session.OutputMetadata["label"].ElementDataType);
        Assert.Equal([-1, OnnxMlp.Classes], session.OutputMetadata["probabilities"].Dimensions);

        var rows = OnnxMlp.Rows(50);
        using var x = OrtValue.CreateTensorValueFromMemory(rows.SelectMany(r => r).ToArray(), [rows.Length, OnnxMlp.Inputs]);
        using var runOptions = new RunOptions();
        using var results = session.Run(runOptions, ["features"], [x], ["label", "probabilities"]);
        var labels = results[0].GetTensorDataAsSpan<long>().ToArray();
        var probabilities = results[1].GetTensorDataAsSpan<float>().ToArray();
        Assert.Equal([rows.Length], results[0].GetTensorTypeAndShape().Shape);
        Assert.Equal([rows.Length, OnnxMlp.Classes], results[1].GetTensorTypeAndShape().Shape);

        var distinct = new HashSet<int>();
        for (var i = 0; i < rows.Length; i++)
        {
            var (label, p) = mlp.Reference(rows[i]);
            Assert.Equal(label, labels[i]);
            OnnxMlp.AssertClose(p, probabilities.AsSpan(i * OnnxMlp.Classes, OnnxMlp.Classes).ToArray());
            distinct.Add(label);
        }

        Assert.True(distinct.Count > 1, "the test network should not predict one class for every row");
    }

    [Fact]
    public void String_initializer_and_Gather_give_class_name_labels()
    {
        var mlp = new OnnxMlp();
        using var session = new InferenceSession(mlp.Graph(stringLabel: true));
        Assert.Equal(TensorElementType.String, session.OutputMetadata["label"].ElementDataType);

        var rows = OnnxMlp.Rows(20);
        using var x = OrtValue.CreateTensorValueFromMemory(rows.SelectMany(r => r).ToArray(), [rows.Length, OnnxMlp.Inputs]);
        using var runOptions = new RunOptions();
        using var results = session.Run(runOptions, ["features"], [x], ["label"]);
        for (var i = 0; i < rows.Length; i++)
        {
            Assert.Equal(OnnxMlp.ClassNames[mlp.Reference(rows[i]).Label], results[0].GetStringElement(i));
        }
    }

    [Fact]
    public void ML_domain_LinearClassifier_with_float_and_string_list_attributes_runs()
    {
        // Two features, two classes: score_c = x · coef_c + intercept_c, softmax, label = class name of the max.
        float[] coefficients = [1f, -2f, -1f, 2f];
        float[] intercepts = [0.5f, -0.5f];
        var onnx = new OnnxGraphWriter("linear")
            .AddInput("x", OnnxElementType.Float, OnnxGraphWriter.Dynamic, 2)
            .AddNodeInDomain(OnnxGraphWriter.MLDomain, "LinearClassifier", ["x"], ["label", "scores"],
                ("coefficients", coefficients), ("intercepts", intercepts), ("classlabels_strings", new[] { "no", "yes" }),
                ("multi_class", 0L), ("post_transform", "SOFTMAX"))
            .AddOutput("label", OnnxElementType.String, OnnxGraphWriter.Dynamic)
            .AddOutput("scores", OnnxElementType.Float, OnnxGraphWriter.Dynamic, 2)
            .AddMetadata("classes", "no,yes")
            .ToBytes();
        using var session = new InferenceSession(onnx);
        Assert.Equal("no,yes", session.ModelMetadata.CustomMetadataMap["classes"]);

        float[] data = [3f, 0f, 0f, 3f];
        using var x = OrtValue.CreateTensorValueFromMemory(data, [2, 2]);
        using var runOptions = new RunOptions();
        using var results = session.Run(runOptions, ["x"], [x], ["label", "scores"]);
        Assert.Equal("no", results[0].GetStringElement(0));
        Assert.Equal("yes", results[0].GetStringElement(1));
        var scores = results[1].GetTensorDataAsSpan<float>().ToArray();
        var s0 = new[] { 3f + 0.5f, -3f - 0.5f };
        var e0 = s0.Select(MathF.Exp).ToArray();
        OnnxMlp.AssertClose([e0[0] / e0.Sum(), e0[1] / e0.Sum()], scores[..2]);
    }

    [Fact]
    public void Int64_initializer_feeds_Reshape()
    {
        var onnx = new OnnxGraphWriter()
            .AddInput("x", OnnxElementType.Float, OnnxGraphWriter.Dynamic, 6)
            .AddInitializer("shape", [-1L, 3L, 2L], 3)
            .AddNode("Reshape", ["x", "shape"], ["y"])
            .AddOutput("y", OnnxElementType.Float, OnnxGraphWriter.Dynamic, 3, 2)
            .ToBytes();
        using var session = new InferenceSession(onnx);
        using var x = OrtValue.CreateTensorValueFromMemory(Enumerable.Range(0, 12).Select(i => (float)i).ToArray(), [2, 6]);
        using var runOptions = new RunOptions();
        using var results = session.Run(runOptions, ["x"], [x], ["y"]);
        Assert.Equal([2L, 3, 2], results[0].GetTensorTypeAndShape().Shape);
        Assert.Equal(11f, results[0].GetTensorDataAsSpan<float>()[11]);
    }

    [Fact]
    public void Writer_rejects_malformed_graphs_with_clear_messages()
    {
        var g = new OnnxGraphWriter().AddInput("x", OnnxElementType.Float, OnnxGraphWriter.Dynamic, 2);
        Assert.Contains("'nope'", Assert.Throws<ArgumentException>(() => g.AddNode("Relu", ["nope"], ["y"])).Message);
        Assert.Contains("'x' is already defined", Assert.Throws<ArgumentException>(() => g.AddInitializer("x", [1f], 1)).Message);
        Assert.Contains("3 values", Assert.Throws<ArgumentException>(() => g.AddInitializer("w", [1f, 2f, 3f], 2, 2)).Message);
        Assert.Contains("Attribute 'axis'", Assert.Throws<ArgumentException>(() => g.AddNode("Softmax", ["x"], ["y"], ("axis", DateTime.Now))).Message);
        Assert.Contains("has no outputs", Assert.Throws<InvalidOperationException>(() => g.ToBytes()).Message);
        g.AddOutput("z", OnnxElementType.Float, OnnxGraphWriter.Dynamic, 2);
        Assert.Contains("'z' is not produced", Assert.Throws<InvalidOperationException>(() => g.ToBytes()).Message);
    }
}
