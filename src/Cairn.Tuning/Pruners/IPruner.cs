namespace Cairn.Tuning.Pruners;

/// <summary>Decides from reported intermediate values whether a running trial should stop early.</summary>
public interface IPruner
{
    bool Prune(PruningContext context);

    /// <summary>
    /// The trials a sampler should learn from when choosing <paramref name="trial"/>'s parameters; all of them by default.
    /// Hyperband narrows this to the trial's bracket, as Optuna does: trials of other brackets were stopped at other
    /// budgets, so their values do not rank against this trial's. Called under the same lock as <see cref="Prune"/>.
    /// </summary>
    IReadOnlyList<FrozenTrial> TrialsForSampling(StudyInfo study, FrozenTrial trial, IReadOnlyList<FrozenTrial> trials) => trials;
}

/// <summary>The study's trials (read from storage) and the current trial with all values it reported so far.</summary>
public sealed class PruningContext
{
    private readonly Action<string, string> _setSystemAttr;

    public PruningContext(StudyInfo study, IReadOnlyList<FrozenTrial> trials, FrozenTrial trial, Action<string, string>? setSystemAttr = null)
    {
        Study = study;
        Trials = trials;
        Trial = trial;
        _setSystemAttr = setSystemAttr ?? ((_, _) => { });
    }

    public StudyInfo Study { get; }
    public IReadOnlyList<FrozenTrial> Trials { get; }
    public FrozenTrial Trial { get; }
    public StudyDirection Direction => Study.Direction;

    /// <summary>Stores an attribute with the current trial (successive halving records the rungs a trial passed).</summary>
    public void SetSystemAttr(string key, string value) => _setSystemAttr(key, value);

    /// <summary>The same context seeing only some of the trials (Hyperband's brackets).</summary>
    public PruningContext WithTrials(IReadOnlyList<FrozenTrial> trials) => new(Study, trials, Trial, _setSystemAttr);
}

/// <summary>Never prunes.</summary>
public sealed class NopPruner : IPruner
{
    public bool Prune(PruningContext context) => false;
}
