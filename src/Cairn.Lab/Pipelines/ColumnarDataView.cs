using Microsoft.ML;
using Microsoft.ML.Data;

namespace Cairn.Lab.Pipelines;

/// <summary>
/// An ML.NET <see cref="IDataView"/> over a <see cref="DataTable"/> (optionally a subset of its rows,
/// e.g. one cross-validation fold) without copying it: each feature is a scalar column of its own
/// name (<c>Single</c> or text), and the label is a text column named <see cref="DataTable.LabelName"/>.
/// </summary>
public sealed class ColumnarDataView : IDataView
{
    private readonly DataTable _table;
    private readonly int[]? _rows;

    public ColumnarDataView(DataTable table, int[]? rows = null)
    {
        ArgumentNullException.ThrowIfNull(table);
        _table = table;
        _rows = rows;
        var builder = new DataViewSchema.Builder();
        foreach (var column in table.Features)
        {
            builder.AddColumn(column.Name, column is NumericColumn ? NumberDataViewType.Single : TextDataViewType.Instance);
        }

        builder.AddColumn(table.LabelName, TextDataViewType.Instance);
        Schema = builder.ToSchema();
    }

    public DataViewSchema Schema { get; }

    public bool CanShuffle => false;

    public long? GetRowCount() => _rows?.Length ?? _table.RowCount;

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null) =>
        new Cursor(this, columnsNeeded);

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) =>
        [GetRowCursor(columnsNeeded, rand)];

    private sealed class Cursor : DataViewRowCursor
    {
        private readonly ColumnarDataView _view;
        private readonly bool[] _active;
        private readonly long _count;
        private long _position = -1;

        public Cursor(ColumnarDataView view, IEnumerable<DataViewSchema.Column> columnsNeeded)
        {
            _view = view;
            _active = new bool[view.Schema.Count];
            foreach (var column in columnsNeeded)
            {
                _active[column.Index] = true;
            }

            _count = view.GetRowCount()!.Value;
        }

        public override DataViewSchema Schema => _view.Schema;

        public override long Position => _position;

        public override long Batch => 0;

        private int Row => _view._rows is { } rows ? rows[_position] : (int)_position;

        public override bool MoveNext()
        {
            if (_position + 1 >= _count)
            {
                _position = _count;
                return false;
            }

            _position++;
            return true;
        }

        public override ValueGetter<DataViewRowId> GetIdGetter() =>
            (ref DataViewRowId value) => value = new DataViewRowId((ulong)_position, 0);

        public override bool IsColumnActive(DataViewSchema.Column column) => _active[column.Index];

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            if (!_active[column.Index])
            {
                throw new InvalidOperationException($"Column '{column.Name}' was not requested from the cursor.");
            }

            var features = _view._table.Features;
            Delegate getter;
            if (column.Index == features.Count)
            {
                var labels = _view._table.Labels;
                getter = (ValueGetter<ReadOnlyMemory<char>>)((ref ReadOnlyMemory<char> value) => value = labels[Row].AsMemory());
            }
            else if (features[column.Index] is NumericColumn numeric)
            {
                var values = numeric.Values;
                getter = (ValueGetter<float>)((ref float value) => value = values[Row]);
            }
            else
            {
                var values = ((TextColumn)features[column.Index]).Values;
                getter = (ValueGetter<ReadOnlyMemory<char>>)((ref ReadOnlyMemory<char> value) => value = (values[Row] ?? "").AsMemory());
            }

            return getter as ValueGetter<TValue>
                ?? throw new InvalidOperationException($"Column '{column.Name}' is {column.Type}, not {typeof(TValue).Name}.");
        }
    }
}
