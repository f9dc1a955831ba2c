using System.Text;
using System.Text.Json;
using Cairn.Client.Rest;
using Cairn.Core;

namespace Cairn.Client.Tests;

/// <summary>The run scope API against a real server: everything logged is read back exactly.</summary>
public sealed class FluentApiTests(ServerFixture fixture) : IClassFixture<ServerFixture>, IAsyncLifetime
{
    private TrackingClient _client = null!;

    public async Task InitializeAsync() => _client = await TrackingClient.ConnectAsync(fixture.Url);

    public async Task DisposeAsync() => await _client.DisposeAsync();

    private static string Unique(string prefix) => prefix + "-" + Guid.NewGuid().ToString("N")[..8];

    private RunOptions Options(string? experiment = null) => new() { ExperimentName = experiment ?? Unique("fluent"), LogLineage = false };

    [Fact]
    public async Task Params_metrics_and_tags_round_trip_and_the_run_ends_finished()
    {
        string runId;
        var experiment = Unique("fluent");
        await using (var run = await _client.StartRunAsync(Options(experiment) with { RunName = "train", Tags = new Dictionary<string, string> { ["team"] = "a" }, Description = "notes" }))
        {
            runId = run.RunId;
            Assert.Same(run, Tracking.ActiveRun);
            run.LogParam("lr", 0.01);
            run.LogParams(new Dictionary<string, object> { ["epochs"] = 3, ["optimizer"] = "adam", ["flag"] = true });
            for (var step = 0; step < 2500; step++)
            {
                run.LogMetric("loss", 1.0 / (step + 1), step, timestamp: 1_700_000_000_000 + step);
            }

            run.LogMetrics(new Dictionary<string, double> { ["acc"] = 0.5, ["f1"] = 0.25 }, step: 7, timestamp: 42);
            run.SetTag("stage", "dev");
            run.SetTags(new Dictionary<string, int> { ["gpu"] = 0 });
        }

        Assert.Null(Tracking.ActiveRun);
        var got = await _client.Store.GetRunAsync(runId);
        Assert.Equal(RunStatus.Finished, got.Info.Status);
        Assert.NotNull(got.Info.EndTime);
        Assert.Equal("train", got.Info.RunName);
        Assert.Equal((await _client.Store.GetExperimentByNameAsync(experiment)).ExperimentId, got.Info.ExperimentId);
        Assert.Equal(
            new[] { ("epochs", "3"), ("flag", "true"), ("lr", "0.01"), ("optimizer", "adam") },
            got.Params.Select(p => (p.Key, p.Value)).Order());
        var tags = got.Tags.ToDictionary(t => t.Key, t => t.Value);
        Assert.Equal("a", tags["team"]);
        Assert.Equal("dev", tags["stage"]);
        Assert.Equal("0", tags["gpu"]);
        Assert.Equal("notes", tags["mlflow.note.content"]);
        Assert.Equal(Environment.UserName, tags[MlflowTags.User]);
        Assert.Equal("LOCAL", tags[MlflowTags.SourceType]);
        Assert.EndsWith("FluentApiTests.cs", tags[MlflowTags.SourceName]);
        Assert.Equal("train", tags[MlflowTags.RunName]);

        var history = await ((RestTrackingStore)_client.Store).GetMetricHistoryAsync(runId, "loss");
        Assert.Equal(Enumerable.Range(0, 2500).Select(s => new Metric("loss", 1.0 / (s + 1), 1_700_000_000_000 + s, s)), history);
        Assert.Equal(new Metric("acc", 0.5, 42, 7), got.Metrics.Single(m => m.Key == "acc"));
    }

    [Fact]
    public async Task Nested_runs_carry_the_parent_id_and_restore_the_parent_as_active()
    {
        string parentId, childId, grandchildId, siblingId;
        await using (var parent = await _client.StartRunAsync(Options() with { RunName = "parent" }))
        {
            parentId = parent.RunId;
            await using (var child = await _client.StartRunAsync(new RunOptions { RunName = "child", LogLineage = false }))
            {
                childId = child.RunId;
                Assert.Same(child, Tracking.ActiveRun);
                Assert.Same(parent, child.Parent);
                Assert.Equal(parent.ExperimentId, child.ExperimentId);
                await using var grandchild = await child.StartChildRunAsync("grandchild", new RunOptions { LogLineage = false });
                grandchildId = grandchild.RunId;
            }

            Assert.Same(parent, Tracking.ActiveRun);
            await using var sibling = await _client.StartRunAsync(new RunOptions { RunName = "top", Nested = false, LogLineage = false, ExperimentId = parent.ExperimentId });
            siblingId = sibling.RunId;
        }

        async Task<string?> ParentOf(string id) => (await _client.Store.GetRunAsync(id)).Tags.FirstOrDefault(t => t.Key == MlflowTags.ParentRunId)?.Value;
        Assert.Null(await ParentOf(parentId));
        Assert.Equal(parentId, await ParentOf(childId));
        Assert.Equal(childId, await ParentOf(grandchildId));
        Assert.Null(await ParentOf(siblingId));
        var children = await _client.Store.SearchRunsAsync(new RunSearchQuery([(await _client.Store.GetRunAsync(parentId)).Info.ExperimentId], $"tags.mlflow.parentRunId = '{parentId}'"));
        Assert.Equal(childId, Assert.Single(children.Items).Info.RunId);
        foreach (var id in new[] { parentId, childId, grandchildId, siblingId })
        {
            Assert.Equal(RunStatus.Finished, (await _client.Store.GetRunAsync(id)).Info.Status);
        }
    }

    [Fact]
    public async Task An_exception_escaping_the_scope_marks_the_run_failed()
    {
        string? runId = null;
        await Assert.ThrowsAsync<InvalidOperationException>(async () =>
        {
            await using var run = await _client.StartRunAsync(Options());
            runId = run.RunId;
            run.LogMetric("before", 1);
            await Task.Yield();
            throw new InvalidOperationException("diverged");
        });
        var got = await _client.Store.GetRunAsync(runId!);
        Assert.Equal(RunStatus.Failed, got.Info.Status);
        Assert.Equal(1, got.Metrics.Single().Value);
    }

    [Fact]
    public async Task An_exception_from_an_awaited_call_in_a_child_fails_child_and_parent()
    {
        string? parentId = null, childId = null;
        await Assert.ThrowsAsync<IOException>(async () =>
        {
            await using var parent = await _client.StartRunAsync(Options());
            parentId = parent.RunId;
            await using var child = await _client.StartRunAsync(new RunOptions { LogLineage = false });
            childId = child.RunId;
            await ThrowLaterAsync();
        });
        Assert.Equal(RunStatus.Failed, (await _client.Store.GetRunAsync(childId!)).Info.Status);
        Assert.Equal(RunStatus.Failed, (await _client.Store.GetRunAsync(parentId!)).Info.Status);

        static async Task ThrowLaterAsync()
        {
            await Task.Delay(1);
            throw new IOException("disk full");
        }
    }

    [Fact]
    public async Task A_handled_exception_does_not_fail_the_run_and_RunAsync_fails_on_throw()
    {
        string runId;
        await using (var run = await _client.StartRunAsync(Options()))
        {
            runId = run.RunId;
            try
            {
                throw new FormatException("handled");
            }
            catch (FormatException)
            {
                run.SetTag("recovered", "yes");
            }
        }

        Assert.Equal(RunStatus.Finished, (await _client.Store.GetRunAsync(runId)).Info.Status);

        Tracking.SetTrackingUri(fixture.Url);
        string? failedId = null;
        await Assert.ThrowsAsync<ArithmeticException>(() => Tracking.RunAsync(run =>
        {
            failedId = run.RunId;
            throw new ArithmeticException();
        }, Options()));
        Assert.Equal(RunStatus.Failed, (await _client.Store.GetRunAsync(failedId!)).Info.Status);
    }

    [Fact]
    public async Task Artifacts_dicts_text_files_folders_figures_models_and_inputs_round_trip()
    {
        var dir = Directory.CreateTempSubdirectory("cairn-artifacts-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(dir, "notes.txt"), "hello world\n");
            Directory.CreateDirectory(Path.Combine(dir, "folder", "sub"));
            File.WriteAllText(Path.Combine(dir, "folder", "a.csv"), "x,y\n1,2\n");
            File.WriteAllBytes(Path.Combine(dir, "folder", "sub", "b.bin"), [0, 1, 2, 255]);
            File.WriteAllBytes(Path.Combine(dir, "model.zip"), Encoding.UTF8.GetBytes("PK fake model"));
            var csv = Path.Combine(dir, "train.csv");
            File.WriteAllText(csv, "sepal,petal,label\n5.1,1.4,setosa\n4.9,1.3,setosa\n6.0,5.1,virginica\n");

            string runId;
            await using (var run = await _client.StartRunAsync(Options()))
            {
                runId = run.RunId;
                Assert.StartsWith("mlflow-artifacts:/", run.ArtifactUri);
                await run.LogDictAsync(new Dictionary<string, object> { ["lr"] = 0.01, ["layers"] = new[] { 64, 32 } }, "config/params.json");
                await run.LogDictAsync(new Dictionary<string, object> { ["lr"] = 0.01, ["name"] = "iris" }, "config/params.yaml");
                await run.LogTextAsync("some text ✓", "notes/readme.md");
                await run.LogArtifactAsync(Path.Combine(dir, "notes.txt"));
                await run.LogArtifactAsync(Path.Combine(dir, "notes.txt"), "copies");
                await run.LogArtifactsAsync(Path.Combine(dir, "folder"), "data");
                var plot = new ScottPlot.Plot();
                plot.Add.Scatter(new double[] { 1, 2, 3 }, new double[] { 1, 4, 9 });
                plot.Title("loss");
                await run.LogFigureAsync(plot, "plots/loss.png", 400, 300);
                await run.LogModelFileAsync(Path.Combine(dir, "model.zip"), "model", "mlnet", new Dictionary<string, string> { ["format"] = "zip" });
                await run.LogInputAsync(Datasets.FromCsv(csv, "iris-train"), "training");
            }

            var files = await _client.ListArtifactsAsync(runId);
            Assert.Equal(
                new[] { "config/params.json", "config/params.yaml", "copies/notes.txt", "data/a.csv", "data/sub/b.bin", "model/MLmodel", "model/model.zip", "notes.txt", "notes/readme.md", "plots/loss.png" },
                files.Select(f => f.Path));
            async Task<string> Text(string path) => Encoding.UTF8.GetString((await _client.ReadArtifactAsync(runId, path))!);
            using (var json = JsonDocument.Parse(await Text("config/params.json")))
            {
                Assert.Equal(0.01, json.RootElement.GetProperty("lr").GetDouble());
                Assert.Equal(new[] { 64, 32 }, json.RootElement.GetProperty("layers").EnumerateArray().Select(e => e.GetInt32()));
            }

            Assert.Equal("lr: 0.01\nname: iris\n", (await Text("config/params.yaml")).ReplaceLineEndings("\n"));
            Assert.Equal("some text ✓", await Text("notes/readme.md"));
            Assert.Equal("hello world\n", await Text("copies/notes.txt"));
            Assert.Equal(new byte[] { 0, 1, 2, 255 }, await _client.ReadArtifactAsync(runId, "data/sub/b.bin"));
            var png = (await _client.ReadArtifactAsync(runId, "plots/loss.png"))!;
            Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, png[..4]);
            Assert.True(png.Length > 1000);
            Assert.Equal("PK fake model", await Text("model/model.zip"));
            var mlmodel = await Text("model/MLmodel");
            Assert.Contains("artifact_path: model", mlmodel);
            Assert.Contains("  mlnet:\n    file: 'model.zip'\n    format: 'zip'", mlmodel.ReplaceLineEndings("\n"));
            Assert.Contains("run_id: " + runId, mlmodel);

            var got = await _client.Store.GetRunAsync(runId);
            var history = JsonDocument.Parse(got.Tags.Single(t => t.Key == MlflowTags.LoggedModels).Value);
            var model = Assert.Single(history.RootElement.EnumerateArray());
            Assert.Equal("model", model.GetProperty("artifact_path").GetString());
            Assert.Equal("zip", model.GetProperty("flavors").GetProperty("mlnet").GetProperty("format").GetString());

            var input = Assert.Single(got.Inputs);
            Assert.Equal("iris-train", input.Dataset.Name);
            Assert.Equal(new Tag(MlflowTags.DatasetContext, "training"), Assert.Single(input.Tags));
            Assert.Equal("""{"mlflow_colspec":[{"type":"double","name":"sepal"},{"type":"double","name":"petal"},{"type":"string","name":"label"}]}""", input.Dataset.Schema);
            Assert.Equal("""{"num_rows":3,"num_elements":9}""", input.Dataset.Profile);
            Assert.Equal(16, input.Dataset.Digest.Length);
            Assert.Contains("train.csv", input.Dataset.Source);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task System_metrics_are_logged_under_system_when_enabled()
    {
        string runId;
        await using (var run = await _client.StartRunAsync(Options() with { LogSystemMetrics = true, SystemMetricsInterval = TimeSpan.FromMilliseconds(100) }))
        {
            runId = run.RunId;
            // Until two samples arrived (a loaded CI machine may take longer than a few intervals).
            var deadline = DateTime.UtcNow.AddSeconds(30);
            do
            {
                await Task.Delay(150);
                await run.FlushAsync();
            }
            while ((await ((RestTrackingStore)_client.Store).GetMetricHistoryAsync(runId, "system/cpu_utilization_percentage")).Count < 2 && DateTime.UtcNow < deadline);
        }

        var got = await _client.Store.GetRunAsync(runId);
        var keys = got.Metrics.Select(m => m.Key).ToHashSet();
        foreach (var key in new[] { "system/cpu_utilization_percentage", "system/system_memory_usage_megabytes", "system/system_memory_usage_percentage", "system/process_memory_megabytes", "system/gc_heap_megabytes", "system/disk_usage_percentage", "system/network_receive_megabytes" })
        {
            Assert.Contains(key, keys);
        }

        var cpu = await ((RestTrackingStore)_client.Store).GetMetricHistoryAsync(runId, "system/cpu_utilization_percentage");
        Assert.True(cpu.Count >= 2, $"{cpu.Count} samples");
        Assert.Equal(Enumerable.Range(0, cpu.Count).Select(i => (long)i), cpu.Select(p => p.Step));
        Assert.All(cpu, p => Assert.InRange(p.Value, 0, 100));
    }
}
