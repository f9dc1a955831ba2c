namespace Cairn.Core;

/// <summary>Reads the scheme of a URI-or-path the way MLflow's artifact and model sources are written.</summary>
public static class UriScheme
{
    /// <summary>The scheme of a URI, or null for a plain path (a single letter is a Windows drive, not a scheme).</summary>
    public static string? Of(string uri)
    {
        var colon = uri.IndexOf(':', StringComparison.Ordinal);
        if (colon < 2 || !char.IsAsciiLetter(uri[0]))
        {
            return null;
        }

        for (var i = 1; i < colon; i++)
        {
            if (!(char.IsAsciiLetterOrDigit(uri[i]) || uri[i] is '+' or '-' or '.'))
            {
                return null;
            }
        }

        return uri[..colon];
    }
}
