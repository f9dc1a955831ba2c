using System.Diagnostics;
using Cairn.Server.Tests;

namespace Cairn.Cli.Tests;

/// <summary>Runs the real <c>cairn</c> command to its end, with no tracking URI inherited from the test's environment.</summary>
internal static class CairnCli
{
    public static Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(string workDir, params string[] args) =>
        RunAsync(workDir, null, args);

    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(string workDir, IDictionary<string, string>? environment, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { WorkingDirectory = workDir, RedirectStandardOutput = true, RedirectStandardError = true };
        psi.Environment.Remove("CAIRN_TRACKING_URI");
        psi.Environment.Remove("MLFLOW_TRACKING_URI");
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            psi.Environment[key] = value;
        }

        psi.ArgumentList.Add(CairnProcess.CairnDll);
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await stdout, await stderr);
    }
}
