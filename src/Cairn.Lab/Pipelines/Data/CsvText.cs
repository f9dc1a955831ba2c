using System.Globalization;

namespace Cairn.Lab.Pipelines.Data;

/// <summary>
/// A small RFC 4180 reader over text held in memory: fields separated by commas, quoted fields
/// with doubled quotes inside, CRLF or LF line ends; blank lines are skipped. Each record carries
/// the line it starts on, so ragged rows can be reported by line number.
/// </summary>
internal static class CsvText
{
    /// <summary>Reads records from <paramref name="text"/>; <paramref name="end"/> is set past the last record read.</summary>
    public static IEnumerable<(int Line, string[] Fields)> Records(string text, Action<int>? end = null)
    {
        var position = 0;
        var line = 1;
        var fields = new List<string>();
        var field = new System.Text.StringBuilder();
        while (position < text.Length)
        {
            // Skip blank lines between records.
            if (text[position] == '\n' || text[position] == '\r')
            {
                if (text[position] == '\n')
                {
                    line++;
                }

                position++;
                continue;
            }

            var startLine = line;
            fields.Clear();
            var recordDone = false;
            while (!recordDone)
            {
                field.Clear();
                if (position < text.Length && text[position] == '"')
                {
                    position++;
                    while (true)
                    {
                        if (position >= text.Length)
                        {
                            throw new PipelineConfigException($"Line {startLine}: a quoted field is not closed before the end of the file.");
                        }

                        var c = text[position];
                        if (c == '"')
                        {
                            if (position + 1 < text.Length && text[position + 1] == '"')
                            {
                                field.Append('"');
                                position += 2;
                                continue;
                            }

                            position++;
                            break;
                        }

                        if (c == '\n')
                        {
                            line++;
                        }

                        field.Append(c);
                        position++;
                    }

                    // After the closing quote: a separator, a line end or the end of the text.
                    if (position < text.Length && text[position] is not (',' or '\r' or '\n'))
                    {
                        throw new PipelineConfigException($"Line {line}: unexpected character '{text[position]}' after a closing quote.");
                    }
                }
                else
                {
                    var start = position;
                    while (position < text.Length && text[position] is not (',' or '\r' or '\n'))
                    {
                        position++;
                    }

                    field.Append(text, start, position - start);
                }

                fields.Add(field.ToString());
                if (position < text.Length && text[position] == ',')
                {
                    position++;
                    continue;
                }

                if (position < text.Length && text[position] == '\r')
                {
                    position++;
                }

                if (position < text.Length && text[position] == '\n')
                {
                    position++;
                    line++;
                }

                recordDone = true;
            }

            end?.Invoke(position);
            yield return (startLine, fields.ToArray());
        }
    }

    /// <summary>The tokens a numeric column may hold for a missing value.</summary>
    public static bool IsMissing(string value)
    {
        var v = value.AsSpan().Trim();
        return v.Length == 0
            || v.Equals("NA", StringComparison.OrdinalIgnoreCase)
            || v.Equals("NaN", StringComparison.OrdinalIgnoreCase)
            || v.Equals("N/A", StringComparison.OrdinalIgnoreCase)
            || v.Equals("null", StringComparison.OrdinalIgnoreCase);
    }

    public static bool TryParseNumber(string value, out float number) =>
        float.TryParse(value.AsSpan().Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out number);
}
