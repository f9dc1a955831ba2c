using System.Text.RegularExpressions;
using Cairn.Server.Ui;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Cairn.EndToEnd.Tests;

/// <summary>Selecting runs in the runs table and comparing them.</summary>
[Collection(UiCollection.Name)]
public sealed class CompareTests(UiFixture ui)
{
    private SeededData Data => ui.Data;

    [Fact]
    public async Task Comparing_three_runs_highlights_differing_params_and_overlays_three_histories()
    {
        if (ui.Unavailable is not null)
        {
            return;
        }

        await ui.WithPageAsync(nameof(Comparing_three_runs_highlights_differing_params_and_overlays_three_histories), async page =>
        {
            await page.GotoAsync($"/experiments/{Data.VisionExperimentId}");
            var compare = page.Locator("[data-testid=compare-runs]");
            await Expect(page.Locator("[data-testid=runs-table] tbody tr[data-run-id]").First).ToBeVisibleAsync();
            await Expect(compare).ToBeDisabledAsync();
            foreach (var id in Data.TrialRunIds)
            {
                await page.Locator($"tr[data-run-id='{id}'] [data-testid=select-run]").CheckAsync();
            }

            await Expect(compare).ToHaveTextAsync(new Regex("Compare 3 runs"));
            await compare.ClickAsync();
            await Expect(page).ToHaveURLAsync(new Regex($"/experiments/{Data.VisionExperimentId}/compare\\?runs="));
            Assert.Equal(3, Regex.Matches(page.Url, "runs=").Count);
            await Expect(page.Locator("h1")).ToHaveTextAsync("Comparing 3 runs");

            // The learning rate differs between the trials; the model does not.
            var table = page.Locator("[data-testid=compare-table]");
            await Expect(table.Locator("thead a")).ToHaveTextAsync(["trial-1", "trial-2", "trial-3"]);
            var lr = table.Locator("tr[data-key='params.lr']");
            await Expect(lr).ToHaveAttributeAsync("data-differs", "true");
            await Expect(lr).ToHaveClassAsync(new Regex("differs"));
            await Expect(lr).ToContainTextAsync("0.001");
            await Expect(table.Locator("tr[data-key='params.model']")).ToHaveAttributeAsync("data-differs", "false");
            await Expect(table.Locator("tr[data-key='metrics.accuracy']")).ToHaveAttributeAsync("data-differs", "true");

            // One overlaid history per run, a scatter point per run, and the parallel coordinates.
            var history = page.Locator("[data-testid=compare-history]");
            await Expect(history.Locator("g.scatterlayer g.trace")).ToHaveCountAsync(3);
            await Expect(history.Locator("g.legend g.traces")).ToHaveCountAsync(3);
            await Expect(page.Locator("[data-testid=compare-scatter] g.scatterlayer path.point")).ToHaveCountAsync(3);
            await Expect(page.Locator("[data-testid=compare-parcoords] g.y-axis")).ToHaveCountAsync(3);

            await UiFixture.ReviewScreenshotAsync(page, "compare-3-runs");

            // Smoothing: a faint raw line and a smoothed one per run, one legend entry each, kept in the URL.
            await page.GotoAsync(page.Url + "&smooth=0.6");
            await Expect(history.Locator("g.scatterlayer g.trace")).ToHaveCountAsync(6);
            await Expect(history.Locator("g.legend g.traces")).ToHaveCountAsync(3);
            await Expect(history.Locator("[data-testid=smoothing-value]")).ToHaveTextAsync("0.60");
            var traces = await page.EvaluateAsync<double[][]>("() => Array.from(document.querySelector('[data-testid=compare-history] .js-plotly-plot').data, t => Array.from(t.y))");
            for (var t = 0; t < traces.Length; t += 2)
            {
                Assert.Equal(Smoothing.Ema(traces[t], 0.6), traces[t + 1]);
            }

            await UiFixture.ReviewScreenshotAsync(page, "compare-smoothed");

            await page.GotoAsync(page.Url.Replace("&smooth=0.6", "", StringComparison.Ordinal));
            await Expect(history.Locator("g.scatterlayer g.trace")).ToHaveCountAsync(3);

            // Hiding equal rows, and the state survives a reload.
            await page.Locator("[data-testid=only-diff] input, input[data-testid=only-diff]").First.ClickAsync();
            await Expect(page).ToHaveURLAsync(new Regex("diff=only"));
            await Expect(table.Locator("tr[data-key='params.model']")).ToHaveCountAsync(0);
            await page.ReloadAsync();
            await Expect(table.Locator("tr[data-key='params.lr']")).ToHaveAttributeAsync("data-differs", "true");
            await Expect(table.Locator("tr[data-key='params.model']")).ToHaveCountAsync(0);
        });
    }

    [Fact]
    public async Task Comparing_a_long_history_downsamples_it_and_the_scatter_axes_are_in_the_url()
    {
        if (ui.Unavailable is not null)
        {
            return;
        }

        await ui.WithPageAsync(nameof(Comparing_a_long_history_downsamples_it_and_the_scatter_axes_are_in_the_url), async page =>
        {
            await page.GotoAsync($"/experiments/{Data.VisionExperimentId}/compare?runs={Data.BaselineRunId}&runs={Data.LongHistoryRunId}&metric=noisy");
            var history = page.Locator("[data-testid=compare-history]");
            await Expect(history.Locator("g.scatterlayer g.trace")).ToHaveCountAsync(1);
            await Expect(history.Locator("[data-testid=history-note]")).ToContainTextAsync("reduced on the server");
            await Expect(history.Locator("[data-testid=history-note]")).ToContainTextAsync("1 run did not log noisy");

            await page.Locator("[data-testid=scatter-x]").SelectOptionAsync("metrics.accuracy");
            await Expect(page).ToHaveURLAsync(new Regex("x=metrics.accuracy"));
        });
    }

    [Fact]
    public async Task The_compare_page_draws_in_the_dark_theme()
    {
        if (ui.Unavailable is not null)
        {
            return;
        }

        await ui.WithPageAsync(nameof(The_compare_page_draws_in_the_dark_theme), async page =>
        {
            var runs = string.Join("&", Data.TrialRunIds.Prepend(Data.BaselineRunId).Select(id => "runs=" + id));
            await page.GotoAsync($"/experiments/{Data.VisionExperimentId}/compare?{runs}&target=accuracy");
            await Expect(page.Locator("[data-testid=compare-history] g.scatterlayer g.trace")).ToHaveCountAsync(4);

            // The scatter's default x is the param every run has (model), not one only the baseline has (depth).
            await Expect(page.Locator("[data-testid=scatter-x]")).ToHaveValueAsync("params.model");
            await Expect(page.Locator("[data-testid=compare-scatter] g.scatterlayer path.point")).ToHaveCountAsync(4);
            await Expect(page.Locator("[data-testid=compare-parcoords] g.y-axis")).ToHaveCountAsync(4);
        }, dark: true);
    }

    [Fact]
    public async Task A_compare_link_to_runs_that_do_not_exist_says_so()
    {
        if (ui.Unavailable is not null)
        {
            return;
        }

        await ui.WithPageAsync(nameof(A_compare_link_to_runs_that_do_not_exist_says_so), async page =>
        {
            await page.GotoAsync($"/experiments/{Data.VisionExperimentId}/compare?runs=0123456789abcdef0123456789abcdef");
            await Expect(page.GetByText("No runs to compare")).ToBeVisibleAsync();
        });
    }
}
