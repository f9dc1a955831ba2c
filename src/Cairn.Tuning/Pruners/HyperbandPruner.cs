namespace Cairn.Tuning.Pruners;

/// <summary>
/// Hyperband: several successive-halving brackets with different aggressiveness; each trial is assigned a bracket
/// by a hash of study name and trial number (so every process agrees) and competes only with its bracket. Samplers
/// that read <see cref="Samplers.SamplerContext.ComparableTrials"/> (TPE) also learn only from the trial's bracket.
/// </summary>
public sealed class HyperbandPruner : IPruner
{
    private readonly int _minResource;
    private int? _maxResource;
    private readonly int _reductionFactor;
    private readonly int _bootstrapCount;
    private SuccessiveHalvingPruner[] _brackets = [];
    private int[] _budgets = [];

    /// <param name="maxResource">Last step of a full trial; null estimates it from the first complete trial (its last step + 1).</param>
    public HyperbandPruner(int minResource = 1, int? maxResource = null, int reductionFactor = 3, int bootstrapCount = 0)
    {
        if (minResource < 1) throw new ArgumentException($"minResource must be >= 1, got {minResource}.");
        if (maxResource is { } m && m < minResource) throw new ArgumentException($"maxResource must be >= minResource, got {m} < {minResource}.");
        if (reductionFactor < 2) throw new ArgumentException($"reductionFactor must be >= 2, got {reductionFactor}.");
        _minResource = minResource;
        _maxResource = maxResource;
        _reductionFactor = reductionFactor;
        _bootstrapCount = bootstrapCount;
    }

    public int BracketCount => _brackets.Length;

    public bool Prune(PruningContext context)
    {
        if (_brackets.Length == 0 && !TryInitialise(context.Trials)) return false;
        var bracket = BracketOf(context.Study.Name, context.Trial.Number);
        var inBracket = context.Trials.Where(t => BracketOf(context.Study.Name, t.Number) == bracket).ToList();
        return _brackets[bracket].Prune(context.WithTrials(inBracket));
    }

    /// <summary>Only the trials of <paramref name="trial"/>'s bracket (Optuna's <c>_BracketStudy</c>); every trial while
    /// the brackets are not known yet (no maxResource and no complete trial to estimate it from).</summary>
    public IReadOnlyList<FrozenTrial> TrialsForSampling(StudyInfo study, FrozenTrial trial, IReadOnlyList<FrozenTrial> trials)
    {
        ArgumentNullException.ThrowIfNull(study);
        ArgumentNullException.ThrowIfNull(trial);
        ArgumentNullException.ThrowIfNull(trials);
        if (_brackets.Length == 0 && !TryInitialise(trials)) return trials;
        var bracket = BracketOf(study.Name, trial.Number);
        return trials.Where(t => BracketOf(study.Name, t.Number) == bracket).ToList();
    }

    /// <summary>The bracket a trial belongs to (deterministic across processes).</summary>
    public int BracketOf(string studyName, int trialNumber)
    {
        if (_brackets.Length == 0) return 0;
        var n = (long)(Crc32.Compute(System.Text.Encoding.UTF8.GetBytes($"{studyName}_{trialNumber}")) % (uint)_budgets.Sum());
        for (var b = 0; b < _budgets.Length; b++)
        {
            n -= _budgets[b];
            if (n < 0) return b;
        }
        return _budgets.Length - 1;
    }

    private bool TryInitialise(IReadOnlyList<FrozenTrial> trials)
    {
        if (_maxResource is null)
        {
            var steps = trials.Where(t => t.State == TrialState.Complete && t.LastStep is not null).Select(t => t.LastStep!.Value).ToList();
            if (steps.Count == 0) return false;
            _maxResource = steps.Max() + 1;
        }
        var n = (int)Math.Floor(Math.Log((double)_maxResource.Value / _minResource, _reductionFactor) + 1e-9) + 1;
        _brackets = Enumerable.Range(0, n).Select(b => new SuccessiveHalvingPruner(_minResource, _reductionFactor, b, _bootstrapCount)).ToArray();
        // Brackets that stop early get more trials: budget = ceil(n * factor^s / (s + 1)), s = n - 1 - bracket.
        _budgets = Enumerable.Range(0, n).Select(b =>
        {
            var s = n - 1 - b;
            return (int)Math.Ceiling(n * Math.Pow(_reductionFactor, s) / (s + 1));
        }).ToArray();
        return true;
    }
}

/// <summary>CRC-32 (IEEE), the same hash Python's binascii.crc32 gives, to spread trials over brackets.</summary>
internal static class Crc32
{
    private static readonly uint[] Table = Enumerable.Range(0, 256).Select(i =>
    {
        var c = (uint)i;
        for (var k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        return c;
    }).ToArray();

    public static uint Compute(ReadOnlySpan<byte> data)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in data) crc = Table[(crc ^ b) & 0xFF] ^ (crc >> 8);
        return crc ^ 0xFFFFFFFFu;
    }
}
