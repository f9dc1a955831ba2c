using System.CommandLine;
using System.Globalization;
using Cairn.Client;
using Cairn.Client.Rest;
using Cairn.Core;
using Cairn.Core.Registry;
using Cairn.Models;
using Cairn.Serving;
using Cairn.Storage;
using Spectre.Console;

namespace Cairn.Cli;

/// <summary>
/// <c>cairn models list|show|versions|alias set|alias delete|transition</c>: the model registry of a
/// tracking server (Cairn or MLflow), through the SDK's REST registry client; and
/// <c>cairn models serve|predict</c> (<see cref="ModelServingCommands"/>): scoring a model package.
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

        return new Command("models", "Browse and manage the model registry of a tracking server; serve a model or score a file with it.")
        {
            trackingUri, list, show, versions, new Command("alias", "Set or delete a model alias.") { aliasSet, aliasDelete }, transition,
            ModelServingCommands.Serve(trackingUri), ModelServingCommands.Predict(trackingUri),
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

/// <summary>
/// <c>cairn models serve</c> (MLflow's scoring server for one model) and <c>cairn models predict</c>
/// (score a CSV or JSON file in chunks). Both take any model URI: <c>runs:/</c>, <c>models:/name/1</c>,
/// <c>models:/name@alias</c>, <c>models:/name/Stage</c>, <c>mlflow-artifacts:/</c>, a local path.
/// </summary>
internal static class ModelServingCommands
{
    public static Command Serve(Option<string?> trackingUri)
    {
        var model = new Option<string>("--model-uri", "-m") { Description = "The model: runs:/<run>/<path>, models:/<name>/<version>, models:/<name>@<alias>, models:/<name>/<stage> or a local folder.", Required = true };
        var port = new Option<int>("--port", "-p") { Description = "Port to listen on.", DefaultValueFactory = _ => 5001 };
        var host = new Option<string>("--host", "-h") { Description = "Address to listen on.", DefaultValueFactory = _ => "127.0.0.1" };
        var maxBody = new Option<long>("--max-request-mb") { Description = "Largest /invocations body accepted, in MiB (larger ones get 413).", DefaultValueFactory = _ => 64 };
        var workers = new Option<int?>("--workers", "-w") { Description = "Accepted for compatibility with mlflow models serve; one process serves all requests." };
        var envManager = new Option<string?>("--env-manager") { Description = "Accepted for compatibility with mlflow models serve; the model runs in this process." };
        var command = new Command("serve", "Serve a model over MLflow's scoring protocol: /ping, /health, /version, POST /invocations.")
        {
            model, port, host, maxBody, workers, envManager,
        };
        command.SetAction(async (parse, ct) =>
        {
            var (predictor, cache) = await LoadAsync(parse.GetValue(model)!, parse.GetValue(trackingUri), ct);
            if (predictor is null)
            {
                return 1;
            }

            try
            {
                var options = new ModelServerOptions
                {
                    Host = parse.GetValue(host)!,
                    Port = parse.GetValue(port),
                    MaxRequestBytes = parse.GetValue(maxBody) * 1024 * 1024,
                };
                await using var server = ModelServer.Create(predictor, options);
                await server.StartAsync(ct);
                Console.WriteLine($"Cairn {ModelServer.Version} serving model '{parse.GetValue(model)}' on {server.Url} (POST {server.Url}/invocations)");
                await server.WaitForShutdownAsync(ct);
                return 0;
            }
            finally
            {
                DeleteCache(cache);
                (predictor as IDisposable)?.Dispose();
            }
        });
        return command;
    }

    public static Command Predict(Option<string?> trackingUri)
    {
        var model = new Option<string>("--model-uri", "-m") { Description = "The model (any model URI or a local folder).", Required = true };
        var input = new Option<string>("--input-path", "-i") { Description = "The rows to score: a CSV file with a header row, or a JSON scoring request ('-' reads stdin).", Required = true };
        var output = new Option<string?>("--output-path", "-o") { Description = "Where to write: a .csv file gets the input columns plus the prediction columns; any other path (or stdout, the default) gets {\"predictions\": [...]}." };
        var contentType = new Option<string?>("--content-type", "-t") { Description = "csv or json. Default: json for a .json input, else csv." };
        contentType.AcceptOnlyFromAmong("csv", "json");
        var chunk = new Option<int>("--chunk-rows") { Description = "CSV rows scored at a time.", DefaultValueFactory = _ => 10_000 };
        var command = new Command("predict", "Score a file with a model; CSV input is streamed in chunks, so any size fits in flat memory.")
        {
            model, input, output, contentType, chunk,
        };
        command.SetAction(async (parse, ct) =>
        {
            var (predictor, cache) = await LoadAsync(parse.GetValue(model)!, parse.GetValue(trackingUri), ct);
            if (predictor is null)
            {
                return 1;
            }

            try
            {
                var inputPath = parse.GetValue(input)!;
                var type = parse.GetValue(contentType) ?? (inputPath.EndsWith(".json", StringComparison.OrdinalIgnoreCase) ? "json" : "csv");
                await PredictAsync(new Scorer(predictor), inputPath, parse.GetValue(output), type, Math.Max(1, parse.GetValue(chunk)), ct);
                return 0;
            }
            catch (ScoringException e)
            {
                await Console.Error.WriteLineAsync($"error: {e.ErrorCode}: {e.Message}");
                return 1;
            }
            catch (IOException e)
            {
                await Console.Error.WriteLineAsync("error: " + e.Message);
                return 1;
            }
            finally
            {
                DeleteCache(cache);
                (predictor as IDisposable)?.Dispose();
            }
        });
        return command;
    }

    /// <summary>
    /// Loads the model. A remote package is downloaded into a temporary folder, loaded into memory and
    /// the folder deleted. Null (after printing why) on failure.
    /// </summary>
    private static async Task<(IModelPredictor? Predictor, string? Cache)> LoadAsync(string uri, string? trackingUri, CancellationToken ct)
    {
        string? cache = null;
        try
        {
            if (ModelUri.Parse(uri) is ModelUri.Local)
            {
                return (await ModelLoader.LoadAsync(uri, ct), null);
            }

            TrackingStores.Register(LocalTrackingStores.Schemes, LocalTrackingStores.OpenAsync);
            var tracking = new[] { trackingUri, Environment.GetEnvironmentVariable(TrackingUri.CairnVariable), Environment.GetEnvironmentVariable(TrackingUri.MlflowVariable) }
                .FirstOrDefault(u => !string.IsNullOrEmpty(u));
            await using var resolver = await ModelUriResolver.ConnectAsync(tracking, ct);
            cache = Directory.CreateTempSubdirectory("cairn-serve-").FullName;
            var resolved = await resolver.DownloadAsync(uri, cache, ct);
            await Console.Error.WriteLineAsync($"Resolved '{uri}' to {resolved.Source}{(resolved.Version is { } v ? $" (model '{v.Name}' version {v.Version})" : "")}");
            var predictor = ModelLoader.Load(resolved.LocalPath);

            // The model is in memory now: the downloaded copy goes at once, so nothing is left behind
            // even if the process is killed.
            DeleteCache(cache);
            return (predictor, null);
        }
        catch (Exception e) when (e is MlflowException or InvalidModelPackageException or TrackingUnavailableException or InvalidOperationException or IOException or HttpRequestException)
        {
            DeleteCache(cache);
            var code = e is MlflowException m ? m.WireCode() + ": " : "";
            await Console.Error.WriteLineAsync($"error: cannot load model '{uri}': {code}{e.Message}");
            return (null, null);
        }
    }

    private static void DeleteCache(string? cache)
    {
        if (cache is null)
        {
            return;
        }

        try
        {
            Directory.Delete(cache, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static async Task PredictAsync(Scorer scorer, string inputPath, string? outputPath, string contentType, int chunkRows, CancellationToken ct)
    {
        await using var input = inputPath == "-" ? Console.OpenStandardInput() : new FileStream(inputPath, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true);
        var csvOutput = outputPath is not null && outputPath.EndsWith(".csv", StringComparison.OrdinalIgnoreCase);
        await using var output = outputPath is null ? Console.OpenStandardOutput() : new FileStream(outputPath, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        if (contentType == "json")
        {
            using var memory = new MemoryStream();
            await input.CopyToAsync(memory, ct);
            var (predictions, _) = scorer.ScoreJson(new System.Buffers.ReadOnlySequence<byte>(memory.GetBuffer(), 0, (int)memory.Length));
            if (csvOutput)
            {
                await using var writer = new StreamWriter(output, new System.Text.UTF8Encoding(false), 1 << 16);
                var columns = scorer.CsvColumns(predictions);
                await writer.WriteLineAsync(string.Join(',', columns));
                var line = new System.Text.StringBuilder();
                foreach (var p in predictions)
                {
                    line.Clear();
                    Scorer.AppendCsv(line, p, ScoreColumns(columns), columns.Contains("Probability"), leadingComma: false);
                    await writer.WriteLineAsync(line, ct);
                }
            }
            else
            {
                await using var json = new System.Text.Json.Utf8JsonWriter(output, JsonOptions);
                Scorer.WriteResponse(json, predictions);
            }

            await Console.Error.WriteLineAsync($"Scored {predictions.Count:N0} rows in {clock.Elapsed.TotalSeconds:F1} s.");
            return;
        }

        var csv = new CsvInput(input);
        var inputColumns = await csv.ReadHeaderAsync(ct);
        if (csvOutput)
        {
            await WriteCsvAsync(scorer, csv, inputColumns, output, chunkRows, clock, ct);
        }
        else
        {
            await WriteJsonAsync(scorer, csv, output, chunkRows, clock, ct);
        }
    }

    private static readonly System.Text.Json.JsonWriterOptions JsonOptions = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static int ScoreColumns(List<string> columns) => columns.Count(c => c == "Score" || c.StartsWith("Score.", StringComparison.Ordinal));

    /// <summary>Input columns as read, then the prediction columns; one chunk in memory at a time.</summary>
    private static async Task WriteCsvAsync(Scorer scorer, CsvInput csv, IReadOnlyList<string> inputColumns, Stream output, int chunkRows, System.Diagnostics.Stopwatch clock, CancellationToken ct)
    {
        await using var writer = new StreamWriter(output, new System.Text.UTF8Encoding(false), 1 << 16);
        List<string>? columns = null;
        var line = new System.Text.StringBuilder();
        while (true)
        {
            var chunk = await csv.ReadChunkAsync(chunkRows, ct);
            var predictions = chunk.Rows.Count == 0 ? [] : scorer.Predict(chunk);
            if (columns is null)
            {
                columns = scorer.CsvColumns(predictions);
                line.Clear();
                foreach (var c in inputColumns)
                {
                    Scorer.AppendCsvField(line, c);
                    line.Append(',');
                }

                line.Append(string.Join(',', columns));
                await writer.WriteLineAsync(line, ct);
            }

            if (chunk.Rows.Count == 0)
            {
                break;
            }

            var scores = ScoreColumns(columns);
            var probability = columns.Contains("Probability");
            for (var r = 0; r < chunk.Rows.Count; r++)
            {
                line.Clear();
                var values = chunk.Rows[r];
                for (var c = 0; c < inputColumns.Count; c++)
                {
                    Scorer.AppendCsvField(line, values[c]);
                    line.Append(',');
                }

                Scorer.AppendCsv(line, predictions[r], scores, probability, leadingComma: false);
                await writer.WriteLineAsync(line, ct);
            }

            Progress(csv.RowsRead, clock);
        }

        await writer.FlushAsync(ct);
        Done(csv.RowsRead, clock);
    }

    /// <summary>{"predictions": [...]} written chunk by chunk.</summary>
    private static async Task WriteJsonAsync(Scorer scorer, CsvInput csv, Stream output, int chunkRows, System.Diagnostics.Stopwatch clock, CancellationToken ct)
    {
        await using var json = new System.Text.Json.Utf8JsonWriter(output, JsonOptions);
        json.WriteStartObject();
        json.WritePropertyName("predictions");
        json.WriteStartArray();
        bool? records = null;
        while (true)
        {
            var chunk = await csv.ReadChunkAsync(chunkRows, ct);
            if (chunk.Rows.Count == 0)
            {
                break;
            }

            var predictions = scorer.Predict(chunk);
            records ??= Scorer.AsRecords(predictions);
            Scorer.WriteItems(json, predictions, records.Value);
            await json.FlushAsync(ct);
            Progress(csv.RowsRead, clock);
        }

        json.WriteEndArray();
        json.WriteEndObject();
        await json.FlushAsync(ct);
        Done(csv.RowsRead, clock);
    }

    private static void Progress(long rows, System.Diagnostics.Stopwatch clock) =>
        Console.Error.WriteLine($"scored {rows:N0} rows ({rows / Math.Max(clock.Elapsed.TotalSeconds, 1e-3):N0} rows/s)");

    private static void Done(long rows, System.Diagnostics.Stopwatch clock) =>
        Console.Error.WriteLine($"Scored {rows:N0} rows in {clock.Elapsed.TotalSeconds:F1} s.");
}
