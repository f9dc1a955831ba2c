using Cairn.Core;
using Cairn.Core.Artifacts;

namespace Cairn.Storage.Tests.Artifacts;

public class ArtifactPathsTests
{
    [Theory]
    [InlineData("..")]
    [InlineData("../x")]
    [InlineData("../../etc")]
    [InlineData("a/../b")]
    [InlineData("a/..")]
    [InlineData("/etc")]
    [InlineData("/etc/passwd")]
    [InlineData("\\etc\\passwd")]
    [InlineData("\\\\server\\share")]
    [InlineData("file:///etc/passwd")]
    [InlineData("file:/etc/passwd")]
    [InlineData("FILE:etc")]
    [InlineData("s3://bucket/key")]
    [InlineData("mlflow-artifacts:/1/run")]
    [InlineData("http://evil/x")]
    [InlineData("C:\\Windows")]
    [InlineData("C:/Windows")]
    [InlineData("dir#x")]
    [InlineData("#")]
    [InlineData("a\0b")]
    [InlineData("x\\..\\evil.txt")]
    [InlineData("..\\evil.txt")]
    [InlineData("%2E%2E/%2E%2E/etc")]
    [InlineData("%2e%2e%2fetc")]
    [InlineData("..%2F..%2Fetc%2Fpasswd")]
    [InlineData("%252E%252E/etc")]
    [InlineData("%25252E%25252E/etc")]
    [InlineData("%2Fetc%2Fpasswd")]
    [InlineData("file%3A%2F%2F%2Fetc%2Fpasswd")]
    [InlineData("dir%23x")]
    [InlineData("a%00b")]
    [InlineData("x%5C..%5Cevil.txt")]
    public void Normalize_rejects_paths_that_leave_the_root(string path)
    {
        var error = Assert.Throws<MlflowException>(() => ArtifactPaths.Normalize(path));
        Assert.Equal(ErrorCode.InvalidParameterValue, error.Code);
        Assert.Equal("Invalid path", error.Message);
        Assert.Equal(400, error.HttpStatus);
        Assert.False(ArtifactPaths.IsSafe(path));
    }

    [Theory]
    [InlineData("", "")]
    [InlineData("a.txt", "a.txt")]
    [InlineData("dir/sub/data.json", "dir/sub/data.json")]
    [InlineData("dir/", "dir")]
    [InlineData("./a", "a")]
    [InlineData(".", "")]
    [InlineData("a/./b", "a/b")]
    [InlineData("a//b", "a/b")]
    [InlineData("with space.txt", "with space.txt")]
    [InlineData("model:v1.txt", "model:v1.txt")]
    [InlineData("dir/model:v1.txt", "dir/model:v1.txt")]
    [InlineData("...", "...")]
    [InlineData("..a/b..", "..a/b..")]
    [InlineData("a\\b.txt", "a\\b.txt")]
    [InlineData("a%20b.txt", "a%20b.txt")]
    [InlineData("100%.txt", "100%.txt")]
    [InlineData("données/é.txt", "données/é.txt")]
    public void Normalize_accepts_relative_paths_and_returns_them_canonical(string path, string expected)
    {
        Assert.Equal(expected, ArtifactPaths.Normalize(path));
    }

    [Fact]
    public void FileName_and_Combine_work_on_canonical_paths()
    {
        Assert.Equal("c.txt", ArtifactPaths.FileName("a/b/c.txt"));
        Assert.Equal("c.txt", ArtifactPaths.FileName("c.txt"));
        Assert.Equal("a/b", ArtifactPaths.Combine("a", "b"));
        Assert.Equal("b", ArtifactPaths.Combine("", "b"));
        Assert.Equal("a", ArtifactPaths.Combine("a", ""));
    }
}
