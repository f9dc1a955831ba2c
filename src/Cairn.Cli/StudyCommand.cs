using System.CommandLine;
using System.Globalization;
using Cairn.Lab.Tuning;
using Cairn.Tuning;
using Cairn.Tuning.Storage;
using Spectre.Console;

namespace Cairn.Cli;

/// <summary>
/// <c>cairn study list|show|best|export --storage URI</c>: reads hyperparameter studies straight from
/// their storage (the same URIs as <see cref="StudyStorage.Open"/>), as Optuna's CLI does; no server involved.
/// </summary>
internal static class StudyCommand
{
    public static Command Create()
    {
        // Recursive, so it may stand before or after the subcommand (`cairn study --storage X list`).
        var storage = new Option<string>("--storage")
        {
            Description = "Study storage: sqlite:///path.db, postgresql://user@host:port/db or an Npgsql connection string.",
            Required = true,
            Recursive = true,
        };

        var study = new Command("study", "Inspect hyperparameter studies (Cairn.Tuning) and export their trials and plots.") { storage };
        study.Subcommands.Add(List(storage));
        study.Subcommands.Add(Show(storage));
        study.Subcommands.Add(Best(storage));
        study.Subcommands.Add(Export(storage));
        return study;
    }

    private static Argument<string> NameArgument() => new("name") { Description = "The study's name." };

    private static Command List(Option<string> storage)
    {
        var command = new Command("list", "List the studies in a storage with their trial counts and best values.");
        command.SetAction((parse, ct) => RunAsync(parse.GetValue(storage)!, async store =>
        {
            var studies = await store.ListStudiesAsync(ct);
            if (studies.Count == 0)
            {
                Console.WriteLine("No studies.");
                return 0;
            }

            var table = NewTable("Name", "Direction", "Trials", "Complete", "Pruned", "Failed", "Running", "Best value", "Created (UTC)");
            foreach (var info in studies.OrderBy(s => s.CreatedAt))
            {
                var trials = await store.GetTrialsAsync(info.StudyId, ct);
                table.AddRow(Cells(
                    info.Name, Direction(info.Direction), Count(trials, null), Count(trials, TrialState.Complete), Count(trials, TrialState.Pruned),
                    Count(trials, TrialState.Failed), Count(trials, TrialState.Running), Number(BestOf(info.Direction, trials)?.Value),
                    info.CreatedAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)));
            }

            AnsiConsole.Write(table);
            return 0;
        }));
        return command;
    }

    private static Command Show(Option<string> storage)
    {
        var name = NameArgument();
        var command = new Command("show", "Show a study: its summary and every trial with state, value, duration and parameters.") { name };
        command.SetAction((parse, ct) => RunAsync(parse.GetValue(storage)!, async store =>
        {
            var study = await Study.LoadAsync(parse.GetValue(name)!, store, cancellationToken: ct);
            var trials = await study.GetTrialsAsync(ct);
            WriteSummary(study, trials);
            if (trials.Count == 0)
            {
                return 0;
            }

            var paramNames = trials.SelectMany(t => t.InternalParams.Keys).Distinct().Order(StringComparer.Ordinal).ToList();
            var table = NewTable(["#", "State", "Value", "Duration", .. paramNames]);
            foreach (var column in table.Columns.Take(1).Concat(table.Columns.Skip(2).Take(2)))
            {
                column.RightAligned();
            }

            foreach (var t in trials)
            {
                var ps = t.Params;
                table.AddRow(Cells([
                    t.Number.ToString(CultureInfo.InvariantCulture), StateName(t.State), Number(t.Value),
                    t.Duration is { } d ? d.TotalSeconds.ToString("0.00", CultureInfo.InvariantCulture) + "s" : "",
                    .. paramNames.Select(p => ps.TryGetValue(p, out var v) ? Short(v) : ""),
                ]));
            }

            AnsiConsole.Write(table);
            return 0;
        }));
        return command;
    }

    private static Command Best(Option<string> storage)
    {
        var name = NameArgument();
        var command = new Command("best", "Show the best complete trial of a study: number, value and parameters (full precision).") { name };
        command.SetAction((parse, ct) => RunAsync(parse.GetValue(storage)!, async store =>
        {
            var study = await Study.LoadAsync(parse.GetValue(name)!, store, cancellationToken: ct);
            var best = await study.GetBestTrialAsync(ct);
            if (best is null)
            {
                await Console.Error.WriteLineAsync($"Study '{study.Name}' has no complete trial yet.");
                return 1;
            }

            Console.WriteLine($"Best trial: {best.Number}");
            Console.WriteLine($"Value: {TrackingCallback.FormatParam(best.Value)} ({Direction(study.Direction)})");
            var table = NewTable("Parameter", "Value");
            foreach (var (key, value) in best.Params.OrderBy(p => p.Key, StringComparer.Ordinal))
            {
                table.AddRow(Cells(key, TrackingCallback.FormatParam(value)));
            }

            foreach (var (key, value) in best.UserAttrs.OrderBy(p => p.Key, StringComparer.Ordinal))
            {
                table.AddRow(Cells("user_attrs." + key, value));
            }

            AnsiConsole.Write(table);
            return 0;
        }));
        return command;
    }

    private static Command Export(Option<string> storage)
    {
        var name = NameArgument();
        var output = new Option<string?>("--output", "-o") { Description = "Write the trials as CSV to this file (default: standard output)." };
        var plot = new Option<string?>("--plot") { Description = "Also write the optimisation history (value per trial, best so far) as a PNG." };
        var importance = new Option<string?>("--plot-importance") { Description = "Also write the parameter importances as a PNG (see docs/TUNING.md for the measure)." };
        var command = new Command("export", "Export a study's trials as CSV (Optuna's trials_dataframe columns) and optionally PNG plots.") { name, output, plot, importance };
        command.SetAction((parse, ct) => RunAsync(parse.GetValue(storage)!, async store =>
        {
            var study = await Study.LoadAsync(parse.GetValue(name)!, store, cancellationToken: ct);
            var csvPath = parse.GetValue(output);
            // Notices go to stderr whenever the CSV goes to stdout, so `> trials.csv` stays a clean CSV.
            var notices = csvPath is null ? Console.Error : Console.Out;
            if (csvPath is null)
            {
                await study.WriteCsvAsync(Console.Out, ct);
            }
            else
            {
                await using var writer = new StreamWriter(csvPath);
                await study.WriteCsvAsync(writer, ct);
                await notices.WriteLineAsync($"Wrote {csvPath}");
            }

            var historyPath = parse.GetValue(plot);
            var importancePath = parse.GetValue(importance);
            if (historyPath is not null || importancePath is not null)
            {
                var trials = await study.GetTrialsAsync(ct);
                StudyPlots.SavePngs(study.Name, study.Direction, trials, historyPath, importancePath);
                foreach (var path in new[] { historyPath, importancePath }.OfType<string>())
                {
                    await notices.WriteLineAsync($"Wrote {path}");
                }
            }

            return 0;
        }));
        return command;
    }

    /// <summary>Opens the storage, runs the body and turns the errors a user can cause into one line on stderr and exit code 1.</summary>
    private static async Task<int> RunAsync(string uri, Func<IStudyStorage, Task<int>> body)
    {
        // A redirected stdout makes Spectre assume 80 columns and squeeze wide tables; a file or pipe has no width limit.
        if (Console.IsOutputRedirected)
        {
            AnsiConsole.Profile.Width = int.TryParse(Environment.GetEnvironmentVariable("COLUMNS"), out var columns) && columns > 0 ? columns : 240;
        }

        try
        {
            // Opening a SQLite path that does not exist would create an empty database; for a read-only command
            // that is a typo, so say so instead of answering "No studies".
            if (uri.StartsWith("sqlite:///", StringComparison.OrdinalIgnoreCase) && uri["sqlite:///".Length..] is { Length: > 0 } path && !File.Exists(path))
            {
                await Console.Error.WriteLineAsync($"No SQLite database at '{Path.GetFullPath(path)}'.");
                return 1;
            }

            await using var store = StudyStorage.Open(uri);
            return await body(store);
        }
        catch (Exception e) when (e is KeyNotFoundException or ArgumentException or IOException or UnauthorizedAccessException
                                      or System.Data.Common.DbException)
        {
            await Console.Error.WriteLineAsync(e.Message);
            return 1;
        }
    }

    private static void WriteSummary(Study study, IReadOnlyList<FrozenTrial> trials)
    {
        var best = BestOf(study.Direction, trials);
        var grid = new Grid().AddColumn().AddColumn();
        grid.AddRow(Cells("Study", study.Name));
        grid.AddRow(Cells("Direction", Direction(study.Direction)));
        grid.AddRow(Cells("Trials", $"{trials.Count} ({Count(trials, TrialState.Complete)} complete, {Count(trials, TrialState.Pruned)} pruned, "
            + $"{Count(trials, TrialState.Failed)} failed, {Count(trials, TrialState.Running)} running, {Count(trials, TrialState.Waiting)} waiting)"));
        grid.AddRow(Cells("Best", best is null ? "-" : $"trial {best.Number}, value {TrackingCallback.FormatParam(best.Value)}"));
        AnsiConsole.Write(grid);
        AnsiConsole.WriteLine();
    }

    private static FrozenTrial? BestOf(StudyDirection direction, IEnumerable<FrozenTrial> trials)
    {
        var complete = trials.Where(t => t.State == TrialState.Complete && t.Value is not null);
        return direction == StudyDirection.Minimize ? complete.MinBy(t => t.Value) : complete.MaxBy(t => t.Value);
    }

    private static Table NewTable(params string[] headers)
    {
        var table = new Table().Border(TableBorder.Rounded);
        foreach (var h in headers)
        {
            table.AddColumn(new TableColumn(Markup.Escape(h)));
        }

        return table;
    }

    // Values come from users (study names, categorical choices); Spectre would read "[...]" in them as markup.
    private static string[] Cells(params string[] values) => values.Select(Markup.Escape).ToArray();

    private static string Count(IReadOnlyList<FrozenTrial> trials, TrialState? state) =>
        (state is null ? trials.Count : trials.Count(t => t.State == state)).ToString(CultureInfo.InvariantCulture);

    private static string Direction(StudyDirection direction) => direction.ToString().ToLowerInvariant();

    private static string StateName(TrialState state) => state.ToString().ToUpperInvariant();

    private static string Number(double? value) => value?.ToString("G6", CultureInfo.InvariantCulture) ?? "";

    /// <summary>Six significant digits in the wide trials table; <c>best</c> prints full precision for copying.</summary>
    private static string Short(object? value) => value is double d ? d.ToString("G6", CultureInfo.InvariantCulture) : TrackingCallback.FormatParam(value);
}
