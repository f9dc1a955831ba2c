using System.Globalization;
using Cairn.Tuning;
using Microsoft.ML;

namespace Cairn.Lab.Pipelines.Models;

/// <summary>
/// A multilayer perceptron trained by Cairn's own code (<see cref="MlpNetwork"/>), then exported to
/// ONNX and scored through ML.NET's OnnxTransformer, so the fitted model saves, loads and serves like
/// every other ML.NET model (see <see cref="MlpEstimator"/>).
/// </summary>
public sealed class MlpModel : IPipelineModel
{
    public static readonly IReadOnlyList<OptionInfo> Options =
    [
        new("hidden_layers", "hidden layer sizes, comma-separated, e.g. \"64,32\"; empty for none", "64"),
        new("activation", "hidden activation: relu or tanh", "relu"),
        new("optimizer", "adam, or sgd (with momentum 0.9)", "adam"),
        new("learning_rate", "step size, (0, 1]", "0.005"),
        new("epochs", "maximum passes over the training rows (>= 1)", "200"),
        new("batch_size", "rows per gradient step (>= 1)", "32"),
        new("l2", "L2 penalty on the weights (>= 0)", "0.001"),
        new("patience", "stop after this many epochs without a better validation loss; 0 = no early stopping", "20"),
        new("validation_fraction", "share of training rows held out for early stopping, [0, 0.5]", "0.1"),
    ];

    public string Name => "mlp";

    public IReadOnlyDictionary<string, Distribution> DefaultSearchSpace { get; } = new Dictionary<string, Distribution>
    {
        ["hidden_layers"] = new CategoricalDistribution(["32", "64", "64,32", "128,64"]),
        ["activation"] = new CategoricalDistribution(["relu", "tanh"]),
        ["learning_rate"] = new FloatDistribution(1e-4, 3e-2, log: true),
        ["l2"] = new FloatDistribution(1e-6, 1e-2, log: true),
        ["batch_size"] = new CategoricalDistribution([16L, 32L, 64L]),
    };

    public IEstimator<ITransformer> CreateTrainer(MLContext ml, TrainerContext context, IReadOnlyDictionary<string, object?> hyperparameters)
    {
        ArgumentNullException.ThrowIfNull(ml);
        ArgumentNullException.ThrowIfNull(context);
        var p = new Hyperparameters(Name, Options, hyperparameters);
        ClassifierPipeline.Validate(context, Name);
        var options = new MlpOptions
        {
            HiddenLayers = ParseLayers(p),
            Activation = p.Choice("activation", "relu", "relu", "tanh") == "tanh" ? MlpActivation.Tanh : MlpActivation.Relu,
            Optimizer = p.Choice("optimizer", "adam", "adam", "sgd") == "sgd" ? MlpOptimizer.Sgd : MlpOptimizer.Adam,
            LearningRate = (float)p.Float("learning_rate", 0.005, 0, 1, minExclusive: true),
            Epochs = p.Int("epochs", 200, 1, 100_000),
            BatchSize = p.Int("batch_size", 32, 1),
            L2 = (float)p.Float("l2", 1e-3, 0),
            Patience = p.Int("patience", 20, 0),
            ValidationFraction = p.Float("validation_fraction", 0.1, 0, 0.5),
            Seed = context.Seed,
        };
        return new MlpEstimator(ml, context, options);
    }

    private static int[] ParseLayers(Hyperparameters p)
    {
        var text = p.Text("hidden_layers", "64") ?? "";
        var parts = text.Split([',', ' ', ';'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var layers = new int[parts.Length];
        for (var i = 0; i < parts.Length; i++)
        {
            if (!int.TryParse(parts[i], NumberStyles.Integer, CultureInfo.InvariantCulture, out layers[i]) || layers[i] < 1 || layers[i] > 4096)
            {
                throw p.Invalid("hidden_layers", text, "a comma-separated list of layer sizes between 1 and 4096, e.g. \"64,32\" (empty for none)");
            }
        }

        return layers;
    }
}
