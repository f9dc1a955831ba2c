using System.Globalization;
using Cairn.Lab.Pipelines;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Cairn.Lab.Tests.Pipelines.Models;

/// <summary>
/// The shared CSV data sets as <see cref="DataTable"/>s, read with a parser of its own (the data set
/// catalog is tested elsewhere), plus a seeded stratified split, z-scaling and training/scoring helpers.
/// </summary>
internal static class TestData
{
    public static readonly string Folder = FindDatasets();

    private static readonly Dictionary<string, DataTable> Cache = [];

    /// <summary>All columns but the last are numeric features; the last is the label.</summary>
    public static DataTable Load(string name)
    {
        lock (Cache)
        {
            if (Cache.TryGetValue(name, out var cached))
            {
                return cached;
            }

            var lines = File.ReadAllLines(Path.Combine(Folder, name + ".csv")).Where(l => l.Length > 0).ToArray();
            var header = lines[0].Split(',');
            var rows = lines.Skip(1).Select(l => l.Split(',')).ToArray();
            var features = new List<DataColumn>();
            for (var c = 0; c < header.Length - 1; c++)
            {
                features.Add(new NumericColumn(header[c], [.. rows.Select(r => float.Parse(r[c], CultureInfo.InvariantCulture))]));
            }

            var table = new DataTable(features, header[^1], [.. rows.Select(r => r[^1])]);
            Cache[name] = table;
            return table;
        }
    }

    /// <summary>A stratified split: per class, a seeded shuffle, the first <paramref name="testFraction"/> to test.</summary>
    public static (DataTable Train, DataTable Test) Split(DataTable table, double testFraction = 0.3, int seed = 42)
    {
        var random = new Random(seed);
        var train = new List<int>();
        var test = new List<int>();
        foreach (var group in Enumerable.Range(0, table.RowCount).GroupBy(i => table.Labels[i]))
        {
            var rows = group.ToArray();
            random.Shuffle(rows);
            var nTest = (int)Math.Round(rows.Length * testFraction);
            test.AddRange(rows.Take(nTest));
            train.AddRange(rows.Skip(nTest));
        }

        train.Sort();
        test.Sort();
        return (table.Select([.. train]), table.Select([.. test]));
    }

    /// <summary>Z-scales every numeric column with the mean and standard deviation of <paramref name="train"/>.</summary>
    public static (DataTable Train, DataTable Test) ZScale(DataTable train, DataTable test)
    {
        var trainColumns = new List<DataColumn>();
        var testColumns = new List<DataColumn>();
        foreach (var column in train.Features.Cast<NumericColumn>())
        {
            var mean = column.Values.Average(v => (double)v);
            var std = Math.Sqrt(column.Values.Average(v => (v - mean) * (v - mean)));
            std = std > 0 ? std : 1;
            trainColumns.Add(new NumericColumn(column.Name, [.. column.Values.Select(v => (float)((v - mean) / std))]));
            var other = (NumericColumn)test[column.Name];
            testColumns.Add(new NumericColumn(column.Name, [.. other.Values.Select(v => (float)((v - mean) / std))]));
        }

        return (new DataTable(trainColumns, train.LabelName, train.Labels), new DataTable(testColumns, test.LabelName, test.Labels));
    }

    public static (DataTable Train, DataTable Test) ScaledSplit(string name, int seed = 42)
    {
        var (train, test) = Split(Load(name), seed: seed);
        return ZScale(train, test);
    }

    /// <summary>Concatenate the raw feature columns into <c>Features</c>, then the model's trainer; fitted on <paramref name="train"/>.</summary>
    public static ITransformer Fit(IPipelineModel model, DataTable train, IReadOnlyDictionary<string, object?>? hyperparameters = null, int seed = 1,
        IReadOnlyList<string>? classNames = null, Func<int, double, bool>? onIteration = null)
    {
        var ml = new MLContext(seed);
        var estimator = ml.Transforms.Concatenate("Features", [.. train.Features.Select(f => f.Name)])
            .Append(model.CreateTrainer(ml, new TrainerContext(train.LabelName, classNames ?? train.ClassNames, seed, OnIteration: onIteration),
                hyperparameters ?? new Dictionary<string, object?>()));
        return estimator.Fit(new ColumnarDataView(train));
    }

    /// <summary>Each row's PredictedLabel text and Score vector.</summary>
    public static (string[] Labels, float[][] Scores) Predict(ITransformer model, IDataView data)
    {
        var scored = model.Transform(data);
        var labels = new List<string>();
        var scores = new List<float[]>();
        var labelColumn = scored.Schema["PredictedLabel"];
        var scoreColumn = scored.Schema["Score"];
        using var cursor = scored.GetRowCursor([labelColumn, scoreColumn]);
        var getLabel = cursor.GetGetter<ReadOnlyMemory<char>>(labelColumn);
        var getScore = cursor.GetGetter<VBuffer<float>>(scoreColumn);
        ReadOnlyMemory<char> label = default;
        VBuffer<float> score = default;
        while (cursor.MoveNext())
        {
            getLabel(ref label);
            getScore(ref score);
            labels.Add(label.ToString());
            scores.Add(score.DenseValues().ToArray());
        }

        return ([.. labels], [.. scores]);
    }

    /// <summary>
    /// Asserts that <paramref name="model"/> predicts the same labels and scores after ml.Model.Save/Load
    /// and after a round trip through the mlnet flavor (whose Score slot names are the class names),
    /// then runs <paramref name="more"/> on the loaded package before it is deleted.
    /// </summary>
    public static void AssertRoundTrips(ITransformer model, DataTable train, DataTable test, Action<Cairn.Models.MLNetPredictor, (string[] Labels, float[][] Scores)>? more = null)
    {
        var expected = Predict(model, new ColumnarDataView(test));
        using var stream = new MemoryStream();
        new MLContext().Model.Save(model, new ColumnarDataView(train).Schema, stream);
        stream.Position = 0;
        var loaded = new MLContext().Model.Load(stream, out _);
        var afterSave = Predict(loaded, new ColumnarDataView(test));
        Assert.Equal(expected.Labels, afterSave.Labels);
        Assert.Equal(expected.Scores, afterSave.Scores);

        var dir = Directory.CreateTempSubdirectory("cairn-model-").FullName;
        try
        {
            Cairn.Models.MLNetFlavor.Save(dir, model, new ColumnarDataView(train), new Cairn.Models.MLNetSaveOptions { LabelColumn = train.LabelName });
            var predictor = Cairn.Models.MLNetFlavor.Load(dir);
            var fromPackage = Predict(predictor.Transformer, new ColumnarDataView(test));
            Assert.Equal(expected.Labels, fromPackage.Labels);
            Assert.Equal(expected.Scores, fromPackage.Scores);
            // Score carries the class names as slot names, so a served model answers with them.
            Assert.Equal(train.ClassNames, predictor.ClassNames);
            more?.Invoke(predictor, expected);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    public static double Accuracy(string[] predicted, string[] actual) =>
        predicted.Zip(actual).Count(p => p.First == p.Second) / (double)actual.Length;

    private static string FindDatasets()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "shared", "datasets");
            if (File.Exists(Path.Combine(candidate, "iris.csv")))
            {
                return candidate;
            }
        }

        return "/work/shared/datasets";
    }
}
