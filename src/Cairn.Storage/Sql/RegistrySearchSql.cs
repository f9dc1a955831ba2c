using System.Text;
using Cairn.Core.Search;

namespace Cairn.Storage.Sql;

/// <summary>
/// Translates registered-model and model-version searches into one SQL query each: tag conditions
/// are <c>EXISTS</c> probes of the tag tables' primary keys, text sorts by code point on both
/// databases, and the page is cut with LIMIT/OFFSET in the database.
/// </summary>
public static class RegistrySearchSql
{
    /// <summary>The columns <see cref="ModelVersions"/> selects, in order; the store reads them by position.</summary>
    public const string ModelVersionColumns =
        "m.name, v.model_id, v.version, v.creation_time, v.last_updated_time, v.current_stage, v.description, v.source, v.run_id, v.run_link, v.status";

    /// <summary>Selects the <c>model_id</c>s of matching registered models in result order.</summary>
    public static SqlQuery RegisteredModels(SqlDialect dialect, SearchFilter filter, IReadOnlyList<OrderByTerm> orderBy, int offset, int limit)
    {
        var w = new SearchSqlWriter(dialect);
        var where = new List<string>();
        for (var i = 0; i < filter.Clauses.Count; i++)
        {
            var c = filter.Clauses[i];
            where.Add(c.Key.Entity == SearchEntity.Tag
                ? TagCondition(w, c, "registered_model_tags", $"t{i}", $"t{i}.model_id = m.model_id")
                : w.Compare("m.name", c.Comparator, c.Value!, numericAsDouble: false));
        }

        // MLflow's default and final order is by name; the name is unique, so the order is total.
        var order = orderBy.Select(t => (t.Key.Name == RegistrySearchAttributes.Name ? w.Collated("m.name") : "m.last_updated_time") + (t.Ascending ? "" : " DESC")).ToList();
        if (!orderBy.Any(t => t.Key.Name == RegistrySearchAttributes.Name))
        {
            order.Add(w.Collated("m.name"));
        }

        return Finish(w, new StringBuilder("SELECT m.model_id FROM registered_models m"), where, order, offset, limit);
    }

    /// <summary>Selects <see cref="ModelVersionColumns"/> of matching versions in result order.</summary>
    public static SqlQuery ModelVersions(SqlDialect dialect, SearchFilter filter, IReadOnlyList<OrderByTerm> orderBy, int offset, int limit)
    {
        var w = new SearchSqlWriter(dialect);
        var where = new List<string>();
        for (var i = 0; i < filter.Clauses.Count; i++)
        {
            var c = filter.Clauses[i];
            where.Add(c.Key.Entity == SearchEntity.Tag
                ? TagCondition(w, c, "model_version_tags", $"t{i}", $"t{i}.model_id = v.model_id AND t{i}.version = v.version")
                : w.Compare(VersionColumn(c.Key.Name), c.Comparator, c.Value!, numericAsDouble: false));
        }

        // MLflow's default is last updated first; ties fall to name, then the newest version.
        var order = new List<string>();
        if (orderBy.Count == 0)
        {
            order.Add("v.last_updated_time DESC");
        }

        foreach (var t in orderBy)
        {
            var column = t.Key.Name == RegistrySearchAttributes.Name ? w.Collated("m.name") : VersionColumn(t.Key.Name);
            order.Add(column + (t.Ascending ? "" : " DESC"));
        }

        if (!orderBy.Any(t => t.Key.Name == RegistrySearchAttributes.Name))
        {
            order.Add(w.Collated("m.name"));
        }

        if (!orderBy.Any(t => t.Key.Name == RegistrySearchAttributes.VersionNumber))
        {
            order.Add("v.version DESC");
        }

        var sql = new StringBuilder($"SELECT {ModelVersionColumns} FROM model_versions v JOIN registered_models m ON m.model_id = v.model_id");
        return Finish(w, sql, where, order, offset, limit);
    }

    private static string VersionColumn(string attribute) => attribute switch
    {
        RegistrySearchAttributes.Name => "m.name",
        RegistrySearchAttributes.RunId => "v.run_id",
        RegistrySearchAttributes.SourcePath => "v.source",
        RegistrySearchAttributes.VersionNumber => "v.version",
        RegistrySearchAttributes.CreationTimestamp => "v.creation_time",
        RegistrySearchAttributes.LastUpdatedTimestamp => "v.last_updated_time",
        _ => throw new ArgumentOutOfRangeException(nameof(attribute), attribute, "not a model version attribute"),
    };

    private static string TagCondition(SearchSqlWriter w, Comparison c, string table, string alias, string correlation)
    {
        var probe = $"SELECT 1 FROM {table} {alias} WHERE {correlation} AND {alias}.key = {w.Add(c.Key.Name)}";
        return c.Comparator switch
        {
            Comparator.IsNull => $"NOT EXISTS ({probe})",
            Comparator.IsNotNull => $"EXISTS ({probe})",
            _ => $"EXISTS ({probe} AND {w.Compare($"{alias}.value", c.Comparator, c.Value!, numericAsDouble: false)})",
        };
    }

    private static SqlQuery Finish(SearchSqlWriter w, StringBuilder sql, List<string> where, List<string> order, int offset, int limit)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        if (where.Count > 0)
        {
            sql.Append(" WHERE ").AppendJoin(" AND ", where);
        }

        sql.Append(" ORDER BY ").AppendJoin(", ", order);
        sql.Append(" LIMIT ").Append(w.Add(limit)).Append(" OFFSET ").Append(w.Add(offset));
        return new SqlQuery(sql.ToString(), w.Parameters);
    }
}
