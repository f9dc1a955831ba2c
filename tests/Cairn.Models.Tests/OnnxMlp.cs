using Cairn.Models.Onnx;

namespace Cairn.Models.Tests;

/// <summary>A small fixed-weight MLP classifier written with <see cref="OnnxGraphWriter"/>, and the same network computed in C#.</summary>
internal sealed class OnnxMlp
{
    public const int Inputs = 4;
    public const int Hidden = 8;
    public const int Classes = 3;

    public static readonly string[] ClassNames = ["setosa", "versicolor", "virginica"];

    public OnnxMlp(int seed = 7)
    {
        var random = new Random(seed);
        float Next() => (float)(random.NextDouble() * 2 - 1);
        W1 = Enumerable.Range(0, Inputs * Hidden).Select(_ => Next()).ToArray();
        B1 = Enumerable.Range(0, Hidden).Select(_ => Next() * 0.1f).ToArray();
        W2 = Enumerable.Range(0, Classes * Hidden).Select(_ => Next()).ToArray();
        B2 = Enumerable.Range(0, Classes).Select(_ => Next() * 0.1f).ToArray();
    }

    /// <summary>[Inputs, Hidden], row-major (MatMul).</summary>
    public float[] W1 { get; }

    public float[] B1 { get; }

    /// <summary>[Classes, Hidden], row-major (Gemm with transB).</summary>
    public float[] W2 { get; }

    public float[] B2 { get; }

    /// <summary>
    /// features [N, 4] → MatMul+Add → Relu → Gemm → Softmax ("probabilities") and ArgMax ("label_index"),
    /// plus "label": the class name gathered from a string initializer.
    /// </summary>
    public byte[] Graph(string input = "features", bool stringLabel = false)
    {
        var g = new OnnxGraphWriter("mlp")
            .AddInput(input, OnnxElementType.Float, OnnxGraphWriter.Dynamic, Inputs)
            .AddInitializer("W1", W1, Inputs, Hidden)
            .AddInitializer("B1", B1, Hidden)
            .AddInitializer("W2", W2, Classes, Hidden)
            .AddInitializer("B2", B2, Classes)
            .AddNode("MatMul", [input, "W1"], ["h0"])
            .AddNode("Add", ["h0", "B1"], ["h1"])
            .AddNode("Relu", ["h1"], ["h2"])
            .AddNode("Gemm", ["h2", "W2", "B2"], ["logits"], ("transB", 1L), ("alpha", 1.0f))
            .AddNode("Softmax", ["logits"], ["probabilities"], ("axis", 1L))
            .AddOutput("probabilities", OnnxElementType.Float, OnnxGraphWriter.Dynamic, Classes);
        if (stringLabel)
        {
            g.AddNode("ArgMax", ["logits"], ["label_index"], ("axis", 1L), ("keepdims", 0L))
                .AddInitializer("class_names", ClassNames, Classes)
                .AddNode("Gather", ["class_names", "label_index"], ["label"], ("axis", 0L))
                .AddOutput("label", OnnxElementType.String, OnnxGraphWriter.Dynamic);
        }
        else
        {
            g.AddNode("ArgMax", ["logits"], ["label"], ("axis", 1L), ("keepdims", 0L))
                .AddOutput("label", OnnxElementType.Int64, OnnxGraphWriter.Dynamic);
        }

        return g.ToBytes();
    }

    /// <summary>The network in plain C#: (argmax, softmax) per row.</summary>
    public (int Label, float[] Probabilities) Reference(ReadOnlySpan<float> x)
    {
        var h = new float[Hidden];
        for (var j = 0; j < Hidden; j++)
        {
            var s = B1[j];
            for (var i = 0; i < Inputs; i++)
            {
                s += x[i] * W1[(i * Hidden) + j];
            }

            h[j] = Math.Max(0, s);
        }

        var logits = new float[Classes];
        for (var c = 0; c < Classes; c++)
        {
            var s = B2[c];
            for (var j = 0; j < Hidden; j++)
            {
                s += h[j] * W2[(c * Hidden) + j];
            }

            logits[c] = s;
        }

        var max = logits.Max();
        var exp = logits.Select(l => MathF.Exp(l - max)).ToArray();
        var sum = exp.Sum();
        var label = Array.IndexOf(logits, max);
        return (label, exp.Select(e => e / sum).ToArray());
    }

    /// <summary>Deterministic iris-like feature rows.</summary>
    public static float[][] Rows(int count, int seed = 3)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => Enumerable.Range(0, Inputs).Select(_ => (float)Math.Round(random.NextDouble() * 8, 1)).ToArray()).ToArray();
    }

    public static void AssertClose(float[] expected, IReadOnlyList<float> actual)
    {
        Assert.Equal(expected.Length, actual.Count);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - actual[i]) < 1e-5f, $"value {i}: expected {expected[i]}, got {actual[i]}");
        }
    }
}
