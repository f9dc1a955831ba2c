using System.Globalization;
using Cairn.Client;
using Cairn.Client.Rest;
using Cairn.Core;
using Cairn.Lab.Tuning;
using Cairn.Server.Tests;
using Cairn.Tuning;
using Cairn.Tuning.Pruners;
using Cairn.Tuning.Samplers;

namespace Cairn.Lab.Tests;

/// <summary>The tracking callback against a real <c>cairn server</c> process, read back over MLflow's REST API.</summary>
public sealed class TrackingCallbackTests
{
    private const int Steps = 8;

    // A converging learning curve whose level depends on all three parameters, so TPE has something to
    // learn and the median pruner stops the clearly worse curves.
    private static async Task<double> Objective(Trial trial, CancellationToken ct)
    {
        var x = trial.SuggestFloat("x", -5, 5);
        var lr = trial.SuggestFloat("lr", 1e-3, 1, log: true);
        var kind = trial.SuggestCategorical("kind", "plain", "boosted");
        var level = (x * x) + (kind == "boosted" ? 0 : 2) + Math.Abs(Math.Log10(lr) + 1);
        var value = double.NaN;
        for (var step = 0; step < Steps; step++)
        {
            value = level + (4.0 / (step + 1));
            trial.Report(value, step);
            if (await trial.ShouldPruneAsync(ct))
            {
                throw new TrialPrunedException();
            }
        }

        return value;
    }

    private static async Task<IReadOnlyList<Run>> ChildRunsAsync(ITrackingStore store, ActiveRun parent)
    {
        var page = await store.SearchRunsAsync(new RunSearchQuery([parent.ExperimentId], $"tags.mlflow.parentRunId = '{parent.RunId}'"));
        Assert.Null(page.NextPageToken);
        return page.Items;
    }

    private static string Tag(Run run, string key) =>
        run.Tags.SingleOrDefault(t => t.Key == key)?.Value ?? throw new Xunit.Sdk.XunitException($"run {run.Info.RunName} has no tag {key}");

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task Tpe_study_with_pruning_logs_every_trial_as_a_child_run_and_the_best_on_the_parent(int parallelism)
    {
        await using var server = await CairnProcess.StartAsync();
        await using var client = await TrackingClient.ConnectAsync(server.BaseUrl);
        var study = await Study.CreateAsync("tracked", StudyDirection.Minimize,
            new TpeSampler(seed: 11, nStartupTrials: 5, constantLiar: parallelism > 1), new MedianPruner(nStartupTrials: 3, nWarmupSteps: 1));

        ActiveRun parent;
        await using (parent = await client.StartRunAsync(new RunOptions { ExperimentName = "tuning", RunName = "study", LogLineage = false }))
        {
            study.Callbacks.Add(new TrackingCallback(parent));
            await study.OptimizeAsync(Objective, nTrials: 20, parallelism: parallelism);
        }

        var trials = await study.GetTrialsAsync();
        Assert.Equal(20, trials.Count);
        Assert.Contains(trials, t => t.State == TrialState.Pruned);
        Assert.Contains(trials, t => t.State == TrialState.Complete);

        var runs = await ChildRunsAsync(client.Store, parent);
        Assert.Equal(20, runs.Count);
        var byNumber = runs.ToDictionary(r => int.Parse(Tag(r, "trial_number"), CultureInfo.InvariantCulture));
        var rest = (RestTrackingStore)client.Store;
        foreach (var trial in trials)
        {
            var run = byNumber[trial.Number];
            Assert.Equal($"trial-{trial.Number}", run.Info.RunName);
            Assert.Equal(RunStatus.Finished, run.Info.Status);
            Assert.Equal(trial.State.ToString().ToUpperInvariant(), Tag(run, "state"));
            Assert.Equal("tracked", Tag(run, "study_name"));
            Assert.Equal(trial.StartedAt, DateTimeOffset.Parse(Tag(run, "datetime_start"), CultureInfo.InvariantCulture));
            Assert.True(DateTimeOffset.Parse(Tag(run, "datetime_complete"), CultureInfo.InvariantCulture) >= trial.StartedAt);

            var expectedParams = trial.Params.ToDictionary(p => p.Key, p => TrackingCallback.FormatParam(p.Value));
            Assert.Equal(expectedParams, run.Params.ToDictionary(p => p.Key, p => p.Value));
            Assert.Equal(trial.Value, run.Metrics.Single(m => m.Key == "value").Value);

            var history = await rest.GetMetricHistoryAsync(run.Info.RunId, "intermediate_value");
            Assert.Equal(trial.IntermediateValues.Select(kv => ((long)kv.Key, kv.Value)), history.OrderBy(m => m.Step).Select(m => (m.Step, m.Value)));
            Assert.Equal(trial.State == TrialState.Complete ? Steps : trial.IntermediateValues.Count, history.Count);
        }

        var parentRun = await client.Store.GetRunAsync(parent.RunId);
        Assert.Equal(RunStatus.Finished, parentRun.Info.Status);
        var bestTags = parentRun.Tags.Where(t => t.Key.StartsWith(TrackingCallback.BestParamsTagPrefix, StringComparison.Ordinal))
            .ToDictionary(t => t.Key[TrackingCallback.BestParamsTagPrefix.Length..], t => t.Value);
        Assert.Equal(study.BestParams.ToDictionary(p => p.Key, p => TrackingCallback.FormatParam(p.Value)), bestTags);
        Assert.Equal(study.BestTrial.Number.ToString(CultureInfo.InvariantCulture), Tag(parentRun, "best_trial"));
        Assert.Equal(study.BestValue, double.Parse(Tag(parentRun, TrackingCallback.BestValueMetric), CultureInfo.InvariantCulture));
        Assert.Equal(study.BestValue, parentRun.Metrics.Single(m => m.Key == TrackingCallback.BestValueMetric).Value);
        Assert.Equal("MINIMIZE", Tag(parentRun, "direction"));

        // The best-so-far curve never gets worse, one point per finished trial after the first complete one.
        var bestCurve = (await rest.GetMetricHistoryAsync(parent.RunId, TrackingCallback.BestValueMetric)).OrderBy(m => m.Step).Select(m => m.Value).ToList();
        Assert.Equal(bestCurve.OrderByDescending(v => v), bestCurve);
        Assert.Equal(study.BestValue, bestCurve[^1]);
    }

    [Fact]
    public async Task Failed_trial_ends_its_run_failed_with_the_reason_and_the_objective_can_log_to_its_own_run()
    {
        await using var server = await CairnProcess.StartAsync();
        await using var client = await TrackingClient.ConnectAsync(server.BaseUrl);
        var study = Study.Create("failing", StudyDirection.Maximize, new RandomSampler(seed: 3));
        ActiveRun parent;
        await using (parent = await client.StartRunAsync(new RunOptions { ExperimentName = "tuning", LogLineage = false }))
        {
            var callback = new TrackingCallback(parent, new TrackingCallbackOptions { MetricName = "accuracy", Tags = new Dictionary<string, string> { ["sweep"] = "s1" } });
            study.Callbacks.Add(callback);
            await study.OptimizeAsync(trial =>
            {
                var depth = trial.SuggestInt("depth", 1, 8);
                callback.RunOf(trial)!.LogMetric("depth_squared", depth * depth);
                return trial.Number == 1 ? throw new InvalidOperationException("out of memory") : depth / 10.0;
            }, nTrials: 3);
        }

        var runs = (await ChildRunsAsync(client.Store, parent)).ToDictionary(r => Tag(r, "trial_number"));
        Assert.Equal(3, runs.Count);
        var failed = runs["1"];
        Assert.Equal(RunStatus.Failed, failed.Info.Status);
        Assert.Equal("FAILED", Tag(failed, "state"));
        Assert.Equal("InvalidOperationException: out of memory", Tag(failed, "user_attrs.fail_reason"));
        Assert.DoesNotContain(failed.Metrics, m => m.Key == "accuracy");
        Assert.All(runs.Values, r => Assert.Equal("s1", Tag(r, "sweep")));
        Assert.All(runs.Values, r => Assert.Contains(r.Metrics, m => m.Key == "depth_squared"));
        Assert.Equal(study.BestValue, runs[study.BestTrial.Number.ToString(CultureInfo.InvariantCulture)].Metrics.Single(m => m.Key == "accuracy").Value);

        // A failed trial ends its run FAILED, but the parent (the study) still finished normally.
        var parentRun = await client.Store.GetRunAsync(parent.RunId);
        Assert.Equal(RunStatus.Finished, parentRun.Info.Status);
        Assert.Equal("MAXIMIZE", Tag(parentRun, "direction"));
    }
}
