using System.Buffers.Binary;
using System.Globalization;
using Cairn.Server.Tests;
using Cairn.Tuning;
using Cairn.Tuning.Pruners;
using Cairn.Tuning.Samplers;
using Cairn.Tuning.Storage;

namespace Cairn.Cli.Tests;

/// <summary>Two studies in one SQLite file, made once for all the <c>cairn study</c> tests.</summary>
public sealed class StudyDatabase : IAsyncLifetime
{
    public string Dir { get; } = Directory.CreateTempSubdirectory("cairn-study-cli-").FullName;

    public string Path => System.IO.Path.Combine(Dir, "studies.db");

    public string Uri => "sqlite:///" + Path;

    public Study Tuned { get; private set; } = null!;

    public Study Maximized { get; private set; } = null!;

    private IStudyStorage? _storage;

    public async Task InitializeAsync()
    {
        // Kept open for the tests, which read the expected values through the same study objects.
        var storage = _storage = StudyStorage.Open(Uri);
        // Minimised, with pruned and failed trials and a name Spectre would read as markup if it were not escaped.
        Tuned = await Study.CreateAsync("lgbm [v2]", StudyDirection.Minimize, new TpeSampler(seed: 5, nStartupTrials: 5),
            new MedianPruner(nStartupTrials: 3), storage);
        await Tuned.OptimizeAsync(async (trial, ct) =>
        {
            var lr = trial.SuggestFloat("lr", 1e-4, 1, log: true);
            var leaves = trial.SuggestInt("leaves", 4, 64);
            var booster = trial.SuggestCategorical("booster", "gbdt", "dart");
            if (trial.Number == 4)
            {
                throw new InvalidOperationException("diverged");
            }

            var level = Math.Pow(Math.Log10(lr) + 2, 2) + (booster == "dart" ? 1 : 0) + (leaves / 100.0);
            for (var step = 0; step < 5; step++)
            {
                trial.Report(level + (1.0 / (step + 1)), step);
                if (await trial.ShouldPruneAsync(ct))
                {
                    throw new TrialPrunedException();
                }
            }

            return level;
        }, nTrials: 24);
        Maximized = await Study.CreateAsync("accuracy", StudyDirection.Maximize, new RandomSampler(seed: 1), storage: storage);
        await Maximized.OptimizeAsync(t => 1 - Math.Abs(t.SuggestFloat("dropout", 0, 0.9) - 0.3), nTrials: 6);
    }

    public async Task DisposeAsync()
    {
        if (_storage is not null)
        {
            await _storage.DisposeAsync();
        }

        SqliteCleanup();
        Directory.Delete(Dir, recursive: true);
    }

    // Pooled SQLite connections keep the file open; release them so the folder can be deleted.
    private static void SqliteCleanup() => Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
}

/// <summary>`cairn study list|show|best|export` run as real processes against a SQLite study made by the test.</summary>
public sealed class StudyCommandTests(StudyDatabase db) : IClassFixture<StudyDatabase>
{
    private static Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(string workDir, params string[] args) => CairnCli.RunAsync(workDir, args);

    private Task<(int ExitCode, string Stdout, string Stderr)> Study(params string[] args) => RunAsync(db.Dir, ["study", .. args, "--storage", db.Uri]);

    private static string G6(double value) => value.ToString("G6", CultureInfo.InvariantCulture);

    private static string Row(string output, string firstCell) =>
        output.Split('\n').SingleOrDefault(l => l.StartsWith("│ " + firstCell + " ", StringComparison.Ordinal))
        ?? throw new Xunit.Sdk.XunitException($"no table row starting with '{firstCell}' in:\n{output}");

    [Fact]
    public async Task List_shows_every_study_with_direction_trial_counts_and_best_value()
    {
        var (code, output, errors) = await Study("list");
        Assert.True(code == 0, errors);
        var trials = db.Tuned.Trials;
        var tuned = Row(output, "lgbm [v2]");
        Assert.Contains("minimize", tuned);
        Assert.Matches($@"│ 24 +│ {trials.Count(t => t.State == TrialState.Complete)} +│ {trials.Count(t => t.State == TrialState.Pruned)} +│ 1 +│ 0 +│ {G6(db.Tuned.BestValue)} ", tuned);
        var maximized = Row(output, "accuracy");
        Assert.Contains("maximize", maximized);
        Assert.Contains(G6(db.Maximized.BestValue), maximized);
    }

    [Fact]
    public async Task Show_lists_each_trial_with_state_value_duration_and_parameters()
    {
        var (code, output, errors) = await Study("show", "lgbm [v2]");
        Assert.True(code == 0, errors);
        Assert.Contains("Trials     24 (", output);
        Assert.Contains($"Best       trial {db.Tuned.BestTrial.Number}, value {db.Tuned.BestValue.ToString("R", CultureInfo.InvariantCulture)}", output);
        Assert.Contains("│ booster", output);
        foreach (var trial in db.Tuned.Trials)
        {
            var row = output.Split('\n').Single(l => l.StartsWith($"│ {trial.Number,2} │", StringComparison.Ordinal));
            Assert.Contains(trial.State.ToString().ToUpperInvariant(), row);
            if (trial.State == TrialState.Complete)
            {
                Assert.Contains(G6(trial.Value!.Value), row);
            }

            Assert.Contains(G6((double)trial.Params["lr"]!), row);
            Assert.Contains((string)trial.Params["booster"]!, row);
        }
    }

    [Fact]
    public async Task Best_prints_the_best_trial_with_its_value_and_parameters_at_full_precision()
    {
        var (code, output, errors) = await Study("best", "lgbm [v2]");
        Assert.True(code == 0, errors);
        var best = db.Tuned.BestTrial;
        Assert.Contains($"Best trial: {best.Number}", output);
        Assert.Contains($"Value: {best.Value!.Value.ToString("R", CultureInfo.InvariantCulture)} (minimize)", output);
        Assert.Contains(((double)best.Params["lr"]!).ToString("R", CultureInfo.InvariantCulture), Row(output, "lr"));
        Assert.Contains(best.Params["leaves"]!.ToString()!, Row(output, "leaves"));
        Assert.Contains((string)best.Params["booster"]!, Row(output, "booster"));
    }

    [Fact]
    public async Task Export_writes_the_trials_csv_to_stdout_and_nothing_else()
    {
        var (code, output, errors) = await Study("export", "accuracy");
        Assert.True(code == 0, errors);
        Assert.Equal(await db.Maximized.ToCsvAsync(), output);
    }

    [Fact]
    public async Task Export_writes_the_csv_file_and_history_and_importance_pngs()
    {
        var (code, output, errors) = await Study("export", "lgbm [v2]", "-o", "trials.csv", "--plot", "history.png", "--plot-importance", "importance.png");
        Assert.True(code == 0, errors);
        Assert.Contains("Wrote trials.csv", output);
        Assert.Equal(await db.Tuned.ToCsvAsync(), await File.ReadAllTextAsync(Path.Combine(db.Dir, "trials.csv")));
        foreach (var png in new[] { "history.png", "importance.png" })
        {
            var bytes = await File.ReadAllBytesAsync(Path.Combine(db.Dir, png));
            Assert.True(bytes.AsSpan(0, 8).SequenceEqual(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A }), png + " is not a PNG");
            Assert.Equal(900, BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(16, 4)));
            Assert.True(bytes.Length > 10_000, $"{png} is only {bytes.Length} bytes: a blank image?");
        }
    }

    [Fact]
    public async Task Unknown_study_fails_with_its_name_in_the_message()
    {
        var (code, _, errors) = await Study("show", "nope");
        Assert.Equal(1, code);
        Assert.Contains("No study named 'nope'", errors);
    }

    [Fact]
    public async Task Missing_sqlite_file_fails_instead_of_creating_an_empty_database()
    {
        var (code, _, errors) = await RunAsync(db.Dir, "study", "list", "--storage", "sqlite:///typo.db");
        Assert.Equal(1, code);
        Assert.Contains("No SQLite database at", errors);
        Assert.False(File.Exists(Path.Combine(db.Dir, "typo.db")));
    }

    [Fact]
    public async Task Storage_is_required_and_may_come_before_the_subcommand()
    {
        var (missing, _, missingErrors) = await RunAsync(db.Dir, "study", "list");
        Assert.NotEqual(0, missing);
        Assert.Contains("--storage", missingErrors);

        var (code, output, errors) = await RunAsync(db.Dir, "study", "--storage", db.Uri, "list");
        Assert.True(code == 0, errors);
        Assert.Contains("accuracy", output);
    }

    [Theory]
    [InlineData("study", "export")]
    [InlineData("study export", "--plot-importance")]
    public async Task Study_commands_have_help(string command, string mentions)
    {
        var (code, output, _) = await RunAsync(db.Dir, [.. command.Split(' '), "--help"]);
        Assert.Equal(0, code);
        Assert.Contains(mentions, output);
    }
}
