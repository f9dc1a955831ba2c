using Cairn.Tuning;
using Microsoft.ML;
using Microsoft.ML.Trainers;

namespace Cairn.Lab.Pipelines.Models;

/// <summary>Multinomial logistic regression (ML.NET's L-BFGS maximum entropy), also used for two classes.</summary>
public sealed class LogisticRegressionModel : IPipelineModel
{
    public static readonly IReadOnlyList<OptionInfo> Options =
    [
        new("l1", "L1 regularisation weight (>= 0)", "0"),
        new("l2", "L2 regularisation weight (>= 0)", "1"),
        new("max_iterations", "maximum L-BFGS iterations (>= 1)", "100"),
        new("tolerance", "convergence tolerance of the optimiser (> 0)", "1e-7"),
        new("history_size", "L-BFGS memory: past gradients kept (>= 1)", "20"),
    ];

    public string Name => "logistic_regression";

    public IReadOnlyDictionary<string, Distribution> DefaultSearchSpace { get; } = new Dictionary<string, Distribution>
    {
        ["l1"] = new FloatDistribution(1e-6, 1.0, log: true),
        ["l2"] = new FloatDistribution(1e-6, 10.0, log: true),
    };

    public IEstimator<ITransformer> CreateTrainer(MLContext ml, TrainerContext context, IReadOnlyDictionary<string, object?> hyperparameters)
    {
        var p = new Hyperparameters(Name, Options, hyperparameters);
        var l1 = (float)p.Float("l1", 0, 0);
        var l2 = (float)p.Float("l2", 1, 0);
        var maxIterations = p.Int("max_iterations", 100, 1);
        var tolerance = (float)p.Float("tolerance", 1e-7, 0, minExclusive: true);
        var history = p.Int("history_size", 20, 1);
        return ClassifierPipeline.Wrap(ml, context, Name, (label, threads) => ml.MulticlassClassification.Trainers.LbfgsMaximumEntropy(
            new LbfgsMaximumEntropyMulticlassTrainer.Options
            {
                LabelColumnName = label,
                FeatureColumnName = context.FeaturesColumn,
                L1Regularization = l1,
                L2Regularization = l2,
                MaximumNumberOfIterations = maxIterations,
                OptimizationTolerance = tolerance,
                HistorySize = history,
                NumberOfThreads = threads,
            }));
    }
}
