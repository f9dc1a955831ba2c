using System.Globalization;
using System.Security.Cryptography;
using Parquet;
using Parquet.Schema;

namespace Cairn.Lab.Pipelines.Data;

/// <summary>
/// A Parquet file with a label column (Parquet.Net): numeric fields become numeric columns
/// (nulls are missing), strings and booleans text columns; the label is read as text.
/// </summary>
internal static class ParquetDataset
{
    public static async Task<LoadedDataset> LoadAsync(string path, string labelName, long? rowLimit, CancellationToken ct)
    {
        var bytes = await File.ReadAllBytesAsync(path, ct);
        if (bytes.Length == 0)
        {
            throw new PipelineConfigException($"Dataset 'csv' ({path}) is empty.");
        }

        ParquetReader reader;
        try
        {
            reader = await ParquetReader.CreateAsync(new MemoryStream(bytes), cancellationToken: ct);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or NotSupportedException)
        {
            throw new PipelineConfigException($"Dataset 'csv' ({path}) is not a readable Parquet file: {e.Message}");
        }

        await using (reader)
        {
            var fields = reader.Schema.GetDataFields();
            if (!fields.Any(f => f.Name == labelName))
            {
                throw new PipelineConfigException(
                    $"Dataset 'csv' ({path}) has no label column '{labelName}'; the columns are: {string.Join(", ", fields.Select(f => f.Name))}.");
            }

            var values = fields.ToDictionary(f => f.Name, _ => new List<object?>());
            long rows = 0;
            for (var g = 0; g < reader.RowGroupCount && (rowLimit is null || rows < rowLimit); g++)
            {
                using var group = reader.OpenRowGroupReader(g);
                var count = (int)group.RowCount;
                var take = rowLimit is { } limit ? (int)Math.Min(count, limit - rows) : count;
                foreach (var field in fields)
                {
                    var column = await ReadAsync(group, field, count, ct);
                    values[field.Name].AddRange(column.Take(take));
                }

                rows += take;
            }

            if (rows == 0)
            {
                throw new PipelineConfigException($"Dataset 'csv' ({path}) has no rows.");
            }

            var features = new List<DataColumn>();
            string[]? labels = null;
            foreach (var field in fields)
            {
                var column = values[field.Name];
                if (field.Name == labelName)
                {
                    labels = [.. column.Select((v, i) => v is null
                        ? throw new PipelineConfigException($"Dataset 'csv' ({path}), row {i + 1}: the label '{labelName}' is empty.")
                        : string.Intern(Convert.ToString(v, CultureInfo.InvariantCulture)!))];
                }
                else if (IsNumeric(Nullable.GetUnderlyingType(field.ClrType) ?? field.ClrType))
                {
                    features.Add(new NumericColumn(field.Name, [.. column.Select(v => v is null ? float.NaN : Convert.ToSingle(v, CultureInfo.InvariantCulture))]));
                }
                else
                {
                    features.Add(new TextColumn(field.Name, [.. column.Select(v => v is null ? null : Convert.ToString(v, CultureInfo.InvariantCulture))]));
                }
            }

            var table = new DataTable(features, labelName, labels!);
            var digest = Convert.ToHexStringLower(SHA256.HashData(bytes))[..16];
            if (rowLimit is not null)
            {
                digest = CsvDataset.Digest(System.Text.Encoding.UTF8.GetBytes($"{digest}:{rows}"));
            }

            return new LoadedDataset(table, DatasetDescriptions.Describe(Path.GetFileNameWithoutExtension(path), digest, "local", Path.GetFullPath(path), table));
        }
    }

    private static bool IsNumeric(Type type) =>
        type == typeof(float) || type == typeof(double) || type == typeof(int) || type == typeof(long)
        || type == typeof(short) || type == typeof(byte) || type == typeof(sbyte) || type == typeof(ushort)
        || type == typeof(uint) || type == typeof(ulong) || type == typeof(decimal);

    private static async Task<IEnumerable<object?>> ReadAsync(ParquetRowGroupReader group, DataField field, int count, CancellationToken ct)
    {
        var type = field.ClrType;
        if (type == typeof(string) || type == typeof(ReadOnlyMemory<char>))
        {
            var buffer = new string?[count];
            await group.ReadAsync(field, buffer.AsMemory(), cancellationToken: ct);
            return buffer;
        }

        return type switch
        {
            _ when type == typeof(float) => await ReadNullable<float>(group, field, count, ct),
            _ when type == typeof(double) => await ReadNullable<double>(group, field, count, ct),
            _ when type == typeof(int) => await ReadNullable<int>(group, field, count, ct),
            _ when type == typeof(long) => await ReadNullable<long>(group, field, count, ct),
            _ when type == typeof(short) => await ReadNullable<short>(group, field, count, ct),
            _ when type == typeof(byte) => await ReadNullable<byte>(group, field, count, ct),
            _ when type == typeof(sbyte) => await ReadNullable<sbyte>(group, field, count, ct),
            _ when type == typeof(ushort) => await ReadNullable<ushort>(group, field, count, ct),
            _ when type == typeof(uint) => await ReadNullable<uint>(group, field, count, ct),
            _ when type == typeof(ulong) => await ReadNullable<ulong>(group, field, count, ct),
            _ when type == typeof(decimal) => await ReadNullable<decimal>(group, field, count, ct),
            _ when type == typeof(bool) => await ReadNullable<bool>(group, field, count, ct),
            _ => throw new PipelineConfigException($"Parquet column '{field.Name}' has type {type.Name}, which a dataset cannot hold (numbers, text and booleans only)."),
        };
    }

    private static async Task<IEnumerable<object?>> ReadNullable<T>(ParquetRowGroupReader group, DataField field, int count, CancellationToken ct)
        where T : struct
    {
        if (field.IsNullable)
        {
            var nullable = new T?[count];
            await group.ReadAsync(field, nullable.AsMemory(), cancellationToken: ct);
            return nullable.Select(v => v.HasValue ? (object?)v.Value : null);
        }

        var buffer = new T[count];
        await group.ReadAsync(field, buffer.AsMemory(), cancellationToken: ct);
        return buffer.Select(v => (object?)v);
    }
}
