using System.Globalization;
using System.Text;
using Cairn.Client;
using Cairn.Core;
using Cairn.Tuning;

namespace Cairn.Lab.Pipelines;

/// <summary>One metric of the original run next to the rerun's.</summary>
public sealed record MetricComparison(string Key, double Original, double Rerun)
{
    public bool Matches => Original.Equals(Rerun);
}

/// <param name="DatasetDigestMatches">Whether the data read now hashes as the data the original run read.</param>
/// <param name="OriginalCommit">The git commit the original run recorded (null when none).</param>
/// <param name="CurrentCommit">The git commit the rerun recorded.</param>
public sealed record RerunResult(
    string OriginalRunId,
    string RerunRunId,
    IReadOnlyList<MetricComparison> Metrics,
    string OriginalDigest,
    string RerunDigest,
    string? OriginalCommit,
    string? CurrentCommit)
{
    public bool DatasetDigestMatches => OriginalDigest == RerunDigest;

    /// <summary>Every metric equal to the last bit, on the same data.</summary>
    public bool Reproduced => DatasetDigestMatches && Metrics.Count > 0 && Metrics.All(m => m.Matches);
}

/// <summary>
/// <c>cairn rerun &lt;run-id&gt;</c>: re-executes one configuration run of a pipeline from what the
/// pipeline logged: its <c>config.yaml</c> (with every override written out), the run's feature set,
/// model and chosen hyperparameters, on the same seeds and splits; then compares every train/val/test
/// metric and the data set's digest with the original, and notes a different code commit.
/// </summary>
public static class PipelineRerun
{
    private const string GitCommitTag = "mlflow.source.git.commit";

    public static async Task<RerunResult> RunAsync(TrackingClient client, string runId, IProgress<PipelineProgress>? progress = null, CancellationToken ct = default)
    {
        var original = await client.Store.GetRunAsync(runId, ct).ConfigureAwait(false);
        if (Tag(original, "cairn.pipeline") == "train" && Tag(original, "best.run_id") is { } best)
        {
            // A pipeline run stands for its best configuration.
            original = await client.Store.GetRunAsync(best, ct).ConfigureAwait(false);
        }

        var featureSet = Tag(original, "cairn.feature_set");
        var modelName = Tag(original, "cairn.model");
        var parentId = Tag(original, "mlflow.parentRunId");
        if (featureSet is null || modelName is null || parentId is null)
        {
            throw new PipelineConfigException($"Run {runId} was not made by cairn train (it has no cairn.feature_set / cairn.model tags), so there is nothing to rerun.");
        }

        var parent = await client.Store.GetRunAsync(parentId, ct).ConfigureAwait(false);
        var configBytes = await client.ReadArtifactAsync(parentId, "config.yaml", ct).ConfigureAwait(false)
            ?? throw new PipelineConfigException($"Pipeline run {parentId} has no config.yaml artifact to rerun from.");
        var config = PipelineConfig.Parse(Encoding.UTF8.GetString(configBytes), $"config.yaml of run {parentId}");
        var chain = config.FeatureSets.FirstOrDefault(f => f.Key == featureSet);
        if (chain.Value is null)
        {
            throw new PipelineConfigException($"The logged config has no feature set '{featureSet}'.");
        }

        // The run's own hyperparameters, fixed: one grid point, so the refit is the original's refit.
        var space = config.Models.FirstOrDefault(m => m.Name == modelName)?.SearchSpace
            ?? throw new PipelineConfigException($"The logged config has no model '{modelName}'.");
        var fixedSpace = space.Keys.ToDictionary(
            key => key,
            key => (Distribution)new CategoricalDistribution([Value(original.Params.FirstOrDefault(p => p.Key == key)?.Value
                ?? throw new PipelineConfigException($"Run {original.Info.RunId} has no param '{key}'."))]));
        var rerunConfig = config with
        {
            SourcePath = null,
            FeatureSets = [chain],
            Models = [new ModelConfig(modelName, fixedSpace)],
            Tuner = config.Tuner with { Name = "grid", Trials = 1, Pruner = "none" },
            Registry = config.Registry with { Register = false },
        };

        var result = await new PipelineRunner(client, null, progress)
            .RunAsync(PipelineRunner.Validate(rerunConfig), new Dictionary<string, string> { ["cairn.rerun_of"] = original.Info.RunId }, ct)
            .ConfigureAwait(false);
        var rerun = result.Configurations.Single();
        var comparisons = original.Metrics
            .Where(m => m.Key.StartsWith("train_", StringComparison.Ordinal) || m.Key.StartsWith("val_", StringComparison.Ordinal) || m.Key.StartsWith("test_", StringComparison.Ordinal))
            .OrderBy(m => m.Key, StringComparer.Ordinal)
            .Select(m => new MetricComparison(m.Key, m.Value, rerun.Metrics.GetValueOrDefault(m.Key, double.NaN)))
            .ToList();
        var originalDigest = parent.Inputs.FirstOrDefault()?.Dataset.Digest ?? "";
        var rerunRun = await client.Store.GetRunAsync(result.ParentRunId, ct).ConfigureAwait(false);
        return new RerunResult(original.Info.RunId, rerun.RunId, comparisons, originalDigest, result.Dataset.Digest, Tag(parent, GitCommitTag), Tag(rerunRun, GitCommitTag));
    }

    private static string? Tag(Run run, string key) => run.Tags.FirstOrDefault(t => t.Key == key)?.Value;

    /// <summary>A logged param's text as the value the tuner gave the model: a whole number, a number, a bool or the text.</summary>
    private static object Value(string text) =>
        long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var l) ? l
        : double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d
        : bool.TryParse(text, out var b) ? b
        : text;
}
