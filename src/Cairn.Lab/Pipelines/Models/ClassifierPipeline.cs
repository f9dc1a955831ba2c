using Microsoft.ML;
using Microsoft.ML.Data;

namespace Cairn.Lab.Pipelines.Models;

/// <summary>
/// The wrapping every ML.NET model shares: the text label becomes a key in the table's class order
/// (so Score slots follow <see cref="TrainerContext.ClassNames"/> and carry them as slot names), the
/// multiclass trainer runs on that key, and the predicted key becomes the original text again.
/// Binary problems go through the same multiclass path, so Score is always one probability per class.
/// </summary>
internal static class ClassifierPipeline
{
    /// <summary>The key-typed label the trainers read; the raw text label stays untouched beside it.</summary>
    public const string LabelKeyColumn = "LabelKey";

    /// <summary>Below this many training rows tree trainers run on one thread (see <see cref="Wrap"/>).</summary>
    public const long SingleThreadRowLimit = 50_000;

    public static IEstimator<ITransformer> Wrap(MLContext ml, TrainerContext context, string model, Func<string, IEstimator<ITransformer>> trainer) =>
        Wrap(ml, context, model, (label, _) => trainer(label));

    /// <summary>
    /// As <see cref="Wrap(MLContext, TrainerContext, string, Func{string, IEstimator{ITransformer}})"/>, for trainers
    /// that take a thread count: null (all cores) for large data, 1 for small data. On small data the
    /// threads mostly wait for each other; on a busy machine LightGBM's spinning OpenMP threads made a
    /// 150-row fit take seconds instead of a fraction of one. One thread also makes a seed reproduce exactly.
    /// </summary>
    public static IEstimator<ITransformer> Wrap(MLContext ml, TrainerContext context, string model, Func<string, int?, IEstimator<ITransformer>> trainer)
    {
        ArgumentNullException.ThrowIfNull(ml);
        ArgumentNullException.ThrowIfNull(context);
        Validate(context, model);
        var keys = ClassKeys(ml, context.ClassNames);
        return new SizedEstimator(rows => ml.Transforms.Conversion.MapValueToKey(LabelKeyColumn, context.LabelColumn, keyData: keys)
            .Append(trainer(LabelKeyColumn, rows is { } n && n < SingleThreadRowLimit ? 1 : null))
            .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedLabel")));
    }

    /// <summary>
    /// For a two-class table, a binary trainer (half the work of a multiclass one for boosted trees:
    /// one tree per iteration instead of one per class) wrapped to the same outputs as
    /// <see cref="Wrap(MLContext, TrainerContext, string, Func{string, int?, IEstimator{ITransformer}})"/>:
    /// the text label mapped to a boolean (the second class is true), and after the trainer a
    /// <c>Score</c> vector <c>[1 - p, p]</c> with the class names as slot names and a text
    /// <c>PredictedLabel</c>. Falls back to <see cref="Wrap(MLContext, TrainerContext, string, Func{string, int?, IEstimator{ITransformer}})"/>
    /// for more classes, or for class names the expression language cannot quote.
    /// </summary>
    /// <param name="binary">The binary trainer on the boolean label column, producing <c>Probability</c> and a boolean <c>PredictedLabel</c>.</param>
    public static IEstimator<ITransformer> WrapBinaryOrMulticlass(
        MLContext ml,
        TrainerContext context,
        string model,
        Func<string, int?, IEstimator<ITransformer>> binary,
        Func<string, int?, IEstimator<ITransformer>> multiclass)
    {
        ArgumentNullException.ThrowIfNull(ml);
        ArgumentNullException.ThrowIfNull(context);
        Validate(context, model);
        var classes = context.ClassNames;
        if (classes.Count != 2 || classes.Any(c => c.Contains('"', StringComparison.Ordinal) || c.Contains('\\', StringComparison.Ordinal)))
        {
            return Wrap(ml, context, model, multiclass);
        }

        const string booleanLabel = "cairn_label_is_" + "positive";
        const string predicted = "cairn_predicted_is_positive";
        // Scalar columns named after the classes, so that Concatenate gives Score the class names as slot names.
        var (negative, positive) = (classes[0], classes[1]);
        return new SizedEstimator(rows => ml.Transforms.Expression(booleanLabel, $"(y) => y == \"{classes[1]}\"", context.LabelColumn)
            .Append(binary(booleanLabel, rows is { } n && n < SingleThreadRowLimit ? 1 : null))
            .Append(ml.Transforms.CopyColumns(predicted, "PredictedLabel"))
            .Append(ml.Transforms.Expression("PredictedLabel", $"(b) => b ? \"{classes[1]}\" : \"{classes[0]}\"", predicted))
            .Append(ml.Transforms.Expression(negative, "(p) => 1 - p", "Probability"))
            .Append(ml.Transforms.CopyColumns(positive, "Probability"))
            .Append(ml.Transforms.Concatenate("Score", negative, positive))
            .Append(ml.Transforms.DropColumns(booleanLabel, predicted, negative, positive)));
    }

    public static void Validate(TrainerContext context, string model)
    {
        if (context.ClassNames.Count < 2)
        {
            throw new PipelineConfigException(
                $"Model '{model}' needs at least two classes in label column '{context.LabelColumn}', but found {context.ClassNames.Count}.");
        }
    }

    /// <summary>A one-column view of the class names: MapValueToKey numbers keys in this order.</summary>
    public static IDataView ClassKeys(MLContext ml, IReadOnlyList<string> classNames) =>
        ml.Data.LoadFromEnumerable(classNames.Select(c => new ClassNameRow { Value = c }).ToList());

    /// <summary>
    /// Builds its estimator when it sees the training data (to size it by row count). What it returns
    /// from <see cref="Fit"/> is the built estimator's own transformer chain, so nothing of this class
    /// is saved with the model.
    /// </summary>
    private sealed class SizedEstimator(Func<long?, IEstimator<ITransformer>> build) : IEstimator<ITransformer>
    {
        public ITransformer Fit(IDataView input) => build(input.GetRowCount()).Fit(input);

        public SchemaShape GetOutputSchema(SchemaShape inputSchema) => build(null).GetOutputSchema(inputSchema);
    }

    private sealed class ClassNameRow
    {
        public string Value { get; set; } = "";
    }
}
