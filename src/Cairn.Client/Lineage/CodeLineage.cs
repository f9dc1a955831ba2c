using System.Diagnostics;
using System.Reflection;
using Cairn.Core;

namespace Cairn.Client.Lineage;

/// <summary>
/// Where a run's code came from: the calling source file, the entry assembly and its version, and,
/// inside a git work tree, the commit, branch, remote, whether the tree is dirty and the diff of the
/// uncommitted changes. Git is run as a process (no native library), and its absence is not an error.
/// </summary>
public sealed record CodeLineage(
    string? SourceFile,
    string? EntryAssembly,
    string? EntryAssemblyVersion,
    string? GitRoot,
    string? GitCommit,
    string? GitBranch,
    string? GitRepoUrl,
    bool? GitDirty,
    string? GitDiff)
{
    public const string DirtyTag = "cairn.source.git.dirty";
    public const string EntryAssemblyTag = "cairn.source.assembly";
    public const string EntryAssemblyVersionTag = "cairn.source.assembly.version";
    public const string GitCommitTag = "mlflow.source.git.commit";
    public const string GitBranchTag = "mlflow.source.git.branch";
    public const string GitRepoUrlTag = "mlflow.source.git.repoURL";

    /// <summary>Diffs beyond this size (generated files, data checked in by mistake) are cut.</summary>
    public const int MaxDiffChars = 4 * 1024 * 1024;

    /// <summary>Collects lineage for code in <paramref name="callerFile"/> (its folder decides the git repository; else the working directory).</summary>
    public static async Task<CodeLineage> CollectAsync(string? callerFile, CancellationToken ct = default)
    {
        var entry = Assembly.GetEntryAssembly();
        var entryName = entry?.GetName();
        var version = entry?.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? entryName?.Version?.ToString();
        var source = string.IsNullOrEmpty(callerFile) ? null : callerFile;
        var dir = source is not null && Path.GetDirectoryName(source) is { } d && Directory.Exists(d) ? d : Directory.GetCurrentDirectory();

        var root = await GitAsync(dir, ct, "rev-parse", "--show-toplevel").ConfigureAwait(false);
        if (root is null)
        {
            return new CodeLineage(source, entryName?.Name, version, null, null, null, null, null, null);
        }

        var commitTask = GitAsync(root, ct, "rev-parse", "HEAD");
        var branchTask = GitAsync(root, ct, "rev-parse", "--abbrev-ref", "HEAD");
        var remoteTask = GitAsync(root, ct, "config", "--get", "remote.origin.url");
        var statusTask = GitAsync(root, ct, "status", "--porcelain", "--untracked-files=no");
        await Task.WhenAll(commitTask, branchTask, remoteTask, statusTask).ConfigureAwait(false);
        var dirty = statusTask.Result is { Length: > 0 };

        // The diff against HEAD covers staged and unstaged changes of tracked files.
        var diff = dirty ? await GitAsync(root, ct, trim: false, "diff", "HEAD", "--no-color", "--no-ext-diff").ConfigureAwait(false) : null;
        if (diff is { Length: > MaxDiffChars })
        {
            diff = diff[..MaxDiffChars] + "\n# diff truncated by Cairn at " + MaxDiffChars + " characters\n";
        }
        return new CodeLineage(
            source, entryName?.Name, version, root,
            commitTask.Result, branchTask.Result is "HEAD" ? null : branchTask.Result, remoteTask.Result,
            statusTask.Result is null ? null : dirty, diff);
    }

    /// <summary>The tags MLflow and Cairn use for this lineage.</summary>
    public IReadOnlyList<Tag> Tags()
    {
        var tags = new List<Tag>();
        void Add(string key, string? value)
        {
            if (!string.IsNullOrEmpty(value))
            {
                tags.Add(new Tag(key, value.Length > Validation.MaxRunTagValueLength ? value[..Validation.MaxRunTagValueLength] : value));
            }
        }

        Add(MlflowTags.SourceName, SourceFile ?? EntryAssembly);
        Add(MlflowTags.SourceType, "LOCAL");
        Add(GitCommitTag, GitCommit);
        Add(GitBranchTag, GitBranch);
        Add(GitRepoUrlTag, GitRepoUrl);
        Add("mlflow.gitRepoURL", GitRepoUrl);
        Add(DirtyTag, GitDirty is { } dirty ? (dirty ? "true" : "false") : null);
        Add(EntryAssemblyTag, EntryAssembly);
        Add(EntryAssemblyVersionTag, EntryAssemblyVersion);
        return tags;
    }

    private static Task<string?> GitAsync(string dir, CancellationToken ct, params string[] args) => GitAsync(dir, ct, true, args);

    private static async Task<string?> GitAsync(string dir, CancellationToken ct, bool trim, params string[] args)
    {
        var psi = new ProcessStartInfo("git")
        {
            WorkingDirectory = dir,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add("safe.directory=*");
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment["GIT_TERMINAL_PROMPT"] = "0";
        psi.Environment["LC_ALL"] = "C";
        try
        {
            using var process = Process.Start(psi);
            if (process is null)
            {
                return null;
            }

            var output = process.StandardOutput.ReadToEndAsync(ct);
            _ = process.StandardError.ReadToEndAsync(ct);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(10));
            await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
            var text = await output.ConfigureAwait(false);
            return process.ExitCode == 0 ? (trim ? text.Trim() : text) : null;
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException or OperationCanceledException or IOException)
        {
            // No git, not a repository, or too slow: lineage is best effort.
            return null;
        }
    }
}
