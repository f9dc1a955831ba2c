using Cairn.Tuning;
using Microsoft.ML;

namespace Cairn.Lab.Pipelines;

/// <summary>
/// A configuration mistake (unknown name, bad option, missing file or column, inverted bounds): one
/// message naming the problem and, where there is a choice, the allowed values.
/// </summary>
public sealed class PipelineConfigException(string message) : Exception(message);

/// <summary>An option a catalog entry accepts, for <c>cairn train --list</c> and for validating configs.</summary>
public sealed record OptionInfo(string Name, string Description, string? Default = null);

/// <summary>A named building block (dataset, enricher, model, fine-tuner) as <c>--list</c> shows it.</summary>
public sealed record CatalogEntry(string Name, string Description, IReadOnlyList<OptionInfo> Options);

/// <summary>What a data set is, as logged with the run's dataset input.</summary>
/// <param name="Source">Where it came from: a file path or <c>cairn:builtin/iris.csv</c>.</param>
/// <param name="Digest">A short content hash (MLflow uses 8+ hex characters) of the rows read.</param>
/// <param name="Schema">MLflow's schema JSON: <c>{"mlflow_colspec": [{"type": "float", "name": ...}, ...]}</c>.</param>
/// <param name="Profile">MLflow's profile JSON, e.g. <c>{"num_rows": 150, "num_elements": 750}</c>.</param>
public sealed record DatasetDescription(string Name, string Digest, string SourceType, string Source, string Schema, string Profile);

public sealed record LoadedDataset(DataTable Table, DatasetDescription Description);

/// <summary>How to load a data set: the catalog name and its options from config and the command line.</summary>
/// <param name="Location">The data folder (<c>-l</c>), where <c>higgs</c> finds <c>HIGGS.csv.gz</c>.</param>
/// <param name="Path">A file (for <c>csv</c>, or an explicit HIGGS file).</param>
/// <param name="Label">The label column (for <c>csv</c>).</param>
/// <param name="RowLimit">Read at most this many rows (streaming sources).</param>
public sealed record DatasetOptions(string Name, string? Location = null, string? Path = null, string? Label = null, long? RowLimit = null);

/// <summary>A configured feature enricher: one step of a chain, fitted on the training rows only.</summary>
public interface IFeatureEnricher
{
    string Name { get; }
}

/// <summary>The hyperparameters a model accepts and how it builds its ML.NET trainer.</summary>
public interface IPipelineModel
{
    /// <summary>The catalog name, e.g. <c>lightgbm</c>.</summary>
    string Name { get; }

    /// <summary>The search space used when the config gives none for this model.</summary>
    IReadOnlyDictionary<string, Distribution> DefaultSearchSpace { get; }

    /// <summary>
    /// The estimator that trains on the float vector column <see cref="TrainerContext.FeaturesColumn"/>
    /// and the text label column <see cref="TrainerContext.LabelColumn"/>, and adds
    /// <c>PredictedLabel</c> (text: one of <see cref="TrainerContext.ClassNames"/>) and <c>Score</c>
    /// (float vector of class probabilities in <see cref="TrainerContext.ClassNames"/> order).
    /// </summary>
    /// <exception cref="PipelineConfigException">An unknown hyperparameter or a value out of range.</exception>
    IEstimator<ITransformer> CreateTrainer(MLContext ml, TrainerContext context, IReadOnlyDictionary<string, object?> hyperparameters);
}

/// <param name="Seed">Trainers that randomise use this seed (reproducibility).</param>
/// <param name="OnIteration">When set, a model that trains in iterations reports (iteration, validation loss) and stops when it returns false (pruning).</param>
public sealed record TrainerContext(
    string LabelColumn,
    IReadOnlyList<string> ClassNames,
    int Seed,
    string FeaturesColumn = "Features",
    Func<int, double, bool>? OnIteration = null);
