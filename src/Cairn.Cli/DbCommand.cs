using System.CommandLine;
using Cairn.Storage.Sql;

namespace Cairn.Cli;

/// <summary><c>cairn db upgrade URI</c>: applies pending schema migrations to a tracking database.</summary>
internal static class DbCommand
{
    public static Command Create()
    {
        var uri = new Argument<string>("url") { Description = "The tracking database: sqlite:///path.db or postgresql://…" };
        var upgrade = new Command("upgrade", "Upgrade the schema of a tracking database to the newest version.") { uri };
        upgrade.SetAction(async (parse, ct) =>
        {
            await using var db = SqlDatabase.Open(parse.GetValue(uri)!);
            var applied = await Migrator.UpgradeAsync(db, ct);
            Console.WriteLine(applied == 0
                ? $"Schema is current (version {Migrator.LatestVersion})."
                : $"Applied {applied} migration(s); schema is at version {Migrator.LatestVersion}.");
            return 0;
        });
        return new Command("db", "Manage the tracking database.") { upgrade };
    }
}
