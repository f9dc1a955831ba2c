using System.Text.Json.Nodes;

namespace Cairn.Models.Tests;

public class ModelFileTests
{
    private static ModelFile Sample() => new()
    {
        ArtifactPath = "model",
        RunId = "0123456789abcdef",
        ModelUuid = "5f2b1c0de4a84c4f9b0e2f6a7c1d3e5f",
        UtcTimeCreated = "2026-11-26 10:00:00.123456",
        Flavors = new Dictionary<string, IReadOnlyDictionary<string, object?>>
        {
            ["mlnet"] = new Dictionary<string, object?> { ["model_file"] = "model.zip", ["mlnet_version"] = "5.0.1", ["env"] = "dotnet_env.yaml" },
        },
        Signature = new ModelSignature(
            [new ColumnSpec("sepal length (cm)", ColumnTypes.Float), new ColumnSpec("it's", ColumnTypes.String, Required: false), new ColumnSpec("vec", ColumnTypes.Array, true, ColumnTypes.Double)],
            [new ColumnSpec("PredictedLabel", ColumnTypes.String)],
            [new ParamSpec("top_k", ColumnTypes.Long, JsonValue.Create(3)), new ParamSpec("weights", ColumnTypes.Double, new JsonArray(1.0, 2.0), [-1])]),
        SavedInputExampleInfo = new InputExampleInfo(),
        ModelSizeBytes = 1234,
        Extra = new Dictionary<string, object?> { ["mlflow_version"] = "2.17.2" },
    };

    [Fact]
    public void MLmodel_round_trips_every_field()
    {
        var original = Sample();
        var yaml = original.ToYaml();
        var read = ModelFile.Parse(yaml);

        Assert.Equal(original.ArtifactPath, read.ArtifactPath);
        Assert.Equal(original.RunId, read.RunId);
        Assert.Equal(original.ModelUuid, read.ModelUuid);
        Assert.Equal(original.UtcTimeCreated, read.UtcTimeCreated);
        Assert.Equal(original.CairnVersion, read.CairnVersion);
        Assert.Equal(original.ModelSizeBytes, read.ModelSizeBytes);
        Assert.Equal(original.SavedInputExampleInfo, read.SavedInputExampleInfo);
        Assert.Equal("5.0.1", read.Flavor("mlnet")["mlnet_version"]);
        Assert.Equal("2.17.2", read.Extra["mlflow_version"]);
        Assert.Equal(original.Signature!.Inputs, read.Signature!.Inputs);
        Assert.Equal(original.Signature.Outputs, read.Signature.Outputs);
        Assert.Equal(2, read.Signature.Params!.Count);
        Assert.Equal(3, read.Signature.Params[0].Default!.GetValue<int>());
        Assert.Equal([-1], read.Signature.Params[1].Shape!);

        // Writing what was read gives the same text: nothing is lost or reordered.
        Assert.Equal(yaml, read.ToYaml());

        // The time is quoted so YAML readers keep it a string, as MLflow writes it.
        Assert.Contains("utc_time_created: '2026-11-26 10:00:00.123456'", yaml, StringComparison.Ordinal);
    }

    [Fact]
    public void MLmodel_written_by_mlflow_is_read_with_its_signature_and_unknown_keys()
    {
        const string yaml = """
            artifact_path: model
            flavors:
              python_function:
                env:
                  conda: conda.yaml
                  virtualenv: python_env.yaml
                loader_module: mlflow.sklearn
                model_path: model.pkl
                predict_fn: predict
                python_version: 3.10.12
              sklearn:
                code: null
                pickled_model: model.pkl
                serialization_format: cloudpickle
                sklearn_version: 1.5.2
            mlflow_version: 2.17.2
            model_size_bytes: 1070
            model_uuid: 4a6b0f1e2d3c4b5a
            run_id: 9f8e7d6c5b4a
            saved_input_example_info:
              artifact_path: input_example.json
              pandas_orient: split
              serving_input_path: serving_input_example.json
              type: dataframe
            signature:
              inputs: '[{"type": "double", "name": "sepal length (cm)", "required": true}, {"type": "double", "name": "petal width (cm)", "required": true}]'
              outputs: '[{"type": "long", "required": true}]'
              params: null
            utc_time_created: '2024-11-01 12:00:00.000000'
            """;
        var file = ModelFile.Parse(yaml);

        Assert.Equal(["python_function", "sklearn"], file.Flavors.Keys.Order());
        Assert.Equal("conda.yaml", ((IReadOnlyDictionary<string, object?>)file.Flavor("python_function")["env"]!)["conda"]);
        Assert.Equal(new ColumnSpec("sepal length (cm)", ColumnTypes.Double), file.Signature!.Inputs[0]);
        Assert.Equal(new ColumnSpec(null, ColumnTypes.Long), file.Signature.Outputs![0]);
        Assert.Null(file.Signature.Params);
        Assert.Equal(1070, file.ModelSizeBytes);
        Assert.Null(file.CairnVersion);
        Assert.Equal("2.17.2", file.Extra["mlflow_version"]);
        Assert.Equal(file.ToYaml(), ModelFile.Parse(file.ToYaml()).ToYaml());
    }

    [Theory]
    [InlineData("flavors: [unclosed", "not valid YAML (line ")]
    [InlineData("- just\n- a list", "must be a YAML mapping")]
    [InlineData("artifact_path: model\nrun_id: abc", "no 'flavors' mapping")]
    [InlineData("flavors: {}", "no 'flavors' mapping")]
    [InlineData("flavors:\n  mlnet: model.zip", "flavor 'mlnet' must be a mapping")]
    [InlineData("flavors:\n  mlnet: {}\nsignature: '[1]'", "'signature' must be a mapping")]
    [InlineData("flavors:\n  mlnet: {}\nsignature:\n  inputs: '[{\"type\": \"double\"'", "signature.inputs is not valid JSON")]
    [InlineData("flavors:\n  mlnet: {}\nsignature:\n  inputs: '[{\"name\": \"x\", \"type\": \"decimal\"}]'", "column 'x' has unknown type 'decimal'")]
    [InlineData("flavors:\n  mlnet: {}\nsignature:\n  inputs: '[{\"name\": \"x\"}]'", "a column has no 'type'")]
    [InlineData("flavors:\n  mlnet: {}\nmodel_size_bytes: lots", "'model_size_bytes' must be an integer")]
    [InlineData("flavors:\n  mlnet: {}\nrun_id: [a, b]", "'run_id' must be a single value")]
    [InlineData("flavors:\n  mlnet: {}\nsaved_input_example_info: {type: dataframe}", "must be a mapping with an 'artifact_path'")]
    public void Malformed_MLmodel_is_a_clear_error(string yaml, string expected)
    {
        var e = Assert.Throws<InvalidModelPackageException>(() => ModelFile.Parse(yaml, "model/MLmodel"));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        Assert.StartsWith("model/MLmodel", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_folder_without_MLmodel_is_not_a_package()
    {
        var dir = Directory.CreateTempSubdirectory("cairn-empty-").FullName;
        try
        {
            var e = Assert.Throws<InvalidModelPackageException>(() => ModelLoader.Load(dir));
            Assert.Contains("No MLmodel file", e.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void A_package_without_a_loadable_flavor_names_the_flavors_it_has()
    {
        var dir = Directory.CreateTempSubdirectory("cairn-sk-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(dir, "MLmodel"), "flavors:\n  sklearn:\n    pickled_model: model.pkl\n");
            var e = Assert.Throws<InvalidModelPackageException>(() => ModelLoader.Load(dir));
            Assert.Contains("it has: sklearn", e.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
