using System.Buffers.Binary;
using Cairn.Lab.Pipelines;
using Cairn.Lab.Pipelines.Evaluation;
using Cairn.Lab.Pipelines.Models;
using Cairn.Lab.Tests.Pipelines.Models;

namespace Cairn.Lab.Tests.Pipelines.Evaluation;

public sealed class EvaluationPlotsTests
{
    [Theory]
    [InlineData("iris")]
    [InlineData("breast_cancer")]
    public void WriteAll_writes_the_confusion_matrix_roc_and_pr_pngs(string dataset)
    {
        var (train, test) = TestData.ScaledSplit(dataset);
        var model = TestData.Fit(ModelCatalog.Create("logistic_regression"), train);
        var result = Evaluator.Evaluate(model, new ColumnarDataView(test), test.LabelName, train.ClassNames);
        var dir = Directory.CreateTempSubdirectory("cairn-plots-").FullName;
        try
        {
            var files = EvaluationPlots.WriteAll(result, dir);
            Assert.Equal(
                [EvaluationPlots.ConfusionMatrixFile, EvaluationPlots.RocCurveFile, EvaluationPlots.PrecisionRecallFile],
                files.Select(Path.GetFileName));
            AssertPng(Path.Combine(dir, EvaluationPlots.RocCurveFile), 800, 650);
            AssertPng(Path.Combine(dir, EvaluationPlots.PrecisionRecallFile), 800, 650);
            var (width, height) = AssertPng(Path.Combine(dir, EvaluationPlots.ConfusionMatrixFile), null, null);
            Assert.True(width >= 600 && height >= 600);

            var importance = PermutationImportance.Compute(model, test, "accuracy", seed: 1, repeats: 2);
            var importancePath = Path.Combine(dir, EvaluationPlots.FeatureImportanceFile);
            EvaluationPlots.WriteImportance(importance, "accuracy", importancePath);
            var (w, h) = AssertPng(importancePath, 900, null);
            Assert.True(h >= 150 + (test.Features.Count * 30), $"height {h} for {test.Features.Count} bars");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>A PNG of the given size (read from its IHDR chunk) and with real content (not a blank canvas).</summary>
    private static (int Width, int Height) AssertPng(string path, int? width, int? height)
    {
        var bytes = File.ReadAllBytes(path);
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, bytes[..4]);
        var w = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(16));
        var h = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(20));
        if (width is { } ew)
        {
            Assert.Equal(ew, w);
        }

        if (height is { } eh)
        {
            Assert.Equal(eh, h);
        }

        Assert.True(bytes.Length > 15_000, $"{Path.GetFileName(path)} is only {bytes.Length} bytes");
        return (w, h);
    }
}
