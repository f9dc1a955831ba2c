using System.CommandLine;
using System.Globalization;
using Cairn.Client;
using Cairn.Core.Registry;
using Cairn.Lab.Pipelines;
using Cairn.Lab.Pipelines.Data;
using Cairn.Lab.Pipelines.Features;
using Cairn.Lab.Pipelines.Models;
using Spectre.Console;

namespace Cairn.Cli;

/// <summary>
/// <c>cairn train -f config.yaml [-d dataset] [-l data/] [-e experiment]</c>: runs an experiment
/// pipeline (data set → feature sets → models → fine-tuner), tracked in the embedded store or a
/// tracking server, and registers the best model. <c>cairn train --list</c> shows the catalogs.
/// </summary>
internal static class TrainCommand
{
    public static Command Create()
    {
        var file = new Option<string?>("--filepath", "-f") { Description = "The pipeline config (YAML or JSON), e.g. samples/iris.yaml." };
        var dataset = new Option<string?>("--dataset", "-d") { Description = "The data set, overriding the config's dataset.name." };
        var location = new Option<string?>("--location", "-l") { Description = "The data folder (where higgs finds HIGGS.csv.gz), overriding dataset.location." };
        var experiment = new Option<string?>("--experiment", "-e") { Description = "The experiment to log to, overriding the config's experiment." };
        var trackingUri = LabConnection.TrackingUriOption();
        var trials = new Option<int?>("--trials") { Description = "Trials per configuration, overriding tuner.trials." };
        var rows = new Option<long?>("--rows") { Description = "Read at most this many rows of the data set, overriding dataset.row_limit." };
        var list = new Option<bool>("--list") { Description = "List every data set, feature enricher, model and fine-tuner with its options, and exit." };
        var command = new Command("train", "Run an experiment pipeline: tune each feature set × model with cross-validation, track every trial, evaluate and register the best model.")
        {
            file, dataset, location, experiment, trackingUri, trials, rows, list,
        };
        command.SetAction((parse, ct) => LabConnection.GuardAsync(async () =>
        {
            if (parse.GetValue(list))
            {
                WriteCatalogs();
                return 0;
            }

            var path = parse.GetValue(file) ?? throw new PipelineConfigException("Give a config file with -f/--filepath (see samples/*.yaml), or --list to see what a config can name.");
            var config = PipelineConfig.Load(path);
            config = Override(config, parse.GetValue(dataset), parse.GetValue(location), parse.GetValue(experiment), parse.GetValue(trials), parse.GetValue(rows));
            return await RunAsync(PipelineRunner.Validate(config), parse.GetValue(trackingUri) ?? config.TrackingUri, ct);
        }));
        return command;
    }

    private static PipelineConfig Override(PipelineConfig config, string? dataset, string? location, string? experiment, int? trials, long? rows)
    {
        var data = config.Dataset;
        if (dataset is not null && dataset != data.Name)
        {
            // Another data set: the config's file path and label belonged to the old one.
            data = new DatasetOptions(dataset, data.Location);
        }

        data = data with { Location = location ?? data.Location, RowLimit = rows ?? data.RowLimit };
        return config with
        {
            Dataset = data,
            Experiment = experiment ?? config.Experiment,
            Tuner = trials is { } t ? config.Tuner with { Trials = t >= 1 ? t : throw new PipelineConfigException($"--trials must be ≥ 1 (got {t}).") } : config.Tuner,
        };
    }

    private static async Task<int> RunAsync(PipelineRunner.Plan plan, string? explicitUri, CancellationToken ct)
    {
        var config = plan.Config;
        await using var connection = await LabConnection.OpenAsync(explicitUri, ct);
        var (client, registry) = (connection.Client, connection.Registry);
        await Console.Error.WriteLineAsync($"Tracking to {client.TrackingUri}");
        var interactive = !Console.IsErrorRedirected && AnsiConsole.Profile.Capabilities.Interactive;
        var result = interactive
            ? await RunWithProgressBarAsync(plan, client, registry, ct)
            : await new PipelineRunner(client, registry, new InlineProgress<PipelineProgress>(WriteLine)).RunAsync(plan, ct: ct);
        WriteSummary(config, result, client.TrackingUri);
        return 0;
    }

    private static async Task<PipelineResult> RunWithProgressBarAsync(PipelineRunner.Plan plan, TrackingClient client, IModelRegistryStore registry, CancellationToken ct)
    {
        PipelineResult? result = null;
        await AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .StartAsync(async context =>
            {
                var tasks = new Dictionary<string, ProgressTask>(StringComparer.Ordinal);
                var stage = context.AddTask("Starting", maxValue: 1);
                var progress = new InlineProgress<PipelineProgress>(p =>
                {
                    if (p.Configuration is null)
                    {
                        stage.Description = Markup.Escape(p.Stage);
                        return;
                    }

                    stage.Value = 1;
                    if (!tasks.TryGetValue(p.Configuration, out var task))
                    {
                        task = tasks[p.Configuration] = context.AddTask(Markup.Escape(p.Configuration), maxValue: Math.Max(1, p.TrialCount));
                    }

                    task.Value = p.Trial;
                    task.Description = Markup.Escape($"[{p.ConfigurationIndex}/{p.ConfigurationCount}] {p.Configuration}  trial {p.Trial}/{p.TrialCount}  best {Number(p.BestValue)}");
                });
                result = await new PipelineRunner(client, registry, progress).RunAsync(plan, ct: ct);
                stage.Description = "Done";
            });
        return result!;
    }

    private static void WriteLine(PipelineProgress p)
    {
        var time = $"[{p.Elapsed:hh\\:mm\\:ss}]";
        Console.Error.WriteLine(p.Configuration is null
            ? $"{time} {p.Stage}"
            : $"{time} [{p.ConfigurationIndex}/{p.ConfigurationCount}] {p.Configuration} trial {p.Trial}/{p.TrialCount} best {Number(p.BestValue)}{(p.Remaining is { } r ? $" eta {r:hh\\:mm\\:ss}" : "")}");
    }

    private static void WriteSummary(PipelineConfig config, PipelineResult result, string trackingUri)
    {
        var metric = config.Tuner.Metric;
        var table = new Table().AddColumns("Configuration", $"cv {metric}", $"val {metric}", $"test {metric}", "Run ID");
        foreach (var c in result.Configurations)
        {
            var name = c == result.Best ? $"[bold]{Markup.Escape(c.Name)}[/] (best)" : Markup.Escape(c.Name);
            table.AddRow(name, Number(c.CvValue), Number(c.Metrics.GetValueOrDefault("val_" + metric, double.NaN)), Number(c.Metrics.GetValueOrDefault("test_" + metric, double.NaN)), c.RunId);
        }

        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Out) });
        if (Console.IsOutputRedirected)
        {
            console.Profile.Width = 200;
        }

        console.Write(table);
        console.WriteLine($"Experiment '{config.Experiment}' (id {result.ExperimentId}), pipeline run {result.ParentRunId}, {result.Elapsed.TotalSeconds:0.0} s.");
        if (result.RegisteredVersion is { } v)
        {
            console.WriteLine($"Registered models:/{v.Name}/{v.Version} with alias '{config.Registry.Alias}'"
                + (result.BecameChampion ? $"; it is now '{config.Registry.ChampionAlias}'." : $"; '{config.Registry.ChampionAlias}' stays on the better version."));
        }

        console.WriteLine(trackingUri.StartsWith("http", StringComparison.OrdinalIgnoreCase)
            ? $"Look at it: {trackingUri.TrimEnd('/')}/experiments/{result.ExperimentId}"
            : $"Look at it: cairn server --backend-store-uri {trackingUri} --port 5000, then open http://127.0.0.1:5000/experiments/{result.ExperimentId}");
    }

    private static void WriteCatalogs()
    {
        void Section(string title, IEnumerable<CatalogEntry> entries)
        {
            var table = new Table().Title(title).AddColumns("Name", "Description", "Options");
            foreach (var e in entries)
            {
                table.AddRow(Markup.Escape(e.Name), Markup.Escape(e.Description), Markup.Escape(string.Join("\n", e.Options.Select(o => $"{o.Name}{(o.Default is null ? "" : $" (default {o.Default})")}: {o.Description}"))));
            }

            AnsiConsole.Write(table);
        }

        Section("Data sets (dataset.name, -d)", DatasetCatalog.Entries);
        Section("Feature enrichers (feature_sets)", EnricherCatalog.Entries);
        Section("Models (models)", ModelCatalog.Entries);
        Section("Fine-tuners (tuner.name)",
        [
            new CatalogEntry("grid", "Every point of the search space (continuous ranges get tuner.grid_points points).", TunerOptions),
            new CatalogEntry("random", "Independent random samples of the search space.", TunerOptions),
            new CatalogEntry("tpe", "Bayesian optimisation with a Tree-structured Parzen Estimator (as Optuna's TPESampler).", TunerOptions),
        ]);
        AnsiConsole.WriteLine("Metrics (tuner.metric): " + string.Join(", ", PipelineConfig.Metrics.Select(m => $"{m.Key} ({(m.Value ? "higher" : "lower")} is better)")));
    }

    private static readonly IReadOnlyList<OptionInfo> TunerOptions =
    [
        new("trials", "Trials per configuration.", "20; grid: its size"),
        new("folds", "Stratified cross-validation folds on the training split.", "5"),
        new("metric", "The metric to optimise.", "accuracy"),
        new("pruner", "none or median (stops a trial whose running CV score is below the median after a fold).", "none"),
        new("grid_points", "Grid points per continuous range.", "3"),
    ];

    private static string Number(double? v) => v is { } d && double.IsFinite(d) ? d.ToString("0.####", CultureInfo.InvariantCulture) : "-";
}
