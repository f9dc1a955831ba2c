namespace Cairn.Core.Search;

/// <summary>
/// Messages for rejected filters and order-by clauses. Each starts as MLflow 2.17.2's message does
/// (clients and tests match on those), and adds where in the text the problem is, 1-based.
/// </summary>
internal static class SearchErrors
{
    public const string Filter = "filter";
    public const string OrderBy = "order_by";

    public static MlflowException Syntax(string what, string source, int position, string expected, string found) =>
        MlflowException.InvalidParameter($"{Prefix(what, source)}: expected {expected} at position {position + 1}, found {found}");

    public static MlflowException Syntax(string what, string source, Token token, string expected) =>
        Syntax(what, source, token.Start, expected, Describe(source, token));

    public static MlflowException UnexpectedCharacter(string what, string source, int position) =>
        MlflowException.InvalidParameter(
            $"{Prefix(what, source)}: unexpected character '{source[position]}' at position {position + 1}"
            + " (keys with characters other than letters, digits, '_' and '.' must be quoted with \"\" or ``)");

    public static MlflowException Unterminated(string what, string source, int position) =>
        MlflowException.InvalidParameter(
            $"{Prefix(what, source)}: the quoted text starting at position {position + 1} has no closing {source[position]}");

    public static MlflowException At(string message, int position, string? detail = null) =>
        MlflowException.InvalidParameter(detail is null
            ? $"{message} (at position {position + 1})"
            : $"{message} (at position {position + 1}: {detail})");

    public static string Describe(string source, Token token) =>
        token.Kind == TokenKind.End ? "end of input" : $"'{source[token.Start..token.End]}'";

    private static string Prefix(string what, string source) => what == OrderBy
        ? $"Invalid order_by clause '{source}'. Could not be parsed"
        : $"Error on parsing filter '{source}'";
}
