namespace Cairn.Tuning.Pruners;

/// <summary>
/// Prunes a trial whose best intermediate value so far is worse than the given percentile of the complete
/// trials' values at the same step (Optuna's rules: startup trials, warm-up steps, checks every interval_steps).
/// </summary>
public class PercentilePruner : IPruner
{
    public PercentilePruner(double percentile, int nStartupTrials = 5, int nWarmupSteps = 0, int intervalSteps = 1, int nMinTrials = 1)
    {
        if (!(percentile >= 0 && percentile <= 100))
            throw new ArgumentException($"percentile must be in [0, 100], got {percentile}.");
        ArgumentOutOfRangeException.ThrowIfNegative(nStartupTrials);
        ArgumentOutOfRangeException.ThrowIfNegative(nWarmupSteps);
        if (intervalSteps < 1) throw new ArgumentException($"intervalSteps must be >= 1, got {intervalSteps}.");
        if (nMinTrials < 1) throw new ArgumentException($"nMinTrials must be >= 1, got {nMinTrials}.");
        Percentile = percentile;
        NStartupTrials = nStartupTrials;
        NWarmupSteps = nWarmupSteps;
        IntervalSteps = intervalSteps;
        NMinTrials = nMinTrials;
    }

    public double Percentile { get; }
    public int NStartupTrials { get; }
    public int NWarmupSteps { get; }
    public int IntervalSteps { get; }
    public int NMinTrials { get; }

    public bool Prune(PruningContext context)
    {
        var complete = context.Trials.Where(t => t.State == TrialState.Complete).ToList();
        if (complete.Count == 0 || complete.Count < NStartupTrials) return false;
        var trial = context.Trial;
        if (trial.LastStep is not { } step || step < NWarmupSteps) return false;
        if (!IsFirstInInterval(step, trial.IntermediateValues.Keys)) return false;

        var maximize = context.Direction == StudyDirection.Maximize;
        var own = trial.IntermediateValues.Values.Where(v => !double.IsNaN(v)).ToList();
        if (own.Count == 0) return true;
        var best = maximize ? own.Max() : own.Min();

        var atStep = complete
            .Where(t => t.IntermediateValues.ContainsKey(step))
            .Select(t => t.IntermediateValues[step])
            .Where(v => !double.IsNaN(v))
            .ToList();
        if (atStep.Count < NMinTrials) return false;
        var p = Quantile(atStep, (maximize ? 100 - Percentile : Percentile) / 100);
        return maximize ? best < p : best > p;
    }

    // Prune only at the first report at or after each check point, so skipped steps do not dodge a check.
    private bool IsFirstInInterval(int step, IEnumerable<int> reportedSteps)
    {
        var nearestLowerCheck = (step - NWarmupSteps) / IntervalSteps * IntervalSteps + NWarmupSteps;
        var secondLast = reportedSteps.Where(s => s != step).DefaultIfEmpty(-1).Max();
        return secondLast < nearestLowerCheck;
    }

    /// <summary>Linear-interpolation quantile (numpy's default).</summary>
    internal static double Quantile(IReadOnlyList<double> values, double q)
    {
        var sorted = values.Order().ToArray();
        var pos = q * (sorted.Length - 1);
        var lo = (int)Math.Floor(pos);
        var hi = Math.Min(lo + 1, sorted.Length - 1);
        return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
    }
}

/// <summary>Prunes a trial whose best intermediate value is worse than the median of complete trials at the same step.</summary>
public sealed class MedianPruner(int nStartupTrials = 5, int nWarmupSteps = 0, int intervalSteps = 1, int nMinTrials = 1)
    : PercentilePruner(50, nStartupTrials, nWarmupSteps, intervalSteps, nMinTrials);
