using Cairn.Models;

namespace Cairn.Serving.Tests;

/// <summary>MLflow's safe-conversion rules for every column type, on a signature written out by hand.</summary>
public class SignatureEnforcerTests
{
    private static readonly ModelSignature Signature = new(
    [
        new ColumnSpec("n", ColumnTypes.Integer),
        new ColumnSpec("big", ColumnTypes.Long),
        new ColumnSpec("flag", ColumnTypes.Boolean),
        new ColumnSpec("x", ColumnTypes.Float),
        new ColumnSpec("y", ColumnTypes.Double),
        new ColumnSpec("name", ColumnTypes.String),
        new ColumnSpec("when", ColumnTypes.DateTime),
        new ColumnSpec("vec", ColumnTypes.Array, Items: ColumnTypes.Float),
        new ColumnSpec("opt", ColumnTypes.Integer, Required: false),
    ]);

    private static readonly SignatureEnforcer Enforcer = new(Signature);

    private static InputTable Table(object?[] row, bool text = false)
    {
        var table = new InputTable(text);
        foreach (var c in Signature.Inputs)
        {
            if (c.Name != "opt")
            {
                table.AddColumn(c.Name!);
            }
        }

        table.Rows.Add(row);
        return table;
    }

    private static object?[] Good() => [3L, 5_000_000_000L, true, 1L, 2.5, "iris", "2024-05-01T10:00:00Z", new List<object?> { 1L, 2.5 }];

    [Fact]
    public void Safe_values_are_converted_to_the_column_types()
    {
        var row = Enforcer.Apply(Table(Good())).Single();
        Assert.Equal(3, row["n"]);
        Assert.Equal(5_000_000_000L, row["big"]);
        Assert.Equal(true, row["flag"]);
        Assert.Equal(1f, row["x"]);
        Assert.Equal(2.5, row["y"]);
        Assert.Equal("iris", row["name"]);
        Assert.Equal(new DateTime(2024, 5, 1, 10, 0, 0, DateTimeKind.Utc), row["when"]);
        Assert.Equal(new[] { 1f, 2.5f }, row["vec"]);
        Assert.False(row.ContainsKey("opt"));

        // An integral double is an exact integer; CSV text is parsed.
        var values = Good();
        values[0] = 4.0;
        Assert.Equal(4, Enforcer.Apply(Table(values)).Single()["n"]);
        var text = Enforcer.Apply(Table(["7", "8", "True", "1.5", "-2", "a,b", "2024-05-01", "[1, 2]"], text: true)).Single();
        Assert.Equal(7, text["n"]);
        Assert.Equal(8L, text["big"]);
        Assert.Equal(true, text["flag"]);
        Assert.Equal(1.5f, text["x"]);
        Assert.Equal(new[] { 1f, 2f }, text["vec"]);
    }

    [Theory]
    [InlineData(0, 1.5, "column 'n'")]
    [InlineData(0, 3_000_000_000L, "32-bit")]
    [InlineData(0, "3", "column 'n'")]
    [InlineData(0, null, "null")]
    [InlineData(1, 1e30, "column 'big'")]
    [InlineData(2, 1L, "column 'flag'")]
    [InlineData(2, "true", "column 'flag'")]
    [InlineData(3, "abc", "column 'x'")]
    [InlineData(3, 1e39, "float's range")]
    [InlineData(4, true, "column 'y'")]
    [InlineData(5, 12L, "column 'name'")]
    [InlineData(6, "yesterday", "column 'when'")]
    [InlineData(7, 1.0, "column 'vec'")]
    public void Unsafe_values_are_rejected_naming_the_column(int index, object? value, string mention)
    {
        var values = Good();
        values[index] = value;
        var e = Assert.Throws<ScoringException>(() => Enforcer.Apply(Table(values)));
        Assert.Equal(ScoringException.BadRequest, e.ErrorCode);
        Assert.Contains(mention, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_vector_with_a_bad_item_and_text_that_is_not_a_number_are_rejected()
    {
        var values = Good();
        values[7] = new List<object?> { 1L, "two" };
        Assert.Contains("column 'vec'", Assert.Throws<ScoringException>(() => Enforcer.Apply(Table(values))).Message, StringComparison.Ordinal);
        Assert.Contains("column 'n'", Assert.Throws<ScoringException>(() => Enforcer.Apply(Table(["2.5", "8", "true", "1", "1", "a", "2024-05-01", "[1]"], text: true))).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_required_columns_are_all_named_and_extra_ones_listed()
    {
        var table = new InputTable();
        table.AddColumn("n");
        table.AddColumn("colour");
        table.Rows.Add([1L, "red"]);
        var e = Assert.Throws<ScoringException>(() => Enforcer.Apply(table));
        Assert.Contains("['big', 'flag', 'x', 'y', 'name', 'when', 'vec']", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("'opt'", e.Message, StringComparison.Ordinal);
        Assert.Contains("extra inputs: ['colour']", e.Message, StringComparison.Ordinal);
        Assert.Equal(["colour"], Enforcer.ExtraColumns(table));
    }

    [Fact]
    public async Task Csv_input_is_read_in_chunks_with_quotes_and_blank_fields()
    {
        var text = "a,\"b, quoted\",c\r\n1,\"x \"\"y\"\"\",\n\n2,\"multi\nline\",3\n4,z,5";
        using var stream = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(text));
        var csv = new CsvInput(stream);
        var first = await csv.ReadChunkAsync(2);
        Assert.Equal(["a", "b, quoted", "c"], first.Columns);
        Assert.Equal(2, first.Rows.Count);
        Assert.Equal(new object?[] { "1", "x \"y\"", null }, first.Rows[0]);
        Assert.Equal(new object?[] { "2", "multi\nline", "3" }, first.Rows[1]);
        var second = await csv.ReadChunkAsync(2);
        Assert.Equal(new object?[] { "4", "z", "5" }, Assert.Single(second.Rows));
        Assert.Empty((await csv.ReadChunkAsync(2)).Rows);
        Assert.Equal(3, csv.RowsRead);
    }
}
