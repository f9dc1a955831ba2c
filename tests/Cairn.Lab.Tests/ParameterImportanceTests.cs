using Cairn.Client;
using Cairn.Lab.Tuning;
using Cairn.Tuning;
using Cairn.Tuning.Samplers;

namespace Cairn.Lab.Tests;

public sealed class ParameterImportanceTests
{
    // y depends strongly on "shape" (optimum inside the range, invisible to a rank correlation), somewhat on the
    // categorical "kind", and not at all on "noise"; a random sampler gives an unbiased sample of the space.
    private static Study RandomStudy(int seed, int trials = 150)
    {
        var study = Study.Create("importance", StudyDirection.Minimize, new RandomSampler(seed));
        study.OptimizeAsync(t =>
        {
            var shape = t.SuggestFloat("shape", -1, 1);
            var kind = t.SuggestCategorical("kind", "a", "b", "c");
            t.SuggestFloat("noise", 1e-3, 1, log: true);
            return (10 * shape * shape) + (kind == "b" ? 3 : 0);
        }, nTrials: trials).GetAwaiter().GetResult();
        return study;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Non_monotone_effect_ranks_first_categorical_second_and_an_irrelevant_parameter_near_zero(int seed)
    {
        var importances = ParameterImportances.Evaluate(RandomStudy(seed).Trials);
        Assert.Equal(["shape", "kind", "noise"], importances.Select(i => i.Name));
        Assert.True(importances[0].Explained > 0.5, $"shape explains {importances[0].Explained}");
        Assert.True(importances[2].Importance < 0.05, $"noise gets {importances[2].Importance}");
        Assert.Equal(1.0, importances.Sum(i => i.Importance), 9);
    }

    [Fact]
    public void Importance_ignores_the_scale_of_the_objective_and_of_the_parameter()
    {
        var trials = RandomStudy(4).Trials;
        // A monotone transform of every value (and of the objective) keeps every rank, so nothing may change.
        var transformed = trials.Select(t => t with { Value = t.Value is { } v ? Math.Exp(v) : null }).ToList();
        Assert.Equal(ParameterImportances.Evaluate(trials), ParameterImportances.Evaluate(transformed));
    }

    [Fact]
    public void Too_few_complete_trials_give_zero_importances_rather_than_noise()
    {
        var importances = ParameterImportances.Evaluate(RandomStudy(5, trials: 3).Trials);
        Assert.All(importances, i => Assert.Equal(0, i.Importance));
        Assert.Empty(ParameterImportances.Evaluate([]));
    }

    [Fact]
    public void Ranks_give_ties_their_average_rank() =>
        Assert.Equal([1.5, 3, 1.5, 4], ParameterImportances.Ranks([2.0, 5, 2, 7]));

    [Fact]
    public void History_and_importance_plots_render_for_a_study_and_for_an_empty_one()
    {
        var study = RandomStudy(6, trials: 30);
        foreach (var trials in new[] { study.Trials, [] })
        {
            var history = Figures.RenderPng(StudyPlots.History("s", StudyDirection.Minimize, trials), 600, 400);
            var importance = Figures.RenderPng(StudyPlots.Importance("s", ParameterImportances.Evaluate(trials)), 600, 300);
            Assert.True(history.Length > 5_000);
            Assert.True(importance.Length > 3_000);
        }
    }
}
