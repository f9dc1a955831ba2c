using System.Text;
using Cairn.Core;
using Cairn.Core.Search;

namespace Cairn.Storage.Sql;

/// <summary>
/// Translates an experiment search into one SQL query selecting the matching
/// <c>experiment_id</c>s in result order, with tag conditions as <c>EXISTS</c> probes of
/// experiment_tags' (experiment_id, key) primary key.
/// </summary>
public static class ExperimentSearchSql
{
    /// <summary>
    /// Validates <paramref name="filter"/> and <paramref name="orderBy"/> (throwing
    /// <see cref="MlflowException"/> with MLflow's messages) and builds the query.
    /// </summary>
    public static SqlQuery Build(SqlDialect dialect, ViewType viewType, string? filter, IReadOnlyList<string>? orderBy, int offset, int limit) =>
        Build(dialect, viewType, ExperimentSearchSyntax.ParseFilter(filter), ExperimentSearchSyntax.ParseOrderBy(orderBy), offset, limit);

    /// <summary>Builds the query from an already parsed filter and order.</summary>
    public static SqlQuery Build(SqlDialect dialect, ViewType viewType, SearchFilter filter, IReadOnlyList<OrderByTerm> orderBy, int offset, int limit)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegative(limit);

        var w = new SearchSqlWriter(dialect);
        var where = new List<string>();
        var stage = SearchSqlWriter.LifecycleStage(viewType);
        if (stage is not null)
        {
            where.Add($"e.lifecycle_stage = {w.Add(stage)}");
        }

        for (var i = 0; i < filter.Clauses.Count; i++)
        {
            where.Add(Condition(w, filter.Clauses[i], $"t{i}"));
        }

        var sql = new StringBuilder("SELECT e.experiment_id FROM experiments e");
        if (where.Count > 0)
        {
            sql.Append(" WHERE ").AppendJoin(" AND ", where);
        }

        sql.Append(" ORDER BY ").AppendJoin(", ", Order(w, orderBy));
        sql.Append(" LIMIT ").Append(w.Add(limit)).Append(" OFFSET ").Append(w.Add(offset));
        return new SqlQuery(sql.ToString(), w.Parameters);
    }

    private static string Condition(SearchSqlWriter w, Comparison c, string alias)
    {
        if (c.Key.Entity == SearchEntity.Attribute)
        {
            return w.Compare(Column(c.Key.Name), c.Comparator, c.Value!, numericAsDouble: false);
        }

        var probe = $"SELECT 1 FROM experiment_tags {alias} WHERE {alias}.experiment_id = e.experiment_id AND {alias}.key = {w.Add(c.Key.Name)}";
        return c.Comparator switch
        {
            Comparator.IsNull => $"NOT EXISTS ({probe})",
            Comparator.IsNotNull => $"EXISTS ({probe})",
            _ => $"EXISTS ({probe} AND {w.Compare($"{alias}.value", c.Comparator, c.Value!, numericAsDouble: false)})",
        };
    }

    /// <summary>
    /// The default is newest first. Experiments created within the same millisecond tie on
    /// creation_time; ids grow with creation, so ties break by descending id and "newest first"
    /// holds whatever the clock's resolution (MLflow breaks them by ascending id, which puts the
    /// older of two same-millisecond experiments first). With an order_by lacking experiment_id,
    /// ties also break by descending id, as in MLflow.
    /// </summary>
    private static List<string> Order(SearchSqlWriter w, IReadOnlyList<OrderByTerm> orderBy)
    {
        if (orderBy.Count == 0)
        {
            return ["e.creation_time DESC", "e.experiment_id DESC"];
        }

        var order = orderBy
            .Select(t => (t.Key.Name == SearchAttributes.Name ? w.Collated(Column(t.Key.Name)) : Column(t.Key.Name)) + (t.Ascending ? "" : " DESC"))
            .ToList();
        if (!orderBy.Any(t => t.Key.Name == SearchAttributes.ExperimentId))
        {
            order.Add("e.experiment_id DESC");
        }

        return order;
    }

    private static string Column(string attribute) => attribute switch
    {
        SearchAttributes.Name => "e.name",
        SearchAttributes.CreationTime => "e.creation_time",
        SearchAttributes.LastUpdateTime => "e.last_update_time",
        SearchAttributes.ExperimentId => "e.experiment_id",
        _ => throw new ArgumentOutOfRangeException(nameof(attribute), attribute, "not an experiment attribute"),
    };
}
