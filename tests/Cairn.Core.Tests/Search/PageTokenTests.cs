using System.Text;
using Cairn.Core.Search;

namespace Cairn.Core.Tests.Search;

public class PageTokenTests
{
    [Theory]
    [InlineData(1, "eyJvZmZzZXQiOiAxfQ==")]
    [InlineData(2, "eyJvZmZzZXQiOiAyfQ==")]
    [InlineData(4, "eyJvZmZzZXQiOiA0fQ==")]
    public void Encode_matches_mlflow_byte_for_byte(int offset, string token) => Assert.Equal(token, PageToken.Encode(offset));

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(25_000)]
    [InlineData(int.MaxValue)]
    public void Decode_inverts_encode(int offset) => Assert.Equal(offset, PageToken.Decode(PageToken.Encode(offset)));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    public void Missing_token_is_the_first_page(string? token) => Assert.Equal(0, PageToken.Decode(token));

    [Fact]
    public void Offset_as_numeric_string_is_accepted_like_python_int() =>
        Assert.Equal(7, PageToken.Decode(B64("{\"offset\": \"7\"}")));

    [Theory]
    [InlineData("garbage", "Invalid page token, could not base64-decode")]
    [InlineData("eyJvZmZzZXQiOiAxfQ", "Invalid page token, could not base64-decode")]
    public void Undecodable_tokens_are_rejected(string token, string message)
    {
        var ex = Assert.Throws<MlflowException>(() => PageToken.Decode(token));
        Assert.Equal(ErrorCode.InvalidParameterValue, ex.Code);
        Assert.Equal(message, ex.Message);
    }

    [Theory]
    [InlineData("not json", "Invalid page token, decoded value=")]
    [InlineData("{\"page\": 1}", "Invalid page token, parsed value=")]
    [InlineData("[1]", "Invalid page token, parsed value=")]
    [InlineData("{\"offset\": -1}", "Invalid page token, not stringable -1")]
    [InlineData("{\"offset\": 1.5}", "Invalid page token, not stringable 1.5")]
    [InlineData("{\"offset\": null}", "Invalid page token, not stringable null")]
    public void Tokens_without_a_valid_offset_are_rejected(string json, string message)
    {
        var ex = Assert.Throws<MlflowException>(() => PageToken.Decode(B64(json)));
        Assert.Equal(ErrorCode.InvalidParameterValue, ex.Code);
        Assert.StartsWith(message, ex.Message);
    }

    private static string B64(string s) => Convert.ToBase64String(Encoding.UTF8.GetBytes(s));
}
