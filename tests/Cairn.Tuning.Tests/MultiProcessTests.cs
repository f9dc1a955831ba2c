using System.Diagnostics;
using Cairn.Tuning.Storage;

namespace Cairn.Tuning.Tests;

/// <summary>Real OS processes (the Worker project, started with `dotnet Cairn.Tuning.Worker.dll`) sharing one study.</summary>
public class MultiProcessTests
{
    public static TheoryData<string> SqlKinds => new() { "sqlite", "postgres" };

    [Theory]
    [MemberData(nameof(SqlKinds))]
    public async Task Two_worker_processes_share_one_study_without_duplicates_or_losses(string kind)
    {
        if (TestStorages.Uri(kind) is not { } uri) return;
        var study = TestStorages.UniqueName("mp");
        using var w1 = Worker.Start(uri, study, "--total", "30", "--seed", "1", "--sleep-ms", "10");
        using var w2 = Worker.Start(uri, study, "--total", "30", "--seed", "2", "--sleep-ms", "10");
        var done1 = await w1.WaitForExitAsync();
        var done2 = await w2.WaitForExitAsync();

        await using var storage = StudyStorage.Open(uri);
        var trials = await (await Study.LoadAsync(study, storage)).GetTrialsAsync();
        Assert.Equal(Enumerable.Range(0, 30), trials.Select(t => t.Number));
        Assert.All(trials, t => Assert.Equal(TrialState.Complete, t.State));
        Assert.Equal(30, done1 + done2);
        Assert.True(done1 > 0 && done2 > 0, $"one worker did all the work ({done1} / {done2})");
    }

    [Theory]
    [MemberData(nameof(SqlKinds))]
    public async Task A_worker_killed_mid_trial_leaves_a_failed_trial_and_the_study_still_completes(string kind)
    {
        if (TestStorages.Uri(kind) is not { } uri) return;
        var study = TestStorages.UniqueName("kill");
        using (var doomed = Worker.Start(uri, study, "--total", "12", "--hang", "--heartbeat-ms", "100", "--grace-ms", "800"))
        {
            var line = await doomed.WaitForLineAsync("HANG ");
            Assert.Equal("HANG 0", line);
            doomed.Kill();
        }
        using var survivor = Worker.Start(uri, study, "--total", "12", "--heartbeat-ms", "100", "--grace-ms", "800");
        await survivor.WaitForExitAsync();

        await using var storage = StudyStorage.Open(uri);
        var trials = await (await Study.LoadAsync(study, storage)).GetTrialsAsync();
        Assert.Equal(Enumerable.Range(0, 13), trials.Select(t => t.Number));
        Assert.Equal(TrialState.Failed, trials[0].State);
        Assert.True(trials[0].Params.ContainsKey("x"));
        Assert.Equal(12, trials.Count(t => t.State == TrialState.Complete));
    }

    /// <summary>A running worker process with its standard output collected line by line.</summary>
    private sealed class Worker : IDisposable
    {
        private readonly Process _process;
        private readonly List<string> _lines = [];
        private readonly SemaphoreSlim _lineAdded = new(0);

        private Worker(Process process)
        {
            _process = process;
            process.OutputDataReceived += (_, e) =>
            {
                if (e.Data is null) return;
                lock (_lines) _lines.Add(e.Data);
                _lineAdded.Release();
            };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
        }

        public static Worker Start(string storage, string study, params string[] args)
        {
            var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            psi.ArgumentList.Add(WorkerDll());
            foreach (var a in new[] { "--storage", storage, "--study", study }.Concat(args)) psi.ArgumentList.Add(a);
            return new Worker(Process.Start(psi) ?? throw new InvalidOperationException("could not start the worker"));
        }

        public async Task<string> WaitForLineAsync(string prefix)
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            while (true)
            {
                lock (_lines)
                    if (_lines.FirstOrDefault(l => l.StartsWith(prefix, StringComparison.Ordinal)) is { } found) return found;
                if (_process.HasExited) Assert.Fail($"worker exited (code {_process.ExitCode}) before printing '{prefix}'");
                await _lineAdded.WaitAsync(TimeSpan.FromMilliseconds(200), cts.Token);
            }
        }

        /// <summary>Waits for a clean exit and returns how many trials the worker ran.</summary>
        public async Task<int> WaitForExitAsync()
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(45));
            await _process.WaitForExitAsync(cts.Token);
            _process.WaitForExit(); // flushes the asynchronous output readers
            Assert.Equal(0, _process.ExitCode);
            var done = await WaitForLineAsync("DONE ");
            return int.Parse(done["DONE ".Length..]);
        }

        public void Kill()
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }

        public void Dispose()
        {
            if (!_process.HasExited) Kill();
            _process.Dispose();
            _lineAdded.Dispose();
        }

        private static string WorkerDll()
        {
            // The test runs from tests/Cairn.Tuning.Tests/bin/<Configuration>/<tfm>/; the worker builds beside it.
            var baseDir = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
            var tfm = baseDir.Name;
            var configuration = baseDir.Parent!.Name;
            var projectDir = baseDir.Parent!.Parent!.Parent!.FullName;
            var dll = Path.Combine(projectDir, "Worker", "bin", configuration, tfm, "Cairn.Tuning.Worker.dll");
            Assert.True(File.Exists(dll), $"worker not built at {dll}");
            return dll;
        }
    }
}
