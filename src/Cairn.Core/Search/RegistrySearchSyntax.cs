namespace Cairn.Core.Search;

/// <summary>Canonical attribute names of registered models and model versions as they appear in <see cref="SearchKey.Name"/>.</summary>
public static class RegistrySearchAttributes
{
    public const string Name = "name";
    public const string RunId = "run_id";
    public const string SourcePath = "source_path";
    public const string VersionNumber = "version_number";
    public const string CreationTimestamp = "creation_timestamp";

    /// <summary>Registered models' <c>timestamp</c> order key folds into this one, as on MLflow's SQL store.</summary>
    public const string LastUpdatedTimestamp = "last_updated_timestamp";
}

/// <summary>Registered-model search: the <c>name</c> attribute and model tags; ordering by name or last update.</summary>
internal sealed class RegisteredModelSearchLanguage : SearchLanguage
{
    public static RegisteredModelSearchLanguage Instance { get; } = new();

    // MLflow rejects a repeated order key ('timestamp' and 'last_updated_timestamp' are one column)
    // with a 500; Cairn answers 400 with the same message (see docs/COMPATIBILITY.md).
    protected override bool RejectsDuplicateOrderKeys => true;

    protected override bool IsNumericAttribute(string name) => false;

    protected override SearchKey ResolveKey(RawIdentifier identifier, bool forOrderBy)
    {
        var entity = identifier.Entity switch
        {
            null or "attribute" or "attributes" or "attr" => SearchEntity.Attribute,
            "tag" or "tags" when !forOrderBy => SearchEntity.Tag,
            _ when forOrderBy => throw InvalidOrderKey(identifier),
            _ => throw InvalidEntity(identifier.Entity, "Valid entity types are ('attribute', 'tag', 'tags')", identifier.Start),
        };

        if (entity == SearchEntity.Tag)
        {
            return new SearchKey(entity, identifier.Key);
        }

        if (!forOrderBy)
        {
            return identifier.Key == RegistrySearchAttributes.Name
                ? new SearchKey(entity, identifier.Key)
                : throw InvalidAttribute(identifier.Key, "{'name'}", identifier.Start);
        }

        return identifier.Key switch
        {
            RegistrySearchAttributes.Name => new SearchKey(entity, RegistrySearchAttributes.Name),
            "timestamp" or RegistrySearchAttributes.LastUpdatedTimestamp => new SearchKey(entity, RegistrySearchAttributes.LastUpdatedTimestamp),
            _ => throw InvalidOrderKey(identifier),
        };
    }

    private static MlflowException InvalidOrderKey(RawIdentifier identifier) =>
        SearchErrors.At($"Invalid order by key '{identifier.Key}' specified. Valid keys are '{{'name', 'timestamp'}}'", identifier.Start);

    protected override Comparator CheckComparator(SearchKey key, string op, int position) => key.Entity == SearchEntity.Tag
        ? Require(op, position, [.. TextOps, .. NullOps], $"Invalid comparator for tag: {op}")
        : Require(op, position, TextOps, $"Invalid comparator for attribute: {op}");
}

/// <summary>Model-version search: name, run_id, source_path, version_number and version tags.</summary>
internal sealed class ModelVersionSearchLanguage : SearchLanguage
{
    public static ModelVersionSearchLanguage Instance { get; } = new();

    private const string FilterAttributes = "{'run_id', 'name', 'source_path', 'version_number'}";
    private const string OrderAttributes = "{'last_updated_timestamp', 'name', 'creation_timestamp', 'version_number'}";

    protected override bool AcceptsRunIdLists => true;

    protected override bool IsNumericAttribute(string name) => name is RegistrySearchAttributes.VersionNumber
        or RegistrySearchAttributes.CreationTimestamp or RegistrySearchAttributes.LastUpdatedTimestamp;

    protected override SearchKey ResolveKey(RawIdentifier identifier, bool forOrderBy)
    {
        var entity = identifier.Entity switch
        {
            null or "attribute" or "attributes" or "attr" => SearchEntity.Attribute,
            "tag" or "tags" when !forOrderBy => SearchEntity.Tag,
            _ when forOrderBy => throw InvalidAttribute(identifier.Key, OrderAttributes, identifier.Start),
            _ => throw InvalidEntity(identifier.Entity, "Valid entity types are ('attribute', 'tag', 'tags')", identifier.Start),
        };

        if (entity == SearchEntity.Tag)
        {
            return new SearchKey(entity, identifier.Key);
        }

        var valid = forOrderBy
            ? identifier.Key is RegistrySearchAttributes.Name or RegistrySearchAttributes.VersionNumber
                or RegistrySearchAttributes.CreationTimestamp or RegistrySearchAttributes.LastUpdatedTimestamp
            : identifier.Key is RegistrySearchAttributes.Name or RegistrySearchAttributes.RunId
                or RegistrySearchAttributes.SourcePath or RegistrySearchAttributes.VersionNumber;
        return valid
            ? new SearchKey(entity, identifier.Key)
            : throw InvalidAttribute(identifier.Key, forOrderBy ? OrderAttributes : FilterAttributes, identifier.Start);
    }

    protected override Comparator CheckComparator(SearchKey key, string op, int position) => key switch
    {
        { Entity: SearchEntity.Tag } => Require(op, position, [.. TextOps, .. NullOps], $"Invalid comparator for tag: {op}"),
        { Name: RegistrySearchAttributes.VersionNumber } => Require(op, position, NumericOps, $"Invalid comparator for numeric attribute: {op}"),
        { Name: RegistrySearchAttributes.RunId } => Require(op, position, TextAndListOps, $"Invalid comparator for attribute: {op}"),
        _ => Require(op, position, TextOps, $"Invalid comparator for attribute: {op}"),
    };
}

/// <summary>Parses MLflow registered-model search filters and <c>order_by</c> clauses.</summary>
public static class RegisteredModelSearchSyntax
{
    /// <summary>Null or blank means no filter. Throws <see cref="MlflowException"/> (INVALID_PARAMETER_VALUE) as MLflow does.</summary>
    public static SearchFilter ParseFilter(string? filter) => RegisteredModelSearchLanguage.Instance.ParseFilter(filter);

    /// <summary>Empty when nothing is given; the caller applies the default order (by name).</summary>
    public static IReadOnlyList<OrderByTerm> ParseOrderBy(IReadOnlyList<string>? orderBy) => RegisteredModelSearchLanguage.Instance.ParseOrderBy(orderBy);
}

/// <summary>Parses MLflow model-version search filters and <c>order_by</c> clauses.</summary>
public static class ModelVersionSearchSyntax
{
    /// <summary>Null or blank means no filter. Throws <see cref="MlflowException"/> (INVALID_PARAMETER_VALUE) as MLflow does.</summary>
    public static SearchFilter ParseFilter(string? filter) => ModelVersionSearchLanguage.Instance.ParseFilter(filter);

    /// <summary>Empty when nothing is given; the caller applies the default order (last updated first).</summary>
    public static IReadOnlyList<OrderByTerm> ParseOrderBy(IReadOnlyList<string>? orderBy) => ModelVersionSearchLanguage.Instance.ParseOrderBy(orderBy);
}
