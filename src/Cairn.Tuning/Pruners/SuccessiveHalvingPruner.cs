using System.Globalization;

namespace Cairn.Tuning.Pruners;

/// <summary>
/// Asynchronous successive halving (ASHA): at rung r a trial reaching step min_resource * factor^(rate + r) is
/// promoted only if its value is in the top 1/factor of values recorded at that rung; otherwise it is pruned.
/// </summary>
public sealed class SuccessiveHalvingPruner : IPruner
{
    internal const string RungKeyPrefix = "completed_rung_";
    private int? _minResource;

    /// <param name="minResource">Steps before the first rung; null estimates it as max(last step of complete trials / 100, 1).</param>
    public SuccessiveHalvingPruner(int? minResource = null, int reductionFactor = 4, int minEarlyStoppingRate = 0, int bootstrapCount = 0)
    {
        if (minResource is < 1) throw new ArgumentException($"minResource must be >= 1, got {minResource}.");
        if (reductionFactor < 2) throw new ArgumentException($"reductionFactor must be >= 2, got {reductionFactor}.");
        ArgumentOutOfRangeException.ThrowIfNegative(minEarlyStoppingRate);
        ArgumentOutOfRangeException.ThrowIfNegative(bootstrapCount);
        _minResource = minResource;
        ReductionFactor = reductionFactor;
        MinEarlyStoppingRate = minEarlyStoppingRate;
        BootstrapCount = bootstrapCount;
    }

    public int ReductionFactor { get; }
    public int MinEarlyStoppingRate { get; }
    public int BootstrapCount { get; }

    public bool Prune(PruningContext context)
    {
        var trial = context.Trial;
        if (trial.LastStep is not { } step) return false;
        var rung = trial.SystemAttrs.Keys.Count(k => k.StartsWith(RungKeyPrefix, StringComparison.Ordinal));
        var value = trial.IntermediateValues[step];
        while (true)
        {
            if (_minResource is null)
            {
                var steps = context.Trials.Where(t => t.State == TrialState.Complete && t.LastStep is not null).Select(t => t.LastStep!.Value).ToList();
                if (steps.Count == 0) return false;
                _minResource = Math.Max(steps.Max() / 100, 1);
            }
            var promotionStep = _minResource.Value * Math.Pow(ReductionFactor, MinEarlyStoppingRate + rung);
            if (step < promotionStep) return false;
            if (double.IsNaN(value)) return true;
            var key = RungKeyPrefix + rung.ToString(CultureInfo.InvariantCulture);
            context.SetSystemAttr(key, value.ToString("R", CultureInfo.InvariantCulture));
            var competing = context.Trials
                .Where(t => t.TrialId != trial.TrialId && t.SystemAttrs.ContainsKey(key))
                .Select(t => double.Parse(t.SystemAttrs[key], CultureInfo.InvariantCulture))
                .Append(value)
                .Order()
                .ToList();
            if (competing.Count <= BootstrapCount) return true;
            var idx = Math.Max(competing.Count / ReductionFactor - 1, 0);
            var promotable = context.Direction == StudyDirection.Maximize
                ? value >= competing[^(idx + 1)]
                : value <= competing[idx];
            if (!promotable) return true;
            rung++;
        }
    }
}
