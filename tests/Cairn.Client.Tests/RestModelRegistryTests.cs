using Cairn.Client.Rest;
using Cairn.Core;
using Cairn.Core.Registry;

namespace Cairn.Client.Tests;

/// <summary>The REST registry client against a real `cairn server`: every call round-trips.</summary>
public sealed class RestModelRegistryTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private static string Unique(string prefix) => prefix + "-" + Guid.NewGuid().ToString("N")[..8];

    [Fact]
    public async Task Registered_models_round_trip_create_get_update_rename_tags_search_delete()
    {
        using var registry = new RestModelRegistry(fixture.Url);
        var name = Unique("model");
        var created = await registry.CreateRegisteredModelAsync(name, [new Tag("team", "vision")], "first");
        Assert.Equal(name, created.Name);
        Assert.Equal("first", created.Description);
        Assert.Equal([new Tag("team", "vision")], created.Tags);

        Assert.Equal("second", (await registry.UpdateRegisteredModelAsync(name, "second")).Description);
        await registry.SetRegisteredModelTagAsync(name, new Tag("task", "detect"));
        await registry.DeleteRegisteredModelTagAsync(name, "team");
        var renamed = await registry.RenameRegisteredModelAsync(name, name + "-2");
        Assert.Equal([new Tag("task", "detect")], renamed.Tags);

        var found = await registry.SearchRegisteredModelsAsync(new RegisteredModelSearchQuery($"name = '{name}-2'"));
        Assert.Equal(name + "-2", Assert.Single(found.Items).Name);

        await registry.DeleteRegisteredModelAsync(name + "-2");
        var error = await Assert.ThrowsAsync<MlflowException>(() => registry.GetRegisteredModelAsync(name + "-2"));
        Assert.Equal(ErrorCode.ResourceDoesNotExist, error.Code);
    }

    [Fact]
    public async Task Model_versions_round_trip_stages_aliases_tags_search_and_download_uri()
    {
        using var registry = new RestModelRegistry(fixture.Url);
        var name = Unique("versions");
        await registry.CreateRegisteredModelAsync(name, [], null);
        var v1 = await registry.CreateModelVersionAsync(new NewModelVersion(name, "s3://b/1", "run-1", [new Tag("ok", "no")], "http://link", "one"));
        Assert.Equal(("1", "None", "run-1", "http://link", "one"), (v1.Version, v1.CurrentStage, v1.RunId, v1.RunLink, v1.Description));
        await registry.CreateModelVersionAsync(new NewModelVersion(name, "s3://b/2"));

        Assert.Equal("uno", (await registry.UpdateModelVersionAsync(name, "1", "uno")).Description);
        await registry.SetModelVersionTagAsync(name, "1", new Tag("ok", "yes"));
        await registry.DeleteModelVersionTagAsync(name, "1", "missing");
        Assert.Equal([new Tag("ok", "yes")], (await registry.GetModelVersionAsync(name, "1")).Tags);

        await registry.TransitionModelVersionStageAsync(name, "1", "production", false);
        var v2 = await registry.TransitionModelVersionStageAsync(name, "2", "Production", true);
        Assert.Equal(ModelStages.Production, v2.CurrentStage);
        Assert.Equal(ModelStages.Archived, (await registry.GetModelVersionAsync(name, "1")).CurrentStage);
        Assert.Equal(["2"], (await registry.GetLatestVersionsAsync(name, ["Production"])).Select(v => v.Version));

        await registry.SetRegisteredModelAliasAsync(name, "champion", "2");
        var byAlias = await registry.GetModelVersionByAliasAsync(name, "champion");
        Assert.Equal("2", byAlias.Version);
        Assert.Equal(["champion"], byAlias.Aliases);
        Assert.Equal([new RegisteredModelAlias("champion", "2")], (await registry.GetRegisteredModelAsync(name)).Aliases);
        await registry.DeleteRegisteredModelAliasAsync(name, "champion");
        Assert.Empty((await registry.GetRegisteredModelAsync(name)).Aliases);

        var page = await registry.SearchModelVersionsAsync(new ModelVersionSearchQuery($"name = '{name}'", 1, ["version_number ASC"]));
        Assert.Equal("1", Assert.Single(page.Items).Version);
        var next = await registry.SearchModelVersionsAsync(new ModelVersionSearchQuery($"name = '{name}'", 1, ["version_number ASC"], page.NextPageToken));
        Assert.Equal("2", Assert.Single(next.Items).Version);
        Assert.Equal("s3://b/2", await registry.GetModelVersionDownloadUriAsync(name, "2"));

        await registry.DeleteModelVersionAsync(name, "2");
        var error = await Assert.ThrowsAsync<MlflowException>(() => registry.GetModelVersionAsync(name, "2"));
        Assert.Equal(ErrorCode.ResourceDoesNotExist, error.Code);
        var reserved = await Assert.ThrowsAsync<MlflowException>(() => registry.SetRegisteredModelAliasAsync(name, "latest", "1"));
        Assert.Equal(ErrorCode.InvalidParameterValue, reserved.Code);
    }
}
