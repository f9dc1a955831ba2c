namespace Cairn.Core.Search;

/// <summary>
/// Turns the grammar's raw clauses into checked <see cref="Comparison"/>s for one kind of search:
/// which entities and attributes exist, which value types and comparators each accepts. Checks run
/// in MLflow's order (key, then value type, then comparator) so the same bad filter gets the same
/// first complaint.
/// </summary>
internal abstract class SearchLanguage
{
    // The sets as MLflow 2.17.2 prints them in its messages (Python set order, copied from real responses).
    protected const string MetricComparators = "{'>=', '!=', '<=', '=', '>', '<'}";
    protected const string ParamComparators = "{'ILIKE', 'LIKE', '!=', '='}";
    protected const string StringAttributeComparators = "{'LIKE', 'ILIKE', 'IN', '!=', '=', 'NOT IN'}";

    protected static readonly Comparator[] NumericOps =
        [Comparator.Equal, Comparator.NotEqual, Comparator.Less, Comparator.LessOrEqual, Comparator.Greater, Comparator.GreaterOrEqual];

    protected static readonly Comparator[] TextOps = [Comparator.Equal, Comparator.NotEqual, Comparator.Like, Comparator.ILike];

    protected static readonly Comparator[] TextAndListOps = [.. TextOps, Comparator.In, Comparator.NotIn];

    protected static readonly Comparator[] NullOps = [Comparator.IsNull, Comparator.IsNotNull];

    public SearchFilter ParseFilter(string? filter)
    {
        if (string.IsNullOrWhiteSpace(filter))
        {
            return SearchFilter.Empty;
        }

        var clauses = Parser.ParseFilter(filter).Select(Resolve).ToList();
        return new SearchFilter(clauses);
    }

    public IReadOnlyList<OrderByTerm> ParseOrderBy(IReadOnlyList<string>? orderBy)
    {
        if (orderBy is null || orderBy.Count == 0)
        {
            return [];
        }

        var terms = new List<OrderByTerm>(orderBy.Count);
        foreach (var clause in orderBy)
        {
            var (identifier, ascending) = Parser.ParseOrderBy(clause ?? "");
            var key = ResolveKey(identifier, forOrderBy: true);
            CheckOrderable(key, identifier);
            if (RejectsDuplicateOrderKeys && terms.Any(t => t.Key == key))
            {
                var list = string.Join(", ", orderBy.Select(o => $"'{o}'"));
                throw MlflowException.InvalidParameter($"`order_by` contains duplicate fields: [{list}]");
            }

            terms.Add(new OrderByTerm(key, ascending));
        }

        return terms;
    }

    /// <summary>Validates the entity prefix and, for attributes and datasets, the key; folds aliases.</summary>
    protected abstract SearchKey ResolveKey(RawIdentifier identifier, bool forOrderBy);

    protected abstract bool IsNumericAttribute(string name);

    /// <summary>The comparators <paramref name="key"/> accepts, or throws MLflow's message for <paramref name="op"/>.</summary>
    protected abstract Comparator CheckComparator(SearchKey key, string op, int position);

    protected virtual void CheckOrderable(SearchKey key, RawIdentifier identifier)
    {
    }

    protected virtual bool RejectsDuplicateOrderKeys => false;

    /// <summary>Whether <c>run_id</c> takes a list (for IN and NOT IN); where it does not, a list is rejected.</summary>
    protected virtual bool AcceptsRunIdLists => false;

    protected static Comparator? ParseComparator(string op) => op switch
    {
        "=" => Comparator.Equal,
        "!=" => Comparator.NotEqual,
        "<" => Comparator.Less,
        "<=" => Comparator.LessOrEqual,
        ">" => Comparator.Greater,
        ">=" => Comparator.GreaterOrEqual,
        "LIKE" => Comparator.Like,
        "ILIKE" => Comparator.ILike,
        "IN" => Comparator.In,
        "NOT IN" => Comparator.NotIn,
        "IS NULL" => Comparator.IsNull,
        "IS NOT NULL" => Comparator.IsNotNull,
        _ => null,
    };

    /// <summary>The comparator if <paramref name="allowed"/> has it, else MLflow's complaint at the comparator's position.</summary>
    protected static Comparator Require(string op, int position, IEnumerable<Comparator> allowed, string message)
    {
        var c = ParseComparator(op);
        if (c is { } known && allowed.Contains(known))
        {
            return known;
        }

        throw SearchErrors.At(message, position);
    }

    private Comparison Resolve(RawClause clause)
    {
        var key = ResolveKey(clause.Identifier, forOrderBy: false);
        var value = clause.Value is null ? null : CheckValue(key, clause.Identifier.Key, clause.Value);
        var comparator = CheckComparator(key, clause.Comparator, clause.ComparatorStart);

        var isListComparator = comparator is Comparator.In or Comparator.NotIn;
        if (isListComparator && value is not StringListValue)
        {
            throw SearchErrors.At(
                $"Expected a list of quoted string values for {clause.Comparator}, e.g. ('a', 'b'). Got value {clause.Value!.Source}",
                clause.Value.Start);
        }

        if (!isListComparator && value is StringListValue)
        {
            throw SearchErrors.At(
                $"Comparator '{clause.Comparator}' cannot take a list of values. Got value {clause.Value!.Source}",
                clause.ComparatorStart,
                "use IN or NOT IN to compare with a list");
        }

        return new Comparison(key, comparator, value);
    }

    /// <summary>MLflow's value-type rules: numbers for metrics and numeric attributes, quoted strings elsewhere, lists only where IN is allowed.</summary>
    private SearchValue CheckValue(SearchKey key, string userKey, RawValue v)
    {
        switch (key.Entity)
        {
            case SearchEntity.Metric:
                return v.Kind == RawValueKind.Number
                    ? Number(v)
                    : throw SearchErrors.At($"Expected numeric value type for metric. Found {v.Source}", v.Start);

            case SearchEntity.Param:
            case SearchEntity.Tag:
                var noun = key.Entity == SearchEntity.Param ? "parameter" : "tag";
                return v.Kind switch
                {
                    RawValueKind.String => new StringValue(v.Text),
                    RawValueKind.Bare => throw NotQuoted(v),
                    _ => throw SearchErrors.At(
                        $"Expected a quoted string value for {noun} (e.g. 'my-value'). Got value {v.Source}", v.Start),
                };

            case SearchEntity.Attribute when IsNumericAttribute(key.Name):
                return v.Kind == RawValueKind.Number
                    ? Number(v)
                    : throw SearchErrors.At($"Expected numeric value type for numeric attribute: {userKey}. Found {v.Source}", v.Start);

            case SearchEntity.Attribute:
                return v.Kind switch
                {
                    RawValueKind.String => new StringValue(v.Text),
                    RawValueKind.Bare => throw NotQuoted(v),
                    RawValueKind.List when key.Name == SearchAttributes.RunId && AcceptsRunIdLists => new StringListValue(v.Items),
                    RawValueKind.List => throw SearchErrors.At(
                        "Only the 'run_id' attribute supports comparison with a list of quoted string values.", v.Start),
                    _ => throw SearchErrors.At($"Expected a quoted string value for attributes. Got value {v.Source}", v.Start),
                };

            default:
                return v.Kind switch
                {
                    RawValueKind.String => new StringValue(v.Text),
                    RawValueKind.List => new StringListValue(v.Items),
                    RawValueKind.Bare => throw NotQuoted(v),
                    _ => throw SearchErrors.At($"Expected a quoted string value for dataset attributes. Got value {v.Source}", v.Start),
                };
        }
    }

    private static NumberValue Number(RawValue v) => new(Parser.ParseNumber(v.Text), v.Text);

    private static MlflowException NotQuoted(RawValue v) => SearchErrors.At(
        $"Parameter value is either not quoted or unidentified quote types used for string value {v.Source}. Use either single or double quotes.",
        v.Start);

    protected static MlflowException InvalidEntity(string entity, string validValues, int position) =>
        SearchErrors.At($"Invalid entity type '{entity}'. {validValues}", position);

    protected static MlflowException InvalidAttribute(string key, string validKeys, int position) =>
        SearchErrors.At($"Invalid attribute key '{key}' specified. Valid keys are '{validKeys}'", position);
}

/// <summary>Run search: metrics, params, tags, run attributes and dataset inputs.</summary>
internal sealed class RunSearchLanguage : SearchLanguage
{
    public static RunSearchLanguage Instance { get; } = new();

    private const string ValidEntities = "Valid values are ['metric', 'parameter', 'tag', 'attribute', 'dataset']";
    private const string FilterAttributes =
        "{'start_time', 'Created', 'Run name', 'run name', 'created', 'Run Name', 'run_name', 'end_time', 'artifact_uri', 'run_id', 'user_id', 'status'}";
    private const string OrderAttributes =
        "{'start_time', 'Created', 'created', 'run_name', 'end_time', 'artifact_uri', 'run_id', 'user_id', 'status'}";

    protected override bool RejectsDuplicateOrderKeys => true;

    protected override bool AcceptsRunIdLists => true;

    protected override bool IsNumericAttribute(string name) => name is SearchAttributes.StartTime or SearchAttributes.EndTime;

    protected override SearchKey ResolveKey(RawIdentifier identifier, bool forOrderBy)
    {
        var entity = identifier.Entity switch
        {
            null => SearchEntity.Attribute,
            "metric" or "metrics" => SearchEntity.Metric,
            "parameter" or "parameters" or "param" or "params" => SearchEntity.Param,
            "tag" or "tags" => SearchEntity.Tag,
            "attribute" or "attributes" or "attr" or "run" => SearchEntity.Attribute,
            "dataset" or "datasets" => SearchEntity.Dataset,
            _ => throw InvalidEntity(identifier.Entity, ValidEntities, identifier.Start),
        };

        var key = identifier.Key;
        if (entity == SearchEntity.Attribute)
        {
            var canonical = key switch
            {
                SearchAttributes.RunId or SearchAttributes.RunName or SearchAttributes.UserId or SearchAttributes.Status
                    or SearchAttributes.StartTime or SearchAttributes.EndTime or SearchAttributes.ArtifactUri => key,
                "created" or "Created" => SearchAttributes.StartTime,

                // MLflow accepts the UI's column titles in filters but not in order_by.
                "run name" or "Run name" or "Run Name" when !forOrderBy => SearchAttributes.RunName,
                _ => null,
            };
            return canonical is null
                ? throw InvalidAttribute(key, forOrderBy ? OrderAttributes : FilterAttributes, identifier.Start)
                : new SearchKey(entity, canonical);
        }

        if (entity == SearchEntity.Dataset && key is not (SearchAttributes.DatasetName or SearchAttributes.DatasetDigest or SearchAttributes.DatasetContext))
        {
            throw SearchErrors.At($"Invalid dataset key '{key}' specified. Valid keys are '{{'context', 'digest', 'name'}}'", identifier.Start);
        }

        return new SearchKey(entity, key);
    }

    protected override void CheckOrderable(SearchKey key, RawIdentifier identifier)
    {
        if (key.Entity == SearchEntity.Dataset)
        {
            // A run may have many dataset inputs, so there is no one value to sort it by.
            throw SearchErrors.At("Invalid identifier type 'dataset'", identifier.Start, "runs cannot be ordered by dataset fields");
        }
    }

    protected override Comparator CheckComparator(SearchKey key, string op, int position)
    {
        var bad = $"Invalid comparator '{op}' not one of ";
        return key.Entity switch
        {
            // MLflow's metric and tag messages lack the closing quote; kept so its text is an exact prefix.
            SearchEntity.Metric => Require(op, position, [.. NumericOps, .. NullOps], bad + $"'{MetricComparators}"),
            SearchEntity.Param => Require(op, position, [.. TextOps, .. NullOps], bad + $"'{ParamComparators}'"),
            SearchEntity.Tag => Require(op, position, [.. TextOps, .. NullOps], bad + $"'{ParamComparators}"),
            SearchEntity.Attribute when key.Name == SearchAttributes.EndTime =>
                Require(op, position, [.. NumericOps, .. NullOps], bad + $"'{MetricComparators}'"),
            SearchEntity.Attribute when IsNumericAttribute(key.Name) => Require(op, position, NumericOps, bad + $"'{MetricComparators}'"),
            SearchEntity.Attribute => Require(op, position, TextAndListOps, bad + $"'{StringAttributeComparators}'"),
            _ => Require(op, position, TextAndListOps, bad + $"'{StringAttributeComparators}"),
        };
    }
}

/// <summary>Experiment search: the name and time attributes, and experiment tags.</summary>
internal sealed class ExperimentSearchLanguage : SearchLanguage
{
    public static ExperimentSearchLanguage Instance { get; } = new();

    private const string FilterAttributes = "{'creation_time', 'name', 'last_update_time'}";
    private const string OrderAttributes = "{'creation_time', 'name', 'last_update_time', 'experiment_id'}";

    protected override bool IsNumericAttribute(string name) => name is SearchAttributes.CreationTime or SearchAttributes.LastUpdateTime;

    protected override SearchKey ResolveKey(RawIdentifier identifier, bool forOrderBy)
    {
        var entity = identifier.Entity switch
        {
            null or "attribute" or "attributes" or "attr" => SearchEntity.Attribute,
            "tag" or "tags" => SearchEntity.Tag,
            _ => throw InvalidEntity(identifier.Entity, "Valid entity types are ('attribute', 'tag', 'tags')", identifier.Start),
        };

        if (entity == SearchEntity.Attribute)
        {
            var valid = identifier.Key is SearchAttributes.Name or SearchAttributes.CreationTime or SearchAttributes.LastUpdateTime
                || (forOrderBy && identifier.Key == SearchAttributes.ExperimentId);
            if (!valid)
            {
                throw InvalidAttribute(identifier.Key, forOrderBy ? OrderAttributes : FilterAttributes, identifier.Start);
            }
        }

        return new SearchKey(entity, identifier.Key);
    }

    protected override void CheckOrderable(SearchKey key, RawIdentifier identifier)
    {
        if (key.Entity != SearchEntity.Attribute)
        {
            throw SearchErrors.At("Invalid order_by entity: tag", identifier.Start, "experiments can be ordered by attributes only");
        }
    }

    protected override Comparator CheckComparator(SearchKey key, string op, int position)
    {
        if (key.Entity == SearchEntity.Tag)
        {
            return Require(op, position, [.. TextOps, .. NullOps], $"Invalid comparator for tag: {op}");
        }

        if (IsNumericAttribute(key.Name))
        {
            return Require(op, position, NumericOps, $"Invalid comparator for numeric attribute: {op}");
        }

        // MLflow first checks the generic string-attribute set, then narrows it to what experiments support.
        if (ParseComparator(op) is not { } c || !TextAndListOps.Contains(c))
        {
            throw SearchErrors.At($"Invalid comparator '{op}' not one of '{StringAttributeComparators}'", position);
        }

        return Require(op, position, TextOps, $"Invalid comparator for string attribute: {op}");
    }
}

/// <summary>Parses MLflow run-search filters and <c>order_by</c> clauses into syntax trees.</summary>
public static class RunSearchSyntax
{
    /// <summary>Null or blank means no filter. Throws <see cref="MlflowException"/> (INVALID_PARAMETER_VALUE) as MLflow does.</summary>
    public static SearchFilter ParseFilter(string? filter) => RunSearchLanguage.Instance.ParseFilter(filter);

    /// <summary>Empty when nothing is given; the caller applies the default order.</summary>
    public static IReadOnlyList<OrderByTerm> ParseOrderBy(IReadOnlyList<string>? orderBy) => RunSearchLanguage.Instance.ParseOrderBy(orderBy);
}

/// <summary>Parses MLflow experiment-search filters and <c>order_by</c> clauses into syntax trees.</summary>
public static class ExperimentSearchSyntax
{
    /// <summary>Null or blank means no filter. Throws <see cref="MlflowException"/> (INVALID_PARAMETER_VALUE) as MLflow does.</summary>
    public static SearchFilter ParseFilter(string? filter) => ExperimentSearchLanguage.Instance.ParseFilter(filter);

    /// <summary>Empty when nothing is given; the caller applies the default order.</summary>
    public static IReadOnlyList<OrderByTerm> ParseOrderBy(IReadOnlyList<string>? orderBy) => ExperimentSearchLanguage.Instance.ParseOrderBy(orderBy);
}
