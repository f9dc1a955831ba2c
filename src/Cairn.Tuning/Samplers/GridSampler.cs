using System.Globalization;

namespace Cairn.Tuning.Samplers;

/// <summary>
/// Visits every point of a grid once, in order or in a seeded random order, then stops the study.
/// Workers sharing a study skip points that other workers have taken (the grid id is stored with each trial).
/// </summary>
public sealed class GridSampler : ISampler
{
    internal const string GridIdAttr = "grid_id";

    private readonly string[] _names;
    private readonly object?[][] _values;
    private readonly Random _rng;
    private readonly bool _shuffle;

    /// <param name="searchSpace">Each parameter's grid values; every combination is one grid point.</param>
    /// <param name="seed">Seed of the visiting order when <paramref name="shuffle"/> is true.</param>
    /// <param name="shuffle">False visits points in order (the last parameter varies fastest).</param>
    public GridSampler(IEnumerable<KeyValuePair<string, IReadOnlyList<object?>>> searchSpace, int? seed = null, bool shuffle = true)
    {
        ArgumentNullException.ThrowIfNull(searchSpace);
        var pairs = searchSpace.ToArray();
        if (pairs.Length == 0) throw new ArgumentException("A grid needs at least one parameter.");
        foreach (var (name, values) in pairs)
            if (values is null || values.Count == 0) throw new ArgumentException($"Grid parameter '{name}' has no values.");
        _names = pairs.Select(p => p.Key).ToArray();
        _values = pairs.Select(p => p.Value.ToArray()).ToArray();
        GridSize = _values.Aggregate(1L, (n, v) => checked(n * v.Length));
        _rng = SeededRandom.Create(seed);
        _shuffle = shuffle;
    }

    public long GridSize { get; }

    /// <summary>The parameter values of one grid point.</summary>
    public IReadOnlyDictionary<string, object?> PointAt(long gridId)
    {
        var result = new Dictionary<string, object?>();
        for (var i = _names.Length - 1; i >= 0; i--)
        {
            result[_names[i]] = _values[i][gridId % _values[i].Length];
            gridId /= _values[i].Length;
        }
        return result;
    }

    public void BeforeTrial(SamplerContext context)
    {
        if (context.GetSystemAttr(GridIdAttr) is not null) return;
        var (unvisited, notFinished) = Unvisited(context.Trials, context.Trial.TrialId);
        // When other workers hold every remaining point, repeat one of theirs rather than leave this trial empty.
        var candidates = unvisited.Count > 0 ? unvisited : notFinished;
        if (candidates.Count == 0)
        {
            context.StopStudy();
            candidates = [_rng.NextInt64(GridSize)];
        }
        var id = _shuffle ? candidates[_rng.Next(candidates.Count)] : candidates[0];
        context.SetSystemAttr(GridIdAttr, id.ToString(CultureInfo.InvariantCulture));
    }

    public double SampleIndependent(SamplerContext context, string name, Distribution distribution)
    {
        var index = Array.IndexOf(_names, name);
        if (index < 0)
            throw new ArgumentException($"Parameter '{name}' is not in the grid ({string.Join(", ", _names)}).");
        var id = long.Parse(context.GetSystemAttr(GridIdAttr) ?? throw new InvalidOperationException("The grid point was not chosen before sampling."), CultureInfo.InvariantCulture);
        var value = PointAt(id)[name];
        var internalValue = distribution.ToInternal(value);
        if (!distribution.Contains(internalValue))
            throw new ArgumentException($"Grid value {value} of '{name}' is outside the suggested range {distribution.ToJson()}.");
        return internalValue;
    }

    public void AfterTrial(SamplerContext context, TrialState state, double? value)
    {
        var (unvisited, _) = Unvisited(context.Trials, -1);
        if (unvisited.Count == 0) context.StopStudy();
    }

    private (List<long> Unvisited, List<long> NotFinished) Unvisited(IReadOnlyList<FrozenTrial> trials, long currentTrialId)
    {
        var finished = new HashSet<long>();
        var running = new HashSet<long>();
        foreach (var t in trials)
        {
            if (t.TrialId == currentTrialId || !t.SystemAttrs.TryGetValue(GridIdAttr, out var s)) continue;
            var id = long.Parse(s, CultureInfo.InvariantCulture);
            if (t.IsFinished) finished.Add(id); else running.Add(id);
        }
        var unvisited = new List<long>();
        var notFinished = new List<long>();
        for (long id = 0; id < GridSize; id++)
        {
            if (finished.Contains(id)) continue;
            notFinished.Add(id);
            if (!running.Contains(id)) unvisited.Add(id);
        }
        return (unvisited, notFinished);
    }
}
