using Cairn.Tuning;
using Microsoft.ML;
using Microsoft.ML.Trainers.LightGbm;

namespace Cairn.Lab.Pipelines.Models;

/// <summary>Gradient-boosted trees with LightGBM's multiclass (softmax) objective, also used for two classes.</summary>
public sealed class LightGbmModel : IPipelineModel
{
    public static readonly IReadOnlyList<OptionInfo> Options =
    [
        new("num_iterations", "boosting rounds (>= 1)", "100"),
        new("learning_rate", "shrinkage per round, (0, 1]", "0.1"),
        new("num_leaves", "maximum leaves per tree (>= 2)", "31"),
        new("min_data_in_leaf", "minimum training rows in a leaf (>= 1)", "20"),
        new("feature_fraction", "share of features sampled per tree, (0, 1]", "1"),
        new("bagging_fraction", "share of rows sampled per round, (0, 1]", "1"),
        new("lambda_l1", "L1 regularisation on leaf values (>= 0)", "0"),
        new("lambda_l2", "L2 regularisation on leaf values (>= 0)", "0"),
        new("max_bin", "histogram bins per feature (>= 2)", "255"),
    ];

    public string Name => "lightgbm";

    public IReadOnlyDictionary<string, Distribution> DefaultSearchSpace { get; } = new Dictionary<string, Distribution>
    {
        ["num_iterations"] = new IntDistribution(20, 300),
        ["learning_rate"] = new FloatDistribution(0.01, 0.3, log: true),
        ["num_leaves"] = new IntDistribution(4, 64, log: true),
        ["min_data_in_leaf"] = new IntDistribution(1, 50, log: true),
        ["feature_fraction"] = new FloatDistribution(0.5, 1.0),
        ["lambda_l2"] = new FloatDistribution(1e-6, 10.0, log: true),
    };

    public IEstimator<ITransformer> CreateTrainer(MLContext ml, TrainerContext context, IReadOnlyDictionary<string, object?> hyperparameters)
    {
        var p = new Hyperparameters(Name, Options, hyperparameters);
        var iterations = p.Int("num_iterations", 100, 1);
        var learningRate = p.Float("learning_rate", 0.1, 0, 1, minExclusive: true);
        var leaves = p.Int("num_leaves", 31, 2);
        var minLeaf = p.Int("min_data_in_leaf", 20, 1);
        var featureFraction = p.Float("feature_fraction", 1, 0, 1, minExclusive: true);
        var bagging = p.Float("bagging_fraction", 1, 0, 1, minExclusive: true);
        var l1 = p.Float("lambda_l1", 0, 0);
        var l2 = p.Float("lambda_l2", 0, 0);
        var maxBin = p.Int("max_bin", 255, 2);
        var booster = new GradientBooster.Options
        {
            FeatureFraction = featureFraction,
            SubsampleFraction = bagging,
            // LightGBM only bags when a frequency is set; 1 = resample every round.
            SubsampleFrequency = bagging < 1 ? 1 : 0,
            L1Regularization = l1,
            L2Regularization = l2,
        };
        return ClassifierPipeline.WrapBinaryOrMulticlass(
            ml,
            context,
            Name,
            (label, threads) => ml.BinaryClassification.Trainers.LightGbm(new LightGbmBinaryTrainer.Options
            {
                LabelColumnName = label,
                FeatureColumnName = context.FeaturesColumn,
                NumberOfIterations = iterations,
                LearningRate = learningRate,
                NumberOfLeaves = leaves,
                MinimumExampleCountPerLeaf = minLeaf,
                MaximumBinCountPerFeature = maxBin,
                Seed = context.Seed,
                NumberOfThreads = threads,
                Booster = booster,
            }),
            (label, threads) => ml.MulticlassClassification.Trainers.LightGbm(new LightGbmMulticlassTrainer.Options
            {
                LabelColumnName = label,
                FeatureColumnName = context.FeaturesColumn,
                NumberOfIterations = iterations,
                LearningRate = learningRate,
                NumberOfLeaves = leaves,
                MinimumExampleCountPerLeaf = minLeaf,
                MaximumBinCountPerFeature = maxBin,
                UseSoftmax = true,
                Seed = context.Seed,
                NumberOfThreads = threads,
                Booster = booster,
            }));
    }
}
