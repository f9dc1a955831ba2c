using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.IO.Compression;
using System.Runtime.InteropServices;
using System.Runtime.ExceptionServices;
using System.Security.Cryptography;
using System.Threading.Channels;

namespace Cairn.Lab.Pipelines.Data;

/// <summary>
/// The UCI HIGGS file (<c>HIGGS.csv.gz</c>): no header, 29 numbers a line, the class label first.
/// Streamed through <see cref="GZipStream"/> a megabyte at a time and parsed straight from the
/// bytes into column chunks, so memory is the table itself plus one buffer.
/// </summary>
internal static class HiggsDataset
{
    /// <summary>The 28 feature names in file order (column 0 is the label), from the UCI description.</summary>
    public static readonly string[] FeatureNames =
    [
        "lepton_pT", "lepton_eta", "lepton_phi", "missing_energy_magnitude", "missing_energy_phi",
        "jet1_pt", "jet1_eta", "jet1_phi", "jet1_b-tag",
        "jet2_pt", "jet2_eta", "jet2_phi", "jet2_b-tag",
        "jet3_pt", "jet3_eta", "jet3_phi", "jet3_b-tag",
        "jet4_pt", "jet4_eta", "jet4_phi", "jet4_b-tag",
        "m_jj", "m_jjj", "m_lv", "m_jlv", "m_bb", "m_wbb", "m_wwbb",
    ];

    public const string LabelName = "label";

    private const int Fields = 29;

    private const int BlockSize = 1 << 20;

    public static async Task<LoadedDataset> LoadAsync(string path, long? rowLimit, IProgress<string>? progress, CancellationToken ct)
    {
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous | FileOptions.SequentialScan);
        await using Stream input = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase)
            ? new GZipStream(file, CompressionMode.Decompress)
            : file;
        using var parser = new Parser(path, rowLimit, progress);

        // Decompression (about half the work) runs on its own thread, handing over blocks of whole
        // lines, while this one parses: on two cores the read takes the longer of the two, not the sum.
        var blocks = Channel.CreateBounded<(byte[] Buffer, int Length)>(new BoundedChannelOptions(4) { SingleReader = true, SingleWriter = true });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        Exception? readFailure = null;
        var reading = Task.Run(async () =>
        {
            try
            {
                await ReadBlocksAsync(input, path, blocks.Writer, stop.Token);
            }
            catch (Exception e)
            {
                readFailure = e;
            }
            finally
            {
                blocks.Writer.Complete();
            }
        }, CancellationToken.None);
        try
        {
            await foreach (var (buffer, length) in blocks.Reader.ReadAllAsync(ct))
            {
                parser.Parse(buffer.AsSpan(0, length), final: true);
                ArrayPool<byte>.Shared.Return(buffer);
                if (parser.Done)
                {
                    break;
                }
            }
        }
        finally
        {
            await stop.CancelAsync();
            await reading;
        }

        ct.ThrowIfCancellationRequested();
        if (readFailure is InvalidDataException corrupt)
        {
            throw new PipelineConfigException($"HIGGS file {path} cannot be read: {corrupt.Message} (is it gzip-compressed?)");
        }

        if (readFailure is not null and not OperationCanceledException)
        {
            ExceptionDispatchInfo.Throw(readFailure);
        }

        var table = parser.ToTable();
        if (table.RowCount == 0)
        {
            throw new PipelineConfigException($"HIGGS file {path} is empty: no rows.");
        }

        var source = Path.GetFullPath(path);
        return new LoadedDataset(table, DatasetDescriptions.Describe("higgs", parser.Digest(), "local", source, table));
    }

    /// <summary>Reads <paramref name="input"/> in blocks of about 1 MB that end at a line end (the last block may not).</summary>
    private static async Task ReadBlocksAsync(Stream input, string path, ChannelWriter<(byte[], int)> blocks, CancellationToken ct)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(BlockSize);
        var filled = 0;
        while (true)
        {
            var read = 0;
            while (filled < buffer.Length && (read = await input.ReadAsync(buffer.AsMemory(filled), ct)) > 0)
            {
                filled += read;
            }

            if (filled == 0)
            {
                ArrayPool<byte>.Shared.Return(buffer);
                return;
            }

            if (read == 0 && filled < buffer.Length)
            {
                await blocks.WriteAsync((buffer, filled), ct);
                return;
            }

            var lineEnd = buffer.AsSpan(0, filled).LastIndexOf((byte)'\n') + 1;
            if (lineEnd == 0)
            {
                throw new PipelineConfigException($"HIGGS file {path}: a line longer than {buffer.Length} bytes; this is not the HIGGS format.");
            }

            var next = ArrayPool<byte>.Shared.Rent(BlockSize);
            buffer.AsSpan(lineEnd, filled - lineEnd).CopyTo(next);
            await blocks.WriteAsync((buffer, lineEnd), ct);
            filled -= lineEnd;
            buffer = next;
        }
    }

    /// <summary>
    /// Parses a decimal number (<c>-1.045456994324922562e-02</c>) from ASCII bytes. Up to 19
    /// significant digits are gathered into an integer and scaled by an exact power of ten in
    /// double precision, then rounded once to float: exact for HIGGS's values (float32 numbers
    /// written in full) and within rounding of <see cref="float.Parse(string)"/> otherwise;
    /// anything unusual (NaN, infinities, huge exponents) falls back to the framework's parser.
    /// </summary>
    public static bool TryParseFloat(ReadOnlySpan<byte> s, out float value)
    {
        var i = 0;
        var negative = false;
        if (i < s.Length && (s[i] == (byte)'-' || s[i] == (byte)'+'))
        {
            negative = s[i] == (byte)'-';
            i++;
        }

        ulong mantissa = 0;
        var digits = 0;
        var exponent = 0;
        var any = false;
        while (i < s.Length && (uint)(s[i] - '0') <= 9)
        {
            any = true;
            if (digits < 19)
            {
                mantissa = (mantissa * 10) + (uint)(s[i] - '0');
                if (mantissa != 0)
                {
                    digits++;
                }
            }
            else
            {
                exponent++;
            }

            i++;
        }

        if (i < s.Length && s[i] == (byte)'.')
        {
            i++;

            // Eight digits at a time while they fit in the 19 kept (HIGGS's 18 decimals: 8 + 8 + 2).
            while (i + 8 <= s.Length)
            {
                var eight = BinaryPrimitives.ReadUInt64LittleEndian(s[i..]);
                if (mantissa == 0 && eight == 0x3030303030303030)
                {
                    exponent -= 8;
                }
                else if (mantissa != 0 && digits + 8 <= 19 && IsEightDigits(eight))
                {
                    mantissa = (mantissa * 100_000_000) + EightDigits(eight);
                    digits += 8;
                    exponent -= 8;
                }
                else
                {
                    break;
                }

                any = true;
                i += 8;
            }

            while (i < s.Length && (uint)(s[i] - '0') <= 9)
            {
                any = true;
                if (digits < 19)
                {
                    mantissa = (mantissa * 10) + (uint)(s[i] - '0');
                    if (mantissa != 0)
                    {
                        digits++;
                    }

                    exponent--;
                }

                i++;
            }
        }

        if (any && i < s.Length && (s[i] == (byte)'e' || s[i] == (byte)'E'))
        {
            i++;
            var exponentNegative = false;
            if (i < s.Length && (s[i] == (byte)'-' || s[i] == (byte)'+'))
            {
                exponentNegative = s[i] == (byte)'-';
                i++;
            }

            var written = 0;
            var start = i;
            while (i < s.Length && (uint)(s[i] - '0') <= 9)
            {
                if (written < 100_000)
                {
                    written = (written * 10) + (s[i] - '0');
                }

                i++;
            }

            if (i == start)
            {
                return Fallback(s, out value);
            }

            exponent += exponentNegative ? -written : written;
        }

        if (!any || i != s.Length)
        {
            return Fallback(s, out value);
        }

        double result = mantissa;
        if (mantissa == 0)
        {
            result = 0;
        }
        else if (exponent >= 0)
        {
            if (exponent > 22)
            {
                return Fallback(s, out value);
            }

            result *= PowersOfTen[exponent];
        }
        else if (exponent >= -22)
        {
            result /= PowersOfTen[-exponent];
        }
        else if (exponent >= -44)
        {
            result = result / 1e22 / PowersOfTen[-exponent - 22];
        }
        else
        {
            return Fallback(s, out value);
        }

        value = (float)(negative ? -result : result);
        return true;
    }

    /// <summary>Whether eight ASCII bytes (little-endian) are all digits: no byte wraps below '0' or above '9'.</summary>
    private static bool IsEightDigits(ulong bytes) =>
        (((bytes + 0x4646464646464646) | (bytes - 0x3030303030303030)) & 0x8080808080808080) == 0;

    /// <summary>The value of eight ASCII digits (the first in the lowest byte), by pairing digits then pairs then quads.</summary>
    private static ulong EightDigits(ulong bytes)
    {
        bytes -= 0x3030303030303030;
        bytes = (bytes * 10) + (bytes >> 8);
        return (((bytes & 0x000000FF000000FF) * 0x000F424000000064) + (((bytes >> 16) & 0x000000FF000000FF) * 0x0000271000000001)) >> 32;
    }

    private static bool Fallback(ReadOnlySpan<byte> s, out float value) =>
        float.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out value);

    private static readonly double[] PowersOfTen =
    [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
        1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ];

    /// <summary>The state of one read: column chunks, the row count, the running digest.</summary>
    private sealed class Parser(string path, long? rowLimit, IProgress<string>? progress) : IDisposable
    {
        private const int ChunkRows = 1 << 16;
        private readonly List<float[]>[] _chunks = [.. Enumerable.Range(0, Fields).Select(_ => new List<float[]>())];
        private readonly float[][] _current = [.. Enumerable.Range(0, Fields).Select(_ => new float[ChunkRows])];
        private readonly float[] _row = new float[Fields];
        private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        private readonly byte[] _hashBuffer = new byte[Fields * sizeof(float) * 2048];
        private int _hashFilled;
        private int _inChunk;
        private long _rows;

        public long Line { get; private set; } = 1;

        public bool Done => rowLimit is { } limit && _rows >= limit;

        /// <summary>Parses the complete lines in <paramref name="data"/> (all of it when final) and returns the bytes consumed.</summary>
        public int Parse(ReadOnlySpan<byte> data, bool final)
        {
            var position = 0;
            while (position < data.Length && !Done)
            {
                var rest = data[position..];
                var newline = rest.IndexOf((byte)'\n');
                if (newline < 0 && !final)
                {
                    break;
                }

                var line = newline < 0 ? rest : rest[..newline];
                position += newline < 0 ? rest.Length : newline + 1;
                if (line.Length > 0 && line[^1] == (byte)'\r')
                {
                    line = line[..^1];
                }

                if (line.Length > 0 && !(Line == 1 && IsHeader(line)))
                {
                    ParseLine(line);
                }

                Line++;
            }

            return position;
        }

        private static bool IsHeader(ReadOnlySpan<byte> line) => char.IsAsciiLetter((char)line[0]) && !line.StartsWith("nan"u8) && !line.StartsWith("NaN"u8);

        private void ParseLine(ReadOnlySpan<byte> line)
        {
            var field = 0;
            while (true)
            {
                var comma = line.IndexOf((byte)',');
                var token = comma < 0 ? line : line[..comma];
                if (field == Fields)
                {
                    throw Ragged(Fields + line.Count((byte)',') + 1);
                }

                if (!TryParseFloat(token, out _row[field]))
                {
                    if (token.Length == 0)
                    {
                        _row[field] = float.NaN;
                    }
                    else
                    {
                        throw new PipelineConfigException(
                            $"HIGGS file {path}, line {Line}: field {field + 1} ('{System.Text.Encoding.ASCII.GetString(token[..Math.Min(token.Length, 40)])}') is not a number.");
                    }
                }

                field++;
                if (comma < 0)
                {
                    break;
                }

                line = line[(comma + 1)..];
            }

            if (field != Fields)
            {
                throw Ragged(field);
            }

            if (float.IsNaN(_row[0]))
            {
                throw new PipelineConfigException($"HIGGS file {path}, line {Line}: the label (field 1) is missing.");
            }

            for (var c = 0; c < Fields; c++)
            {
                _current[c][_inChunk] = _row[c];
            }

            MemoryMarshal.AsBytes(_row.AsSpan()).CopyTo(_hashBuffer.AsSpan(_hashFilled));
            _hashFilled += Fields * sizeof(float);
            if (_hashFilled == _hashBuffer.Length)
            {
                _hash.AppendData(_hashBuffer);
                _hashFilled = 0;
            }

            _inChunk++;
            _rows++;
            if (_inChunk == ChunkRows)
            {
                for (var c = 0; c < Fields; c++)
                {
                    _chunks[c].Add(_current[c]);
                    _current[c] = new float[ChunkRows];
                }

                _inChunk = 0;
            }

            if (_rows % 100_000 == 0)
            {
                progress?.Report($"higgs: {_rows:N0} rows read");
            }
        }

        private PipelineConfigException Ragged(int found) =>
            new($"HIGGS file {path}, line {Line}: {found} fields where the HIGGS format has {Fields} (label + 28 features).");

        public string Digest()
        {
            _hash.AppendData(_hashBuffer, 0, _hashFilled);
            _hashFilled = 0;
            return Convert.ToHexStringLower(_hash.GetHashAndReset())[..16];
        }

        public DataTable ToTable()
        {
            var rows = checked((int)_rows);
            var columns = new float[Fields][];
            for (var c = 0; c < Fields; c++)
            {
                // One column at a time, dropping its chunks as they are copied, so the peak is one column over the table.
                var values = new float[rows];
                var offset = 0;
                foreach (var chunk in _chunks[c])
                {
                    chunk.CopyTo(values, offset);
                    offset += chunk.Length;
                }

                _chunks[c].Clear();
                Array.Copy(_current[c], 0, values, offset, _inChunk);
                _current[c] = [];
                columns[c] = values;
            }

            var labels = new string[rows];
            var names = new Dictionary<float, string>();
            for (var r = 0; r < rows; r++)
            {
                var value = columns[0][r];
                if (!names.TryGetValue(value, out var name))
                {
                    name = value.ToString("R", CultureInfo.InvariantCulture);
                    names[value] = name;
                }

                labels[r] = name;
            }

            var features = new DataColumn[Fields - 1];
            for (var c = 1; c < Fields; c++)
            {
                features[c - 1] = new NumericColumn(FeatureNames[c - 1], columns[c]);
            }

            return new DataTable(features, LabelName, labels);
        }

        public void Dispose() => _hash.Dispose();
    }
}
