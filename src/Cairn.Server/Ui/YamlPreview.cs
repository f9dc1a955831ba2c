using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.Core.Tokens;
using YamlDotNet.RepresentationModel;

namespace Cairn.Server.Ui;

/// <summary>What a piece of YAML text is, for colouring it.</summary>
public enum YamlSpanKind
{
    /// <summary>Whitespace, and plain (unquoted) values that are not numbers, booleans or null.</summary>
    Plain,

    /// <summary>A mapping key.</summary>
    Key,

    /// <summary>A quoted or block (<c>|</c>, <c>&gt;</c>) value.</summary>
    String,

    /// <summary>A number, boolean or null.</summary>
    Literal,

    /// <summary><c>:</c>, <c>-</c>, <c>,</c>, brackets, document markers, anchors, aliases and tags.</summary>
    Punctuation,

    /// <summary>A <c># comment</c>.</summary>
    Comment,
}

/// <summary>One run of YAML text of one kind.</summary>
public sealed record YamlSpan(YamlSpanKind Kind, string Text);

/// <summary>YAML text checked with YamlDotNet and cut into coloured spans that, joined, give back the text exactly.</summary>
/// <param name="Spans">The text in spans, or null when it is too long to colour or does not scan.</param>
/// <param name="Error">Why the text is not valid YAML, or null when it is.</param>
public sealed partial record YamlPreview(IReadOnlyList<YamlSpan>? Spans, string? Error)
{
    /// <summary>Longer texts are shown uncoloured: every span is an element the browser has to receive.</summary>
    public const int MaxHighlightedChars = 100_000;

    /// <summary>Validates <paramref name="text"/> (every document in it) and colours it with YamlDotNet's own scanner, so keys, values and comments are told apart as a YAML parser sees them.</summary>
    public static YamlPreview Of(string text)
    {
        string? error = null;
        try
        {
            new YamlStream().Load(new StringReader(text));
        }
        catch (YamlException ex)
        {
            error = $"line {ex.Start.Line}: {ex.InnerException?.Message ?? ex.Message}";
        }
        catch (InvalidOperationException)
        {
            // YamlDotNet's scanner gives up this way on some malformed plain scalars.
            error = "the parser gave up on it";
        }

        return new YamlPreview(text.Length <= MaxHighlightedChars ? Highlight(text) : null, error);
    }

    private static List<YamlSpan>? Highlight(string text)
    {
        var spans = new List<YamlSpan>();
        var position = 0;
        Token? previous = null;
        try
        {
            var scanner = new Scanner(new StringReader(text), skipComments: false);
            while (scanner.MoveNext())
            {
                var token = scanner.Current!;
                var start = (int)Math.Clamp(token.Start.Index, position, text.Length);
                var end = (int)Math.Clamp(token.End.Index, start, text.Length);
                if (end > start)
                {
                    Add(spans, YamlSpanKind.Plain, text[position..start]);
                    Add(spans, KindOf(token, previous), text[start..end]);
                    position = end;
                }

                if (token is not Comment)
                {
                    previous = token;
                }
            }
        }
        catch (Exception ex) when (ex is YamlException or InvalidOperationException)
        {
            // What scanned so far is coloured; the rest (from the error on) is shown as it is.
        }

        Add(spans, YamlSpanKind.Plain, text[position..]);
        return spans;
    }

    private static YamlSpanKind KindOf(Token token, Token? previous) => token switch
    {
        Scalar when previous is Key => YamlSpanKind.Key,
        Scalar { Style: ScalarStyle.Plain } s when LiteralPattern().IsMatch(s.Value) => YamlSpanKind.Literal,
        Scalar { Style: ScalarStyle.Plain } => YamlSpanKind.Plain,
        Scalar => YamlSpanKind.String,
        Comment => YamlSpanKind.Comment,
        _ => YamlSpanKind.Punctuation,
    };

    /// <summary>Adds text, merged into the last span when it is of the same kind.</summary>
    private static void Add(List<YamlSpan> spans, YamlSpanKind kind, string text)
    {
        if (text.Length == 0)
        {
            return;
        }

        if (spans.Count > 0 && spans[^1].Kind == kind)
        {
            spans[^1] = spans[^1] with { Text = spans[^1].Text + text };
        }
        else
        {
            spans.Add(new YamlSpan(kind, text));
        }
    }

    /// <summary>YAML 1.2's core schema: numbers, .inf/.nan, booleans and null.</summary>
    [GeneratedRegex(@"^(?:[-+]?(?:\d[\d_]*(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?|0x[0-9a-fA-F]+|0o[0-7]+|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)|true|True|TRUE|false|False|FALSE|null|Null|NULL|~)$")]
    private static partial Regex LiteralPattern();
}
