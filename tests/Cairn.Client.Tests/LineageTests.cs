using System.Diagnostics;
using System.Reflection;
using System.Text;
using Cairn.Client.Lineage;
using Cairn.Core;

namespace Cairn.Client.Tests;

/// <summary>Code lineage from a real git repository made by the test.</summary>
public sealed class LineageTests(ServerFixture fixture) : IClassFixture<ServerFixture>, IDisposable
{
    private readonly string _repo = Directory.CreateTempSubdirectory("cairn-lineage-").FullName;

    public void Dispose() => Directory.Delete(_repo, recursive: true);

    private string Git(params string[] args)
    {
        var psi = new ProcessStartInfo("git") { WorkingDirectory = _repo, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "-c", "user.name=Test", "-c", "user.email=test@example.com", "-c", "commit.gpgsign=false" }.Concat(args))
        {
            psi.ArgumentList.Add(a);
        }

        using var p = Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEnd();
        var error = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"git {string.Join(' ', args)}: {error}");
        return output.Trim();
    }

    private string MakeRepo()
    {
        Git("init", "-q", "-b", "main");
        Git("remote", "add", "origin", "https://example.com/team/models.git");
        var train = Path.Combine(_repo, "src", "Train.cs");
        Directory.CreateDirectory(Path.GetDirectoryName(train)!);
        File.WriteAllText(train, "class Train\n{\n    int Epochs = 3;\n}\n");
        File.WriteAllText(Path.Combine(_repo, "README.md"), "models\n");
        Git("add", ".");
        Git("commit", "-q", "-m", "first");
        return train;
    }

    [Fact]
    public async Task A_dirty_work_tree_logs_commit_branch_remote_dirty_flag_diff_and_the_caller_file()
    {
        var train = MakeRepo();
        var commit = Git("rev-parse", "HEAD");
        File.WriteAllText(train, "class Train\n{\n    int Epochs = 30;\n}\n");

        await using var client = await TrackingClient.ConnectAsync(fixture.Url);
        string runId;
        await using (var run = await client.StartRunAsync(new RunOptions { ExperimentName = "lineage" }, callerFile: train))
        {
            runId = run.RunId;
        }

        var tags = (await client.Store.GetRunAsync(runId)).Tags.ToDictionary(t => t.Key, t => t.Value);
        Assert.Equal(train, tags[MlflowTags.SourceName]);
        Assert.Equal("LOCAL", tags[MlflowTags.SourceType]);
        Assert.Equal(commit, tags[CodeLineage.GitCommitTag]);
        Assert.Equal(40, commit.Length);
        Assert.Equal("main", tags[CodeLineage.GitBranchTag]);
        Assert.Equal("https://example.com/team/models.git", tags[CodeLineage.GitRepoUrlTag]);
        Assert.Equal("true", tags[CodeLineage.DirtyTag]);
        Assert.Equal(Assembly.GetEntryAssembly()!.GetName().Name, tags[CodeLineage.EntryAssemblyTag]);
        Assert.False(string.IsNullOrEmpty(tags[CodeLineage.EntryAssemblyVersionTag]));

        var diff = Encoding.UTF8.GetString((await client.ReadArtifactAsync(runId, "code/git.diff"))!);
        Assert.Contains("--- a/src/Train.cs", diff);
        Assert.Contains("-    int Epochs = 3;", diff);
        Assert.Contains("+    int Epochs = 30;", diff);
        Assert.Equal(File.ReadAllBytes(train), await client.ReadArtifactAsync(runId, "code/Train.cs"));
    }

    [Fact]
    public async Task A_clean_work_tree_is_not_dirty_and_has_no_diff_and_no_repo_means_no_git_tags()
    {
        var train = MakeRepo();
        var clean = await CodeLineage.CollectAsync(train);
        Assert.False(clean.GitDirty);
        Assert.Null(clean.GitDiff);
        Assert.Equal(Git("rev-parse", "HEAD"), clean.GitCommit);
        Assert.Equal(Path.GetFullPath(_repo), Path.GetFullPath(clean.GitRoot!));

        var outside = Directory.CreateTempSubdirectory("cairn-nogit-").FullName;
        try
        {
            var lonely = Path.Combine(outside, "Lonely.cs");
            File.WriteAllText(lonely, "// no repository here\n");
            var none = await CodeLineage.CollectAsync(lonely);
            Assert.Null(none.GitCommit);
            Assert.DoesNotContain(none.Tags(), t => t.Key.Contains("git", StringComparison.Ordinal));
            Assert.Contains(new Tag(MlflowTags.SourceName, lonely), none.Tags());
        }
        finally
        {
            Directory.Delete(outside, recursive: true);
        }
    }
}
