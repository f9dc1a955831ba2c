namespace Cairn.Models;

/// <summary>
/// One row's prediction: the label (a class for classifiers, the value for regressors) and, when
/// the model has them, the per-class scores (in <see cref="IModelPredictor.ClassNames"/> order) and
/// the probability of the positive class (binary classifiers).
/// </summary>
public sealed record Prediction(object? Label, IReadOnlyList<float>? Scores = null, float? Probability = null);

/// <summary>A loaded model that scores rows given as column name → value.</summary>
public interface IModelPredictor
{
    /// <summary>The package's <c>MLmodel</c> (signature, flavors, run).</summary>
    ModelFile Model { get; }

    /// <summary>The local folder the package was loaded from.</summary>
    string LocalPath { get; }

    /// <summary>Class names in the order of <see cref="Prediction.Scores"/>, when the model knows them.</summary>
    IReadOnlyList<string>? ClassNames { get; }

    /// <summary>Scores the rows; values may be CLR values, text or <c>System.Text.Json</c> nodes. Safe to call from several threads at once.</summary>
    /// <exception cref="ArgumentException">A required column is missing or a value cannot be converted; the message names the column.</exception>
    IReadOnlyList<Prediction> Predict(IEnumerable<IReadOnlyDictionary<string, object?>> rows);
}
