namespace Cairn.Tuning.Samplers;

/// <summary>
/// Picks parameter values. <see cref="SampleIndependent"/> is the one required member; samplers that model
/// parameters jointly (multivariate TPE) also implement <see cref="SampleRelative"/>, which runs once when the
/// trial starts. Values are internal doubles (log-scaled floats stay in their natural unit; categorical = index).
/// Calls are serialised by the study, so samplers need not be thread-safe.
/// </summary>
public interface ISampler
{
    double SampleIndependent(SamplerContext context, string name, Distribution distribution);

    /// <summary>Joint values for parameters the sampler can infer before the objective asks for them.</summary>
    IReadOnlyDictionary<string, RelativeSample> SampleRelative(SamplerContext context) => RelativeSample.None;

    /// <summary>Runs before any parameter is sampled; grid sampling picks its grid point here.</summary>
    void BeforeTrial(SamplerContext context) { }

    /// <summary>Runs after the trial's state is stored.</summary>
    void AfterTrial(SamplerContext context, TrialState state, double? value) { }
}

/// <summary>A value chosen by <see cref="ISampler.SampleRelative"/>, used only if the objective asks for the same distribution.</summary>
public sealed record RelativeSample(Distribution Distribution, double InternalValue)
{
    public static IReadOnlyDictionary<string, RelativeSample> None { get; } = new Dictionary<string, RelativeSample>();
}

/// <summary>What a sampler may see and do for one trial: the study's history (read from storage when the trial started)
/// and the current trial.</summary>
public sealed class SamplerContext
{
    private readonly Dictionary<string, string> _newSystemAttrs = [];
    private readonly Action _stop;

    private readonly Lazy<IReadOnlyList<FrozenTrial>> _trials;
    private readonly Lazy<IReadOnlyList<FrozenTrial>> _comparable;

    internal SamplerContext(StudyInfo study, IReadOnlyList<FrozenTrial> trials, FrozenTrial trial, Action stop,
        Func<IReadOnlyList<FrozenTrial>, IReadOnlyList<FrozenTrial>>? comparable = null)
        : this(study, () => trials, trial, stop, comparable) { }

    internal SamplerContext(StudyInfo study, Func<IReadOnlyList<FrozenTrial>> trials, FrozenTrial trial, Action stop,
        Func<IReadOnlyList<FrozenTrial>, IReadOnlyList<FrozenTrial>>? comparable = null)
    {
        Study = study;
        _trials = new Lazy<IReadOnlyList<FrozenTrial>>(trials);
        _comparable = new Lazy<IReadOnlyList<FrozenTrial>>(() => comparable is null ? _trials.Value : comparable(_trials.Value));
        Trial = trial;
        _stop = stop;
    }

    public StudyInfo Study { get; }
    public StudyDirection Direction => Study.Direction;

    /// <summary>All trials of the study in number order, including the current one and other running ones.</summary>
    public IReadOnlyList<FrozenTrial> Trials => _trials.Value;

    /// <summary>The trials whose results rank against this trial's (<see cref="Pruners.IPruner.TrialsForSampling"/>):
    /// all of <see cref="Trials"/>, or with Hyperband those of the trial's bracket. Model-based samplers learn from these.</summary>
    public IReadOnlyList<FrozenTrial> ComparableTrials => _comparable.Value;

    /// <summary>The current trial (as it started; in AfterTrial, as it finished).</summary>
    public FrozenTrial Trial { get; }

    /// <summary>Stores an attribute with the current trial (persisted, visible to other workers).</summary>
    public void SetSystemAttr(string key, string value) => _newSystemAttrs[key] = value;

    public string? GetSystemAttr(string key) =>
        _newSystemAttrs.TryGetValue(key, out var v) ? v : Trial.SystemAttrs.TryGetValue(key, out var w) ? w : null;

    /// <summary>Asks the study to start no more trials (a grid that has been visited completely).</summary>
    public void StopStudy() => _stop();

    internal IReadOnlyDictionary<string, string> NewSystemAttrs => _newSystemAttrs;
}
