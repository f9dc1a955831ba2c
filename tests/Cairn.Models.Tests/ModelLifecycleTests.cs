using Cairn.Client;
using Cairn.Client.Rest;
using Cairn.Core.Registry;
using Cairn.Server.Tests;

namespace Cairn.Models.Tests;

/// <summary>Log, register, alias, stage, then resolve and load by every URI form against a real `cairn server`.</summary>
public class ModelLifecycleTests
{
    [Fact]
    public async Task Logged_and_registered_model_loads_by_every_uri_form_with_the_same_predictions()
    {
        await using var server = await CairnProcess.StartAsync();
        var (ml, data, model) = Iris.Train();
        var expected = Iris.Expected(ml, data, model);
        var rows = Iris.Rows();

        await using var client = await TrackingClient.ConnectAsync(server.BaseUrl);
        LoggedModel logged;
        string runId;
        await using (var run = await client.StartRunAsync(new RunOptions { ExperimentName = "iris", LogLineage = false }))
        {
            runId = run.RunId;
            logged = await run.LogModelAsync(model, data, "model", registeredModelName: "iris", options: new MLNetSaveOptions { LabelColumn = "species" });
        }

        Assert.Equal($"runs:/{runId}/model", logged.ModelUri);
        Assert.StartsWith("mlflow-artifacts:/", logged.ArtifactUri, StringComparison.Ordinal);
        Assert.Equal("1", logged.RegisteredVersion!.Version);
        Assert.Equal(logged.ArtifactUri, logged.RegisteredVersion.Source);
        Assert.Equal(runId, logged.RegisteredVersion.RunId);

        // The package is in the run's artifacts, and the run's logged-model history names it.
        var files = (await client.ListArtifactsAsync(runId, "model")).Select(f => f.Path).ToList();
        Assert.Equal(["model/MLmodel", "model/dotnet_env.yaml", "model/input_example.json", "model/model.zip", "model/serving_input_example.json"], files);
        var history = (await client.Store.GetRunAsync(runId)).Tags.Single(t => t.Key == "mlflow.log-model.history").Value;
        Assert.Contains(logged.Model.ModelUuid, history, StringComparison.Ordinal);

        using var registry = new RestModelRegistry(server.BaseUrl);
        await registry.SetRegisteredModelAliasAsync("iris", "production", "1");
        await registry.TransitionModelVersionStageAsync("iris", "1", ModelStages.Staging, archiveExistingVersions: false);

        await using var resolver = new ModelUriResolver(client);
        var viaRun = await resolver.DownloadAsync(logged.ModelUri);
        try
        {
            string[] uris =
            [
                logged.ModelUri,
                "models:/iris/1",
                "models:/iris@production",
                "models:/iris/Staging",
                "models:/iris/latest",
                logged.ArtifactUri,
                new Uri(viaRun.LocalPath).AbsoluteUri,
                viaRun.LocalPath,
            ];
            foreach (var uri in uris)
            {
                var predictor = await ModelLoader.LoadAsync(uri, resolver);
                Assert.Equal(logged.Model.ModelUuid, predictor.Model.ModelUuid);
                Iris.AssertSame(expected, predictor.Predict(rows));
                if (predictor.LocalPath != viaRun.LocalPath && Path.GetFileName(predictor.LocalPath).StartsWith("cairn-model-", StringComparison.Ordinal))
                {
                    Directory.Delete(predictor.LocalPath, true); // a download of its own; the model is in memory
                }
            }

            var resolved = await resolver.DownloadAsync("models:/iris@production");
            Assert.Equal("1", resolved.Version!.Version);
            Assert.Equal(logged.ArtifactUri, resolved.Source);
            Directory.Delete(resolved.LocalPath, true);

            // The fluent entry point resolves against the SDK's tracking URI.
            Tracking.SetTrackingUri(server.BaseUrl);
            try
            {
                var fluent = await ModelLoader.LoadAsync("models:/iris@production");
                Iris.AssertSame(expected, fluent.Predict(rows));
                Directory.Delete(fluent.LocalPath, true);
            }
            finally
            {
                Tracking.SetTrackingUri(null);
            }

            // A stage with no versions and a missing alias are clear errors.
            var noProduction = await Assert.ThrowsAsync<Cairn.Core.MlflowException>(() => resolver.DownloadAsync("models:/iris/Production"));
            Assert.Contains("No versions of model with name 'iris' and stage 'Production' found", noProduction.Message, StringComparison.Ordinal);
            await Assert.ThrowsAsync<Cairn.Core.MlflowException>(() => resolver.DownloadAsync("models:/iris@champion"));
        }
        finally
        {
            Directory.Delete(viaRun.LocalPath, true);
        }
    }
}
