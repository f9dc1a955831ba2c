using Cairn.Core;

namespace Cairn.Models.Tests;

public class ModelUriTests
{
    [Fact]
    public void Every_uri_form_parses()
    {
        Assert.Equal(new ModelUri.Run("runs:/abc/model", "abc", "model"), ModelUri.Parse("runs:/abc/model"));
        Assert.Equal(new ModelUri.Run("runs:/abc/a/b/", "abc", "a/b"), ModelUri.Parse("runs:/abc/a/b/"));
        Assert.Equal(new ModelUri.Version("models:/iris/3", "iris", "3"), ModelUri.Parse("models:/iris/3"));
        Assert.Equal(new ModelUri.Alias("models:/iris@production", "iris", "production"), ModelUri.Parse("models:/iris@production"));
        Assert.Equal(new ModelUri.Stage("models:/iris/staging", "iris", "Staging"), ModelUri.Parse("models:/iris/staging"));
        Assert.Equal(new ModelUri.Stage("models:/iris/latest", "iris", null), ModelUri.Parse("models:/iris/latest"));
        Assert.IsType<ModelUri.Artifacts>(ModelUri.Parse("mlflow-artifacts:/1/abc/artifacts/model"));
        Assert.Equal("/tmp/m", Assert.IsType<ModelUri.Local>(ModelUri.Parse("file:///tmp/m")).Path);
        Assert.Equal(Path.GetFullPath("m"), Assert.IsType<ModelUri.Local>(ModelUri.Parse("m")).Path);
    }

    [Theory]
    [InlineData("runs:abc/model", "runs:/<run_id>")]
    [InlineData("runs:/", "run id is missing")]
    [InlineData("runs:/abc/../../etc", "Invalid path")]
    [InlineData("models:/iris", "models:/<name>/<version>")]
    [InlineData("models:/iris/1/extra", "models:/<name>/<version>")]
    [InlineData("models:/iris@", "models:/<name>@<alias>")]
    [InlineData("models://profile/iris/1", "profiles")]
    [InlineData("models:/iris/Shipping", "Invalid Model Version stage")]
    [InlineData("s3://bucket/model", "Unsupported model URI")]
    public void Malformed_uris_say_which_forms_are_accepted(string uri, string expected)
    {
        var e = Assert.Throws<MlflowException>(() => ModelUri.Parse(uri));
        Assert.Equal(ErrorCode.InvalidParameterValue, e.Code);
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }
}
