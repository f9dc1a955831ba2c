using System.Data.Common;

namespace Cairn.Storage.Sql;

/// <summary>Small helpers for binding parameters; <c>@p0</c>, <c>@p1</c>… bind to positional arguments.</summary>
internal static class SqlCommands
{
    private static readonly string[] Names = Enumerable.Range(0, 64).Select(i => "@p" + i).ToArray();

    public static void AddPositional(DbCommand cmd, object?[] args)
    {
        for (var i = 0; i < args.Length; i++)
        {
            Add(cmd, i < Names.Length ? Names[i] : "@p" + i, args[i]);
        }
    }

    public static void Add(DbCommand cmd, string name, object? value)
    {
        var p = cmd.CreateParameter();
        p.ParameterName = name;
        p.Value = value ?? DBNull.Value;
        cmd.Parameters.Add(p);
    }

    public static void AddAll(DbCommand cmd, IEnumerable<KeyValuePair<string, object?>> parameters)
    {
        foreach (var (name, value) in parameters)
        {
            Add(cmd, name, value);
        }
    }
}
