using System.Text;
using Cairn.Core;
using Cairn.Core.Search;

namespace Cairn.Storage.Sql;

/// <summary>
/// Translates a run search (experiments, view type, filter, order_by, page) into one SQL query that
/// selects the matching <c>run_uuid</c>s in result order. Every metric, param, tag and dataset
/// condition is a correlated <c>EXISTS</c> probing a (run_uuid, key) primary key, and every sort key
/// is a <c>LEFT JOIN</c> on that same key, so the database filters and sorts with indexes and no
/// run is ever loaded to be filtered in memory.
/// </summary>
public static class RunSearchSql
{
    /// <summary>
    /// Validates <paramref name="filter"/> and <paramref name="orderBy"/> (throwing
    /// <see cref="MlflowException"/> with MLflow's messages) and builds the queries.
    /// </summary>
    public static RunSearchPlan Build(
        SqlDialect dialect,
        IReadOnlyList<string> experimentIds,
        ViewType viewType,
        string? filter,
        IReadOnlyList<string>? orderBy,
        int offset,
        int limit) =>
        Build(dialect, experimentIds, viewType, RunSearchSyntax.ParseFilter(filter), RunSearchSyntax.ParseOrderBy(orderBy), offset, limit);

    /// <summary>
    /// Builds the queries from an already parsed filter and order. When the first sort key is a
    /// metric, param or tag, the runs holding a value of it (a finite one for metrics) come first in
    /// either direction, so a query that walks that table's <c>(experiment_id, key, …, value)</c>
    /// index in sort order and stops after one page answers every page that lies among them; only a
    /// page reaching the runs with NaN or no value needs the general query, which visits every run of
    /// the experiments.
    /// </summary>
    public static RunSearchPlan Build(
        SqlDialect dialect,
        IReadOnlyList<string> experimentIds,
        ViewType viewType,
        SearchFilter filter,
        IReadOnlyList<OrderByTerm> orderBy,
        int offset,
        int limit)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        if (orderBy.Count == 0 || orderBy[0].Key.Entity is not (SearchEntity.Metric or SearchEntity.Param or SearchEntity.Tag))
        {
            return new RunSearchPlan(Query(dialect, experimentIds, viewType, filter, orderBy, offset, limit, walkLeadKey: false), null);
        }

        // A filter that needs the sorted key's value already excludes runs lacking it (and, for a
        // metric compared with =, <, <=, >, >=, NaN too): then the walk answers every page.
        var lead = orderBy[0].Key;
        var bounded = filter.Clauses.Any(c => c.Key == lead && (lead.Entity == SearchEntity.Metric
            ? c.Comparator is Comparator.Equal or Comparator.Less or Comparator.LessOrEqual or Comparator.Greater or Comparator.GreaterOrEqual
            : c.Comparator != Comparator.IsNull));
        var walk = Query(dialect, experimentIds, viewType, filter, orderBy, offset, limit, walkLeadKey: true);
        return new RunSearchPlan(walk, bounded ? null : Query(dialect, experimentIds, viewType, filter, orderBy, offset, limit, walkLeadKey: false));
    }

    /// <param name="walkLeadKey">
    /// The first sort key's table drives the query and only runs holding a value (finite, for a
    /// metric) are selected; otherwise every sort key is a LEFT JOIN and runs lacking it are ranked last.
    /// </param>
    private static SqlQuery Query(
        SqlDialect dialect,
        IReadOnlyList<string> experimentIds,
        ViewType viewType,
        SearchFilter filter,
        IReadOnlyList<OrderByTerm> orderBy,
        int offset,
        int limit,
        bool walkLeadKey)
    {
        var w = new SearchSqlWriter(dialect);
        var joins = new StringBuilder();
        var order = new List<string>();
        var where = new List<string>();
        var from = "runs r";
        var experiments = ExperimentIds(experimentIds);
        if (walkLeadKey)
        {
            var lead = orderBy[0];
            var table = KeyValueTable(lead.Key.Entity);
            var direction = lead.Ascending ? "" : " DESC";

            // SQLite takes CROSS JOIN as "this table first"; PostgreSQL plans the join from statistics.
            from = dialect == SqlDialect.Sqlite ? $"{table} o0 CROSS JOIN runs r" : $"{table} o0 JOIN runs r ON r.run_uuid = o0.run_uuid";
            where.Add(ExperimentCondition(w, "o0", experiments));
            where.Add($"o0.key = {w.Add(lead.Key.Name)}");
            if (dialect == SqlDialect.Sqlite)
            {
                where.Add("r.run_uuid = o0.run_uuid");
            }

            if (lead.Key.Entity == SearchEntity.Metric)
            {
                where.Add("o0.is_nan = 0");
                order.Add("o0.value" + direction);
            }
            else
            {
                // PostgreSQL's index holds a prefix of the value (Schema.IndexedValuePrefix); ordering by
                // it first lets the walk follow the index, and the whole value then orders ties.
                if (dialect == SqlDialect.Postgres)
                {
                    order.Add(w.Collated($"left(o0.value, {Schema.IndexedValuePrefix})") + direction);
                }

                order.Add(w.Collated("o0.value") + direction);
            }
        }

        // Joins come first in the text, so their parameters are numbered first; numbering follows the text for readability only.
        for (var i = walkLeadKey ? 1 : 0; i < orderBy.Count; i++)
        {
            AddOrderTerm(w, orderBy[i], $"o{i}", joins, order);
        }

        if (!orderBy.Any(t => t.Key is { Entity: SearchEntity.Attribute, Name: SearchAttributes.StartTime }))
        {
            order.Add("r.start_time DESC");
        }

        if (!orderBy.Any(t => t.Key is { Entity: SearchEntity.Attribute, Name: SearchAttributes.RunId }))
        {
            order.Add("r.run_uuid");
        }

        where.Add(ExperimentCondition(w, "r", experiments));
        var stage = SearchSqlWriter.LifecycleStage(viewType);
        if (stage is not null)
        {
            where.Add($"r.lifecycle_stage = {w.Add(stage)}");
        }

        for (var i = 0; i < filter.Clauses.Count; i++)
        {
            var c = filter.Clauses[i];
            where.Add(walkLeadKey && c.Key == orderBy[0].Key && c.Key.Entity == SearchEntity.Metric && c.Comparator is not (Comparator.IsNull or Comparator.IsNotNull)
                ? ValueCondition(w, SearchEntity.Metric, "o0", c)
                : Condition(w, c, $"f{i}"));
        }

        var sql = new StringBuilder("SELECT r.run_uuid FROM ").Append(from);
        sql.Append(joins);
        sql.Append(" WHERE ").AppendJoin(" AND ", where);
        sql.Append(" ORDER BY ").AppendJoin(", ", order);
        sql.Append(" LIMIT ").Append(w.Add(limit)).Append(" OFFSET ").Append(w.Add(offset));
        return new SqlQuery(sql.ToString(), w.Parameters);
    }

    /// <summary>Experiment ids are numbers in the schema; an id that is not one names no experiment, as in MLflow.</summary>
    private static List<long> ExperimentIds(IReadOnlyList<string> experimentIds)
    {
        var ids = new List<long>();
        foreach (var id in experimentIds)
        {
            if (long.TryParse(id, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) && !ids.Contains(n))
            {
                ids.Add(n);
            }
        }

        return ids;
    }

    private static string ExperimentCondition(SearchSqlWriter w, string alias, List<long> ids) => ids.Count switch
    {
        0 => "1 = 0",
        1 => $"{alias}.experiment_id = {w.Add(ids[0])}",
        _ => $"{alias}.experiment_id IN ({string.Join(", ", ids.Select(id => w.Add(id)))})",
    };

    private static string Condition(SearchSqlWriter w, Comparison c, string alias)
    {
        var key = c.Key;
        switch (key.Entity)
        {
            case SearchEntity.Attribute:
                var column = AttributeColumn(key.Name);
                return c.Comparator switch
                {
                    Comparator.IsNull => $"{column} IS NULL",
                    Comparator.IsNotNull => $"{column} IS NOT NULL",
                    _ => w.Compare(column, c.Comparator, c.Value!, numericAsDouble: false),
                };

            case SearchEntity.Metric:
            case SearchEntity.Param:
            case SearchEntity.Tag:
                var table = KeyValueTable(key.Entity);
                var probe = $"SELECT 1 FROM {table} {alias} WHERE {alias}.run_uuid = r.run_uuid AND {alias}.key = {w.Add(key.Name)}";
                return c.Comparator switch
                {
                    Comparator.IsNull => $"NOT EXISTS ({probe})",
                    Comparator.IsNotNull => $"EXISTS ({probe})",
                    _ => $"EXISTS ({probe} AND {ValueCondition(w, key.Entity, alias, c)})",
                };

            default:
                return DatasetCondition(w, c, alias);
        }
    }

    /// <summary>
    /// A NaN metric is stored as value 0 with is_nan = 1. Unlike MLflow (which compares the 0), NaN
    /// here compares as IEEE says: unequal to everything and neither less nor greater.
    /// </summary>
    private static string ValueCondition(SearchSqlWriter w, SearchEntity entity, string alias, Comparison c)
    {
        var compare = w.Compare($"{alias}.value", c.Comparator, c.Value!, numericAsDouble: true);
        if (entity != SearchEntity.Metric)
        {
            return compare;
        }

        return c.Comparator == Comparator.NotEqual ? $"({alias}.is_nan = 1 OR {compare})" : $"{alias}.is_nan = 0 AND {compare}";
    }

    /// <summary>A run matches when any of its dataset inputs does (MLflow joins the same way).</summary>
    private static string DatasetCondition(SearchSqlWriter w, Comparison c, string alias)
    {
        if (c.Key.Name == SearchAttributes.DatasetContext)
        {
            var contextKey = w.Add(MlflowTags.DatasetContext);
            var compare = w.Compare($"{alias}t.value", c.Comparator, c.Value!, numericAsDouble: false);
            return $"EXISTS (SELECT 1 FROM inputs {alias} JOIN input_tags {alias}t ON {alias}t.input_uuid = {alias}.input_uuid"
                + $" WHERE {alias}.run_uuid = r.run_uuid AND {alias}t.name = {contextKey} AND {compare})";
        }

        var column = c.Key.Name == SearchAttributes.DatasetName ? "name" : "digest";
        var datasetCompare = w.Compare($"{alias}d.{column}", c.Comparator, c.Value!, numericAsDouble: false);
        return $"EXISTS (SELECT 1 FROM inputs {alias} JOIN datasets {alias}d ON {alias}d.dataset_uuid = {alias}.dataset_uuid"
            + $" WHERE {alias}.run_uuid = r.run_uuid AND {datasetCompare})";
    }

    /// <summary>
    /// Runs lacking the sort key come last in both directions (and NaN metrics just before them),
    /// as in MLflow: a leading CASE ranks them, since SQLite has no NULLS LAST.
    /// </summary>
    private static void AddOrderTerm(SearchSqlWriter w, OrderByTerm term, string alias, StringBuilder joins, List<string> order)
    {
        var direction = term.Ascending ? "" : " DESC";
        var key = term.Key;
        if (key.Entity == SearchEntity.Attribute)
        {
            var column = AttributeColumn(key.Name);
            if (key.Name == SearchAttributes.EndTime)
            {
                order.Add($"CASE WHEN {column} IS NULL THEN 1 ELSE 0 END");
            }

            order.Add(IsTextAttribute(key.Name) ? w.Collated(column) + direction : column + direction);
            return;
        }

        var table = KeyValueTable(key.Entity);
        joins.Append($" LEFT JOIN {table} {alias} ON {alias}.run_uuid = r.run_uuid AND {alias}.key = {w.Add(key.Name)}");
        if (key.Entity == SearchEntity.Metric)
        {
            order.Add($"CASE WHEN {alias}.run_uuid IS NULL THEN 2 WHEN {alias}.is_nan = 1 THEN 1 ELSE 0 END");
            order.Add($"{alias}.value{direction}");
        }
        else
        {
            order.Add($"CASE WHEN {alias}.run_uuid IS NULL THEN 1 ELSE 0 END");
            order.Add(w.Collated($"{alias}.value") + direction);
        }
    }

    private static string KeyValueTable(SearchEntity entity) => entity switch
    {
        SearchEntity.Metric => "latest_metrics",
        SearchEntity.Param => "params",
        SearchEntity.Tag => "tags",
        _ => throw new ArgumentOutOfRangeException(nameof(entity)),
    };

    private static string AttributeColumn(string name) => name switch
    {
        SearchAttributes.RunId => "r.run_uuid",
        SearchAttributes.RunName => "r.name",
        SearchAttributes.UserId => "r.user_id",
        SearchAttributes.Status => "r.status",
        SearchAttributes.StartTime => "r.start_time",
        SearchAttributes.EndTime => "r.end_time",
        SearchAttributes.ArtifactUri => "r.artifact_uri",
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "not a run attribute"),
    };

    private static bool IsTextAttribute(string name) => name is not (SearchAttributes.StartTime or SearchAttributes.EndTime);
}

/// <summary>
/// The queries of one search page. <see cref="Query"/> answers the page when it returns a full page
/// (or when there is no <see cref="Fallback"/>); otherwise <see cref="Fallback"/>, with the same
/// offset and limit, does.
/// </summary>
public sealed record RunSearchPlan(SqlQuery Query, SqlQuery? Fallback);

/// <summary>
/// Collects parameters and spells comparisons for one search query; the one place that knows how
/// the dialects differ for search (case-insensitive matching, LIKE escapes, text ordering).
/// </summary>
internal sealed class SearchSqlWriter(SqlDialect dialect)
{
    private readonly List<KeyValuePair<string, object?>> _parameters = [];

    public IReadOnlyList<KeyValuePair<string, object?>> Parameters => _parameters;

    public string Add(object? value)
    {
        var name = "@p" + _parameters.Count.ToString(System.Globalization.CultureInfo.InvariantCulture);
        _parameters.Add(new(name, value));
        return name;
    }

    public static string? LifecycleStage(ViewType viewType) => viewType switch
    {
        ViewType.DeletedOnly => Cairn.Core.LifecycleStage.Deleted,
        ViewType.All => null,
        _ => Cairn.Core.LifecycleStage.Active,
    };

    /// <summary>
    /// Text sorts by code point on both databases (PostgreSQL's locale collations ignore
    /// punctuation and case, which would reorder names compared with MLflow on SQLite).
    /// </summary>
    public string Collated(string column) => dialect == SqlDialect.Postgres ? column + " COLLATE \"C\"" : column;

    /// <summary>
    /// <paramref name="numericAsDouble"/> is for DOUBLE columns (metric values); timestamps keep
    /// integer literals as integers so large millisecond values compare exactly.
    /// </summary>
    public string Compare(string column, Comparator comparator, SearchValue value, bool numericAsDouble)
    {
        if (comparator is Comparator.In or Comparator.NotIn)
        {
            var items = ((StringListValue)value).Values.Select(v => Add(v));
            var not = comparator == Comparator.NotIn ? "NOT " : "";
            return $"{column} {not}IN ({string.Join(", ", items)})";
        }

        var p = Add(ParameterValue(value, numericAsDouble));
        return comparator switch
        {
            Comparator.Equal => $"{column} = {p}",
            Comparator.NotEqual => $"{column} <> {p}",
            Comparator.Less => $"{column} < {p}",
            Comparator.LessOrEqual => $"{column} <= {p}",
            Comparator.Greater => $"{column} > {p}",
            Comparator.GreaterOrEqual => $"{column} >= {p}",

            // SQLite's LIKE is case-sensitive only on connections with PRAGMA case_sensitive_like=ON
            // (the store opens them so). PostgreSQL would treat '\' as an escape; MLflow patterns
            // have no escape character, so it is switched off to match SQLite.
            Comparator.Like => dialect == SqlDialect.Postgres ? $"{column} LIKE {p} ESCAPE ''" : $"{column} LIKE {p}",
            Comparator.ILike => dialect == SqlDialect.Postgres ? $"{column} ILIKE {p} ESCAPE ''" : $"LOWER({column}) LIKE LOWER({p})",
            _ => throw new ArgumentOutOfRangeException(nameof(comparator), comparator, "not a value comparison"),
        };
    }

    private static object ParameterValue(SearchValue value, bool numericAsDouble) => value switch
    {
        StringValue s => s.Value,

        // ±infinity is stored clamped to ±double.MaxValue, so a literal too large for a double compares against that.
        NumberValue n when numericAsDouble => Math.Clamp(n.Value, -Validation.ClampedInfinity, Validation.ClampedInfinity),
        NumberValue n => n.AsInt64 is { } l ? l : Math.Clamp(n.Value, -Validation.ClampedInfinity, Validation.ClampedInfinity),
        _ => throw new ArgumentOutOfRangeException(nameof(value), value, "not a scalar value"),
    };
}
