using System.Text.Json.Nodes;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Cairn.Models;

/// <summary>Reads one column of an ML.NET row as a plain CLR value or a JSON value.</summary>
internal static class RowValues
{
    /// <summary>Text → string, key → its value (e.g. the class name), vector → array, scalars as they are.</summary>
    public static object? Clr(DataViewRow row, DataViewSchema.Column column) => Reader(row, column)();

    /// <summary>A reader of the column's current value, made once per row object so a getter is not created per value.</summary>
    public static Func<object?> Reader(DataViewRow row, DataViewSchema.Column column)
    {
        var type = column.Type;
        switch (type)
        {
            case TextDataViewType:
                {
                    var get = row.GetGetter<ReadOnlyMemory<char>>(column);
                    return () =>
                    {
                        ReadOnlyMemory<char> v = default;
                        get(ref v);
                        return v.ToString();
                    };
                }

            case KeyDataViewType:
                {
                    var key = Boxed(row, column);
                    string[]? names = null;
                    if (column.Annotations.Schema.GetColumnOrNull("KeyValues") is { Type: VectorDataViewType { ItemType: TextDataViewType } })
                    {
                        VBuffer<ReadOnlyMemory<char>> values = default;
                        column.GetKeyValues(ref values);
                        names = values.DenseValues().Select(x => x.ToString()).ToArray();
                    }

                    return () =>
                    {
                        var k = Convert.ToUInt64(key(), System.Globalization.CultureInfo.InvariantCulture);
                        return k == 0 ? null : names is null ? k : k <= (ulong)names.Length ? names[k - 1] : null;
                    };
                }

            case VectorDataViewType v when v.ItemType.RawType == typeof(float):
                {
                    var get = row.GetGetter<VBuffer<float>>(column);
                    return () =>
                    {
                        VBuffer<float> b = default;
                        get(ref b);
                        return b.DenseValues().ToArray();
                    };
                }

            case VectorDataViewType v when v.ItemType.RawType == typeof(double):
                {
                    var get = row.GetGetter<VBuffer<double>>(column);
                    return () =>
                    {
                        VBuffer<double> b = default;
                        get(ref b);
                        return b.DenseValues().ToArray();
                    };
                }

            case VectorDataViewType v when v.ItemType is TextDataViewType:
                {
                    var get = row.GetGetter<VBuffer<ReadOnlyMemory<char>>>(column);
                    return () =>
                    {
                        VBuffer<ReadOnlyMemory<char>> b = default;
                        get(ref b);
                        return b.DenseValues().Select(x => x.ToString()).ToArray();
                    };
                }

            default:
                return Boxed(row, column);
        }
    }

    public static JsonNode? Json(DataViewRow row, DataViewSchema.Column column) => ToJson(Clr(row, column));

    public static JsonNode? ToJson(object? value) => value switch
    {
        null => null,
        float f => float.IsFinite(f) ? JsonValue.Create(f) : null,
        double d => double.IsFinite(d) ? JsonValue.Create(d) : null,
        string s => JsonValue.Create(s),
        bool b => JsonValue.Create(b),
        int i => JsonValue.Create(i),
        long l => JsonValue.Create(l),
        uint u => JsonValue.Create(u),
        ulong u => JsonValue.Create(u),
        short s => JsonValue.Create(s),
        byte b => JsonValue.Create(b),
        DateTime t => JsonValue.Create(t.ToString("o", System.Globalization.CultureInfo.InvariantCulture)),
        System.Collections.IEnumerable e => new JsonArray(e.Cast<object?>().Select(ToJson).ToArray()),
        _ => JsonValue.Create(value.ToString()),
    };

    private static Func<object?> Typed<T>(DataViewRow row, DataViewSchema.Column column)
    {
        var get = row.GetGetter<T>(column);
        return () =>
        {
            T value = default!;
            get(ref value);
            return value;
        };
    }

    private static Func<object?> Boxed(DataViewRow row, DataViewSchema.Column column)
    {
        var raw = column.Type.RawType;
        if (raw == typeof(float)) { return Typed<float>(row, column); }
        if (raw == typeof(double)) { return Typed<double>(row, column); }
        if (raw == typeof(bool)) { return Typed<bool>(row, column); }
        if (raw == typeof(int)) { return Typed<int>(row, column); }
        if (raw == typeof(long)) { return Typed<long>(row, column); }
        if (raw == typeof(uint)) { return Typed<uint>(row, column); }
        if (raw == typeof(ulong)) { return Typed<ulong>(row, column); }
        if (raw == typeof(short)) { return Typed<short>(row, column); }
        if (raw == typeof(ushort)) { return Typed<ushort>(row, column); }
        if (raw == typeof(byte)) { return Typed<byte>(row, column); }
        if (raw == typeof(sbyte)) { return Typed<sbyte>(row, column); }
        if (raw == typeof(DateTime)) { return Typed<DateTime>(row, column); }
        throw new NotSupportedException($"Column '{column.Name}' has type {column.Type}, which Cairn cannot read yet.");
    }
}
