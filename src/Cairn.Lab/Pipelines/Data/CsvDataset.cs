using System.Security.Cryptography;
using System.Text;

namespace Cairn.Lab.Pipelines.Data;

/// <summary>
/// Turns CSV text with a header into a <see cref="DataTable"/>: the label column by name, every
/// other column numeric when all its non-missing cells are numbers, text otherwise.
/// </summary>
internal static class CsvDataset
{
    public static LoadedDataset Parse(string text, string datasetName, string labelName, long? rowLimit, string sourceType, string source)
    {
        if (text.Length > 0 && text[0] == '\uFEFF')
        {
            text = text[1..];
        }

        var consumed = 0;
        using var records = CsvText.Records(text, end => consumed = end).GetEnumerator();
        if (!records.MoveNext())
        {
            throw new PipelineConfigException($"Dataset '{datasetName}' ({source}) is empty: expected a header line and rows.");
        }

        var header = records.Current.Fields.Select(f => f.Trim()).ToArray();
        var labelIndex = Array.IndexOf(header, labelName);
        if (labelIndex < 0)
        {
            throw new PipelineConfigException(
                $"Dataset '{datasetName}' ({source}) has no label column '{labelName}'; the columns are: {string.Join(", ", header)}.");
        }

        var duplicate = header.GroupBy(h => h, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new PipelineConfigException($"Dataset '{datasetName}' ({source}): column '{duplicate.Key}' appears more than once in the header.");
        }

        var cells = new List<string>[header.Length];
        for (var c = 0; c < header.Length; c++)
        {
            cells[c] = [];
        }

        long rows = 0;
        while ((rowLimit is null || rows < rowLimit) && records.MoveNext())
        {
            var (line, fields) = records.Current;
            if (fields.Length != header.Length)
            {
                throw new PipelineConfigException(
                    $"Dataset '{datasetName}' ({source}), line {line}: {fields.Length} fields where the header has {header.Length}.");
            }

            if (fields[labelIndex].Trim().Length == 0)
            {
                throw new PipelineConfigException($"Dataset '{datasetName}' ({source}), line {line}: the label '{labelName}' is empty.");
            }

            for (var c = 0; c < fields.Length; c++)
            {
                cells[c].Add(fields[c]);
            }

            rows++;
        }

        if (rows == 0)
        {
            throw new PipelineConfigException($"Dataset '{datasetName}' ({source}) has a header but no rows.");
        }

        var features = new List<DataColumn>();
        for (var c = 0; c < header.Length; c++)
        {
            if (c != labelIndex)
            {
                features.Add(InferColumn(header[c], cells[c]));
            }
        }

        var labels = cells[labelIndex].Select(l => string.Intern(l.Trim())).ToArray();
        var table = new DataTable(features, labelName, labels);
        var digest = Digest(Encoding.UTF8.GetBytes(text, 0, consumed));
        return new LoadedDataset(table, DatasetDescriptions.Describe(datasetName, digest, sourceType, source, table));
    }

    /// <summary>Numeric when every non-missing cell is a number (missing: empty, NA, NaN, N/A, null), else text.</summary>
    public static DataColumn InferColumn(string name, List<string> cells)
    {
        var values = new float[cells.Count];
        for (var i = 0; i < cells.Count; i++)
        {
            if (CsvText.IsMissing(cells[i]))
            {
                values[i] = float.NaN;
            }
            else if (CsvText.TryParseNumber(cells[i], out var number))
            {
                values[i] = number;
            }
            else
            {
                return new TextColumn(name, [.. cells.Select(v => v.Length == 0 ? null : v)]);
            }
        }

        return new NumericColumn(name, values);
    }

    /// <summary>A content digest: the first 16 hex characters of the SHA-256 of the bytes read.</summary>
    public static string Digest(ReadOnlySpan<byte> content) => Convert.ToHexStringLower(SHA256.HashData(content))[..16];
}
