using Cairn.Lab.Pipelines;
using Cairn.Lab.Pipelines.Data;
using Cairn.Lab.Pipelines.Features;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Cairn.Lab.Tests.Pipelines.Features;

/// <summary>The saved model computes exactly the features the C# evaluator computes.</summary>
public sealed class MlNetFeatureTests
{
    private static float[][] MlNetFeatures(IDataView transformed, int featureCount)
    {
        var rows = transformed.GetColumn<VBuffer<float>>("Features").Select(v => v.DenseValues().ToArray()).ToList();
        var columns = new float[featureCount][];
        for (var f = 0; f < featureCount; f++)
        {
            columns[f] = [.. rows.Select(r => r[f])];
        }

        return columns;
    }

    /// <summary>Equal to float rounding: ONNX Runtime's vectorised log and division may differ from C# in the last bits.</summary>
    private static void AssertClose(float[][] expected, float[][] actual, IReadOnlyList<string> names)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var f = 0; f < expected.Length; f++)
        {
            for (var r = 0; r < expected[f].Length; r++)
            {
                var (x, y) = (expected[f][r], actual[f][r]);
                if (!(x.Equals(y) || Math.Abs(x - y) <= 1e-5f * Math.Max(1f, Math.Abs(x))))
                {
                    Assert.Fail($"Feature {names[f]}, row {r}: C# {x:R}, ML.NET {y:R}");
                }
            }
        }
    }

    /// <summary>breast_cancer with some cells blanked out, so that imputation has work to do.</summary>
    private static async Task<DataTable> BreastCancerWithGaps()
    {
        var table = (await DatasetCatalog.LoadAsync(new DatasetOptions("breast_cancer"))).Table;
        var random = new Random(5);
        var columns = table.Features.Select(c =>
        {
            var values = (float[])((NumericColumn)c).Values.Clone();
            for (var i = 0; i < values.Length; i += 17 + random.Next(5))
            {
                values[i] = float.NaN;
            }

            return (DataColumn)new NumericColumn(c.Name, values);
        }).ToList();
        return new DataTable(columns, table.LabelName, table.Labels);
    }

    [Fact]
    public void The_feature_graph_computes_every_shape_of_formula_as_the_csharp_evaluator_does()
    {
        var a = new FeatureExpression.Column("petal length");
        var b = new FeatureExpression.Column("b");
        FeatureExpression.Constant K(float v) => new(v);
        FeatureExpression[] formulas =
        [
            a,
            (a * b - K(2.5f)) / K(1.25f),
            (b * a - K(-1f)) / K(3f),
            new FeatureExpression.Ln(K(1) + new FeatureExpression.FillMissing(a, 0.1f)),
            new FeatureExpression.FillMissing(b, 7f) * K(2f),
            K(4f) + K(1f),
        ];
        Assert.Equal("(((petal length * b) - 2.5) / 1.25)", formulas[1].ToString());
        float[] columnA = [1f, float.NaN, 3.5f, -0.25f];
        float[] columnB = [2f, 4f, float.NaN, 8f];
        var graph = FeatureGraph.Compile(["petal length", "b"], formulas);
        using var session = new Microsoft.ML.OnnxRuntime.InferenceSession(graph);
        var input = new Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>(new float[] { columnA[0], columnB[0], columnA[1], columnB[1], columnA[2], columnB[2], columnA[3], columnB[3] }, new[] { 4, 2 });
        using var results = session.Run([Microsoft.ML.OnnxRuntime.NamedOnnxValue.CreateFromTensor(FeatureGraph.InputName, input)]);
        var output = results.Single().AsTensor<float>();
        Assert.Equal([4, formulas.Length], output.Dimensions.ToArray());
        for (var f = 0; f < formulas.Length; f++)
        {
            var expected = formulas[f].Evaluate(name => name == "b" ? columnB : columnA, 4);
            for (var row = 0; row < 4; row++)
            {
                var (x, y) = (expected[row], output[row, f]);
                Assert.True(x.Equals(y) || Math.Abs(x - y) <= 1e-5f * Math.Max(1f, Math.Abs(x)), $"formula {formulas[f]}, row {row}: C# {x:R}, ONNX {y:R}");
            }
        }
    }

    [Fact]
    public async Task Ml_net_expression_output_equals_the_csharp_evaluator_on_breast_cancer_impute_polynomial_zscale()
    {
        var table = await BreastCancerWithGaps();
        var (train, _, _) = Splits.Stratified(table, 0.2, 0, seed: 1);
        var trainTable = table.Select(train);
        var plan = FeaturePlan.Fit(
            [EnricherCatalog.Create("impute", new Dictionary<string, object?> { ["strategy"] = "median" }), EnricherCatalog.Create("polynomial"), EnricherCatalog.Create("zscale")],
            trainTable);
        Assert.Equal(30 + 465, plan.FeatureNames.Count);

        var ml = new MLContext(seed: 1);
        var model = plan.ToEstimator(ml).Fit(new ColumnarDataView(trainTable));
        var transformed = model.Transform(new ColumnarDataView(table));

        AssertClose(plan.Transform(table), MlNetFeatures(transformed, plan.FeatureNames.Count), plan.FeatureNames);
        Assert.DoesNotContain(transformed.Schema, c => c.Name.StartsWith("Features.__", StringComparison.Ordinal) && !c.IsHidden);
    }

    [Fact]
    public async Task Ml_net_agrees_on_higgs_with_automated_log_and_minmax()
    {
        var table = (await DatasetCatalog.LoadAsync(new DatasetOptions("higgs", Path: Data.HiggsDatasetTests.SyntheticFile, RowLimit: 2_000))).Table;
        var train = table.Select([.. Enumerable.Range(0, 1_500)]);
        var plan = FeaturePlan.Fit([EnricherCatalog.Create("log"), EnricherCatalog.Create("automated"), EnricherCatalog.Create("minmax")], train);
        Assert.Contains(plan.Choices, c => c.Key.StartsWith("automated.", StringComparison.Ordinal) && c.Value.Contains("log1p"));

        var ml = new MLContext(seed: 1);
        var transformed = plan.ToEstimator(ml).Fit(new ColumnarDataView(train)).Transform(new ColumnarDataView(table));

        AssertClose(plan.Transform(table), MlNetFeatures(transformed, plan.FeatureNames.Count), plan.FeatureNames);
    }

    [Fact]
    public void Text_columns_are_one_hot_encoded_over_the_training_categories_and_unseen_ones_are_zero()
    {
        var table = EnricherTests.Sample();
        var train = table.Select([0, 1, 2, 3, 5]);
        var plan = FeaturePlan.Fit([EnricherCatalog.Create("impute"), EnricherCatalog.Create("zscale")], train);
        Assert.Equal(["x", "y", "z", "m", "colour=blue", "colour=red"], plan.FeatureNames);

        var ml = new MLContext(seed: 1);
        var transformed = plan.ToEstimator(ml).Fit(new ColumnarDataView(train)).Transform(new ColumnarDataView(table));

        var expected = plan.Transform(table);
        AssertClose(expected, MlNetFeatures(transformed, plan.FeatureNames.Count), plan.FeatureNames);
        Assert.Equal(0f, expected[4][4]);
        Assert.Equal(0f, expected[5][4]);
    }

    [Fact]
    public async Task A_saved_and_loaded_model_computes_the_same_features_from_raw_columns()
    {
        var table = await BreastCancerWithGaps();
        var train = table.Select([.. Enumerable.Range(0, 400)]);
        var plan = FeaturePlan.Fit(
            [EnricherCatalog.Create("subset", new Dictionary<string, object?> { ["columns"] = new[] { "mean_radius", "mean_texture", "worst_area", "area_error" } }),
             EnricherCatalog.Create("automated"), EnricherCatalog.Create("polynomial", new Dictionary<string, object?> { ["degree"] = 3 }), EnricherCatalog.Create("minmax")],
            train);
        var ml = new MLContext(seed: 1);
        var trainView = new ColumnarDataView(train);
        var model = plan.ToEstimator(ml).Fit(trainView);

        using var stream = new MemoryStream();
        ml.Model.Save(model, trainView.Schema, stream);
        stream.Position = 0;
        var loaded = new MLContext(seed: 2).Model.Load(stream, out var inputSchema);

        Assert.NotNull(inputSchema.GetColumnOrNull("mean_radius"));
        var expected = plan.Transform(table);
        AssertClose(expected, MlNetFeatures(loaded.Transform(new ColumnarDataView(table)), plan.FeatureNames.Count), plan.FeatureNames);
        AssertClose(expected, MlNetFeatures(model.Transform(new ColumnarDataView(table)), plan.FeatureNames.Count), plan.FeatureNames);
    }
}
