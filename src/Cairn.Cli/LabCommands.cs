using System.CommandLine;
using Cairn.Client;
using Cairn.Client.Rest;
using Cairn.Core;
using Cairn.Core.Registry;
using Cairn.Lab.Pipelines;
using Cairn.Lab.Pipelines.Reports;
using Cairn.Models;
using Cairn.Storage;
using Cairn.Storage.Sql;
using Spectre.Console;

namespace Cairn.Cli;

/// <summary>A tracking client and the registry that goes with it: the same database in-process, or the server's REST registry.</summary>
internal sealed class LabConnection : IAsyncDisposable
{
    private readonly RestModelRegistry? _rest;

    private LabConnection(TrackingClient client, IModelRegistryStore registry, RestModelRegistry? rest)
    {
        Client = client;
        Registry = registry;
        _rest = rest;
    }

    public TrackingClient Client { get; }

    public IModelRegistryStore Registry { get; }

    public static Option<string?> TrackingUriOption() => new("--tracking-uri")
    {
        Description = $"Where runs are: http(s)://server, sqlite:///file.db or postgresql://… Default: {TrackingUri.CairnVariable}, {TrackingUri.MlflowVariable}, then the embedded store in ./.cairn/.",
    };

    public static async Task<LabConnection> OpenAsync(string? explicitUri, CancellationToken ct)
    {
        TrackingStores.Register(LocalTrackingStores.Schemes, LocalTrackingStores.OpenAsync);
        var client = await TrackingClient.ConnectAsync(explicitUri, ct: ct);
        if (client.Store is SqlTrackingStore sql)
        {
            return new LabConnection(client, SqlModelRegistryStore.On(sql), null);
        }

        var rest = new RestModelRegistry(client.TrackingUri, client.Options.Rest);
        return new LabConnection(client, rest, rest);
    }

    public ModelUriResolver Resolver() => new(Client, Registry);

    /// <summary>Runs a command body, turning configuration mistakes (exit 2) and server errors (exit 1) into one line on stderr.</summary>
    public static async Task<int> GuardAsync(Func<Task<int>> body)
    {
        try
        {
            return await body();
        }
        catch (PipelineConfigException e)
        {
            await Console.Error.WriteLineAsync("error: " + e.Message);
            return 2;
        }
        catch (MlflowException e)
        {
            await Console.Error.WriteLineAsync($"error: {e.WireCode()}: {e.Message}");
            return 1;
        }
        catch (TrackingUnavailableException e)
        {
            await Console.Error.WriteLineAsync("error: " + e.Message);
            return 1;
        }
    }

    public async ValueTask DisposeAsync()
    {
        _rest?.Dispose();
        await Client.DisposeAsync();
    }
}

/// <summary><c>cairn report</c>, <c>cairn model-card</c>, <c>cairn release</c> and <c>cairn rerun</c>: what follows a <c>cairn train</c>.</summary>
internal static class LabCommands
{
    public static IEnumerable<Command> Create() => [Report(), ModelCardCommand(), Release(), Rerun()];

    private static Command Report()
    {
        var experiment = new Option<string>("--experiment", "-e") { Description = "The experiment to report on.", Required = true };
        var output = new Option<string>("--output", "-o") { Description = "The reports folder; the report goes to <output>/<experiment>/.", DefaultValueFactory = _ => "reports" };
        var trackingUri = LabConnection.TrackingUriOption();
        var command = new Command("report", "Write reports/<experiment>/report.md: every pipeline configuration ranked, comparison charts per model and feature set, and runs.csv.")
        {
            experiment, output, trackingUri,
        };
        command.SetAction((parse, ct) => LabConnection.GuardAsync(async () =>
        {
            await using var connection = await LabConnection.OpenAsync(parse.GetValue(trackingUri), ct);
            var files = await ExperimentReport.WriteAsync(connection.Client, parse.GetValue(experiment)!, parse.GetValue(output)!, ct);
            Console.WriteLine($"Wrote {files.Markdown} ({files.RunCount} runs), {files.Csv} and {files.Charts.Count} charts.");
            return 0;
        }));
        return command;
    }

    private static Option<string> ModelOption() => new("--model-uri", "-m") { Description = "The model version: models:/<name>@<alias>, models:/<name>/<version> or models:/<name>/<stage>.", Required = true };

    private static Command ModelCardCommand()
    {
        var model = ModelOption();
        var output = new Option<string?>("--output", "-o") { Description = "The folder for model_card.json and model_card.md. Default: model-cards/<name>-v<version>." };
        var trackingUri = LabConnection.TrackingUriOption();
        var command = new Command("model-card", "Write a model card (JSON and Markdown): data, metrics, params, lineage, intended use and limitations.") { model, output, trackingUri };
        command.SetAction((parse, ct) => LabConnection.GuardAsync(async () =>
        {
            await using var connection = await LabConnection.OpenAsync(parse.GetValue(trackingUri), ct);
            await using var resolver = connection.Resolver();
            var card = await ModelCard.BuildAsync(resolver, parse.GetValue(model)!, ct);
            var dir = parse.GetValue(output) ?? Path.Combine("model-cards", $"{card.Version.Name}-v{card.Version.Version}");
            var (json, md) = await card.WriteAsync(dir, ct);
            Console.WriteLine($"Wrote {md} and {json}.");
            return 0;
        }));
        return command;
    }

    private static Command Release()
    {
        var model = ModelOption();
        var push = new Option<bool>("--push") { Description = "Push the tag to origin." };
        var repo = new Option<string>("--repo") { Description = "The git repository to tag.", DefaultValueFactory = _ => "." };
        var tag = new Option<string?>("--tag") { Description = "The tag's name. Default: model-v<version>." };
        var trackingUri = LabConnection.TrackingUriOption();
        var command = new Command("release", "Create an annotated git tag model-v<version> whose message is the model card.") { model, push, repo, tag, trackingUri };
        command.SetAction((parse, ct) => LabConnection.GuardAsync(async () =>
        {
            await using var connection = await LabConnection.OpenAsync(parse.GetValue(trackingUri), ct);
            await using var resolver = connection.Resolver();
            var card = await ModelCard.BuildAsync(resolver, parse.GetValue(model)!, ct);
            var name = await card.ReleaseAsync(parse.GetValue(repo)!, parse.GetValue(push), parse.GetValue(tag), ct);
            Console.WriteLine($"Tagged {name} ({card.Version.Name} version {card.Version.Version}){(parse.GetValue(push) ? " and pushed it to origin" : "")}.");
            return 0;
        }));
        return command;
    }

    private static Command Rerun()
    {
        var runId = new Argument<string>("run-id") { Description = "A configuration run of cairn train (or its pipeline run, standing for the best configuration)." };
        var trackingUri = LabConnection.TrackingUriOption();
        var command = new Command("rerun", "Re-execute a cairn train run from its logged config, parameters and seeds, and report whether every metric matches.") { runId, trackingUri };
        command.SetAction((parse, ct) => LabConnection.GuardAsync(async () =>
        {
            await using var connection = await LabConnection.OpenAsync(parse.GetValue(trackingUri), ct);
            var result = await PipelineRerun.RunAsync(connection.Client, parse.GetValue(runId)!, null, ct);
            var table = new Table().AddColumns("Metric", "Original", "Rerun", "");
            foreach (var m in result.Metrics)
            {
                table.AddRow(m.Key, m.Original.ToString("R", System.Globalization.CultureInfo.InvariantCulture), m.Rerun.ToString("R", System.Globalization.CultureInfo.InvariantCulture), m.Matches ? "same" : "[red]differs[/]");
            }

            var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Out) });
            console.Write(table);
            console.WriteLine($"Data set digest: {result.OriginalDigest} then {result.RerunDigest} ({(result.DatasetDigestMatches ? "same" : "DIFFERENT")}).");
            if (result.OriginalCommit != result.CurrentCommit)
            {
                console.WriteLine($"Code commit: {result.OriginalCommit ?? "none"} then {result.CurrentCommit ?? "none"}.");
            }

            console.WriteLine(result.Reproduced
                ? $"Reproduced: run {result.RerunRunId} matches run {result.OriginalRunId} exactly."
                : $"NOT reproduced: run {result.RerunRunId} differs from run {result.OriginalRunId}.");
            return result.Reproduced ? 0 : 1;
        }));
        return command;
    }
}
