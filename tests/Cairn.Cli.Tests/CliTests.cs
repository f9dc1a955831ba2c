using System.Diagnostics;
using Cairn.Server.Tests;
using Microsoft.Data.Sqlite;

namespace Cairn.Cli.Tests;

public class CliTests
{
    private static async Task<(int ExitCode, string Output)> RunAsync(string workDir, params string[] args)
    {
        var (code, stdout, stderr) = await CairnCli.RunAsync(workDir, args);
        return (code, stdout + stderr);
    }

    [Fact]
    public async Task Version_prints_the_product_version()
    {
        var (code, output) = await RunAsync(Path.GetTempPath(), "--version");
        Assert.Equal(0, code);
        Assert.Matches(@"^\d+\.\d+\.\d+", output.Trim());
    }

    [Theory]
    [InlineData("server", "--backend-store-uri")]
    [InlineData("db", "upgrade")]
    [InlineData("db upgrade", "url")]
    public async Task Every_command_has_help(string command, string mentions)
    {
        var (code, output) = await RunAsync(Path.GetTempPath(), [.. command.Split(' '), "--help"]);
        Assert.Equal(0, code);
        Assert.Contains(mentions, output);
    }

    [Fact]
    public async Task Db_upgrade_creates_the_schema_once_and_then_reports_it_current()
    {
        var dir = Directory.CreateTempSubdirectory("cairn-cli-").FullName;
        try
        {
            var (first, firstOutput) = await RunAsync(dir, "db", "upgrade", "sqlite:///tracking.db");
            Assert.Equal(0, first);
            Assert.Contains("Applied", firstOutput);
            var (second, secondOutput) = await RunAsync(dir, "db", "upgrade", "sqlite:///tracking.db");
            Assert.Equal(0, second);
            Assert.Contains("current", secondOutput);

            await using var connection = new SqliteConnection($"Data Source={Path.Combine(dir, "tracking.db")}");
            await connection.OpenAsync();
            await using var cmd = connection.CreateCommand();
            cmd.CommandText = "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('experiments', 'runs', 'metrics', 'latest_metrics')";
            Assert.Equal(4L, (long)(await cmd.ExecuteScalarAsync())!);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task Db_upgrade_rejects_an_unknown_scheme_with_a_clear_message()
    {
        var (code, output) = await RunAsync(Path.GetTempPath(), "db", "upgrade", "mysql://localhost/db");
        Assert.NotEqual(0, code);
        Assert.Contains("Unsupported backend store URI scheme 'mysql'", output);
    }

    [Fact]
    public async Task Server_with_no_flags_uses_an_embedded_store_under_dot_cairn()
    {
        var dir = Directory.CreateTempSubdirectory("cairn-cli-").FullName;
        var port = CairnProcess.FreePort();
        var psi = new ProcessStartInfo("dotnet") { WorkingDirectory = dir, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { CairnProcess.CairnDll, "server", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture) })
        {
            psi.ArgumentList.Add(a);
        }

        using var process = Process.Start(psi)!;
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
            string? health = null;
            for (var i = 0; i < 200 && health is null; i++)
            {
                try
                {
                    health = await http.GetStringAsync("/health");
                }
                catch (HttpRequestException)
                {
                    await Task.Delay(50);
                }
            }

            Assert.Equal("OK", health);
            var experiment = await http.GetStringAsync("/api/2.0/mlflow/experiments/get?experiment_id=0");
            Assert.Contains("\"name\":\"Default\"", experiment);
            Assert.True(File.Exists(Path.Combine(dir, ".cairn", "cairn.db")));
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            Directory.Delete(dir, recursive: true);
        }
    }
}
