using Cairn.Tuning.Pruners;
using Cairn.Tuning.Samplers;

namespace Cairn.Tuning.Tests;

public class StudyTests
{
    private static Study NewStudy(StudyDirection direction = StudyDirection.Minimize, ISampler? sampler = null, IPruner? pruner = null) =>
        Study.Create(direction: direction, sampler: sampler ?? new RandomSampler(0), pruner: pruner ?? new NopPruner());

    [Fact]
    public async Task OptimizeAsync_runs_the_requested_number_of_trials_with_gap_free_numbers()
    {
        var study = NewStudy();
        await study.OptimizeAsync(t => t.SuggestFloat("x", -1, 1), nTrials: 15);
        Assert.Equal(Enumerable.Range(0, 15), study.Trials.Select(t => t.Number));
        Assert.All(study.Trials, t => Assert.Equal(TrialState.Complete, t.State));
    }

    [Fact]
    public async Task An_exception_in_the_objective_fails_that_trial_and_the_study_goes_on()
    {
        var study = NewStudy();
        await study.OptimizeAsync(t =>
        {
            var x = t.SuggestFloat("x", 0, 1);
            if (t.Number % 2 == 1) throw new InvalidOperationException("boom");
            return x;
        }, nTrials: 6);
        var trials = study.Trials;
        Assert.Equal(3, trials.Count(t => t.State == TrialState.Failed));
        Assert.Equal(3, trials.Count(t => t.State == TrialState.Complete));
        Assert.Contains("boom", trials[1].UserAttrs["fail_reason"]);
        Assert.Null(trials[1].Value);
    }

    [Fact]
    public async Task TrialPrunedException_marks_the_trial_pruned_with_its_last_reported_value()
    {
        var study = NewStudy();
        await study.OptimizeAsync(t =>
        {
            t.Report(5.0, 0);
            t.Report(4.0, 1);
            throw new TrialPrunedException();
        }, nTrials: 1);
        var trial = Assert.Single(study.Trials);
        Assert.Equal(TrialState.Pruned, trial.State);
        Assert.Equal(4.0, trial.Value);
        Assert.Equal([0, 1], trial.IntermediateValues.Keys);
    }

    [Fact]
    public async Task A_NaN_objective_value_fails_the_trial()
    {
        var study = NewStudy();
        await study.OptimizeAsync(_ => double.NaN, nTrials: 1);
        Assert.Equal(TrialState.Failed, Assert.Single(study.Trials).State);
    }

    [Fact]
    public async Task Best_trial_follows_the_direction()
    {
        var values = new[] { 3.0, 9.0, 1.0, 5.0 };
        var min = NewStudy();
        await min.OptimizeAsync(t => values[t.Number], nTrials: 4);
        Assert.Equal(1.0, min.BestValue);
        Assert.Equal(2, min.BestTrial.Number);

        var max = NewStudy(StudyDirection.Maximize);
        await max.OptimizeAsync(t => { t.SuggestInt("i", 0, 100); return values[t.Number]; }, nTrials: 4);
        Assert.Equal(9.0, max.BestValue);
        Assert.Equal(max.BestTrial.Params["i"], max.BestParams["i"]);
    }

    [Fact]
    public void BestTrial_without_complete_trials_says_so() =>
        Assert.Contains("no complete trial", Assert.Throws<InvalidOperationException>(() => NewStudy().BestTrial).Message);

    [Fact]
    public async Task Suggesting_a_name_again_returns_the_same_value_and_an_incompatible_range_is_an_error()
    {
        var study = NewStudy();
        Exception? error = null;
        await study.OptimizeAsync(t =>
        {
            var a = t.SuggestFloat("x", 0, 1);
            Assert.Equal(a, t.SuggestFloat("x", 0, 1));
            error = Record.Exception(() => t.SuggestFloat("x", 0, 2));
            return a;
        }, nTrials: 1);
        var e = Assert.IsType<ArgumentException>(error);
        Assert.Contains("'x' was already suggested", e.Message);
    }

    [Fact]
    public async Task Enqueued_trials_run_first_with_their_fixed_values_and_missing_ones_are_sampled()
    {
        var study = NewStudy();
        study.EnqueueTrial(new Dictionary<string, object?> { ["x"] = 0.25, ["n"] = 7, ["opt"] = "adam" });
        study.EnqueueTrial(new Dictionary<string, object?> { ["x"] = 0.5 });
        await study.OptimizeAsync(t => t.SuggestFloat("x", 0, 1) + t.SuggestInt("n", 1, 10) + (t.SuggestCategorical("opt", "sgd", "adam") == "adam" ? 0 : 1), nTrials: 3);
        var trials = study.Trials;
        Assert.Equal(0.25, trials[0].Params["x"]);
        Assert.Equal(7L, trials[0].Params["n"]);
        Assert.Equal("adam", trials[0].Params["opt"]);
        Assert.Equal(0.5, trials[1].Params["x"]);
        Assert.Equal(3, trials.Count);
        Assert.All(trials, t => Assert.Equal(TrialState.Complete, t.State));
    }

    [Fact]
    public async Task An_enqueued_value_outside_the_range_fails_the_trial_with_the_reason()
    {
        var study = NewStudy();
        study.EnqueueTrial(new Dictionary<string, object?> { ["x"] = 5.0 });
        await study.OptimizeAsync(t => t.SuggestFloat("x", 0, 1), nTrials: 1);
        var t = Assert.Single(study.Trials);
        Assert.Equal(TrialState.Failed, t.State);
        Assert.Contains("outside", t.UserAttrs["fail_reason"]);
    }

    [Fact]
    public async Task Parallel_workers_run_exactly_n_trials()
    {
        var study = NewStudy(sampler: new TpeSampler(seed: 1, constantLiar: true));
        await study.OptimizeAsync(async (t, ct) =>
        {
            var x = t.SuggestFloat("x", -1, 1);
            await Task.Delay(2, ct);
            return x * x;
        }, nTrials: 40, parallelism: 4);
        Assert.Equal(Enumerable.Range(0, 40), study.Trials.Select(t => t.Number).Order());
        Assert.All(study.Trials, t => Assert.Equal(TrialState.Complete, t.State));
    }

    [Fact]
    public async Task Timeout_stops_starting_new_trials()
    {
        var study = NewStudy();
        await study.OptimizeAsync(async (t, ct) => { await Task.Delay(30, ct); return 0; }, timeout: TimeSpan.FromMilliseconds(150));
        Assert.InRange(study.Trials.Count, 1, 8);
    }

    [Fact]
    public async Task Cancellation_fails_the_running_trial_and_throws()
    {
        var study = NewStudy();
        using var cts = new CancellationTokenSource(100);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            study.OptimizeAsync(async (t, ct) => { await Task.Delay(Timeout.Infinite, ct); return 0; }, cancellationToken: cts.Token));
        Assert.Equal(TrialState.Failed, Assert.Single(study.Trials).State);
    }

    [Fact]
    public async Task Callbacks_see_every_trial_start_and_finish()
    {
        var study = NewStudy();
        var callback = new RecordingCallback();
        study.Callbacks.Add(callback);
        await study.OptimizeAsync(t => t.SuggestFloat("x", 0, 1), nTrials: 3);
        Assert.Equal([0, 1, 2], callback.Started);
        Assert.Equal([TrialState.Complete, TrialState.Complete, TrialState.Complete], callback.Finished.Select(f => f.State));
        Assert.All(callback.Finished, f => Assert.True(f.Params.ContainsKey("x")));
    }

    [Fact]
    public async Task Stop_from_a_callback_ends_the_study_after_the_current_trial()
    {
        var study = NewStudy();
        study.Callbacks.Add(new StopAfter(4));
        await study.OptimizeAsync(t => 1.0, nTrials: 100);
        Assert.Equal(4, study.Trials.Count);
    }

    [Fact]
    public async Task Ask_and_tell_drive_a_trial_by_hand()
    {
        var study = NewStudy();
        var trial = (await study.AskAsync())!;
        var x = trial.SuggestFloat("x", 0, 1);
        var frozen = await study.TellAsync(trial, TrialState.Complete, x * 2);
        Assert.Equal(TrialState.Complete, frozen.State);
        Assert.Equal(x * 2, study.BestValue);
    }

    [Fact]
    public async Task Trials_export_as_csv_with_one_column_per_parameter()
    {
        var study = NewStudy();
        await study.OptimizeAsync(t =>
        {
            t.SetUserAttr("note", "a,b");
            return t.SuggestInt("depth", 1, 3) + (t.SuggestCategorical("opt", "sgd", "adam") == "sgd" ? 0.5 : 0);
        }, nTrials: 3);
        var lines = (await study.ToCsvAsync()).TrimEnd().Split('\n').Select(l => l.TrimEnd('\r')).ToArray();
        Assert.Equal("number,state,value,datetime_start,datetime_complete,duration_seconds,params_depth,params_opt,user_attrs_note", lines[0]);
        Assert.Equal(4, lines.Length);
        Assert.StartsWith("0,COMPLETE,", lines[1]);
        Assert.EndsWith("\"a,b\"", lines[1]);
    }

    [Fact]
    public async Task Creating_a_study_twice_needs_loadIfExists()
    {
        var storage = new Storage.InMemoryStudyStorage();
        await Study.CreateAsync("s", storage: storage);
        await Assert.ThrowsAsync<InvalidOperationException>(() => Study.CreateAsync("s", storage: storage));
        var again = await Study.CreateAsync("s", storage: storage, loadIfExists: true);
        Assert.Equal("s", again.Name);
    }

    private sealed class RecordingCallback : ITrialCallback
    {
        public List<int> Started { get; } = [];
        public List<FrozenTrial> Finished { get; } = [];

        public ValueTask OnTrialStartedAsync(Study study, FrozenTrial trial, CancellationToken cancellationToken)
        {
            Started.Add(trial.Number);
            return ValueTask.CompletedTask;
        }

        public ValueTask OnTrialFinishedAsync(Study study, FrozenTrial trial, CancellationToken cancellationToken)
        {
            Finished.Add(trial);
            return ValueTask.CompletedTask;
        }
    }

    private sealed class StopAfter(int n) : ITrialCallback
    {
        public ValueTask OnTrialFinishedAsync(Study study, FrozenTrial trial, CancellationToken cancellationToken)
        {
            if (trial.Number + 1 >= n) study.Stop();
            return ValueTask.CompletedTask;
        }
    }
}
