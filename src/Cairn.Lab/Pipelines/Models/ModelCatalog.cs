namespace Cairn.Lab.Pipelines.Models;

/// <summary>The models a pipeline config can name, with their hyperparameters for <c>cairn train --list</c>.</summary>
public static class ModelCatalog
{
    private static readonly (string Name, string Description, IReadOnlyList<OptionInfo> Options, Func<IPipelineModel> Create)[] Models =
    [
        ("logistic_regression", "multinomial logistic regression (ML.NET L-BFGS maximum entropy)", LogisticRegressionModel.Options, () => new LogisticRegressionModel()),
        ("random_forest", "random forest (ML.NET FastForest, one-versus-all, calibrated)", RandomForestModel.Options, () => new RandomForestModel()),
        ("lightgbm", "gradient-boosted trees (LightGBM, softmax objective)", LightGbmModel.Options, () => new LightGbmModel()),
        ("fasttree", "gradient-boosted trees (ML.NET FastTree, one-versus-all, calibrated)", FastTreeModel.Options, () => new FastTreeModel()),
        ("mlp", "multilayer perceptron (Cairn's own trainer; scored as ONNX through ML.NET's OnnxTransformer)", MlpModel.Options, () => new MlpModel()),
    ];

    public static IReadOnlyList<CatalogEntry> Entries { get; } =
        [.. Models.Select(m => new CatalogEntry(m.Name, m.Description, m.Options))];

    /// <exception cref="PipelineConfigException">No model of that name (the message lists the allowed names).</exception>
    public static IPipelineModel Create(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        foreach (var model in Models)
        {
            if (string.Equals(model.Name, name.Trim(), StringComparison.OrdinalIgnoreCase))
            {
                return model.Create();
            }
        }

        throw new PipelineConfigException($"Unknown model '{name}'; the allowed models are: {string.Join(", ", Models.Select(m => m.Name))}.");
    }
}
