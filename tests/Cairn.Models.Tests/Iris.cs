using Microsoft.ML;
using Microsoft.ML.Data;

namespace Cairn.Models.Tests;

/// <summary>A small multiclass ML.NET model trained on the shared iris CSV, and its rows as dictionaries.</summary>
internal static class Iris
{
    public static string CsvPath
    {
        get
        {
            var shared = Path.Combine(Cairn.Server.Tests.CairnProcess.RepoRoot, "..", "shared", "datasets", "iris.csv");
            return File.Exists(shared) ? Path.GetFullPath(shared) : "/work/shared/datasets/iris.csv";
        }
    }

    public static readonly string[] Features = ["sepal_length_cm", "sepal_width_cm", "petal_length_cm", "petal_width_cm"];

    public static (MLContext Ml, IDataView Data, ITransformer Model) Train()
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromTextFile(CsvPath,
            [.. Features.Select((f, i) => new TextLoader.Column(f, DataKind.Single, i)), new TextLoader.Column("species", DataKind.String, 4)],
            separatorChar: ',', hasHeader: true);
        var pipeline = ml.Transforms.Concatenate("Features", Features)
            .Append(ml.Transforms.Conversion.MapValueToKey("LabelKey", "species"))
            .Append(ml.MulticlassClassification.Trainers.LbfgsMaximumEntropy("LabelKey", "Features"))
            .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedLabel"));
        return (ml, data, pipeline.Fit(data));
    }

    /// <summary>The CSV's rows as column → text, the way a CSV request to a scoring server would carry them (no label).</summary>
    public static List<IReadOnlyDictionary<string, object?>> Rows() =>
        File.ReadLines(CsvPath).Skip(1).Where(l => l.Length > 0)
            .Select(l => (IReadOnlyDictionary<string, object?>)Features.Zip(l.Split(',')).ToDictionary(p => p.First, p => (object?)p.Second))
            .ToList();

    public sealed class Scored
    {
        public string PredictedLabel { get; set; } = "";

        public float[] Score { get; set; } = [];
    }

    /// <summary>What the in-memory model predicts for every row.</summary>
    public static List<Scored> Expected(MLContext ml, IDataView data, ITransformer model) =>
        ml.Data.CreateEnumerable<Scored>(model.Transform(data), reuseRowObject: false).ToList();

    public static void AssertSame(IReadOnlyList<Scored> expected, IReadOnlyList<Prediction> actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (var i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i].PredictedLabel, actual[i].Label);
            Assert.Equal(expected[i].Score, actual[i].Scores!.ToArray());
        }
    }
}
