using System.Security.Cryptography;
using System.Text;
using Cairn.Core;
using Cairn.Core.Artifacts;
using Cairn.Storage.Artifacts;

namespace Cairn.Storage.Tests.Artifacts;

public sealed class LocalArtifactRepositoryTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("cairn-artifacts-").FullName;

    public LocalArtifactRepositoryTests()
    {
        Root = Path.Combine(_work, "root");
        Outside = Path.Combine(_work, "outside");
        Directory.CreateDirectory(Root);
        Directory.CreateDirectory(Outside);
        File.WriteAllText(Path.Combine(Outside, "secret.txt"), "secret");
        Repo = new LocalArtifactRepository(Root);
    }

    private string Root { get; }

    private string Outside { get; }

    private LocalArtifactRepository Repo { get; }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_work, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static MemoryStream Text(string text) => new(Encoding.UTF8.GetBytes(text));

    private async Task<string?> ReadAsync(IArtifactRepository repo, string path)
    {
        await using var stream = await repo.OpenReadAsync(path);
        if (stream is null)
        {
            return null;
        }

        using var reader = new StreamReader(stream);
        return await reader.ReadToEndAsync();
    }

    /// <summary>Every file and folder under the work folder except the repository root, to prove nothing was touched.</summary>
    private string[] OutsideSnapshot() =>
        Directory.EnumerateFileSystemEntries(_work, "*", SearchOption.AllDirectories)
            .Where(p => !p.StartsWith(Root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            .Select(p => p + (File.Exists(p) ? ":" + File.ReadAllText(p) : ""))
            .Order(StringComparer.Ordinal)
            .ToArray();

    [Fact]
    public async Task Write_creates_folders_and_reads_back_the_same_bytes()
    {
        await Repo.WriteAsync("dir/sub/data.json", Text("{\"a\": 1}"));
        Assert.Equal("{\"a\": 1}", await ReadAsync(Repo, "dir/sub/data.json"));
        Assert.True(File.Exists(Path.Combine(Root, "dir", "sub", "data.json")));
    }

    [Fact]
    public async Task Write_replaces_an_existing_file()
    {
        await Repo.WriteAsync("to_delete.txt", Text("v1"));
        await Repo.WriteAsync("to_delete.txt", Text("version two"));
        Assert.Equal("version two", await ReadAsync(Repo, "to_delete.txt"));
    }

    [Fact]
    public async Task List_is_sorted_with_root_relative_paths_folders_without_size_and_empty_files_sized_zero()
    {
        await Repo.WriteAsync("with space.txt", Text("spaced"));
        await Repo.WriteAsync("hello.txt", Text("hello world\n"));
        await Repo.WriteAsync("empty.bin", new MemoryStream());
        await Repo.WriteAsync("dir/table.csv", Text("x,y\n1,2\n3,4\n"));
        await Repo.WriteAsync("dir/sub/data.json", Text("{}"));
        await Repo.WriteAsync("model/MLmodel", Text("m"));

        var root = await Repo.ListAsync(null);
        Assert.Equal(
            new[]
            {
                new ArtifactFile("dir", true, null),
                new ArtifactFile("empty.bin", false, 0),
                new ArtifactFile("hello.txt", false, 12),
                new ArtifactFile("model", true, null),
                new ArtifactFile("with space.txt", false, 6),
            },
            root);

        var dir = await Repo.ListAsync("dir");
        Assert.Equal(new[] { new ArtifactFile("dir/sub", true, null), new ArtifactFile("dir/table.csv", false, 12) }, dir);
        Assert.Equal(new[] { new ArtifactFile("dir/sub/data.json", false, 2) }, await Repo.ListAsync("dir/sub/"));
    }

    [Fact]
    public async Task List_of_a_missing_path_or_a_file_is_empty()
    {
        await Repo.WriteAsync("hello.txt", Text("hi"));
        Assert.Empty(await Repo.ListAsync("nope"));
        Assert.Empty(await Repo.ListAsync("hello.txt"));
        Assert.Empty(await new LocalArtifactRepository(Path.Combine(_work, "never-created")).ListAsync(null));
    }

    [Fact]
    public async Task OpenRead_of_a_missing_file_or_a_folder_is_null()
    {
        await Repo.WriteAsync("dir/a.txt", Text("a"));
        Assert.Null(await Repo.OpenReadAsync("nope.txt"));
        Assert.Null(await Repo.OpenReadAsync("dir"));
        Assert.Null(await Repo.OpenReadAsync("dir/a.txt/below"));
    }

    /// <summary>A body that fails half-way, like a client that disconnects during an upload.</summary>
    private sealed class FailingStream(int failAfter) : Stream
    {
        private int _read;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => _read; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            if (_read >= failAfter)
            {
                throw new IOException("connection reset");
            }

            var n = Math.Min(count, failAfter - _read);
            buffer.AsSpan(offset, n).Fill((byte)'x');
            _read += n;
            return n;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    [Fact]
    public async Task Failed_write_leaves_no_file_no_temp_file_and_no_new_folders()
    {
        await Assert.ThrowsAsync<IOException>(() => Repo.WriteAsync("new/deep/big.bin", new FailingStream(300_000)));
        Assert.Empty(Directory.EnumerateFileSystemEntries(Root, "*", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task Failed_overwrite_keeps_the_previous_file_whole()
    {
        await Repo.WriteAsync("dir/model.bin", Text("good"));
        await Assert.ThrowsAsync<IOException>(() => Repo.WriteAsync("dir/model.bin", new FailingStream(200_000)));
        Assert.Equal("good", await ReadAsync(Repo, "dir/model.bin"));
        Assert.Single(Directory.EnumerateFileSystemEntries(Path.Combine(Root, "dir")));
    }

    [Fact]
    public async Task Write_streams_large_files_without_changing_a_byte()
    {
        var bytes = RandomNumberGenerator.GetBytes(3 * 1024 * 1024 + 17);
        await Repo.WriteAsync("big/blob.bin", new MemoryStream(bytes));
        await using var read = await Repo.OpenReadAsync("big/blob.bin");
        Assert.Equal(SHA256.HashData(bytes), await SHA256.HashDataAsync(read!));
        Assert.Equal(new[] { new ArtifactFile("big/blob.bin", false, bytes.Length) }, await Repo.ListAsync("big"));
    }

    [Fact]
    public async Task Write_over_a_folder_or_below_a_file_is_rejected()
    {
        await Repo.WriteAsync("dir/a.txt", Text("a"));
        Assert.Equal(ErrorCode.InvalidParameterValue, (await Assert.ThrowsAsync<MlflowException>(() => Repo.WriteAsync("dir", Text("x")))).Code);
        Assert.Equal(ErrorCode.InvalidParameterValue, (await Assert.ThrowsAsync<MlflowException>(() => Repo.WriteAsync("dir/a.txt/b.txt", Text("x")))).Code);
        Assert.Equal("a", await ReadAsync(Repo, "dir/a.txt"));
    }

    [Fact]
    public async Task Delete_removes_files_and_whole_folders_and_ignores_missing_paths()
    {
        await Repo.WriteAsync("a.txt", Text("a"));
        await Repo.WriteAsync("dir/sub/b.txt", Text("b"));
        await Repo.DeleteAsync("a.txt");
        await Repo.DeleteAsync("dir");
        await Repo.DeleteAsync("never_existed.txt");
        await Repo.DeleteAsync("no/such/dir");
        Assert.Empty(await Repo.ListAsync(null));
    }

    [Fact]
    public async Task Delete_of_the_root_empties_it()
    {
        await Repo.WriteAsync("a.txt", Text("a"));
        await Repo.WriteAsync("dir/b.txt", Text("b"));
        await Repo.DeleteAsync("");
        Assert.True(Directory.Exists(Root));
        Assert.Empty(Directory.EnumerateFileSystemEntries(Root));
    }

    [Theory]
    [InlineData("../outside/secret.txt")]
    [InlineData("%2E%2E/outside/secret.txt")]
    [InlineData("..%2Foutside%2Fsecret.txt")]
    [InlineData("dir/../../outside/secret.txt")]
    [InlineData("{outside}/secret.txt")]
    [InlineData("file://{outside}/secret.txt")]
    [InlineData("x\\..\\..\\outside\\secret.txt")]
    public async Task Every_operation_rejects_traversal_and_touches_nothing_outside(string template)
    {
        // Absolute paths point into this test's own folder, so a broken check could never harm the machine.
        var path = template.Replace("{outside}", Outside, StringComparison.Ordinal);
        var before = OutsideSnapshot();
        await AssertInvalidPath(() => Repo.ListAsync(path));
        await AssertInvalidPath(() => Repo.OpenReadAsync(path));
        await AssertInvalidPath(() => Repo.WriteAsync(path, Text("evil")));
        await AssertInvalidPath(() => Repo.DeleteAsync(path));
        Assert.Equal(before, OutsideSnapshot());
        Assert.Empty(Directory.EnumerateFileSystemEntries(Root));
    }

    private static async Task AssertInvalidPath(Func<Task> action)
    {
        var error = await Assert.ThrowsAsync<MlflowException>(action);
        Assert.Equal("Invalid path", error.Message);
    }

    [Fact]
    public async Task Links_leading_outside_the_root_are_neither_followed_nor_listed()
    {
        Directory.CreateSymbolicLink(Path.Combine(Root, "escape"), Outside);
        File.CreateSymbolicLink(Path.Combine(Root, "secret-link.txt"), Path.Combine(Outside, "secret.txt"));
        Directory.CreateSymbolicLink(Path.Combine(Root, "relative-escape"), "../outside");
        await Repo.WriteAsync("real.txt", Text("ok"));
        var before = OutsideSnapshot();

        Assert.Equal(new[] { new ArtifactFile("real.txt", false, 2) }, await Repo.ListAsync(null));
        await AssertInvalidPath(() => Repo.OpenReadAsync("escape/secret.txt"));
        await AssertInvalidPath(() => Repo.OpenReadAsync("secret-link.txt"));
        await AssertInvalidPath(() => Repo.OpenReadAsync("relative-escape/secret.txt"));
        await AssertInvalidPath(() => Repo.ListAsync("escape"));
        await AssertInvalidPath(() => Repo.WriteAsync("escape/planted.txt", Text("evil")));
        await AssertInvalidPath(() => Repo.WriteAsync("escape/new/planted.txt", Text("evil")));
        await AssertInvalidPath(() => Repo.WriteAsync("secret-link.txt", Text("evil")));
        await AssertInvalidPath(() => Repo.DeleteAsync("escape/secret.txt"));
        Assert.Equal(before, OutsideSnapshot());
    }

    [Fact]
    public async Task Deleting_a_link_or_a_folder_holding_links_never_deletes_what_they_point_at()
    {
        Directory.CreateDirectory(Path.Combine(Root, "dir"));
        Directory.CreateSymbolicLink(Path.Combine(Root, "dir", "escape"), Outside);
        Directory.CreateSymbolicLink(Path.Combine(Root, "escape"), Outside);
        var before = OutsideSnapshot();

        await Repo.DeleteAsync("escape");
        await Repo.DeleteAsync("dir");
        Assert.Equal(before, OutsideSnapshot());
        Assert.Empty(Directory.EnumerateFileSystemEntries(Root));
    }

    [Fact]
    public async Task Links_that_stay_inside_the_boundary_work()
    {
        await Repo.WriteAsync("runs/a/artifacts/model.bin", Text("shared"));
        Directory.CreateDirectory(Path.Combine(Root, "runs", "b", "artifacts"));
        Directory.CreateSymbolicLink(Path.Combine(Root, "runs", "b", "artifacts", "model"), Path.Combine(Root, "runs", "a", "artifacts"));

        var runB = new LocalArtifactRepository(Path.Combine(Root, "runs", "b", "artifacts"), Root);
        Assert.Equal("shared", await ReadAsync(runB, "model/model.bin"));
        Assert.Equal(new[] { new ArtifactFile("model", true, null) }, await runB.ListAsync(null));

        // Confined to the run folder itself, the same link leads outside and is refused.
        var confined = new LocalArtifactRepository(Path.Combine(Root, "runs", "b", "artifacts"));
        await AssertInvalidPath(() => confined.OpenReadAsync("model/model.bin"));
    }

    [Fact]
    public async Task A_root_reached_through_a_link_is_used_where_it_really_is()
    {
        var linkedRoot = Path.Combine(_work, "linked-root");
        Directory.CreateSymbolicLink(linkedRoot, Root);
        var repo = new LocalArtifactRepository(linkedRoot);
        await repo.WriteAsync("a/b.txt", Text("b"));
        Assert.Equal("b", await ReadAsync(Repo, "a/b.txt"));
        Assert.Equal(new[] { new ArtifactFile("a", true, null) }, await repo.ListAsync(""));
    }

    [Fact]
    public async Task Uploads_in_progress_are_hidden_from_listings()
    {
        File.WriteAllText(Path.Combine(Root, LocalArtifactRepository.TempPrefix + "0123"), "partial");
        await Repo.WriteAsync("done.txt", Text("done"));
        Assert.Equal(new[] { new ArtifactFile("done.txt", false, 4) }, await Repo.ListAsync(null));
    }

    [Fact]
    public void Repositories_resolve_artifact_uris_by_scheme()
    {
        var destination = Path.Combine(_work, "dest");
        var repositories = new ArtifactRepositories(destination);

        Assert.Equal(destination, ((LocalArtifactRepository)repositories.Destination).Root);
        Assert.Equal(Path.Combine(destination, "1", "abc", "artifacts"), ((LocalArtifactRepository)repositories.ForUri("mlflow-artifacts:/1/abc/artifacts")).Root);
        Assert.Equal(Path.Combine(destination, "custom-loc", "r", "artifacts"), ((LocalArtifactRepository)repositories.ForUri("mlflow-artifacts://127.0.0.1:5000/custom-loc/r/artifacts")).Root);
        Assert.Equal(destination, ((LocalArtifactRepository)repositories.ForUri("mlflow-artifacts:/")).Root);
        Assert.Equal(Path.Combine(_work, "shared dir", "1"), ((LocalArtifactRepository)repositories.ForUri(new Uri(Path.Combine(_work, "shared dir", "1")).AbsoluteUri)).Root);
        Assert.Equal("/data/x", ((LocalArtifactRepository)repositories.ForUri("file:/data/x")).Root);
        Assert.Equal("/data/x", ((LocalArtifactRepository)repositories.ForUri("file://localhost/data/x")).Root);
        Assert.Equal("/data/plain", ((LocalArtifactRepository)repositories.ForUri("/data/plain")).Root);

        Assert.Equal(ErrorCode.NotImplemented, Assert.Throws<MlflowException>(() => repositories.ForUri("s3://bucket/1/r/artifacts")).Code);
        Assert.Equal("Invalid path", Assert.Throws<MlflowException>(() => repositories.ForUri("mlflow-artifacts:/../../etc")).Message);
    }
}
