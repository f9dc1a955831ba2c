using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cairn.Client;
using Cairn.Core;
using Cairn.Core.Registry;
using Cairn.Models;

namespace Cairn.Lab.Pipelines.Reports;

/// <summary>
/// A model card for one registered model version: what it is, the data it learnt from, how it was
/// tuned, how well it does on each split, where it came from (run, pipeline, code commit), what it is
/// for and where it should not be trusted. Written as JSON (for tools) and Markdown (for people, and
/// the message of a release tag).
/// </summary>
public sealed class ModelCard
{
    private ModelCard(JsonObject json, string markdown, ModelVersion version)
    {
        Json = json;
        Markdown = markdown;
        Version = version;
    }

    public JsonObject Json { get; }

    public string Markdown { get; }

    public ModelVersion Version { get; }

    /// <summary>Builds the card of the version <paramref name="modelUri"/> (<c>models:/name@alias</c>, <c>models:/name/3</c>, <c>models:/name/Production</c>) names.</summary>
    public static async Task<ModelCard> BuildAsync(ModelUriResolver resolver, string modelUri, CancellationToken ct = default)
    {
        var (_, resolved) = await resolver.ResolveSourceAsync(modelUri, ct).ConfigureAwait(false);
        var version = resolved ?? throw new PipelineConfigException($"'{modelUri}' does not name a registered model version; give models:/<name>@<alias>, models:/<name>/<version> or models:/<name>/<stage>.");
        var registry = resolver.Registry!;
        var model = await registry.GetRegisteredModelAsync(version.Name, ct).ConfigureAwait(false);
        var store = resolver.Client.Store;
        var run = version.RunId is { Length: > 0 } runId ? await store.GetRunAsync(runId, ct).ConfigureAwait(false) : null;
        var pipeline = run is not null && ExperimentReport.Tag(run, "mlflow.parentRunId") is { } parentId ? await store.GetRunAsync(parentId, ct).ConfigureAwait(false) : null;
        var experiment = run is not null ? await store.GetExperimentAsync(run.Info.ExperimentId, ct).ConfigureAwait(false) : null;
        ModelFile? mlmodel = null;
        if (run is not null && await resolver.Client.ReadArtifactAsync(run.Info.RunId, "model/MLmodel", ct).ConfigureAwait(false) is { } bytes)
        {
            mlmodel = ModelFile.Parse(Encoding.UTF8.GetString(bytes));
        }

        var json = Build(version, model, run, pipeline, experiment, mlmodel);
        return new ModelCard(json, ToMarkdown(json), version);
    }

    /// <summary>Writes <c>model_card.json</c> and <c>model_card.md</c> into <paramref name="directory"/>.</summary>
    public async Task<(string Json, string Markdown)> WriteAsync(string directory, CancellationToken ct = default)
    {
        Directory.CreateDirectory(directory);
        var jsonPath = Path.Combine(directory, "model_card.json");
        var mdPath = Path.Combine(directory, "model_card.md");
        await File.WriteAllTextAsync(jsonPath, Json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }), ct).ConfigureAwait(false);
        await File.WriteAllTextAsync(mdPath, Markdown, ct).ConfigureAwait(false);
        return (jsonPath, mdPath);
    }

    private static JsonObject Build(ModelVersion version, RegisteredModel model, Run? run, Run? pipeline, Experiment? experiment, ModelFile? mlmodel)
    {
        string? Tag(Run? r, string key) => r is null ? null : ExperimentReport.Tag(r, key);
        string? Param(Run? r, string key) => r is null ? null : ExperimentReport.Param(r, key);
        var aliases = model.Aliases.Where(a => a.Version == version.Version).Select(a => a.Alias).ToList();
        var metrics = new JsonObject();
        foreach (var split in new[] { "train", "val", "test" })
        {
            var values = new JsonObject();
            foreach (var m in (run?.Metrics ?? []).Where(m => m.Key.StartsWith(split + "_", StringComparison.Ordinal)).OrderBy(m => m.Key, StringComparer.Ordinal))
            {
                values[m.Key[(split.Length + 1)..]] = double.IsFinite(m.Value) ? m.Value : null;
            }

            metrics[split == "val" ? "validation" : split] = values;
        }

        var tunedMetric = Param(pipeline, "metric") ?? "accuracy";
        var dataset = (pipeline ?? run)?.Inputs.FirstOrDefault()?.Dataset;
        var rows = new[] { "train", "validation", "test" }.ToDictionary(s => s, s => Param(pipeline, "rows." + s));
        var hyperparameters = new JsonObject();
        foreach (var p in (run?.Params ?? []).Where(p => p.Key is not ("feature_set" or "model" or "enrichers" or "features.count")).OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            hyperparameters[p.Key] = p.Value;
        }

        var inputs = new JsonArray();
        foreach (var column in mlmodel?.Signature?.Inputs ?? [])
        {
            inputs.Add(new JsonObject { ["name"] = column.Name, ["type"] = column.Type, ["required"] = column.Required });
        }

        var outputs = mlmodel?.Signature?.Outputs?.Select(c => c.Name).Where(n => n is not null).ToList() ?? [];
        var trainScore = run is null ? double.NaN : ExperimentReport.Metric(run, "train_" + tunedMetric);
        var testScore = run is null ? double.NaN : ExperimentReport.Metric(run, "test_" + tunedMetric);
        var limitations = new JsonArray
        {
            $"Evaluated only on a held-out split ({rows["test"] ?? "?"} rows) of the same data set ({dataset?.Name ?? "unknown"}); on data from another population or time its performance is unknown.",
            "It expects exactly the input columns of its signature, with the same meaning and units as in training.",
            "Its scores are the model's probabilities, not calibrated risks; check calibration before using them as such.",
        };
        if (double.IsFinite(trainScore) && double.IsFinite(testScore) && PipelineConfig.Metrics.GetValueOrDefault(tunedMetric, true) && trainScore - testScore > 0.05)
        {
            limitations.Add($"Train {tunedMetric} ({ExperimentReport.Fmt(trainScore)}) is well above test ({ExperimentReport.Fmt(testScore)}): it may overfit.");
        }

        return new JsonObject
        {
            ["model"] = new JsonObject
            {
                ["name"] = version.Name,
                ["version"] = version.Version,
                ["aliases"] = new JsonArray([.. aliases.Select(a => (JsonNode?)a)]),
                ["stage"] = version.CurrentStage,
                ["description"] = model.Description,
                ["registered_at"] = DateTimeOffset.FromUnixTimeMilliseconds(version.CreationTimestamp).UtcDateTime.ToString("O", CultureInfo.InvariantCulture),
                ["source"] = version.Source,
                ["type"] = Tag(run, "cairn.model"),
                ["flavors"] = new JsonArray([.. (mlmodel?.Flavors.Keys ?? []).Select(k => (JsonNode?)k)]),
            },
            ["data"] = new JsonObject
            {
                ["dataset"] = dataset?.Name,
                ["digest"] = dataset?.Digest,
                ["source"] = dataset?.Source,
                ["rows"] = new JsonObject { ["train"] = rows["train"], ["validation"] = rows["validation"], ["test"] = rows["test"] },
                ["feature_set"] = Tag(run, "cairn.feature_set"),
                ["enrichers"] = Param(run, "enrichers"),
                ["inputs"] = inputs,
                ["outputs"] = new JsonArray([.. outputs.Select(o => (JsonNode?)o)]),
            },
            ["training"] = new JsonObject
            {
                ["tuner"] = Param(pipeline, "tuner"),
                ["metric"] = tunedMetric,
                ["folds"] = Param(pipeline, "folds"),
                ["seed"] = Param(pipeline, "seed"),
                ["cv_value"] = run is null || !double.IsFinite(ExperimentReport.Metric(run, "cv_" + tunedMetric)) ? null : ExperimentReport.Metric(run, "cv_" + tunedMetric),
                ["hyperparameters"] = hyperparameters,
            },
            ["metrics"] = metrics,
            ["lineage"] = new JsonObject
            {
                ["run_id"] = run?.Info.RunId,
                ["run_name"] = run?.Info.RunName,
                ["experiment"] = experiment?.Name,
                ["experiment_id"] = experiment?.ExperimentId,
                ["pipeline_run_id"] = pipeline?.Info.RunId,
                ["user"] = run?.Info.UserId,
                ["source"] = Tag(pipeline, "mlflow.source.name") ?? Tag(run, "mlflow.source.name"),
                ["git_commit"] = Tag(pipeline, "mlflow.source.git.commit") ?? Tag(run, "mlflow.source.git.commit"),
                ["git_branch"] = Tag(pipeline, "mlflow.source.git.branch") ?? Tag(run, "mlflow.source.git.branch"),
                ["git_repo"] = Tag(pipeline, "mlflow.source.git.repoURL") ?? Tag(run, "mlflow.source.git.repoURL"),
            },
            ["intended_use"] = $"Classifies rows shaped like the {dataset?.Name ?? "training"} data set into its classes (outputs: {string.Join(", ", outputs)}). Made by cairn train for comparison and serving (cairn models serve -m models:/{version.Name}/{version.Version}).",
            ["limitations"] = limitations,
        };
    }

    private static string ToMarkdown(JsonObject card)
    {
        string S(JsonNode? node) => node switch
        {
            null => "-",
            JsonValue v when v.TryGetValue<double>(out var d) => ExperimentReport.Fmt(d),
            JsonValue v => v.ToString(),
            JsonArray a => a.Count == 0 ? "-" : string.Join(", ", a.Select(S)),
            _ => node.ToJsonString(),
        };

        var model = card["model"]!;
        var md = new StringBuilder();
        md.AppendLine(CultureInfo.InvariantCulture, $"# Model card: {S(model["name"])} version {S(model["version"])}");
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"Aliases: {S(model["aliases"])}. Stage: {S(model["stage"])}. Model: {S(model["type"])} ({S(model["flavors"])}). Registered {S(model["registered_at"])}.");
        md.AppendLine();
        md.AppendLine("## Intended use");
        md.AppendLine();
        md.AppendLine(S(card["intended_use"]));
        md.AppendLine();
        md.AppendLine("## Data");
        md.AppendLine();
        var data = card["data"]!;
        md.AppendLine(CultureInfo.InvariantCulture, $"- Data set: {S(data["dataset"])} (digest {S(data["digest"])}, source {S(data["source"])})");
        md.AppendLine(CultureInfo.InvariantCulture, $"- Rows: train {S(data["rows"]!["train"])}, validation {S(data["rows"]!["validation"])}, test {S(data["rows"]!["test"])}");
        md.AppendLine(CultureInfo.InvariantCulture, $"- Features: feature set {S(data["feature_set"])} ({S(data["enrichers"])}); inputs {string.Join(", ", data["inputs"]!.AsArray().Select(i => $"{i!["name"]} ({i["type"]})"))}");
        md.AppendLine();
        md.AppendLine("## Metrics");
        md.AppendLine();
        var metrics = card["metrics"]!.AsObject();
        var keys = metrics.SelectMany(s => s.Value!.AsObject().Select(m => m.Key)).Distinct().Order(StringComparer.Ordinal).ToList();
        md.AppendLine("| Metric | Train | Validation | Test |");
        md.AppendLine("|---|---:|---:|---:|");
        foreach (var key in keys)
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"| {key} | {S(metrics["train"]?[key])} | {S(metrics["validation"]?[key])} | {S(metrics["test"]?[key])} |");
        }

        md.AppendLine();
        md.AppendLine("## Training");
        md.AppendLine();
        var training = card["training"]!;
        md.AppendLine(CultureInfo.InvariantCulture, $"Tuned with {S(training["tuner"])} on {S(training["metric"])} ({S(training["folds"])}-fold cross-validation: {S(training["cv_value"])}), seed {S(training["seed"])}.");
        md.AppendLine(CultureInfo.InvariantCulture, $"Hyperparameters: {string.Join(", ", training["hyperparameters"]!.AsObject().Select(p => $"{p.Key}={S(p.Value)}"))}.");
        md.AppendLine();
        md.AppendLine("## Lineage");
        md.AppendLine();
        var lineage = card["lineage"]!;
        md.AppendLine(CultureInfo.InvariantCulture, $"- Run {S(lineage["run_id"])} ({S(lineage["run_name"])}) in experiment {S(lineage["experiment"])}, pipeline run {S(lineage["pipeline_run_id"])}, by {S(lineage["user"])}");
        md.AppendLine(CultureInfo.InvariantCulture, $"- Code: {S(lineage["source"])} at commit {S(lineage["git_commit"])} ({S(lineage["git_branch"])}, {S(lineage["git_repo"])})");
        md.AppendLine(CultureInfo.InvariantCulture, $"- Package: {S(model["source"])}");
        md.AppendLine();
        md.AppendLine("## Limitations");
        md.AppendLine();
        foreach (var item in card["limitations"]!.AsArray())
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"- {S(item)}");
        }

        return md.ToString();
    }

    /// <summary>
    /// <c>cairn release</c>: an annotated git tag <c>model-v&lt;version&gt;</c> in <paramref name="repository"/>
    /// whose message is the card, pushed to <c>origin</c> when <paramref name="push"/>.
    /// </summary>
    /// <returns>The tag's name.</returns>
    public async Task<string> ReleaseAsync(string repository, bool push, string? tagName = null, CancellationToken ct = default)
    {
        var tag = tagName ?? $"model-v{Version.Version}";
        if (await GitAsync(repository, ct, "rev-parse", "--is-inside-work-tree") is not (0, _))
        {
            throw new PipelineConfigException($"'{Path.GetFullPath(repository)}' is not inside a git work tree; run cairn release in the repository to tag, or pass --repo.");
        }

        if (await GitAsync(repository, ct, "rev-parse", "-q", "--verify", "refs/tags/" + tag) is (0, _))
        {
            throw new PipelineConfigException($"Tag '{tag}' already exists in {Path.GetFullPath(repository)}; delete it first or pass --tag.");
        }

        var message = Path.GetTempFileName();
        try
        {
            await File.WriteAllTextAsync(message, Markdown, ct).ConfigureAwait(false);
            // Verbatim: the card's Markdown headings start with #, which git would otherwise strip as comments.
            var (code, output) = await GitAsync(repository, ct, "tag", "-a", tag, "--cleanup=verbatim", "-F", message);
            if (code != 0)
            {
                throw new PipelineConfigException($"git tag {tag} failed: {output.Trim()}");
            }
        }
        finally
        {
            File.Delete(message);
        }

        if (push)
        {
            var (code, output) = await GitAsync(repository, ct, "push", "origin", "refs/tags/" + tag);
            if (code != 0)
            {
                throw new PipelineConfigException($"The tag '{tag}' was created but pushing it to origin failed: {output.Trim()}");
            }
        }

        return tag;
    }

    private static async Task<(int Code, string Output)> GitAsync(string repository, CancellationToken ct, params string[] args)
    {
        var psi = new ProcessStartInfo("git") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add("-C");
        psi.ArgumentList.Add(repository);
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using var process = Process.Start(psi) ?? throw new InvalidOperationException("git could not be started.");
        var stdout = process.StandardOutput.ReadToEndAsync(ct);
        var stderr = process.StandardError.ReadToEndAsync(ct);
        await process.WaitForExitAsync(ct).ConfigureAwait(false);
        return (process.ExitCode, await stdout.ConfigureAwait(false) + await stderr.ConfigureAwait(false));
    }
}
