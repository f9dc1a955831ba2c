using System.Text.Json;
using Cairn.Lab.Pipelines;
using Cairn.Lab.Pipelines.Data;

namespace Cairn.Lab.Tests.Pipelines.Data;

public sealed class DatasetCatalogTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("cairn-datasets-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Theory]
    [InlineData("iris", 150, 4, "species", new[] { "setosa", "versicolor", "virginica" }, new[] { 50, 50, 50 })]
    [InlineData("wine", 178, 13, "target", new[] { "0", "1", "2" }, new[] { 59, 71, 48 })]
    [InlineData("breast_cancer", 569, 30, "target", new[] { "0", "1" }, new[] { 212, 357 })]
    public async Task Builtin_datasets_load_with_their_rows_columns_and_classes(string name, int rows, int features, string label, string[] classes, int[] counts)
    {
        var loaded = await DatasetCatalog.LoadAsync(new DatasetOptions(name));

        var table = loaded.Table;
        Assert.Equal(rows, table.RowCount);
        Assert.Equal(features, table.Features.Count);
        Assert.All(table.Features, c => Assert.IsType<NumericColumn>(c));
        Assert.Equal(label, table.LabelName);
        Assert.Equal(classes, table.ClassNames);
        Assert.Equal(counts, classes.Select(c => table.Labels.Count(l => l == c)));

        var description = loaded.Description;
        Assert.Equal(name, description.Name);
        Assert.Equal("builtin", description.SourceType);
        Assert.Equal($"cairn:builtin/{name}.csv", description.Source);
        Assert.Matches("^[0-9a-f]{16}$", description.Digest);
        using var profile = JsonDocument.Parse(description.Profile);
        Assert.Equal(rows, profile.RootElement.GetProperty("num_rows").GetInt32());
        Assert.Equal(rows * (features + 1), profile.RootElement.GetProperty("num_elements").GetInt32());
        using var schema = JsonDocument.Parse(description.Schema);
        var columns = schema.RootElement.GetProperty("mlflow_colspec").EnumerateArray().ToList();
        Assert.Equal(features + 1, columns.Count);
        Assert.Equal("float", columns[0].GetProperty("type").GetString());
        Assert.Equal(table.Features[0].Name, columns[0].GetProperty("name").GetString());
        Assert.Equal(label, columns[^1].GetProperty("name").GetString());
        Assert.Equal(name == "iris" ? "string" : "long", columns[^1].GetProperty("type").GetString());
    }

    [Fact]
    public async Task Iris_first_row_and_digest_are_stable()
    {
        var first = await DatasetCatalog.LoadAsync(new DatasetOptions("iris"));
        var second = await DatasetCatalog.LoadAsync(new DatasetOptions("iris"));

        Assert.Equal(first.Description.Digest, second.Description.Digest);
        Assert.Equal("sepal_length_cm", first.Table.Features[0].Name);
        Assert.Equal(5.1f, ((NumericColumn)first.Table.Features[0]).Values[0]);
        Assert.Equal("setosa", first.Table.Labels[0]);
        var wine = await DatasetCatalog.LoadAsync(new DatasetOptions("wine"));
        Assert.NotEqual(first.Description.Digest, wine.Description.Digest);
    }

    [Fact]
    public async Task Unknown_dataset_lists_the_allowed_names()
    {
        var error = await Assert.ThrowsAsync<PipelineConfigException>(() => DatasetCatalog.LoadAsync(new DatasetOptions("irises")));

        Assert.Contains("'irises'", error.Message);
        foreach (var name in new[] { "iris", "wine", "breast_cancer", "higgs", "csv" })
        {
            Assert.Contains(name, error.Message);
        }

        Assert.Equal(["iris", "wine", "breast_cancer", "higgs", "csv"], DatasetCatalog.Entries.Select(e => e.Name));
    }

    [Fact]
    public async Task Csv_infers_numeric_and_text_columns_with_missing_values()
    {
        var path = Write("mixed.csv",
            "x,colour,\"note, quoted\",y,label\n" +
            "1.5,red,\"a, b\",NA,yes\r\n" +
            ",blue,\"say \"\"hi\"\"\",2,no\n" +
            "\n" +
            "-3e2,,plain,NaN,yes\n");

        var loaded = await DatasetCatalog.LoadAsync(new DatasetOptions("csv", Path: path));

        var table = loaded.Table;
        Assert.Equal(3, table.RowCount);
        Assert.Equal(["x", "colour", "note, quoted", "y"], table.Features.Select(c => c.Name));
        var x = Assert.IsType<NumericColumn>(table["x"]);
        Assert.Equal(1.5f, x.Values[0]);
        Assert.True(float.IsNaN(x.Values[1]));
        Assert.Equal(-300f, x.Values[2]);
        var colour = Assert.IsType<TextColumn>(table["colour"]);
        Assert.Equal(new[] { "red", "blue", null }, colour.Values.AsEnumerable());
        Assert.Equal(new[] { "a, b", "say \"hi\"", "plain" }, ((TextColumn)table["note, quoted"]).Values.AsEnumerable());
        var y = Assert.IsType<NumericColumn>(table["y"]);
        Assert.True(float.IsNaN(y.Values[0]));
        Assert.Equal(2f, y.Values[1]);
        Assert.Equal(["yes", "no", "yes"], table.Labels);
        Assert.Equal(["no", "yes"], table.ClassNames);
        Assert.Equal("mixed", loaded.Description.Name);
        Assert.Equal("local", loaded.Description.SourceType);
        Assert.Equal(Path.GetFullPath(path), loaded.Description.Source);
        using var schema = JsonDocument.Parse(loaded.Description.Schema);
        var columns = schema.RootElement.GetProperty("mlflow_colspec").EnumerateArray().ToList();
        Assert.Equal(["float", "string", "string", "float", "string"], columns.Select(c => c.GetProperty("type").GetString()));
        Assert.False(columns[0].GetProperty("required").GetBoolean());
        Assert.True(columns[2].GetProperty("required").GetBoolean());
    }

    [Fact]
    public async Task Csv_label_defaults_to_label_and_row_limit_is_honoured()
    {
        var path = Write("data.csv", "a,label\n1,x\n2,y\n3,x\n4,y\n");

        var all = await DatasetCatalog.LoadAsync(new DatasetOptions("csv", Path: path));
        var two = await DatasetCatalog.LoadAsync(new DatasetOptions("csv", Path: path, RowLimit: 2));

        Assert.Equal(4, all.Table.RowCount);
        Assert.Equal(2, two.Table.RowCount);
        Assert.NotEqual(all.Description.Digest, two.Description.Digest);
    }

    [Fact]
    public async Task Csv_relative_path_is_found_in_the_data_folder()
    {
        Write("in-folder.csv", "a,kind\n1,x\n2,y\n");

        var loaded = await DatasetCatalog.LoadAsync(new DatasetOptions("csv", Location: _folder, Path: "in-folder.csv", Label: "kind"));

        Assert.Equal(2, loaded.Table.RowCount);
    }

    [Fact]
    public async Task Csv_errors_name_the_problem()
    {
        var missing = Path.Combine(_folder, "nope.csv");
        var error = await Assert.ThrowsAsync<PipelineConfigException>(() => DatasetCatalog.LoadAsync(new DatasetOptions("csv", Path: missing)));
        Assert.Contains("not found", error.Message);
        Assert.Contains(missing, error.Message);

        error = await Assert.ThrowsAsync<PipelineConfigException>(() => DatasetCatalog.LoadAsync(new DatasetOptions("csv")));
        Assert.Contains("needs a file", error.Message);

        var path = Write("nolabel.csv", "a,b,c\n1,2,3\n");
        error = await Assert.ThrowsAsync<PipelineConfigException>(() => DatasetCatalog.LoadAsync(new DatasetOptions("csv", Path: path, Label: "target")));
        Assert.Contains("'target'", error.Message);
        Assert.Contains("a, b, c", error.Message);

        path = Write("empty.csv", "");
        error = await Assert.ThrowsAsync<PipelineConfigException>(() => DatasetCatalog.LoadAsync(new DatasetOptions("csv", Path: path)));
        Assert.Contains("empty", error.Message);

        path = Write("header.csv", "a,label\n");
        error = await Assert.ThrowsAsync<PipelineConfigException>(() => DatasetCatalog.LoadAsync(new DatasetOptions("csv", Path: path)));
        Assert.Contains("no rows", error.Message);

        path = Write("ragged.csv", "a,b,label\n1,2,x\n3,4,y\n5,y\n");
        error = await Assert.ThrowsAsync<PipelineConfigException>(() => DatasetCatalog.LoadAsync(new DatasetOptions("csv", Path: path)));
        Assert.Contains("line 4", error.Message);
        Assert.Contains("2 fields", error.Message);

        error = await Assert.ThrowsAsync<PipelineConfigException>(() => DatasetCatalog.LoadAsync(new DatasetOptions("iris", Label: "colour")));
        Assert.Contains("sepal_length_cm", error.Message);

        error = await Assert.ThrowsAsync<PipelineConfigException>(() => DatasetCatalog.LoadAsync(new DatasetOptions("iris", RowLimit: 0)));
        Assert.Contains("row_limit", error.Message);
    }

    [Fact]
    public async Task Parquet_files_load_with_typed_and_nullable_columns()
    {
        var path = Path.Combine(_folder, "data.parquet");
        var x = new Parquet.Schema.DataField<double>("x");
        var n = new Parquet.Schema.DataField<int?>("n");
        var colour = new Parquet.Schema.DataField<string>("colour");
        var label = new Parquet.Schema.DataField<string>("label");
        await using (var file = File.Create(path))
        await using (var writer = await Parquet.ParquetWriter.CreateAsync(new Parquet.Schema.ParquetSchema(x, n, colour, label), file))
        using (var group = writer.CreateRowGroup())
        {
            await group.WriteAsync(x, new ReadOnlyMemory<double>([1.5, 2.5, 3.5]));
            await group.WriteAsync(n, new ReadOnlyMemory<int?>([1, null, 3]));
            await group.WriteAsync(colour, ["red", null, "blue"]);
            await group.WriteAsync(label, ["a", "b", "a"]);
        }

        var loaded = await DatasetCatalog.LoadAsync(new DatasetOptions("csv", Path: path));

        var table = loaded.Table;
        Assert.Equal(3, table.RowCount);
        Assert.Equal([1.5f, 2.5f, 3.5f], ((NumericColumn)table["x"]).Values);
        var nValues = ((NumericColumn)table["n"]).Values;
        Assert.Equal(1f, nValues[0]);
        Assert.True(float.IsNaN(nValues[1]));
        Assert.Equal(new[] { "red", null, "blue" }, ((TextColumn)table["colour"]).Values.AsEnumerable());
        Assert.Equal(["a", "b", "a"], table.Labels);
        Assert.Equal(2, (await DatasetCatalog.LoadAsync(new DatasetOptions("csv", Path: path, RowLimit: 2))).Table.RowCount);

        var error = await Assert.ThrowsAsync<PipelineConfigException>(() => DatasetCatalog.LoadAsync(new DatasetOptions("csv", Path: path, Label: "y")));
        Assert.Contains("x, n, colour, label", error.Message);
    }

    private string Write(string name, string content)
    {
        var path = Path.Combine(_folder, name);
        File.WriteAllText(path, content);
        return path;
    }
}
