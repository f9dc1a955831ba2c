using Cairn.Tuning;
using Microsoft.ML;
using Microsoft.ML.Trainers.FastTree;

namespace Cairn.Lab.Pipelines.Models;

/// <summary>
/// A random forest: ML.NET's FastForest, one forest per class (one-versus-all) with calibrated
/// probabilities normalised to sum to one.
/// </summary>
public sealed class RandomForestModel : IPipelineModel
{
    public static readonly IReadOnlyList<OptionInfo> Options =
    [
        new("n_trees", "number of trees per class (>= 1)", "100"),
        new("n_leaves", "maximum leaves per tree (>= 2)", "20"),
        new("min_samples_leaf", "minimum training rows in a leaf (>= 1)", "2"),
        new("feature_fraction", "share of features considered at each split, (0, 1]", "0.7"),
        new("bagging_fraction", "share of rows sampled for each tree, (0, 1]", "0.7"),
    ];

    public string Name => "random_forest";

    public IReadOnlyDictionary<string, Distribution> DefaultSearchSpace { get; } = new Dictionary<string, Distribution>
    {
        ["n_trees"] = new IntDistribution(20, 300),
        ["n_leaves"] = new IntDistribution(4, 64, log: true),
        ["min_samples_leaf"] = new IntDistribution(1, 20),
        ["feature_fraction"] = new FloatDistribution(0.3, 1.0),
    };

    public IEstimator<ITransformer> CreateTrainer(MLContext ml, TrainerContext context, IReadOnlyDictionary<string, object?> hyperparameters)
    {
        var p = new Hyperparameters(Name, Options, hyperparameters);
        var trees = p.Int("n_trees", 100, 1);
        var leaves = p.Int("n_leaves", 20, 2);
        var minLeaf = p.Int("min_samples_leaf", 2, 1);
        var featureFraction = p.Float("feature_fraction", 0.7, 0, 1, minExclusive: true);
        var bagging = p.Float("bagging_fraction", 0.7, 0, 1, minExclusive: true);
        return ClassifierPipeline.Wrap(ml, context, Name, (label, threads) => ml.MulticlassClassification.Trainers.OneVersusAll(
            // The binary trainer inside OVA must name the key label too, or it looks for a Boolean 'Label'.
            ml.BinaryClassification.Trainers.FastForest(new FastForestBinaryTrainer.Options
            {
                LabelColumnName = label,
                FeatureColumnName = context.FeaturesColumn,
                NumberOfTrees = trees,
                NumberOfLeaves = leaves,
                MinimumExampleCountPerLeaf = minLeaf,
                // Per split, as in a textbook (and scikit-learn's) random forest; every tree sees all features.
                FeatureFractionPerSplit = featureFraction,
                FeatureFraction = 1.0,
                BaggingExampleFraction = bagging,
                Seed = context.Seed,
                NumberOfThreads = threads,
                FeatureSelectionSeed = context.Seed,
            }),
            labelColumnName: label,
            useProbabilities: true));
    }
}
