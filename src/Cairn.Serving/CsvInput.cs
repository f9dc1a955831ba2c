using System.Text;

namespace Cairn.Serving;

/// <summary>
/// Reads CSV (RFC 4180: comma-separated, fields optionally in double quotes with <c>""</c> for a
/// quote, CRLF or LF line ends) from a stream without holding the whole text: a header row, then
/// rows in chunks. An empty unquoted field is null (pandas reads it as missing).
/// </summary>
public sealed class CsvInput
{
    private readonly TextReader _reader;
    private readonly char[] _buffer = new char[64 * 1024];
    private readonly StringBuilder _field = new();
    private int _pos;
    private int _len;
    private long _line = 1;

    public CsvInput(Stream stream)
    {
        _reader = new StreamReader(stream, Encoding.UTF8, detectEncodingFromByteOrderMarks: true, bufferSize: 64 * 1024, leaveOpen: true);
    }

    /// <summary>The header's column names; null before <see cref="ReadHeaderAsync"/>.</summary>
    public IReadOnlyList<string>? Columns { get; private set; }

    /// <summary>Data rows read so far.</summary>
    public long RowsRead { get; private set; }

    public async Task<IReadOnlyList<string>> ReadHeaderAsync(CancellationToken ct = default)
    {
        var header = new List<string?>();
        if (!await ReadRecordAsync(header, ct).ConfigureAwait(false) || header.Count == 0 || header.All(h => string.IsNullOrEmpty(h)))
        {
            throw ScoringException.Bad("Invalid input. The CSV has no header row; the first line must name the columns.");
        }

        var names = new List<string>(header.Count);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var h in header)
        {
            var name = (h ?? "").Trim();
            if (!seen.Add(name))
            {
                throw ScoringException.Bad($"Invalid input. The CSV header names column '{name}' more than once.");
            }

            names.Add(name);
        }

        Columns = names;
        return names;
    }

    /// <summary>Reads up to <paramref name="maxRows"/> data rows into a new table (empty at the end of the input).</summary>
    public async Task<InputTable> ReadChunkAsync(int maxRows, CancellationToken ct = default)
    {
        var columns = Columns ?? await ReadHeaderAsync(ct).ConfigureAwait(false);
        var table = new InputTable(fromText: true);
        foreach (var c in columns)
        {
            table.AddColumn(c);
        }

        var fields = new List<string?>(columns.Count);
        while (table.Rows.Count < maxRows)
        {
            var line = _line;
            if (!await ReadRecordAsync(fields, ct).ConfigureAwait(false))
            {
                break;
            }

            if (fields.Count == 1 && fields[0] is null)
            {
                continue; // a blank line
            }

            if (fields.Count != columns.Count)
            {
                throw ScoringException.Bad($"Invalid input. CSV line {line} has {fields.Count} fields; the header has {columns.Count}.");
            }

            table.Rows.Add(fields.ToArray<object?>());
            RowsRead++;
        }

        return table;
    }

    private async ValueTask<bool> FillAsync(CancellationToken ct)
    {
        _len = await _reader.ReadAsync(_buffer.AsMemory(), ct).ConfigureAwait(false);
        _pos = 0;
        return _len > 0;
    }

    /// <summary>One record into <paramref name="fields"/>; false at the end of the input.</summary>
    private async ValueTask<bool> ReadRecordAsync(List<string?> fields, CancellationToken ct)
    {
        fields.Clear();
        if (_pos >= _len && !await FillAsync(ct).ConfigureAwait(false))
        {
            return false;
        }

        _field.Clear();
        var quoted = false;      // the current field started with a quote
        var inQuotes = false;    // inside the quoted part
        var afterQuote = false;  // a quote was just read inside quotes (maybe an escaped one)
        while (true)
        {
            if (_pos >= _len && !await FillAsync(ct).ConfigureAwait(false))
            {
                if (inQuotes && !afterQuote)
                {
                    throw ScoringException.Bad($"Invalid input. CSV line {_line}: a quoted field is not closed before the end of the input.");
                }

                fields.Add(FieldValue(quoted));
                return true;
            }

            var c = _buffer[_pos++];
            if (inQuotes)
            {
                if (afterQuote)
                {
                    afterQuote = false;
                    if (c == '"')
                    {
                        _field.Append('"');
                        continue;
                    }

                    inQuotes = false; // the closing quote; c is handled below as outside quotes
                }
                else
                {
                    if (c == '"')
                    {
                        afterQuote = true;
                    }
                    else
                    {
                        if (c == '\n')
                        {
                            _line++;
                        }

                        _field.Append(c);
                    }

                    continue;
                }
            }

            switch (c)
            {
                case ',':
                    fields.Add(FieldValue(quoted));
                    _field.Clear();
                    quoted = false;
                    break;
                case '\n':
                    _line++;
                    fields.Add(FieldValue(quoted));
                    return true;
                case '\r':
                    break;
                case '"' when _field.Length == 0 && !quoted:
                    quoted = inQuotes = true;
                    break;
                default:
                    _field.Append(c);
                    break;
            }
        }
    }

    private string? FieldValue(bool quoted) => _field.Length == 0 && !quoted ? null : _field.ToString();
}
