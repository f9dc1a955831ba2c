using Cairn.Core;
using Cairn.Storage;

namespace Cairn.Client.Tests;

[CollectionDefinition(nameof(EnvironmentCollection), DisableParallelization = true)]
public sealed class EnvironmentCollection;

/// <summary>Tracking URI resolution order, config files and in-process stores. Touches process-wide environment variables.</summary>
[Collection(nameof(EnvironmentCollection))]
public sealed class TrackingUriTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cairn-uri-").FullName;
    private readonly Dictionary<string, string?> _saved = new();

    public TrackingUriTests()
    {
        foreach (var name in new[] { TrackingUri.CairnVariable, TrackingUri.MlflowVariable, "CAIRN_CONFIG" })
        {
            _saved[name] = Environment.GetEnvironmentVariable(name);
            Environment.SetEnvironmentVariable(name, null);
        }
    }

    public void Dispose()
    {
        foreach (var (name, value) in _saved)
        {
            Environment.SetEnvironmentVariable(name, value);
        }

        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public void Explicit_beats_CAIRN_beats_MLFLOW_beats_config_beats_the_embedded_default()
    {
        var yaml = Path.Combine(_dir, "cairn.yaml");
        File.WriteAllText(yaml, "tracking_uri: http://from-yaml:5000\nexperiment: iris\nparameters:\n  lr: 0.01\n  optimizer:\n    name: adam\n");
        var config = TrackingConfig.Discover(_dir);
        Assert.Equal(("http://from-yaml:5000", TrackingUriSource.ConfigFile), TrackingUri.Resolve(null, config));

        Environment.SetEnvironmentVariable(TrackingUri.MlflowVariable, "http://from-mlflow:5000");
        Assert.Equal(("http://from-mlflow:5000", TrackingUriSource.MlflowEnvironment), TrackingUri.Resolve(null, config));
        Environment.SetEnvironmentVariable(TrackingUri.CairnVariable, "http://from-cairn:5000");
        Assert.Equal(("http://from-cairn:5000", TrackingUriSource.CairnEnvironment), TrackingUri.Resolve(null, config));
        Assert.Equal(("http://explicit:1", TrackingUriSource.Explicit), TrackingUri.Resolve("http://explicit:1", config));

        Environment.SetEnvironmentVariable(TrackingUri.CairnVariable, null);
        Environment.SetEnvironmentVariable(TrackingUri.MlflowVariable, null);
        var (uri, source) = TrackingUri.Resolve(null, TrackingConfig.Empty);
        Assert.Equal(TrackingUriSource.EmbeddedDefault, source);
        Assert.Equal("sqlite:///" + Path.Combine(Directory.GetCurrentDirectory(), ".cairn", "cairn.db"), uri);
    }

    [Fact]
    public void Yaml_and_appsettings_json_give_uri_experiment_and_flattened_parameters()
    {
        var yaml = Path.Combine(_dir, "run.yml");
        File.WriteAllText(yaml, "cairn:\n  tracking-uri: sqlite:///x.db\n  experiment_name: wine\n  parameters:\n    lr: 0.01\n    layers: [64, 32]\n    optimizer:\n      name: adam\n");
        var y = TrackingConfig.Load(yaml);
        Assert.Equal("sqlite:///x.db", y.TrackingUri);
        Assert.Equal("wine", y.Experiment);
        Assert.Equal(new Dictionary<string, string> { ["lr"] = "0.01", ["layers"] = "[64, 32]", ["optimizer.name"] = "adam" }, y.Parameters);

        var json = Path.Combine(_dir, "appsettings.json");
        File.WriteAllText(json, """
            {
              // appsettings-style, comments allowed
              "Logging": { "LogLevel": { "Default": "Information" } },
              "Cairn": { "TrackingUri": "http://json:5000", "Experiment": "iris", "Parameters": { "Epochs": 10, "Trainer": { "L2": 0.1 } } }
            }
            """);
        var j = TrackingConfig.Discover(_dir);
        Assert.Equal("http://json:5000", j.TrackingUri);
        Assert.Equal("iris", j.Experiment);
        Assert.Equal(new Dictionary<string, string> { ["Epochs"] = "10", ["Trainer.L2"] = "0.1" }, j.Parameters);

        Environment.SetEnvironmentVariable("CAIRN_CONFIG", yaml);
        Assert.Equal("sqlite:///x.db", TrackingConfig.Discover(_dir).TrackingUri);
    }

    [Fact]
    public async Task Unregistered_schemes_fail_with_a_message_that_says_how_to_fix_it()
    {
        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => TrackingStores.OpenAsync("mysql://db/tracking"));
        Assert.Contains("No tracking store is registered for 'mysql:'", ex.Message);
        Assert.Contains("TrackingStores.Register(LocalTrackingStores.Schemes, LocalTrackingStores.OpenAsync)", ex.Message);
    }

    [Fact]
    public async Task A_registered_sqlite_store_logs_in_process_with_file_artifacts()
    {
        TrackingStores.Register(LocalTrackingStores.Schemes, LocalTrackingStores.OpenAsync);
        var db = Path.Combine(_dir, "local", "cairn.db");
        await using var client = await TrackingClient.ConnectAsync("sqlite:///" + db);
        Assert.IsNotType<Rest.RestTrackingStore>(client.Store);
        string runId;
        await using (var run = await client.StartRunAsync(new RunOptions { ExperimentName = "local", RunName = "in-process", LogLineage = false }))
        {
            runId = run.RunId;
            Assert.StartsWith("file:///", run.ArtifactUri);
            run.LogParam("lr", 0.1);
            for (var i = 0; i < 1500; i++)
            {
                run.LogMetric("loss", 1.0 / (i + 1), i);
            }

            await run.LogTextAsync("hello", "notes/hello.txt");
            var model = Path.Combine(_dir, "model.bin");
            File.WriteAllBytes(model, [1, 2, 3]);
            await run.LogModelFileAsync(model);
        }

        var got = await client.Store.GetRunAsync(runId);
        Assert.Equal(RunStatus.Finished, got.Info.Status);
        Assert.Equal("0.1", got.Params.Single().Value);
        Assert.Equal(1500, await client.Store.GetMetricHistoryAsync(runId, "loss", long.MinValue, int.MaxValue).CountAsync());
        Assert.Contains(got.Tags, t => t.Key == MlflowTags.LoggedModels);
        Assert.True(File.Exists(Path.Combine(_dir, "local", "artifacts", got.Info.ExperimentId, runId, "artifacts", "notes", "hello.txt")));
        Assert.Equal(new[] { "model/MLmodel", "model/model.bin", "notes/hello.txt" }, (await client.ListArtifactsAsync(runId)).Select(f => f.Path));
    }
}
