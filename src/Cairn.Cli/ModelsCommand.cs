using System.CommandLine;
using System.Globalization;
using Cairn.Client;
using Cairn.Client.Rest;
using Cairn.Core;
using Cairn.Core.Registry;
using Spectre.Console;

namespace Cairn.Cli;

/// <summary>
/// <c>cairn models list|show|versions|alias set|alias delete|transition</c>: the model registry of a
/// tracking server (Cairn or MLflow), through the SDK's REST registry client.
/// </summary>
internal static class ModelsCommand
{
    public static Command Create()
    {
        var trackingUri = new Option<string?>("--tracking-uri")
        {
            Description = $"The tracking server, e.g. http://127.0.0.1:5000. Default: {TrackingUri.CairnVariable}, then {TrackingUri.MlflowVariable}.",
            Recursive = true,
        };

        var filter = new Option<string?>("--filter") { Description = "An MLflow search filter, e.g. \"name LIKE 'iris%'\" or \"tags.team = 'vision'\"." };
        var maxResults = new Option<int>("--max-results") { Description = "Show at most this many models.", DefaultValueFactory = _ => 1000 };
        var list = new Command("list", "List registered models with their latest versions and aliases.") { filter, maxResults };
        list.SetAction((parse, ct) => RunAsync(parse, trackingUri, ct, (registry, console) => ListAsync(registry, console, parse.GetValue(filter), parse.GetValue(maxResults), ct)));

        var showName = new Argument<string>("name") { Description = "The registered model." };
        var show = new Command("show", "Show a registered model: description, tags, aliases and versions.") { showName };
        show.SetAction((parse, ct) => RunAsync(parse, trackingUri, ct, (registry, console) => ShowAsync(registry, console, parse.GetValue(showName)!, ct)));

        var versionsName = new Argument<string>("name") { Description = "The registered model." };
        var versions = new Command("versions", "List a model's versions, newest first, with stages and aliases.") { versionsName };
        versions.SetAction((parse, ct) => RunAsync(parse, trackingUri, ct, async (registry, console) =>
        {
            var name = parse.GetValue(versionsName)!;
            var model = await registry.GetRegisteredModelAsync(name, ct);
            console.Write(VersionsTable(await AllVersionsAsync(registry, name, ct), model.Aliases));
        }));

        var setName = new Argument<string>("name") { Description = "The registered model." };
        var setAlias = new Argument<string>("alias") { Description = "The alias, e.g. champion." };
        var setVersion = new Argument<string>("version") { Description = "The version the alias points at." };
        var aliasSet = new Command("set", "Point an alias at a version (moving it if it pointed elsewhere).") { setName, setAlias, setVersion };
        aliasSet.SetAction((parse, ct) => RunAsync(parse, trackingUri, ct, async (registry, console) =>
        {
            var (name, alias, version) = (parse.GetValue(setName)!, parse.GetValue(setAlias)!, parse.GetValue(setVersion)!);
            await registry.SetRegisteredModelAliasAsync(name, alias, version, ct);
            console.WriteLine($"Alias '{alias}' of model '{name}' now points at version {version}.");
        }));

        var deleteName = new Argument<string>("name") { Description = "The registered model." };
        var deleteAlias = new Argument<string>("alias") { Description = "The alias to remove." };
        var aliasDelete = new Command("delete", "Remove an alias.") { deleteName, deleteAlias };
        aliasDelete.SetAction((parse, ct) => RunAsync(parse, trackingUri, ct, async (registry, console) =>
        {
            var (name, alias) = (parse.GetValue(deleteName)!, parse.GetValue(deleteAlias)!);
            await registry.DeleteRegisteredModelAliasAsync(name, alias, ct);
            console.WriteLine($"Alias '{alias}' of model '{name}' deleted.");
        }));

        var transitionName = new Argument<string>("name") { Description = "The registered model." };
        var transitionVersion = new Argument<string>("version") { Description = "The version to move." };
        var transitionStage = new Argument<string>("stage") { Description = "None, Staging, Production or Archived (any case)." };
        var archive = new Option<bool>("--archive-existing") { Description = "Archive the model's other versions in the target stage (Staging or Production only)." };
        var transition = new Command("transition", "Move a version to another stage.") { transitionName, transitionVersion, transitionStage, archive };
        transition.SetAction((parse, ct) => RunAsync(parse, trackingUri, ct, async (registry, console) =>
        {
            var name = parse.GetValue(transitionName)!;
            var moved = await registry.TransitionModelVersionStageAsync(name, parse.GetValue(transitionVersion)!, parse.GetValue(transitionStage)!, parse.GetValue(archive), ct);
            console.WriteLine($"Model '{name}' version {moved.Version} is now in stage {moved.CurrentStage}.");
        }));

        return new Command("models", "Browse and manage the model registry of a tracking server.")
        {
            trackingUri, list, show, versions, new Command("alias", "Set or delete a model alias.") { aliasSet, aliasDelete }, transition,
        };
    }

    /// <summary>Resolves the server, runs <paramref name="action"/>, and turns MLflow errors into a message and exit code 1.</summary>
    private static async Task<int> RunAsync(ParseResult parse, Option<string?> trackingUri, CancellationToken ct, Func<IModelRegistryStore, IAnsiConsole, Task> action)
    {
        var uri = new[] { parse.GetValue(trackingUri), Environment.GetEnvironmentVariable(TrackingUri.CairnVariable), Environment.GetEnvironmentVariable(TrackingUri.MlflowVariable) }
            .FirstOrDefault(u => !string.IsNullOrEmpty(u));
        if (uri is null || !(uri.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || uri.StartsWith("https://", StringComparison.OrdinalIgnoreCase)))
        {
            await Console.Error.WriteLineAsync(
                $"error: the model registry needs a tracking server: pass --tracking-uri http://host:port or set {TrackingUri.CairnVariable} / {TrackingUri.MlflowVariable}{(uri is null ? "" : $" (got '{uri}')")}.");
            return 2;
        }

        // Scripts pipe this output: keep tables wide enough not to wrap ids and URIs.
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Out) });
        if (Console.IsOutputRedirected)
        {
            console.Profile.Width = 240;
        }

        using var registry = new RestModelRegistry(uri, new RestOptions { MaxRetries = 1 });
        try
        {
            await action(registry, console);
            return 0;
        }
        catch (MlflowException ex)
        {
            await Console.Error.WriteLineAsync($"error: {ex.WireCode()}: {ex.Message}");
            return 1;
        }
        catch (TrackingUnavailableException ex)
        {
            await Console.Error.WriteLineAsync("error: " + ex.Message);
            return 1;
        }
    }

    private static async Task ListAsync(IModelRegistryStore registry, IAnsiConsole console, string? filter, int maxResults, CancellationToken ct)
    {
        var table = new Table().AddColumns("Name", "Latest versions", "Aliases", "Description", "Last updated (UTC)");
        var shown = 0;
        string? token = null;
        do
        {
            var page = await registry.SearchRegisteredModelsAsync(
                new RegisteredModelSearchQuery(filter, Math.Min(RegistryLimits.MaxRegisteredModelResults, maxResults - shown), null, token), ct);
            foreach (var m in page.Items)
            {
                table.AddRow(
                    Markup.Escape(m.Name),
                    Markup.Escape(string.Join(", ", m.LatestVersions.OrderBy(v => long.Parse(v.Version, CultureInfo.InvariantCulture)).Select(v => $"v{v.Version} {v.CurrentStage}"))),
                    Markup.Escape(Aliases(m.Aliases)),
                    Markup.Escape(m.Description ?? ""),
                    Time(m.LastUpdatedTimestamp));
                shown++;
            }

            token = page.NextPageToken;
        }
        while (token is not null && shown < maxResults);

        if (shown == 0)
        {
            console.WriteLine("No registered models.");
            return;
        }

        console.Write(table);
    }

    private static async Task ShowAsync(IModelRegistryStore registry, IAnsiConsole console, string name, CancellationToken ct)
    {
        var model = await registry.GetRegisteredModelAsync(name, ct);
        var details = new Grid().AddColumn().AddColumn();
        details.AddRow("Name", Markup.Escape(model.Name));
        details.AddRow("Description", Markup.Escape(model.Description ?? ""));
        details.AddRow("Created (UTC)", Time(model.CreationTimestamp));
        details.AddRow("Last updated (UTC)", Time(model.LastUpdatedTimestamp));
        details.AddRow("Tags", Markup.Escape(string.Join(", ", model.Tags.Select(t => $"{t.Key}={t.Value}"))));
        details.AddRow("Aliases", Markup.Escape(Aliases(model.Aliases)));
        console.Write(details);
        console.WriteLine();
        var versions = await AllVersionsAsync(registry, name, ct);
        if (versions.Count == 0)
        {
            console.WriteLine("No versions.");
            return;
        }

        console.Write(VersionsTable(versions, model.Aliases));
    }

    /// <summary>Every version of one model, newest first (search pages until the server has no more).</summary>
    private static async Task<List<ModelVersion>> AllVersionsAsync(IModelRegistryStore registry, string name, CancellationToken ct)
    {
        var quoted = name.Contains('\'', StringComparison.Ordinal) ? $"\"{name}\"" : $"'{name}'";
        var all = new List<ModelVersion>();
        string? token = null;
        do
        {
            var page = await registry.SearchModelVersionsAsync(new ModelVersionSearchQuery($"name = {quoted}", 1000, ["version_number DESC"], token), ct);
            all.AddRange(page.Items);
            token = page.NextPageToken;
        }
        while (token is not null);

        return all;
    }

    private static Table VersionsTable(IReadOnlyList<ModelVersion> versions, IReadOnlyList<RegisteredModelAlias> aliases)
    {
        var table = new Table().AddColumns("Version", "Stage", "Aliases", "Status", "Run ID", "Source", "Created (UTC)");
        foreach (var v in versions)
        {
            table.AddRow(
                v.Version,
                v.CurrentStage,
                Markup.Escape(string.Join(", ", aliases.Where(a => a.Version == v.Version).Select(a => a.Alias))),
                v.Status,
                Markup.Escape(v.RunId),
                Markup.Escape(v.Source),
                Time(v.CreationTimestamp));
        }

        return table;
    }

    private static string Aliases(IReadOnlyList<RegisteredModelAlias> aliases) => string.Join(", ", aliases.Select(a => $"{a.Alias} -> v{a.Version}"));

    private static string Time(long milliseconds) =>
        DateTimeOffset.FromUnixTimeMilliseconds(milliseconds).UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
}
