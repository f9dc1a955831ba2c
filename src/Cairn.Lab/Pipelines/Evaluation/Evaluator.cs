using Microsoft.ML;
using Microsoft.ML.Data;

namespace Cairn.Lab.Pipelines.Evaluation;

/// <summary>
/// Scores a fitted classifier (one that adds text <c>PredictedLabel</c> and the class-probability
/// vector <c>Score</c>, see <see cref="IPipelineModel"/>) on labelled data. The arithmetic is Cairn's
/// own (<see cref="EvaluationResult"/>): ML.NET's evaluators give neither weighted/per-class F1 nor
/// one-vs-rest AUC, nor the per-row vectors the curves need.
/// </summary>
public static class Evaluator
{
    /// <param name="labelColumn">The text label column of <paramref name="data"/>.</param>
    /// <param name="classNames">The classes in the order of the model's Score vector (the training table's <see cref="DataTable.ClassNames"/>).</param>
    /// <exception cref="ArgumentException">A column is missing or of the wrong type, or a label is not one of <paramref name="classNames"/>.</exception>
    public static EvaluationResult Evaluate(ITransformer model, IDataView data, string labelColumn, IReadOnlyList<string> classNames)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(labelColumn);
        ArgumentNullException.ThrowIfNull(classNames);
        if (classNames.Count < 2)
        {
            throw new ArgumentException($"Evaluation needs at least two classes, got {classNames.Count}.", nameof(classNames));
        }

        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < classNames.Count; i++)
        {
            index[classNames[i]] = i;
        }

        var scored = model.Transform(data);
        var label = Column(scored, labelColumn, "label");
        var score = Column(scored, "Score", "score");
        if (label.Type is not TextDataViewType)
        {
            throw new ArgumentException($"The label column '{labelColumn}' must be text, but is {label.Type}.", nameof(labelColumn));
        }

        if (score.Type is not VectorDataViewType { ItemType: NumberDataViewType } scoreType || scoreType.ItemType.RawType != typeof(float))
        {
            throw new ArgumentException($"The model's Score column must be a float vector of class probabilities, but is {score.Type}.", nameof(model));
        }

        var predicted = scored.Schema.GetColumnOrNull("PredictedLabel") is { Type: TextDataViewType } p ? p : (DataViewSchema.Column?)null;
        var columns = new List<DataViewSchema.Column> { label, score };
        if (predicted is { } pc)
        {
            columns.Add(pc);
        }

        var trueClasses = new List<int>();
        var predictedClasses = new List<int>();
        var probabilities = new List<float[]>();
        using var cursor = scored.GetRowCursor(columns);
        var getLabel = cursor.GetGetter<ReadOnlyMemory<char>>(label);
        var getScore = cursor.GetGetter<VBuffer<float>>(score);
        var getPredicted = predicted is { } col ? cursor.GetGetter<ReadOnlyMemory<char>>(col) : null;
        ReadOnlyMemory<char> text = default;
        VBuffer<float> vector = default;
        while (cursor.MoveNext())
        {
            getLabel(ref text);
            var name = text.ToString();
            if (!index.TryGetValue(name, out var trueClass))
            {
                throw new ArgumentException(
                    $"Row {cursor.Position} has label '{name}', which is not one of the model's classes: {string.Join(", ", classNames)}.", nameof(data));
            }

            getScore(ref vector);
            if (vector.Length != classNames.Count)
            {
                throw new ArgumentException($"The model's Score has {vector.Length} values per row, but there are {classNames.Count} classes.", nameof(classNames));
            }

            var row = new float[classNames.Count];
            vector.CopyTo(row);
            var predictedClass = ArgMax(row);
            if (getPredicted is not null)
            {
                getPredicted(ref text);
                predictedClass = index.TryGetValue(text.ToString(), out var pi) ? pi : predictedClass;
            }

            trueClasses.Add(trueClass);
            predictedClasses.Add(predictedClass);
            probabilities.Add(row);
        }

        return new EvaluationResult([.. classNames], [.. trueClasses], [.. predictedClasses], [.. probabilities]);
    }

    /// <summary>Metrics from rows already scored elsewhere (true class, predicted class, probabilities per row).</summary>
    public static EvaluationResult FromPredictions(IReadOnlyList<string> classNames, int[] trueClasses, int[] predictedClasses, float[][] probabilities)
    {
        ArgumentNullException.ThrowIfNull(classNames);
        ArgumentNullException.ThrowIfNull(trueClasses);
        ArgumentNullException.ThrowIfNull(predictedClasses);
        ArgumentNullException.ThrowIfNull(probabilities);
        if (trueClasses.Length != predictedClasses.Length || trueClasses.Length != probabilities.Length)
        {
            throw new ArgumentException("True classes, predicted classes and probabilities must have one entry per row.");
        }

        if (trueClasses.Concat(predictedClasses).Any(c => c < 0 || c >= classNames.Count) || probabilities.Any(p => p.Length != classNames.Count))
        {
            throw new ArgumentException($"Class indexes must be in [0, {classNames.Count}) and probability vectors of length {classNames.Count}.");
        }

        return new EvaluationResult([.. classNames], trueClasses, predictedClasses, probabilities);
    }

    private static DataViewSchema.Column Column(IDataView view, string name, string what) =>
        view.Schema.GetColumnOrNull(name)
        ?? throw new ArgumentException($"The scored data has no {what} column '{name}'; its columns are: {string.Join(", ", view.Schema.Where(c => !c.IsHidden).Select(c => c.Name))}.");

    private static int ArgMax(float[] values)
    {
        var best = 0;
        for (var i = 1; i < values.Length; i++)
        {
            if (values[i] > values[best])
            {
                best = i;
            }
        }

        return best;
    }
}
