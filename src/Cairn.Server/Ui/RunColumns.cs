using Cairn.Core;

namespace Cairn.Server.Ui;

/// <summary>What a runs-table column shows: a run attribute, or one metric, param or tag by key.</summary>
public enum ColumnKind
{
    Attribute,
    Metric,
    Param,
    Tag,
}

/// <summary>
/// One column of the runs table. <see cref="Id"/> is the column's name in the URL and in MLflow's
/// search language (<c>metrics.loss</c>, <c>attributes.start_time</c>), so a shared link and a
/// typed filter speak the same words.
/// </summary>
public sealed record RunColumn(ColumnKind Kind, string Key)
{
    public const string RunName = "run_name";
    public const string Experiment = "experiment_id";
    public const string Created = "start_time";
    public const string Duration = "duration";
    public const string Status = "status";
    public const string User = "user_id";
    public const string Source = "source";
    public const string RunId = "run_id";

    /// <summary>
    /// The attribute columns in display order; the run name is always shown and comes first. The
    /// experiment column is offered only when a table shows runs of several experiments.
    /// </summary>
    public static IReadOnlyList<RunColumn> Attributes { get; } =
        [.. new[] { RunName, Experiment, Created, Duration, Status, User, Source, RunId }.Select(k => new RunColumn(ColumnKind.Attribute, k))];

    /// <summary>The attributes shown when the URL names no columns.</summary>
    public static IReadOnlyList<RunColumn> DefaultAttributes { get; } = [.. Attributes.Where(c => c.Key is Created or Duration or Status or User)];

    public string Id => Kind switch
    {
        ColumnKind.Metric => "metrics." + Key,
        ColumnKind.Param => "params." + Key,
        ColumnKind.Tag => "tags." + Key,
        _ => "attributes." + Key,
    };

    public string Title => Kind switch
    {
        ColumnKind.Attribute => Key switch
        {
            RunName => "Run name",
            Experiment => "Experiment",
            Created => "Created",
            Duration => "Duration",
            Status => "Status",
            User => "User",
            Source => "Source",
            RunId => "Run ID",
            _ => Key,
        },
        _ => Key,
    };

    public bool IsNumeric => Kind == ColumnKind.Metric || Key is Created or Duration;

    /// <summary>The MLflow order_by key for this column, or null when the store cannot sort by it (duration, experiment).</summary>
    public string? OrderByKey => Kind switch
    {
        ColumnKind.Metric => $"metrics.{Quote(Key)}",
        ColumnKind.Param => $"params.{Quote(Key)}",
        ColumnKind.Tag => $"tags.{Quote(Key)}",
        _ => Key switch
        {
            Duration or Experiment => null,
            Source => $"tags.`{MlflowTags.SourceName}`",
            _ => "attributes." + Key,
        },
    };

    /// <summary>Parses a URL column id; unknown attributes and empty keys are dropped (a stale link still opens).</summary>
    public static RunColumn? Parse(string? id)
    {
        if (string.IsNullOrEmpty(id))
        {
            return null;
        }

        var dot = id.IndexOf('.', StringComparison.Ordinal);
        if (dot <= 0 || dot == id.Length - 1)
        {
            return null;
        }

        var key = id[(dot + 1)..];
        return id[..dot] switch
        {
            "metrics" => new RunColumn(ColumnKind.Metric, key),
            "params" => new RunColumn(ColumnKind.Param, key),
            "tags" => new RunColumn(ColumnKind.Tag, key),
            "attributes" when Attributes.Any(a => a.Key == key) => new RunColumn(ColumnKind.Attribute, key),
            _ => null,
        };
    }

    /// <summary>Backticks let any key (spaces, dots, dashes) through MLflow's parser.</summary>
    private static string Quote(string key) => "`" + key.Replace("`", "", StringComparison.Ordinal) + "`";
}

/// <summary>A run as the table shows it: its place in the parent/child tree and quick lookups by key.</summary>
public sealed class RunRow
{
    public RunRow(Run run)
    {
        Run = run;
        Metrics = run.Metrics.GroupBy(m => m.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Last().Value, StringComparer.Ordinal);
        Params = run.Params.GroupBy(p => p.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Last().Value, StringComparer.Ordinal);
        Tags = run.Tags.GroupBy(t => t.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Last().Value, StringComparer.Ordinal);
        ParentRunId = Tags.GetValueOrDefault(MlflowTags.ParentRunId);
    }

    public Run Run { get; }

    public string RunId => Run.Info.RunId;

    public string? ParentRunId { get; }

    public Dictionary<string, double> Metrics { get; }

    public Dictionary<string, string> Params { get; }

    public Dictionary<string, string> Tags { get; }

    /// <summary>0 for a top-level run, 1 for its children, and so on.</summary>
    public int Depth { get; set; }

    /// <summary>How many children of this run are loaded (and so can be shown under it).</summary>
    public int ChildCount { get; set; }

    public string Text(RunColumn column) => column.Kind switch
    {
        ColumnKind.Metric => Metrics.TryGetValue(column.Key, out var v) ? Format.Number(v) : "",
        ColumnKind.Param => Params.GetValueOrDefault(column.Key) ?? "",
        ColumnKind.Tag => Tags.GetValueOrDefault(column.Key) ?? "",
        _ => column.Key switch
        {
            RunColumn.RunName => Run.Info.RunName,
            RunColumn.Experiment => Run.Info.ExperimentId,
            RunColumn.Created => Format.Ago(Run.Info.StartTime),
            RunColumn.Duration => Format.Duration(Run.Info.StartTime, Run.Info.EndTime),
            RunColumn.Status => Run.Info.Status.ToWire(),
            RunColumn.User => Run.Info.UserId,
            RunColumn.Source => SourceName(Tags.GetValueOrDefault(MlflowTags.SourceName)),
            RunColumn.RunId => Run.Info.RunId,
            _ => "",
        },
    };

    /// <summary>The file name of a long source path; the full path is in the tooltip.</summary>
    private static string SourceName(string? source) =>
        string.IsNullOrEmpty(source) ? "" : source[(Math.Max(source.LastIndexOf('/'), source.LastIndexOf('\\')) + 1)..];

    /// <summary>
    /// Orders loaded runs for display: each run is followed by its loaded children (depth-first, in
    /// the store's order), unless collapsed. A child whose parent is not loaded stays at the top level,
    /// so no run is ever hidden by the tree.
    /// </summary>
    public static List<RunRow> Tree(IReadOnlyList<RunRow> runs, IReadOnlySet<string> collapsed)
    {
        var byId = new Dictionary<string, RunRow>(runs.Count, StringComparer.Ordinal);
        foreach (var r in runs)
        {
            byId.TryAdd(r.RunId, r);
        }

        var children = new Dictionary<string, List<RunRow>>(StringComparer.Ordinal);
        var roots = new List<RunRow>();
        foreach (var r in runs)
        {
            if (r.ParentRunId is { } parent && parent != r.RunId && byId.ContainsKey(parent))
            {
                if (!children.TryGetValue(parent, out var list))
                {
                    children[parent] = list = [];
                }

                list.Add(r);
            }
            else
            {
                roots.Add(r);
            }
        }

        // Runs whose parents form a cycle have no root above them; they become roots rather than vanish.
        var reachable = new HashSet<string>(StringComparer.Ordinal);
        var stack = new Stack<RunRow>(roots);
        while (stack.TryPop(out var r))
        {
            if (reachable.Add(r.RunId) && children.TryGetValue(r.RunId, out var kids))
            {
                foreach (var kid in kids)
                {
                    stack.Push(kid);
                }
            }
        }

        if (reachable.Count < byId.Count)
        {
            roots.AddRange(runs.Where(r => !reachable.Contains(r.RunId)));
        }

        var result = new List<RunRow>(runs.Count);
        var visited = new HashSet<string>(StringComparer.Ordinal);
        void Add(RunRow row, int depth)
        {
            // A parent cycle in bad data must not loop forever.
            if (!visited.Add(row.RunId))
            {
                return;
            }

            row.Depth = depth;
            var kids = children.GetValueOrDefault(row.RunId);
            row.ChildCount = kids?.Count ?? 0;
            result.Add(row);
            if (kids is not null && !collapsed.Contains(row.RunId))
            {
                foreach (var kid in kids)
                {
                    Add(kid, depth + 1);
                }
            }
        }

        foreach (var root in roots)
        {
            Add(root, 0);
        }

        return result;
    }
}
