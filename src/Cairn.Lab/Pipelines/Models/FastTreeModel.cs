using Cairn.Tuning;
using Microsoft.ML;
using Microsoft.ML.Trainers.FastTree;

namespace Cairn.Lab.Pipelines.Models;

/// <summary>
/// ML.NET's FastTree (MART gradient boosting): one boosted binary model per class (one-versus-all),
/// calibrated, probabilities normalised to sum to one. Two classes train two models, so Score has
/// one probability per class like every other model.
/// </summary>
public sealed class FastTreeModel : IPipelineModel
{
    public static readonly IReadOnlyList<OptionInfo> Options =
    [
        new("n_trees", "boosting rounds per class (>= 1)", "100"),
        new("n_leaves", "maximum leaves per tree (>= 2)", "20"),
        new("learning_rate", "shrinkage per round, (0, 1]", "0.2"),
        new("min_samples_leaf", "minimum training rows in a leaf (>= 1)", "10"),
        new("feature_fraction", "share of features sampled per tree, (0, 1]", "1"),
    ];

    public string Name => "fasttree";

    public IReadOnlyDictionary<string, Distribution> DefaultSearchSpace { get; } = new Dictionary<string, Distribution>
    {
        ["n_trees"] = new IntDistribution(20, 300),
        ["n_leaves"] = new IntDistribution(4, 64, log: true),
        ["learning_rate"] = new FloatDistribution(0.01, 0.5, log: true),
        ["min_samples_leaf"] = new IntDistribution(1, 30),
    };

    public IEstimator<ITransformer> CreateTrainer(MLContext ml, TrainerContext context, IReadOnlyDictionary<string, object?> hyperparameters)
    {
        var p = new Hyperparameters(Name, Options, hyperparameters);
        var trees = p.Int("n_trees", 100, 1);
        var leaves = p.Int("n_leaves", 20, 2);
        var learningRate = p.Float("learning_rate", 0.2, 0, 1, minExclusive: true);
        var minLeaf = p.Int("min_samples_leaf", 10, 1);
        var featureFraction = p.Float("feature_fraction", 1, 0, 1, minExclusive: true);
        return ClassifierPipeline.Wrap(ml, context, Name, (label, threads) => ml.MulticlassClassification.Trainers.OneVersusAll(
            ml.BinaryClassification.Trainers.FastTree(new FastTreeBinaryTrainer.Options
            {
                LabelColumnName = label,
                FeatureColumnName = context.FeaturesColumn,
                NumberOfTrees = trees,
                NumberOfLeaves = leaves,
                LearningRate = learningRate,
                MinimumExampleCountPerLeaf = minLeaf,
                FeatureFraction = featureFraction,
                Seed = context.Seed,
                NumberOfThreads = threads,
                FeatureSelectionSeed = context.Seed,
            }),
            labelColumnName: label,
            useProbabilities: true));
    }
}
