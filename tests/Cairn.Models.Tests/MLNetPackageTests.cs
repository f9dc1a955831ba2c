using System.Text.Json.Nodes;

namespace Cairn.Models.Tests;

public class MLNetPackageTests
{
    [Fact]
    public void Saved_package_has_signature_example_and_environment_and_loads_to_the_same_predictions()
    {
        var (ml, data, model) = Iris.Train();
        var dir = Directory.CreateTempSubdirectory("cairn-pkg-").FullName;
        try
        {
            var file = MLNetFlavor.Save(dir, model, data, new MLNetSaveOptions { LabelColumn = "species" });

            Assert.Equal(
                [.. Iris.Features.Select(f => new ColumnSpec(f, ColumnTypes.Float)), new ColumnSpec("species", ColumnTypes.String, Required: false)],
                file.Signature!.Inputs);
            Assert.Equal([new ColumnSpec("PredictedLabel", ColumnTypes.String), new ColumnSpec("Score", ColumnTypes.Array, true, ColumnTypes.Float)], file.Signature.Outputs);

            var example = InputExample.Read(Path.Combine(dir, "input_example.json"));
            Assert.Equal(Iris.Features, example.Columns);
            Assert.Equal(5, example.Data.Count);
            Assert.Equal(5.1, example.Data[0][0]!.GetValue<double>(), 5);
            var serving = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "serving_input_example.json")))!;
            Assert.Equal(4, serving["dataframe_split"]!["columns"]!.AsArray().Count);

            var env = ModelEnvironment.Read(Path.Combine(dir, "dotnet_env.yaml"));
            Assert.Equal(Environment.Version.ToString(), env.DotnetVersion);
            Assert.Equal("5.0.1", env.Packages["Microsoft.ML"]);
            Assert.True(env.Packages.ContainsKey("Cairn.Models"));

            Assert.Equal(file.ToYaml(), ModelFile.Read(dir).ToYaml());

            var predictor = ModelLoader.Load(dir);
            Assert.Equal(["setosa", "versicolor", "virginica"], predictor.ClassNames);
            Iris.AssertSame(Iris.Expected(ml, data, model), predictor.Predict(Iris.Rows()));

            // The input example scores as it is.
            Assert.Equal(5, predictor.Predict(example.Rows()).Count);

            // One row at a time (the pooled row-mapper path), from many threads at once, gives the same answers.
            var expected = Iris.Expected(ml, data, model);
            var rows = Iris.Rows();
            Parallel.For(0, 600, i =>
            {
                var p = predictor.Predict([rows[i % rows.Count]])[0];
                Assert.Equal(expected[i % rows.Count].PredictedLabel, p.Label);
                Assert.Equal(expected[i % rows.Count].Score, p.Scores!.ToArray());
            });
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public async Task A_local_package_loads_by_path_or_file_uri_without_a_tracking_server()
    {
        var (ml, data, model) = Iris.Train();
        var dir = Directory.CreateTempSubdirectory("cairn-pkg-").FullName;
        try
        {
            MLNetFlavor.Save(dir, model, data, new MLNetSaveOptions { LabelColumn = "species" });
            var expected = Iris.Expected(ml, data, model);
            foreach (var uri in new[] { dir, new Uri(dir).AbsoluteUri, Path.Combine(dir, "MLmodel") })
            {
                Iris.AssertSame(expected, (await ModelLoader.LoadAsync(uri)).Predict(Iris.Rows()));
            }

            var missing = await Assert.ThrowsAsync<Cairn.Core.MlflowException>(() => ModelLoader.LoadAsync(Path.Combine(dir, "nowhere")));
            Assert.Contains("No model package at", missing.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void Predict_names_the_missing_or_unconvertible_column()
    {
        var (_, data, model) = Iris.Train();
        var dir = Directory.CreateTempSubdirectory("cairn-pkg-").FullName;
        try
        {
            MLNetFlavor.Save(dir, model, data, new MLNetSaveOptions { LabelColumn = "species" });
            var predictor = ModelLoader.Load(dir);
            var row = Iris.Rows()[0].ToDictionary();

            row.Remove("petal_width_cm");
            var missing = Assert.Throws<ArgumentException>(() => predictor.Predict([row]));
            Assert.Contains("'petal_width_cm'", missing.Message, StringComparison.Ordinal);

            row["petal_width_cm"] = "wide";
            var bad = Assert.Throws<ArgumentException>(() => predictor.Predict([row]));
            Assert.Contains("column 'petal_width_cm' expects a float, got 'wide'", bad.Message, StringComparison.Ordinal);

            // JSON numbers, CLR numbers and text are all accepted.
            row["petal_width_cm"] = JsonValue.Create(0.2);
            row["petal_length_cm"] = 1.4;
            Assert.Equal("setosa", predictor.Predict([row])[0].Label);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
