using Microsoft.ML;

namespace Cairn.Models.Tests;

/// <summary>What a prediction holds for binary classifiers and regressors (multiclass is covered with iris).</summary>
public class PredictionShapeTests
{
    public sealed class Row
    {
        public float A { get; set; }

        public float B { get; set; }

        public bool Label { get; set; }

        public float Target { get; set; }
    }

    private static List<Row> Rows() =>
        Enumerable.Range(0, 200).Select(i => new Row { A = i % 10, B = (i * 7) % 13, Label = i % 10 > 4, Target = (2 * (i % 10)) + ((i * 7) % 13) }).ToList();

    private static IModelPredictor SaveAndLoad(ITransformer model, IDataView data, MLNetSaveOptions? options, out ModelFile file)
    {
        var dir = Directory.CreateTempSubdirectory("cairn-shape-").FullName;
        try
        {
            file = MLNetFlavor.Save(dir, model, data, options);
            return ModelLoader.Load(dir); // the model is read into memory; the folder is not needed afterwards
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void Binary_classifier_predicts_a_boolean_with_score_and_probability()
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(Rows());
        var model = ml.Transforms.Concatenate("Features", "A", "B").Append(ml.BinaryClassification.Trainers.LbfgsLogisticRegression()).Fit(data);
        var predictor = SaveAndLoad(model, data, null, out var file);

        // The fitted model reads neither Label nor Target, so the signature asks for A and B only.
        Assert.Equal([new ColumnSpec("A", ColumnTypes.Float), new ColumnSpec("B", ColumnTypes.Float)], file.Signature!.Inputs);
        Assert.Equal(["PredictedLabel", "Score", "Probability"], file.Signature.Outputs!.Select(o => o.Name));

        var expected = ml.Data.CreateEnumerable<BinaryOut>(model.Transform(data), reuseRowObject: false).ToList();
        var actual = predictor.Predict(Rows().Select(r => (IReadOnlyDictionary<string, object?>)new Dictionary<string, object?> { ["A"] = r.A, ["B"] = r.B }));
        for (var i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i].PredictedLabel, actual[i].Label);
            Assert.Equal(expected[i].Score, Assert.Single(actual[i].Scores!));
            Assert.Equal(expected[i].Probability, actual[i].Probability);
        }

        Assert.Null(predictor.ClassNames);
    }

    [Fact]
    public void Regressor_predicts_its_score_as_the_label()
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(Rows());
        var model = ml.Transforms.Concatenate("Features", "A", "B").Append(ml.Regression.Trainers.Sdca("Target", maximumNumberOfIterations: 50)).Fit(data);
        var predictor = SaveAndLoad(model, data, new MLNetSaveOptions { LabelColumn = "Target" }, out var file);

        Assert.Equal([new ColumnSpec("Score", ColumnTypes.Float)], file.Signature!.Outputs);
        var expected = ml.Data.CreateEnumerable<RegressionOut>(model.Transform(data), reuseRowObject: false).ToList();
        var actual = predictor.Predict(Rows().Take(20).Select(r => (IReadOnlyDictionary<string, object?>)new Dictionary<string, object?> { ["A"] = r.A, ["B"] = r.B }));
        for (var i = 0; i < actual.Count; i++)
        {
            Assert.Equal(expected[i].Score, actual[i].Label);
            Assert.Null(actual[i].Scores);
        }
    }

    public sealed class BinaryOut
    {
        public bool PredictedLabel { get; set; }

        public float Score { get; set; }

        public float Probability { get; set; }
    }

    public sealed class RegressionOut
    {
        public float Score { get; set; }
    }
}
