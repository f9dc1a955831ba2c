using System.Text.Json;
using Cairn.Tuning.Pruners;
using Cairn.Tuning.Samplers;
using Cairn.Tuning.Storage;

namespace Cairn.Tuning;

/// <summary>
/// A running trial handed to the objective: ask it for parameters (define-by-run), report intermediate
/// values and ask whether to prune. Suggest and Report are synchronous and cheap: values are buffered and
/// written to storage at the next heartbeat, at <see cref="ShouldPruneAsync"/> and when the trial ends.
/// </summary>
public sealed class Trial
{
    internal const string FixedParamsAttr = "fixed_params";

    private readonly Study _study;
    private readonly FrozenTrial _start;
    private readonly SamplerContext _samplerContext;
    private readonly IReadOnlyDictionary<string, RelativeSample> _relative;
    private readonly Dictionary<string, object?>? _fixed;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, Distribution> _distributions = [];
    private readonly Dictionary<string, double> _params = [];
    private readonly SortedDictionary<int, double> _intermediate = [];
    private readonly Dictionary<string, string> _userAttrs = [];
    private readonly Dictionary<string, string> _systemAttrs = [];
    private readonly List<(string, Distribution, double)> _pendingParams = [];
    private readonly List<(int, double)> _pendingIntermediate = [];
    private readonly List<(string, string)> _pendingUserAttrs = [];
    private readonly List<(string, string)> _pendingSystemAttrs = [];

    internal Trial(Study study, FrozenTrial start, SamplerContext samplerContext, IReadOnlyDictionary<string, RelativeSample> relative)
    {
        _study = study;
        _start = start;
        _samplerContext = samplerContext;
        _relative = relative;
        foreach (var (k, v) in samplerContext.NewSystemAttrs) _pendingSystemAttrs.Add((k, v));
        if (start.SystemAttrs.TryGetValue(FixedParamsAttr, out var json))
            _fixed = ParseFixed(json);
        foreach (var (k, v) in start.InternalParams) { _params[k] = v; _distributions[k] = start.Distributions[k]; }
        foreach (var (k, v) in start.IntermediateValues) _intermediate[k] = v;
    }

    public int Number => _start.Number;
    public long TrialId => _start.TrialId;
    public Study Study => _study;
    internal SamplerContext SamplerContext => _samplerContext;

    /// <summary>Parameters suggested so far, as the objective saw them.</summary>
    public IReadOnlyDictionary<string, object?> Params
    {
        get { lock (_lock) return _params.ToDictionary(kv => kv.Key, kv => _distributions[kv.Key].ToExternal(kv.Value)); }
    }

    public double SuggestFloat(string name, double low, double high, bool log = false, double? step = null) =>
        Suggest(name, new FloatDistribution(low, high, log, step));

    public int SuggestInt(string name, int low, int high, bool log = false, int step = 1) =>
        (int)Suggest(name, new IntDistribution(low, high, log, step));

    public long SuggestLong(string name, long low, long high, bool log = false, long step = 1) =>
        (long)Suggest(name, new IntDistribution(low, high, log, step));

    public T SuggestCategorical<T>(string name, params IReadOnlyList<T> choices)
    {
        ArgumentNullException.ThrowIfNull(choices);
        var index = (int)Suggest(name, new CategoricalDistribution(choices.Select(c => (object?)c).ToArray()));
        return choices[index];
    }

    /// <summary>Suggests a value from any distribution; returns the internal value (categorical: the index).</summary>
    public double Suggest(string name, Distribution distribution)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(distribution);
        lock (_lock)
        {
            if (_distributions.TryGetValue(name, out var existing))
            {
                if (!Distribution.AreCompatible(existing, distribution))
                    throw new ArgumentException($"Parameter '{name}' was already suggested in trial {Number} with {existing.ToJson()}; it cannot be suggested again with {distribution.ToJson()}.");
                return _params[name];
            }
        }
        var value = Choose(name, distribution);
        lock (_lock)
        {
            _distributions[name] = distribution;
            _params[name] = value;
            _pendingParams.Add((name, distribution, value));
        }
        return value;
    }

    private double Choose(string name, Distribution distribution)
    {
        if (_fixed is not null && _fixed.TryGetValue(name, out var fixedValue))
        {
            double v;
            try { v = distribution.ToInternal(fixedValue); }
            catch (Exception e) when (e is ArgumentException or FormatException or InvalidCastException)
            {
                throw new ArgumentException($"Enqueued value {fixedValue} for parameter '{name}' does not fit {distribution.ToJson()}: {e.Message}", e);
            }
            if (!distribution.Contains(v))
                throw new ArgumentException($"Enqueued value {fixedValue} for parameter '{name}' is outside {distribution.ToJson()}.");
            return v;
        }
        if (distribution.IsSingle)
            return distribution switch
            {
                FloatDistribution f => f.Low,
                IntDistribution i => i.Low,
                _ => 0,
            };
        if (_relative.TryGetValue(name, out var rel) && Distribution.AreCompatible(rel.Distribution, distribution))
            return rel.InternalValue;
        var sampled = _study.WithSampler(s => s.SampleIndependent(_samplerContext, name, distribution));
        if (!distribution.Contains(sampled))
            throw new InvalidOperationException($"Sampler {_study.Sampler.GetType().Name} returned {sampled} for '{name}', outside {distribution.ToJson()}.");
        return sampled;
    }

    /// <summary>Reports an intermediate objective value at a step (an epoch, a fold). A step reported twice keeps the first value, as in Optuna.</summary>
    public void Report(double value, int step)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(step);
        lock (_lock)
        {
            if (!_intermediate.TryAdd(step, value)) return;
            _pendingIntermediate.Add((step, value));
        }
    }

    /// <summary>Asks the study's pruner whether to stop now. Reads other trials from storage; prefer <see cref="ShouldPruneAsync"/> in async code.</summary>
    public bool ShouldPrune() => ShouldPruneAsync().GetAwaiter().GetResult();

    public async Task<bool> ShouldPruneAsync(CancellationToken cancellationToken = default)
    {
        await FlushAsync(cancellationToken).ConfigureAwait(false);
        var trials = await _study.Storage.GetTrialsAsync(_study.Info.StudyId, cancellationToken).ConfigureAwait(false);
        var context = new PruningContext(_study.Info, trials, Snapshot(TrialState.Running, null), SetSystemAttr);
        return _study.Prune(context);
    }

    public void SetUserAttr(string key, string value)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        lock (_lock)
        {
            _userAttrs[key] = value;
            _pendingUserAttrs.Add((key, value));
        }
    }

    internal void SetSystemAttr(string key, string value)
    {
        lock (_lock)
        {
            _systemAttrs[key] = value;
            _pendingSystemAttrs.Add((key, value));
        }
    }

    /// <summary>The trial as it stands now (running, with everything suggested and reported so far).</summary>
    public FrozenTrial ToFrozenTrial() => Snapshot(TrialState.Running, null);

    internal FrozenTrial Snapshot(TrialState state, double? value)
    {
        lock (_lock)
        {
            var sys = new Dictionary<string, string>(_start.SystemAttrs);
            foreach (var (k, v) in _samplerContext.NewSystemAttrs) sys[k] = v;
            foreach (var (k, v) in _systemAttrs) sys[k] = v;
            var user = new Dictionary<string, string>(_start.UserAttrs);
            foreach (var (k, v) in _userAttrs) user[k] = v;
            return _start with
            {
                State = state,
                Value = value,
                Distributions = new Dictionary<string, Distribution>(_distributions),
                InternalParams = new Dictionary<string, double>(_params),
                IntermediateValues = new SortedDictionary<int, double>(_intermediate),
                UserAttrs = user,
                SystemAttrs = sys,
            };
        }
    }

    internal TrialProgress TakePending()
    {
        lock (_lock)
        {
            if (_pendingParams.Count + _pendingIntermediate.Count + _pendingUserAttrs.Count + _pendingSystemAttrs.Count == 0)
                return TrialProgress.Empty;
            var p = new TrialProgress(_pendingParams.ToArray(), _pendingIntermediate.ToArray(), _pendingUserAttrs.ToArray(), _pendingSystemAttrs.ToArray());
            _pendingParams.Clear(); _pendingIntermediate.Clear(); _pendingUserAttrs.Clear(); _pendingSystemAttrs.Clear();
            return p;
        }
    }

    /// <summary>Writes buffered values; also serves as the heartbeat. Values whose write failed are kept for the next write.</summary>
    internal async Task FlushAsync(CancellationToken cancellationToken)
    {
        var pending = TakePending();
        try
        {
            await _study.Storage.WriteTrialProgressAsync(TrialId, pending, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            Requeue(pending);
            throw;
        }
    }

    private void Requeue(TrialProgress p)
    {
        lock (_lock)
        {
            _pendingParams.InsertRange(0, p.Params);
            _pendingIntermediate.InsertRange(0, p.IntermediateValues);
            _pendingUserAttrs.InsertRange(0, p.UserAttrs);
            _pendingSystemAttrs.InsertRange(0, p.SystemAttrs);
        }
    }

    internal static string FormatFixed(IReadOnlyDictionary<string, object?> values)
    {
        var dict = new Dictionary<string, JsonElement>();
        foreach (var (k, v) in values)
            dict[k] = JsonSerializer.SerializeToElement(v is Enum e ? e.ToString() : v);
        return JsonSerializer.Serialize(dict);
    }

    private static Dictionary<string, object?> ParseFixed(string json)
    {
        var result = new Dictionary<string, object?>();
        using var doc = JsonDocument.Parse(json);
        foreach (var p in doc.RootElement.EnumerateObject())
            result[p.Name] = p.Value.ValueKind switch
            {
                JsonValueKind.String => p.Value.GetString(),
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                JsonValueKind.Null => null,
                JsonValueKind.Number when p.Value.TryGetInt64(out var l) => l,
                JsonValueKind.Number => p.Value.GetDouble(),
                _ => throw new FormatException($"Unsupported enqueued value for '{p.Name}': {p.Value}"),
            };
        return result;
    }
}
