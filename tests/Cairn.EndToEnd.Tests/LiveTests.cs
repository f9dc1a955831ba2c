using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Cairn.EndToEnd.Tests;

/// <summary>
/// Live updates: metrics logged through the REST API while a page is open show up without a reload.
/// Each test logs into its own experiment so the shared seeded data stays as the other tests expect.
/// </summary>
[Collection(UiCollection.Name)]
public sealed class LiveTests(UiFixture ui)
{
    private static object Point(string key, double value, long step) =>
        new { key, value, timestamp = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), step };

    [Fact]
    public async Task A_running_runs_chart_gains_a_point_when_a_metric_is_logged()
    {
        if (ui.Unavailable is not null)
        {
            return;
        }

        var experiment = await ui.Server.CreateExperimentAsync("e2e-live-chart-" + Guid.NewGuid().ToString("N")[..6]);
        var run = await ui.Server.CreateRunAsync(experiment, "live-run", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        await ui.Server.LogBatchAsync(run, metrics: [Point("loss", 1.0, 0), Point("loss", 0.8, 1)]);

        await ui.WithPageAsync(nameof(A_running_runs_chart_gains_a_point_when_a_metric_is_logged), async page =>
        {
            await page.GotoAsync($"/experiments/{experiment}/runs/{run}?tab=metrics");
            var loss = page.Locator("[data-testid=metric-chart][data-metric=loss]");
            await Expect(loss.Locator("g.scatterlayer path.point")).ToHaveCountAsync(2);
            await Expect(page.Locator("[data-testid=live-badge]")).ToBeVisibleAsync();

            // Logged by "the training script" while the page is open: no reload.
            await ui.Server.LogBatchAsync(run, metrics: [Point("loss", 0.6, 2), Point("accuracy", 0.7, 2)]);
            await Expect(loss.Locator("g.scatterlayer path.point")).ToHaveCountAsync(3);
            await Expect(loss.Locator("[data-testid=chart-note]")).ToHaveTextAsync("3 points");
            await Expect(page.Locator("[data-testid=metric-chart][data-metric=accuracy] g.scatterlayer path.point")).ToHaveCountAsync(1);
            await Expect(page.Locator("[data-testid=metrics-table]")).ToContainTextAsync("0.6");

            // The run ends: the page says so and stops polling.
            await ui.Server.FinishAsync(run, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
            await Expect(page.Locator("[data-testid=live-badge]")).ToHaveCountAsync(0);
            await Expect(page.Locator(".cairn-header .cairn-status")).ToHaveTextAsync("Finished");
        });
    }

    [Fact]
    public async Task The_runs_table_shows_new_values_and_new_runs_while_runs_are_logging()
    {
        if (ui.Unavailable is not null)
        {
            return;
        }

        var experiment = await ui.Server.CreateExperimentAsync("e2e-live-table-" + Guid.NewGuid().ToString("N")[..6]);
        var run = await ui.Server.CreateRunAsync(experiment, "first", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        await ui.Server.LogBatchAsync(run, metrics: [Point("loss", 1.0, 0)]);

        await ui.WithPageAsync(nameof(The_runs_table_shows_new_values_and_new_runs_while_runs_are_logging), async page =>
        {
            await page.GotoAsync($"/experiments/{experiment}");
            var row = page.Locator($"tr[data-run-id='{run}']");
            await Expect(row).ToContainTextAsync("Running");
            await Expect(page.Locator("[data-testid=live-badge]")).ToBeVisibleAsync();

            await ui.Server.LogBatchAsync(run, metrics: [Point("loss", 0.125, 1)]);
            await Expect(row).ToContainTextAsync("0.125");

            var second = await ui.Server.CreateRunAsync(experiment, "second", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
            await Expect(page.Locator($"tr[data-run-id='{second}']")).ToBeVisibleAsync();

            await ui.Server.FinishAsync(run, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
            await ui.Server.FinishAsync(second, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
            await Expect(row).ToContainTextAsync("Finished");
            await Expect(page.Locator("[data-testid=live-badge]")).ToHaveCountAsync(0);
        });
    }
}
