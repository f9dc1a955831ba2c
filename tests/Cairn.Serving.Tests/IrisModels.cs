using System.Text.Json.Nodes;
using Cairn.Models;
using Cairn.Server.Tests;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Cairn.Serving.Tests;

/// <summary>Real ML.NET models trained on the shared iris CSV, saved as packages, and the CSV's rows.</summary>
internal static class IrisModels
{
    public static string CsvPath
    {
        get
        {
            var shared = Path.Combine(CairnProcess.RepoRoot, "..", "shared", "datasets", "iris.csv");
            return File.Exists(shared) ? Path.GetFullPath(shared) : "/work/shared/datasets/iris.csv";
        }
    }

    public static readonly string[] Features = ["sepal_length_cm", "sepal_width_cm", "petal_length_cm", "petal_width_cm"];

    public static readonly IReadOnlyList<ParamSpec> Params =
    [
        new("threshold", ColumnTypes.Double, JsonValue.Create(0.5)),
        new("top_k", ColumnTypes.Integer, JsonValue.Create(1)),
        new("tags", ColumnTypes.String, null, [-1]),
    ];

    private static IDataView Load(MLContext ml) => ml.Data.LoadFromTextFile(CsvPath,
        [.. Features.Select((f, i) => new TextLoader.Column(f, DataKind.Single, i)), new TextLoader.Column("species", DataKind.String, 4)],
        separatorChar: ',', hasHeader: true);

    /// <summary>A multiclass classifier (LbfgsMaximumEntropy) saved with inference params in its signature.</summary>
    public static string SaveClassifier(string dir)
    {
        var ml = new MLContext(seed: 1);
        var data = Load(ml);
        var pipeline = ml.Transforms.Concatenate("Features", Features)
            .Append(ml.Transforms.Conversion.MapValueToKey("LabelKey", "species"))
            .Append(ml.MulticlassClassification.Trainers.LbfgsMaximumEntropy("LabelKey", "Features"))
            .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedLabel"));
        MLNetFlavor.Save(dir, pipeline.Fit(data), data, new MLNetSaveOptions { LabelColumn = "species", Params = Params });
        return dir;
    }

    /// <summary>A regressor (petal width from the other three measures): a model with only a value per row.</summary>
    public static string SaveRegressor(string dir)
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Transforms.DropColumns("species").Fit(Load(ml)).Transform(Load(ml));
        var pipeline = ml.Transforms.Concatenate("Features", Features[..3])
            .Append(ml.Regression.Trainers.Sdca(labelColumnName: "petal_width_cm", featureColumnName: "Features"));
        MLNetFlavor.Save(dir, pipeline.Fit(data), data, new MLNetSaveOptions { LabelColumn = "petal_width_cm" });
        return dir;
    }

    /// <summary>The CSV's data lines (no label).</summary>
    public static List<string[]> Lines() =>
        File.ReadLines(CsvPath).Skip(1).Where(l => l.Length > 0).Select(l => l.Split(',')[..4]).ToList();

    public static List<float[]> Values() =>
        Lines().Select(l => l.Select(v => float.Parse(v, System.Globalization.CultureInfo.InvariantCulture)).ToArray()).ToList();

    public static List<IReadOnlyDictionary<string, object?>> Rows() =>
        Values().Select(v => (IReadOnlyDictionary<string, object?>)Features.Zip(v).ToDictionary(p => p.First, p => (object?)p.Second)).ToList();

    public static string Csv() => string.Join(',', Features) + "\n" + string.Join("\n", Lines().Select(l => string.Join(',', l))) + "\n";
}

/// <summary>The iris classifier and regressor, each served by an in-process <see cref="ModelServer"/> on a free loopback port.</summary>
public sealed class ServedModels : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cairn-serving-test-").FullName;

    public string ClassifierDir => Path.Combine(_dir, "classifier");

    public string RegressorDir => Path.Combine(_dir, "regressor");

    public IModelPredictor Classifier { get; private set; } = null!;

    public IModelPredictor Regressor { get; private set; } = null!;

    public ModelServer ClassifierServer { get; private set; } = null!;

    public ModelServer RegressorServer { get; private set; } = null!;

    public HttpClient Http { get; } = new() { Timeout = TimeSpan.FromSeconds(60) };

    public async Task InitializeAsync()
    {
        Classifier = ModelLoader.Load(IrisModels.SaveClassifier(ClassifierDir));
        Regressor = ModelLoader.Load(IrisModels.SaveRegressor(RegressorDir));
        ClassifierServer = ModelServer.Create(Classifier, new ModelServerOptions { Port = 0, MaxRequestBytes = 1024 * 1024 });
        RegressorServer = ModelServer.Create(Regressor, new ModelServerOptions { Port = 0 });
        await ClassifierServer.StartAsync();
        await RegressorServer.StartAsync();
    }

    public async Task DisposeAsync()
    {
        Http.Dispose();
        await ClassifierServer.DisposeAsync();
        await RegressorServer.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }
}
