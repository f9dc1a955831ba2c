using System.Text;

namespace Cairn.Server.Http;

/// <summary>Rewrites the non-standard JSON tokens <c>NaN</c>, <c>Infinity</c> and <c>-Infinity</c> as strings.</summary>
public static class JsonLiterals
{
    public static string QuoteNonFinite(string json)
    {
        var sb = new StringBuilder(json.Length + 16);
        var inString = false;
        for (var i = 0; i < json.Length; i++)
        {
            var c = json[i];
            if (inString)
            {
                sb.Append(c);
                if (c == '\\' && i + 1 < json.Length)
                {
                    sb.Append(json[++i]);
                }
                else if (c == '"')
                {
                    inString = false;
                }

                continue;
            }

            if (c == '"')
            {
                inString = true;
                sb.Append(c);
                continue;
            }

            var token = Match(json, i, "-Infinity") ?? Match(json, i, "Infinity") ?? Match(json, i, "NaN");
            if (token is not null)
            {
                sb.Append('"').Append(token).Append('"');
                i += token.Length - 1;
                continue;
            }

            sb.Append(c);
        }

        return sb.ToString();
    }

    private static string? Match(string json, int at, string token) =>
        string.CompareOrdinal(json, at, token, 0, token.Length) == 0 ? token : null;
}
