using System.Text;

namespace Cairn.Core.Search;

internal enum TokenKind
{
    Word,
    Number,
    SingleQuoted,
    DoubleQuoted,
    Backticked,
    Dot,
    Operator,
    LeftParen,
    RightParen,
    Comma,
    End,
}

/// <summary>
/// One lexeme. <see cref="Text"/> is the unquoted content for quoted tokens and the source text
/// otherwise; <see cref="Start"/>/<see cref="End"/> index the source so the parser can quote
/// the user's own spelling back in messages and tell whether two tokens touch.
/// </summary>
internal readonly record struct Token(TokenKind Kind, string Text, int Start, int End)
{
    public bool IsWord(string keyword) => Kind == TokenKind.Word && string.Equals(Text, keyword, StringComparison.OrdinalIgnoreCase);
}

/// <summary>Splits a filter or order-by string into tokens; knows nothing of keys or comparators.</summary>
internal static class Tokenizer
{
    private const string OperatorChars = "<>=!~";

    public static List<Token> Tokenize(string source, string what)
    {
        var tokens = new List<Token>();
        var i = 0;
        while (true)
        {
            while (i < source.Length && char.IsWhiteSpace(source[i]))
            {
                i++;
            }

            if (i >= source.Length)
            {
                tokens.Add(new Token(TokenKind.End, "", i, i));
                return tokens;
            }

            var c = source[i];
            var start = i;

            // Right after "entity." a key segment may start with a digit (MLflow allows metric names like "2xx").
            var afterDot = tokens.Count > 0 && tokens[^1].Kind == TokenKind.Dot && tokens[^1].End == i;
            if (afterDot && IsWordChar(c))
            {
                while (i < source.Length && IsWordChar(source[i]))
                {
                    i++;
                }

                tokens.Add(new Token(TokenKind.Word, source[start..i], start, i));
            }
            else if (c == '.' && tokens.Count > 0 && tokens[^1].End == i && tokens[^1].Kind is TokenKind.Word or TokenKind.DoubleQuoted or TokenKind.Backticked)
            {
                // "tags.2019_x": a dot touching a key segment separates segments; it never starts a number.
                i++;
                tokens.Add(new Token(TokenKind.Dot, ".", start, i));
            }
            else if (char.IsAsciiDigit(c) || ((c is '-' or '+' or '.') && StartsNumber(source, i)))
            {
                i = ScanNumber(source, i);
                if (i < source.Length && IsWordChar(source[i]))
                {
                    var end = i;
                    while (end < source.Length && IsWordChar(source[end]))
                    {
                        end++;
                    }

                    throw SearchErrors.Syntax(what, source, start, "a number", $"'{source[start..end]}'");
                }

                tokens.Add(new Token(TokenKind.Number, source[start..i], start, i));
            }
            else if (char.IsLetter(c) || c == '_')
            {
                while (i < source.Length && IsWordChar(source[i]))
                {
                    i++;
                }

                tokens.Add(new Token(TokenKind.Word, source[start..i], start, i));
            }
            else if (c is '\'' or '"' or '`')
            {
                var (text, end) = ScanQuoted(source, i, what);
                var kind = c switch { '\'' => TokenKind.SingleQuoted, '"' => TokenKind.DoubleQuoted, _ => TokenKind.Backticked };
                tokens.Add(new Token(kind, text, start, end));
                i = end;
            }
            else if (OperatorChars.Contains(c))
            {
                // Take the whole run so "==" or ">>>" is reported as one bad comparator, as MLflow does.
                while (i < source.Length && OperatorChars.Contains(source[i]))
                {
                    i++;
                }

                tokens.Add(new Token(TokenKind.Operator, source[start..i], start, i));
            }
            else
            {
                var kind = c switch
                {
                    '.' => TokenKind.Dot,
                    '(' => TokenKind.LeftParen,
                    ')' => TokenKind.RightParen,
                    ',' => TokenKind.Comma,
                    _ => throw SearchErrors.UnexpectedCharacter(what, source, i),
                };
                i++;
                tokens.Add(new Token(kind, source[start..i], start, i));
            }
        }
    }

    private static bool IsWordChar(char c) => char.IsLetterOrDigit(c) || c == '_';

    private static bool StartsNumber(string s, int i)
    {
        if (s[i] is '-' or '+')
        {
            i++;
        }

        if (i < s.Length && s[i] == '.')
        {
            i++;
        }

        return i < s.Length && char.IsAsciiDigit(s[i]);
    }

    private static int ScanNumber(string s, int i)
    {
        if (s[i] is '-' or '+')
        {
            i++;
        }

        while (i < s.Length && char.IsAsciiDigit(s[i]))
        {
            i++;
        }

        if (i < s.Length && s[i] == '.')
        {
            i++;
            while (i < s.Length && char.IsAsciiDigit(s[i]))
            {
                i++;
            }
        }

        if (i < s.Length && s[i] is 'e' or 'E')
        {
            var j = i + 1;
            if (j < s.Length && s[j] is '-' or '+')
            {
                j++;
            }

            if (j < s.Length && char.IsAsciiDigit(s[j]))
            {
                i = j;
                while (i < s.Length && char.IsAsciiDigit(s[i]))
                {
                    i++;
                }
            }
        }

        return i;
    }

    /// <summary>A doubled quote inside a quoted token stands for one quote character, as in SQL.</summary>
    private static (string Text, int End) ScanQuoted(string s, int start, string what)
    {
        var quote = s[start];
        var sb = new StringBuilder();
        var i = start + 1;
        while (i < s.Length)
        {
            if (s[i] == quote)
            {
                if (i + 1 < s.Length && s[i + 1] == quote)
                {
                    sb.Append(quote);
                    i += 2;
                    continue;
                }

                return (sb.ToString(), i + 1);
            }

            sb.Append(s[i]);
            i++;
        }

        throw SearchErrors.Unterminated(what, s, start);
    }
}
