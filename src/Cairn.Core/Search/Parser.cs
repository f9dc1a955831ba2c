using System.Globalization;

namespace Cairn.Core.Search;

/// <summary>An identifier as written: optional entity prefix and the (unquoted) key, with its span.</summary>
internal sealed record RawIdentifier(string? Entity, string Key, int Start, int End);

internal enum RawValueKind
{
    String,
    Number,
    List,

    /// <summary>An unquoted word or a backticked name where a value belongs (MLflow: "not quoted").</summary>
    Bare,
}

/// <summary>A value as written; <see cref="Source"/> is the user's spelling for error messages.</summary>
internal sealed record RawValue(RawValueKind Kind, string Text, IReadOnlyList<string> Items, string Source, int Start);

/// <summary>A clause before key-specific checks; <see cref="Comparator"/> is upper-cased, possibly invalid (">>>").</summary>
internal sealed record RawClause(RawIdentifier Identifier, string Comparator, int ComparatorStart, RawValue? Value);

/// <summary>
/// The grammar shared by run and experiment search, over the tokens of <see cref="Tokenizer"/>:
/// <code>
/// filter     := clause (AND clause)* END
/// clause     := identifier comparator value?      -- no value after IS [NOT] NULL
/// identifier := segment ('.' segment)*            -- no spaces around dots; segment: word, "quoted" or `quoted`
/// comparator := operator | LIKE | ILIKE | IN | NOT IN | IS NULL | IS NOT NULL
/// value      := 'string' | "string" | number | '(' string (',' string)* ')'
/// order_by   := identifier (ASC | DESC)? END
/// </code>
/// Which keys, comparators and value types go together is the language's business, not this one's.
/// </summary>
internal sealed class Parser
{
    private readonly string _source;
    private readonly string _what;
    private readonly List<Token> _tokens;
    private int _next;

    private Parser(string source, string what)
    {
        _source = source;
        _what = what;
        _tokens = Tokenizer.Tokenize(source, what);
    }

    public static List<RawClause> ParseFilter(string source)
    {
        var p = new Parser(source, SearchErrors.Filter);
        var clauses = new List<RawClause>();
        if (p.Peek.Kind == TokenKind.End)
        {
            return clauses;
        }

        while (true)
        {
            clauses.Add(p.ParseClause());
            var t = p.Peek;
            if (t.Kind == TokenKind.End)
            {
                return clauses;
            }

            if (!t.IsWord("AND"))
            {
                throw SearchErrors.At(
                    $"Invalid clause(s) in filter string: '{p.SourceOf(t)}'", t.Start, "only AND may join comparisons");
            }

            p._next++;
        }
    }

    public static (RawIdentifier Identifier, bool Ascending) ParseOrderBy(string source)
    {
        var p = new Parser(source, SearchErrors.OrderBy);
        var identifier = p.ParseIdentifier();
        var ascending = true;
        var t = p.Peek;
        if (t.Kind == TokenKind.Word)
        {
            if (t.IsWord("ASC") || t.IsWord("DESC"))
            {
                ascending = t.IsWord("ASC");
                p._next++;
            }
            else
            {
                throw SearchErrors.At($"Invalid ordering key in order_by clause '{source}'.", t.Start, $"expected ASC or DESC, found '{t.Text}'");
            }
        }

        if (p.Peek.Kind != TokenKind.End)
        {
            throw SearchErrors.Syntax(p._what, source, p.Peek, "ASC, DESC or the end of the clause");
        }

        return (identifier, ascending);
    }

    private Token Peek => _tokens[_next];

    private Token Take() => _tokens[_next++];

    private RawClause ParseClause()
    {
        var identifier = ParseIdentifier();
        var (comparator, comparatorStart) = ParseComparator();
        var value = comparator is "IS NULL" or "IS NOT NULL" ? null : ParseValue();
        return new RawClause(identifier, comparator, comparatorStart, value);
    }

    private RawIdentifier ParseIdentifier()
    {
        var first = Take();
        if (!IsSegment(first))
        {
            throw SearchErrors.Syntax(_what, _source, first, _what == SearchErrors.Filter ? "a key such as metrics.acc or params.\"my key\"" : "a key such as metrics.acc");
        }

        var segments = new List<Token> { first };
        while (Peek.Kind == TokenKind.Dot && Peek.Start == segments[^1].End)
        {
            var dot = Take();
            var segment = Take();
            if (!IsSegment(segment) || segment.Start != dot.End)
            {
                throw SearchErrors.Syntax(_what, _source, segment, "a key name right after the '.'");
            }

            segments.Add(segment);
        }

        var end = segments[^1].End;
        if (segments.Count == 1)
        {
            return new RawIdentifier(null, first.Text, first.Start, end);
        }

        // A quoted key is one segment ("my.key"); an unquoted key may contain dots (mlflow.source.name).
        var keySegments = segments.Skip(1).ToList();
        if (keySegments.Count > 1 && keySegments.Any(s => s.Kind != TokenKind.Word))
        {
            var quoted = keySegments.First(s => s.Kind != TokenKind.Word);
            throw SearchErrors.At(
                $"Invalid identifier '{_source[first.Start..end]}'", quoted.Start, "quote the whole key, e.g. tags.\"a.b\", not part of it");
        }

        return new RawIdentifier(first.Text, string.Join('.', keySegments.Select(s => s.Text)), first.Start, end);
    }

    private static bool IsSegment(Token t) => t.Kind is TokenKind.Word or TokenKind.DoubleQuoted or TokenKind.Backticked;

    private (string Comparator, int Start) ParseComparator()
    {
        var t = Take();
        if (t.Kind == TokenKind.Operator)
        {
            return (t.Text, t.Start);
        }

        if (t.IsWord("LIKE") || t.IsWord("ILIKE") || t.IsWord("IN"))
        {
            return (t.Text.ToUpperInvariant(), t.Start);
        }

        if (t.IsWord("NOT"))
        {
            var inToken = Take();
            if (!inToken.IsWord("IN"))
            {
                throw SearchErrors.Syntax(_what, _source, inToken, "IN after NOT");
            }

            return ("NOT IN", t.Start);
        }

        if (t.IsWord("IS"))
        {
            var n = Take();
            if (n.IsWord("NULL"))
            {
                return ("IS NULL", t.Start);
            }

            if (n.IsWord("NOT"))
            {
                var nul = Take();
                if (nul.IsWord("NULL"))
                {
                    return ("IS NOT NULL", t.Start);
                }

                n = nul;
            }

            throw SearchErrors.Syntax(_what, _source, n, "NULL or NOT NULL after IS");
        }

        throw SearchErrors.Syntax(_what, _source, t, "a comparator (=, !=, <, <=, >, >=, LIKE, ILIKE, IN, NOT IN)");
    }

    private RawValue ParseValue()
    {
        var t = Take();
        switch (t.Kind)
        {
            case TokenKind.SingleQuoted:
            case TokenKind.DoubleQuoted:
                return new RawValue(RawValueKind.String, t.Text, [], SourceOf(t), t.Start);
            case TokenKind.Number:
                return new RawValue(RawValueKind.Number, t.Text, [], t.Text, t.Start);
            case TokenKind.Word:
            case TokenKind.Backticked:
                return new RawValue(RawValueKind.Bare, t.Text, [], SourceOf(t), t.Start);
            case TokenKind.LeftParen:
                return ParseList(t);
            default:
                throw SearchErrors.Syntax(_what, _source, t, "a value: a quoted string, a number or a list like ('a', 'b')");
        }
    }

    private RawValue ParseList(Token open)
    {
        var items = new List<string>();
        var wellFormed = true;
        while (true)
        {
            var t = Take();
            if (t.Kind == TokenKind.End)
            {
                throw SearchErrors.Syntax(_what, _source, t, "')' to close the list opened at position " + (open.Start + 1));
            }

            if (t.Kind == TokenKind.RightParen && items.Count == 0 && wellFormed)
            {
                throw SearchErrors.At(
                    "While parsing a list in the query, expected a non-empty list of string values, but got empty list", open.Start);
            }

            if (t.Kind is TokenKind.SingleQuoted or TokenKind.DoubleQuoted)
            {
                items.Add(t.Text);
            }
            else
            {
                wellFormed = false;
                SkipToListEnd(t);
                var bad = _source[open.Start.._tokens[_next - 1].End];
                throw SearchErrors.At(
                    $"While parsing a list in the query, expected string value, punctuation, or whitespace, but got different type in list: {bad}",
                    t.Start);
            }

            var sep = Take();
            if (sep.Kind == TokenKind.RightParen)
            {
                return new RawValue(RawValueKind.List, "", items, _source[open.Start..sep.End], open.Start);
            }

            if (sep.Kind != TokenKind.Comma)
            {
                throw SearchErrors.Syntax(_what, _source, sep, "',' or ')' in the list");
            }
        }
    }

    /// <summary>Moves past the list's closing parenthesis (if any) so the message can quote the whole list.</summary>
    private void SkipToListEnd(Token current)
    {
        var t = current;
        while (t.Kind is not (TokenKind.RightParen or TokenKind.End))
        {
            t = Take();
        }

        if (t.Kind == TokenKind.End)
        {
            _next--;
        }
    }

    private string SourceOf(Token t) => _source[t.Start..t.End];

    public static double ParseNumber(string text) => double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);
}
