namespace Cairn.Storage.Sql;

/// <summary>The SQL databases Cairn stores tracking data in; the few differences between them live behind this.</summary>
public enum SqlDialect
{
    Sqlite,
    Postgres,
}

/// <summary>A SQL statement with its named parameters (<c>@p0</c>, <c>@p1</c>, …), valid on both dialects.</summary>
public sealed record SqlQuery(string Sql, IReadOnlyList<KeyValuePair<string, object?>> Parameters);
