using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Cairn.Models;

/// <summary>
/// An <see cref="IDataView"/> over rows given as column name → value, typed by the model's saved
/// input schema, so a model can score rows whose shape is known only at run time. Values are
/// converted once, when the view is built; a value that cannot be converted is an error naming the column.
/// </summary>
internal sealed class RowDataView : IDataView
{
    private readonly object?[][] _rows;

    internal RowDataView(DataViewSchema schema, object?[][] rows)
    {
        Schema = schema;
        _rows = rows;
    }

    public DataViewSchema Schema { get; }

    public bool CanShuffle => false;

    public long? GetRowCount() => _rows.Length;

    /// <param name="optional">Columns that may be absent from a row (their default is used): the label, columns the model ignores.</param>
    public static RowDataView Create(DataViewSchema schema, IEnumerable<IReadOnlyDictionary<string, object?>> rows, Func<string, bool> optional) =>
        new(schema, ConvertRows(schema, rows, optional));

    /// <summary>Each row's values in schema order, converted to the column types.</summary>
    public static object?[][] ConvertRows(DataViewSchema schema, IEnumerable<IReadOnlyDictionary<string, object?>> rows, Func<string, bool> optional)
    {
        var list = new List<object?[]>();
        var index = 0;
        foreach (var row in rows)
        {
            var values = new object?[schema.Count];
            foreach (var column in schema)
            {
                if (column.IsHidden)
                {
                    values[column.Index] = Default(column.Type);
                    continue;
                }

                var present = TryGet(row, column.Name, out var raw);
                if (!present || raw is null || (raw is JsonValue jv && jv.GetValueKind() == JsonValueKind.Null))
                {
                    if (!optional(column.Name) && !(present && IsNullable(column.Type)))
                    {
                        throw new ArgumentException($"Row {index}: missing value for required column '{column.Name}'.");
                    }

                    values[column.Index] = Default(column.Type);
                    continue;
                }

                try
                {
                    values[column.Index] = Convert(raw, column.Type);
                }
                catch (Exception e) when (e is FormatException or InvalidCastException or OverflowException or InvalidOperationException)
                {
                    throw new ArgumentException($"Row {index}: column '{column.Name}' expects {Describe(column.Type)}, got '{Show(raw)}'.", e);
                }
            }

            list.Add(values);
            index++;
        }

        return list.ToArray();
    }

    private static bool TryGet(IReadOnlyDictionary<string, object?> row, string name, out object? value)
    {
        if (row.TryGetValue(name, out value))
        {
            return true;
        }

        foreach (var (k, v) in row)
        {
            if (string.Equals(k, name, StringComparison.OrdinalIgnoreCase))
            {
                value = v;
                return true;
            }
        }

        return false;
    }

    /// <summary>Floating-point columns take a missing value as NaN, as ML.NET's loaders do.</summary>
    private static bool IsNullable(DataViewType type) => type.RawType == typeof(float) || type.RawType == typeof(double) || type is TextDataViewType;

    private static string Show(object? raw) => raw is JsonNode n ? n.ToJsonString() : Convert2String(raw);

    private static string Convert2String(object? raw) => System.Convert.ToString(raw, CultureInfo.InvariantCulture) ?? "";

    internal static string Describe(DataViewType type) => type switch
    {
        VectorDataViewType v => $"a list of {v.Size} {Describe(v.ItemType)} values",
        _ when type.RawType == typeof(float) => "a float",
        _ when type.RawType == typeof(double) => "a double",
        _ when type.RawType == typeof(int) => "an integer",
        _ when type.RawType == typeof(long) => "a long",
        _ when type.RawType == typeof(bool) => "a boolean",
        TextDataViewType => "a string",
        _ => type.ToString() ?? "",
    };

    private static object? Default(DataViewType type) => type switch
    {
        VectorDataViewType v => DefaultVector(v),
        TextDataViewType => ReadOnlyMemory<char>.Empty,
        _ when type.RawType == typeof(float) => float.NaN,
        _ when type.RawType == typeof(double) => double.NaN,
        _ => type.RawType.IsValueType ? Activator.CreateInstance(type.RawType) : null,
    };

    private static object DefaultVector(VectorDataViewType v) => v.ItemType.RawType switch
    {
        var t when t == typeof(float) => new VBuffer<float>(v.Size, new float[v.Size]),
        var t when t == typeof(double) => new VBuffer<double>(v.Size, new double[v.Size]),
        _ => throw new NotSupportedException($"Vector columns of {v.ItemType} are not supported."),
    };

    private static object Convert(object raw, DataViewType type)
    {
        if (type is VectorDataViewType vector)
        {
            var items = raw switch
            {
                JsonArray a => a.Select(x => (object)x!).ToList(),
                System.Collections.IEnumerable e and not string => e.Cast<object>().ToList(),
                _ => throw new InvalidCastException("not a list"),
            };
            if (vector.Size > 0 && items.Count != vector.Size)
            {
                throw new InvalidCastException($"{items.Count} values instead of {vector.Size}");
            }

            if (vector.ItemType.RawType == typeof(float))
            {
                return new VBuffer<float>(items.Count, items.Select(i => (float)Scalar(i, typeof(float))).ToArray());
            }

            if (vector.ItemType.RawType == typeof(double))
            {
                return new VBuffer<double>(items.Count, items.Select(i => (double)Scalar(i, typeof(double))).ToArray());
            }

            throw new NotSupportedException($"Vector columns of {vector.ItemType} are not supported.");
        }

        if (type is TextDataViewType)
        {
            return (raw is JsonValue j && j.TryGetValue<string>(out var s) ? s : raw is JsonNode n ? n.ToJsonString() : Convert2String(raw)).AsMemory();
        }

        return Scalar(raw, type.RawType);
    }

    /// <summary>Numbers and booleans from JSON, CLR values or text; text is parsed with the invariant culture.</summary>
    private static object Scalar(object raw, Type target)
    {
        if (raw is JsonValue json)
        {
            raw = json.GetValueKind() switch
            {
                JsonValueKind.Number => json.ToJsonString(),
                JsonValueKind.String => json.GetValue<string>(),
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                _ => throw new InvalidCastException(),
            };
        }

        if (raw is string text)
        {
            if (target == typeof(bool))
            {
                return bool.Parse(text);
            }

            if (target == typeof(DateTime))
            {
                return DateTime.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal);
            }

            // Integers given as "3.0" are accepted when exact, as pandas' safe casts do.
            if ((target == typeof(int) || target == typeof(long)) && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && d == Math.Floor(d))
            {
                return System.Convert.ChangeType(d, target, CultureInfo.InvariantCulture);
            }

            return System.Convert.ChangeType(text, target, CultureInfo.InvariantCulture);
        }

        if ((target == typeof(int) || target == typeof(long)) && raw is double or float && System.Convert.ToDouble(raw, CultureInfo.InvariantCulture) is var f && f != Math.Floor(f))
        {
            throw new InvalidCastException("not an integer");
        }

        return System.Convert.ChangeType(raw, target, CultureInfo.InvariantCulture);
    }

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null) => new Cursor(this);

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) => [new Cursor(this)];

    private sealed class Cursor(RowDataView view) : DataViewRowCursor
    {
        private long _position = -1;

        public override DataViewSchema Schema => view.Schema;

        public override long Position => _position;

        public override long Batch => 0;

        public override bool MoveNext() => ++_position < view._rows.Length;

        public override bool IsColumnActive(DataViewSchema.Column column) => true;

        public override ValueGetter<DataViewRowId> GetIdGetter() => (ref DataViewRowId id) => id = new DataViewRowId((ulong)_position, 0);

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column) => Getter<TValue>(() => view._rows[_position], column.Index);
    }

    /// <summary>A getter over "the current values", copying vectors: ML.NET may reuse a destination buffer it was given.</summary>
    internal static ValueGetter<TValue> Getter<TValue>(Func<object?[]> current, int index) => (ref TValue value) =>
    {
        var v = current()[index];
        value = v switch
        {
            VBuffer<float> f => (TValue)(object)new VBuffer<float>(f.Length, f.DenseValues().ToArray()),
            VBuffer<double> d => (TValue)(object)new VBuffer<double>(d.Length, d.DenseValues().ToArray()),
            _ => (TValue)v!,
        };
    };

    /// <summary>
    /// One row whose values the caller replaces before each use: the input of a row-to-row mapper, so
    /// a row is scored without building a data view and cursor per call (what ML.NET's PredictionEngine does).
    /// </summary>
    internal sealed class SettableRow(DataViewSchema schema) : DataViewRow
    {
        private object?[] _values = [];
        private long _position = -1;

        public void Set(object?[] values)
        {
            _values = values;
            _position++; // getters cache by position
        }

        public override DataViewSchema Schema => schema;

        public override long Position => _position;

        public override long Batch => 0;

        public override bool IsColumnActive(DataViewSchema.Column column) => true;

        public override ValueGetter<DataViewRowId> GetIdGetter() => (ref DataViewRowId id) => id = new DataViewRowId((ulong)_position, 0);

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column) => Getter<TValue>(() => _values, column.Index);
    }
}
