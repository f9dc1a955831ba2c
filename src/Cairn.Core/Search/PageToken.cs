using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Cairn.Core.Search;

/// <summary>
/// Search page tokens in MLflow's format, base64 of <c>{"offset": N}</c>, so a token from either
/// server works on the other and clients that peek into tokens keep working.
/// </summary>
public static class PageToken
{
    public static string Encode(int offset)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);

        // Spelled exactly as Python's json.dumps writes it (space after the colon), so tokens are byte-identical to MLflow's.
        var json = "{\"offset\": " + offset.ToString(CultureInfo.InvariantCulture) + "}";
        return Convert.ToBase64String(Encoding.UTF8.GetBytes(json));
    }

    /// <summary>The offset a token stands for; null or empty is the first page.</summary>
    public static int Decode(string? token)
    {
        if (string.IsNullOrEmpty(token))
        {
            return 0;
        }

        byte[] bytes;
        try
        {
            bytes = Convert.FromBase64String(token);
        }
        catch (FormatException)
        {
            throw MlflowException.InvalidParameter("Invalid page token, could not base64-decode");
        }

        var decoded = Encoding.UTF8.GetString(bytes);
        JsonElement offset;
        try
        {
            using var doc = JsonDocument.Parse(bytes);
            if (doc.RootElement.ValueKind != JsonValueKind.Object || !doc.RootElement.TryGetProperty("offset", out var o))
            {
                throw MlflowException.InvalidParameter($"Invalid page token, parsed value={decoded}");
            }

            offset = o.Clone();
        }
        catch (JsonException)
        {
            throw MlflowException.InvalidParameter($"Invalid page token, decoded value={decoded}");
        }

        // MLflow runs int() over the value, so a numeric string is as good as a number.
        var text = offset.ValueKind switch
        {
            JsonValueKind.Number => offset.GetRawText(),
            JsonValueKind.String => offset.GetString(),
            _ => null,
        };
        if (text is null || !int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value) || value < 0)
        {
            throw MlflowException.InvalidParameter($"Invalid page token, not stringable {offset.GetRawText()}");
        }

        return value;
    }
}
