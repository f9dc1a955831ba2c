namespace Cairn.Tuning.Pruners;

/// <summary>Decides from reported intermediate values whether a running trial should stop early.</summary>
public interface IPruner
{
    bool Prune(PruningContext context);
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
