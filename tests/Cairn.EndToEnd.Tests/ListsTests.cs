using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Cairn.EndToEnd.Tests;

/// <summary>
/// The list pages: experiment tags, runs of several experiments in one table, creating, editing and
/// deleting registered models, and driving the runs table with the keyboard alone. Each test seeds
/// its own experiments and models under fresh names.
/// </summary>
[Collection(UiCollection.Name)]
public sealed class ListsTests(UiFixture ui)
{
    private static string Unique(string prefix) => prefix + "-" + Guid.NewGuid().ToString("N")[..8];

    private static ILocator FilterBox(IPage page) => page.Locator("input[data-testid=run-filter], [data-testid=run-filter] input").First;

    private static ILocator Input(IPage page, string testId) => page.Locator($"input[data-testid={testId}], [data-testid={testId}] input, textarea[data-testid={testId}], [data-testid={testId}] textarea").First;

    /// <summary>Two experiments with two runs each and a metric <c>acc</c> that interleaves them.</summary>
    private async Task<(string Prefix, string A, string B, Dictionary<string, string> Runs)> SeedTwoExperimentsAsync()
    {
        var prefix = Unique("e2e-lists");
        var a = await ui.Server.CreateExperimentAsync(prefix + "-alpha");
        var b = await ui.Server.CreateExperimentAsync(prefix + "-beta");
        var t0 = DateTimeOffset.UtcNow.AddMinutes(-30).ToUnixTimeMilliseconds();
        var runs = new Dictionary<string, string>();
        foreach (var (experiment, name, acc, i) in new[] { (a, "a-low", 0.1, 0), (a, "a-high", 0.9, 1), (b, "b-mid", 0.5, 2), (b, "b-top", 0.95, 3) })
        {
            var id = await ui.Server.CreateRunAsync(experiment, name, t0 + (i * 1000));
            await ui.Server.LogBatchAsync(id, metrics: [new { key = "acc", value = acc, timestamp = t0 + (i * 1000), step = 0 }], @params: [new { key = "side", value = name[..1] }]);
            await ui.Server.FinishAsync(id, t0 + (i * 1000) + 500);
            runs[name] = id;
        }

        return (prefix, a, b, runs);
    }

    /// <summary>The run-name links of the table, in display order.</summary>
    private static ILocator RunNames(IPage page) => page.Locator("[data-testid=runs-table] tbody tr[data-run-id] td.name a");

    [Fact]
    public async Task An_experiment_tag_set_in_the_ui_is_read_back_through_the_rest_api()
    {
        if (ui.Unavailable is not null)
        {
            return;
        }

        var name = Unique("e2e-tagged");
        var id = await ui.Server.CreateExperimentAsync(name);
        await ui.WithPageAsync(nameof(An_experiment_tag_set_in_the_ui_is_read_back_through_the_rest_api), async page =>
        {
            await page.GotoAsync("/?q=" + Uri.EscapeDataString(name));
            var row = page.Locator($"[data-experiment-id='{id}']");
            // Opened with the keyboard: the icon button is a Tab stop and Enter presses it.
            await row.Locator("[data-testid=edit-tags]").FocusAsync();
            await page.Keyboard.PressAsync("Enter");
            await Input(page, "tag-key").FillAsync("team");
            await Input(page, "tag-value").FillAsync("vision");
            await page.Locator("[data-testid=save-tag]").ClickAsync();
            await Expect(page.Locator("[data-testid=tag-table] tr[data-tag=team]")).ToContainTextAsync("vision");
            Assert.Equal("vision", await ExperimentTagAsync(id, "team"));

            // Editing: the pencil fills the form, the button turns into "Update tag".
            await page.Locator("[data-testid=tag-table] tr[data-tag=team] [data-testid=edit-tag]").ClickAsync();
            await Expect(Input(page, "tag-key")).ToHaveValueAsync("team");
            await Expect(page.Locator("[data-testid=save-tag]")).ToHaveTextAsync(new Regex("Update tag"));
            await Input(page, "tag-value").FillAsync("vision-2");
            await Input(page, "tag-value").PressAsync("Enter");
            await Expect(page.Locator("[data-testid=tag-table] tr[data-tag=team]")).ToContainTextAsync("vision-2");
            Assert.Equal("vision-2", await ExperimentTagAsync(id, "team"));

            // A key the store rejects: the message shows inside the dialog and nothing is written.
            await Input(page, "tag-key").FillAsync("bad!key");
            await Input(page, "tag-value").FillAsync("x");
            await page.Locator("[data-testid=save-tag]").ClickAsync();
            await Expect(page.Locator("[data-testid=tag-error]")).ToContainTextAsync("Names may only contain");
            Assert.Null(await ExperimentTagAsync(id, "bad!key"));
            await UiFixture.ReviewScreenshotAsync(page, "experiment-tags");

            await page.Keyboard.PressAsync("Escape");
            await Expect(row.Locator("[data-testid=experiment-tags]")).ToContainTextAsync("team");
            await Expect(row.Locator("[data-testid=experiment-tags]")).ToContainTextAsync("vision-2");
        });
    }

    private async Task<string?> ExperimentTagAsync(string experimentId, string key)
    {
        var json = await ui.Server.OkGetAsync("experiments/get?experiment_id=" + experimentId);
        return (json["experiment"]!["tags"] as JsonArray ?? []).FirstOrDefault(t => (string?)t!["key"] == key)?["value"]?.GetValue<string>();
    }

    [Fact]
    public async Task Runs_of_two_experiments_share_one_table_with_filter_sort_and_compare()
    {
        if (ui.Unavailable is not null)
        {
            return;
        }

        var (prefix, a, b, runs) = await SeedTwoExperimentsAsync();
        await ui.WithPageAsync(nameof(Runs_of_two_experiments_share_one_table_with_filter_sort_and_compare), async page =>
        {
            await page.GotoAsync("/?q=" + Uri.EscapeDataString(prefix));
            await Expect(page.Locator("[data-testid=experiments-table] tbody tr")).ToHaveCountAsync(2);
            await Expect(page.Locator("[data-testid=open-runs]")).ToBeDisabledAsync();
            // Ticked with Space and opened with Enter, as from the keyboard.
            foreach (var id in new[] { a, b })
            {
                await page.Locator($"[data-experiment-id='{id}'] [data-testid=select-experiment]").FocusAsync();
                await page.Keyboard.PressAsync("Space");
                await Expect(page.Locator($"[data-experiment-id='{id}'] [data-testid=select-experiment]")).ToBeCheckedAsync();
            }

            await Expect(page.Locator("[data-testid=open-runs]")).ToHaveTextAsync(new Regex("Runs of 2 experiments"));
            await page.Locator("[data-testid=open-runs]").FocusAsync();
            await page.Keyboard.PressAsync("Enter");

            await Expect(page).ToHaveURLAsync(new Regex($@"/runs\?experiments={a}&experiments={b}$"));
            await Expect(page.Locator("h1")).ToHaveTextAsync("Runs of 2 experiments");
            var table = page.Locator("[data-testid=runs-table]");
            await Expect(table.Locator("tbody tr[data-run-id]")).ToHaveCountAsync(4);
            await Expect(table.Locator("thead th[data-column='attributes.experiment_id']")).ToHaveTextAsync("Experiment");
            await Expect(table.Locator($"tr[data-run-id='{runs["a-high"]}'] td.experiment-cell")).ToHaveTextAsync(prefix + "-alpha");
            await Expect(table.Locator($"tr[data-run-id='{runs["b-mid"]}'] td.experiment-cell")).ToHaveTextAsync(prefix + "-beta");

            // A filter across both experiments.
            await FilterBox(page).FillAsync("metrics.acc > 0.4");
            await FilterBox(page).PressAsync("Enter");
            await Expect(page).ToHaveURLAsync(new Regex("filter="));
            await Expect(table.Locator("tbody tr[data-run-id]")).ToHaveCountAsync(3);
            await Expect(table.Locator($"tr[data-run-id='{runs["a-low"]}']")).ToHaveCountAsync(0);

            // Sorting by the metric interleaves the experiments: descending first, then ascending.
            await table.Locator("th[data-column='metrics.acc'] [data-testid=sort-header]").ClickAsync();
            await Expect(page).ToHaveURLAsync(new Regex("sort=metrics.acc"));
            await Expect(page).ToHaveURLAsync(new Regex("dir=desc"));
            await Expect(RunNames(page)).ToHaveTextAsync(["b-top", "a-high", "b-mid"]);
            await table.Locator("th[data-column='metrics.acc'] [data-testid=sort-header]").ClickAsync();
            await Expect(RunNames(page)).ToHaveTextAsync(["b-mid", "a-high", "b-top"]);

            // The state is in the URL: a reload shows the same view.
            await page.ReloadAsync();
            await Expect(FilterBox(page)).ToHaveValueAsync("metrics.acc > 0.4");
            await Expect(RunNames(page)).ToHaveTextAsync(["b-mid", "a-high", "b-top"]);
            await UiFixture.ReviewScreenshotAsync(page, "runs-of-two-experiments");

            // The column chooser offers the experiment column here, and hides it like any other.
            await page.Locator("[data-testid=column-chooser-toggle]").ClickAsync();
            await page.Locator("[data-testid=column-chooser] input[data-column='attributes.experiment_id']").UncheckAsync();
            await Expect(table.Locator("thead th[data-column='attributes.experiment_id']")).ToHaveCountAsync(0);
            await page.Locator("[data-testid=column-chooser] input[data-column='attributes.experiment_id']").CheckAsync();
            await Expect(table.Locator("thead th[data-column='attributes.experiment_id']")).ToHaveCountAsync(1);

            // Runs of different experiments compare side by side; their links go to their own experiments.
            await table.Locator($"tr[data-run-id='{runs["a-high"]}'] [data-testid=select-run]").CheckAsync();
            await table.Locator($"tr[data-run-id='{runs["b-top"]}'] [data-testid=select-run]").CheckAsync();
            await page.Locator("[data-testid=compare-runs]").ClickAsync();
            await Expect(page).ToHaveURLAsync(new Regex($"/experiments/{a}/compare\\?runs={runs["a-high"]}&runs={runs["b-top"]}$"));
            await Expect(page.Locator("h1")).ToHaveTextAsync("Comparing 2 runs");
            await page.GetByRole(AriaRole.Link, new() { Name = "b-top", Exact = true }).First.ClickAsync();
            await Expect(page).ToHaveURLAsync(new Regex($"/experiments/{b}/runs/{runs["b-top"]}$"));
        });
    }

    [Fact]
    public async Task A_model_created_in_the_ui_exists_in_rest_and_deleting_it_removes_it()
    {
        if (ui.Unavailable is not null)
        {
            return;
        }

        var name = Unique("e2e-created-model");
        var taken = Unique("e2e-taken-model");
        await ui.Server.OkAsync("registered-models/create", new { name = taken });
        await ui.WithPageAsync(nameof(A_model_created_in_the_ui_exists_in_rest_and_deleting_it_removes_it), async page =>
        {
            await page.GotoAsync("/models");
            await page.Locator("[data-testid=create-model]").ClickAsync();

            // A duplicate name is refused inside the dialog.
            await Input(page, "model-name-input").FillAsync(taken);
            await page.Locator("[data-testid=confirm-create-model]").ClickAsync();
            await Expect(page.Locator(".mud-dialog")).ToContainTextAsync("already exists");

            await Input(page, "model-name-input").FillAsync(name);
            await Input(page, "model-description-input").FillAsync("Made in the browser.");
            await page.Locator("[data-testid=confirm-create-model]").ClickAsync();
            await Expect(page).ToHaveURLAsync(new Regex($"/models/{name}$"));
            await Expect(page.Locator("h1")).ToHaveTextAsync(name);
            await Expect(page.Locator("[data-testid=description]")).ToHaveTextAsync("Made in the browser.");
            var created = await ui.Server.OkGetAsync("registered-models/get?name=" + Uri.EscapeDataString(name));
            Assert.Equal("Made in the browser.", (string?)created["registered_model"]!["description"]);

            // Edit the description: Escape gives up, Ctrl+Enter saves.
            await page.Locator("[data-testid=edit-description]").ClickAsync();
            await Input(page, "description-input").FillAsync("Not kept.");
            await Input(page, "description-input").PressAsync("Escape");
            await Expect(page.Locator("[data-testid=description]")).ToHaveTextAsync("Made in the browser.");
            await page.Locator("[data-testid=edit-description]").ClickAsync();
            await Expect(Input(page, "description-input")).ToHaveValueAsync("Made in the browser.");
            await Input(page, "description-input").FillAsync("Second words.");
            await Input(page, "description-input").PressAsync("Control+Enter");
            await Expect(page.Locator("[data-testid=description]")).ToHaveTextAsync("Second words.");
            var edited = await ui.Server.OkGetAsync("registered-models/get?name=" + Uri.EscapeDataString(name));
            Assert.Equal("Second words.", (string?)edited["registered_model"]!["description"]);

            // Delete asks first; cancelling keeps the model.
            await page.Locator("[data-testid=delete-model]").ClickAsync();
            await Expect(page.Locator(".mud-dialog")).ToContainTextAsync("cannot be undone");
            await UiFixture.ReviewScreenshotAsync(page, "model-delete-dialog");
            await page.Locator(".mud-dialog").GetByRole(AriaRole.Button, new() { Name = "Cancel" }).ClickAsync();
            await Expect(page.Locator(".mud-dialog")).ToHaveCountAsync(0);
            await ui.Server.OkGetAsync("registered-models/get?name=" + Uri.EscapeDataString(name));

            await page.Locator("[data-testid=delete-model]").ClickAsync();
            await page.Locator("[data-testid=confirm-delete-model]").ClickAsync();
            await Expect(page).ToHaveURLAsync(new Regex("/models$"));
            await Expect(page.Locator($"[data-model='{name}']")).ToHaveCountAsync(0);
            var (status, body) = await ui.Server.GetAsync("registered-models/get?name=" + Uri.EscapeDataString(name));
            Assert.Equal(System.Net.HttpStatusCode.NotFound, status);
            Assert.Equal("RESOURCE_DOES_NOT_EXIST", (string?)body!["error_code"]);
        });
    }

    /// <summary>Presses Tab until the focused element satisfies <paramref name="predicate"/> (a JS function of the element); false after <paramref name="max"/> presses.</summary>
    private static async Task<bool> TabUntilAsync(IPage page, string predicate, int max = 40)
    {
        for (var i = 0; i < max; i++)
        {
            await page.Keyboard.PressAsync("Tab");
            if (await page.EvaluateAsync<bool>($"(() => {{ const e = document.activeElement; return !!e && ({predicate})(e); }})()"))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Whether the focused element shows a focus ring: its own outline, or for a table row, the inset ring its cells draw.</summary>
    private static Task<bool> HasFocusRingAsync(IPage page) => page.EvaluateAsync<bool>("""
        (() => {
            const e = document.activeElement;
            const s = getComputedStyle(e);
            if (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0) return true;
            return e.matches('tr') && getComputedStyle(e.cells[0]).boxShadow.includes('inset');
        })()
        """);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task The_runs_table_works_with_the_keyboard_alone(bool dark)
    {
        if (ui.Unavailable is not null)
        {
            return;
        }

        var (_, a, _, runs) = await SeedTwoExperimentsAsync();
        var name = nameof(The_runs_table_works_with_the_keyboard_alone) + (dark ? "_dark" : "_light");
        await ui.WithPageAsync(name, async page =>
        {
            await page.GotoAsync($"/experiments/{a}");
            var table = page.Locator("[data-testid=runs-table]");
            await Expect(table.Locator("tbody tr[data-run-id]")).ToHaveCountAsync(2);

            // The first Tab stop is the skip link; Enter on it skips the app bar.
            await page.Keyboard.PressAsync("Tab");
            await Expect(page.Locator("[data-testid=skip-link]")).ToBeFocusedAsync();
            await Expect(page.Locator("[data-testid=skip-link]")).ToBeInViewportAsync();
            await page.Keyboard.PressAsync("Enter");
            await Expect(page.Locator("main#main-content")).ToBeFocusedAsync();

            // Tab reaches the filter box; Enter there filters.
            Assert.True(await TabUntilAsync(page, "e => !!e.closest('[data-testid=run-filter]') || e.matches('[data-testid=run-filter]')"), "Tab never reached the filter box");
            await page.Keyboard.TypeAsync("metrics.acc > 0");
            await page.Keyboard.PressAsync("Enter");
            await Expect(page).ToHaveURLAsync(new Regex("filter="));

            // Tab reaches a sort header; its focus ring shows; Enter sorts.
            await page.Locator("h1").FocusAsync();
            Assert.True(await TabUntilAsync(page, "e => e.closest('th[data-column=\"metrics.acc\"]') !== null && e.matches('[data-testid=sort-header]')"), "Tab never reached the acc header");
            Assert.True(await HasFocusRingAsync(page), "no visible focus ring");
            await UiFixture.ReviewScreenshotAsync(page, "keyboard-focus-header" + (dark ? "-dark" : ""));
            await page.Keyboard.PressAsync("Enter");
            await Expect(page).ToHaveURLAsync(new Regex("sort=metrics.acc"));
            await Expect(RunNames(page)).ToHaveTextAsync(["a-high", "a-low"]);
            await Expect(page.Locator("th[data-column='metrics.acc'] [data-testid=sort-header]")).ToBeFocusedAsync();
            await page.Keyboard.PressAsync("Enter");
            await Expect(page).ToHaveURLAsync(new Regex("dir=asc"));
            await Expect(RunNames(page)).ToHaveTextAsync(["a-low", "a-high"]);

            // Rows are Tab stops with a visible focus ring; Enter on one opens its run.
            Assert.True(await TabUntilAsync(page, "e => e.matches('tr[data-run-id]')"), "Tab never reached a run row");
            Assert.True(await HasFocusRingAsync(page), "no visible focus ring");
            var runId = await page.EvaluateAsync<string>("document.activeElement.dataset.runId");
            Assert.Equal(runs["a-low"], runId);
            await UiFixture.ReviewScreenshotAsync(page, "keyboard-focus-row" + (dark ? "-dark" : ""));
            await page.Keyboard.PressAsync("Enter");
            await Expect(page).ToHaveURLAsync(new Regex($"/experiments/{a}/runs/{runId}$"));
            await Expect(page.Locator("h1")).ToHaveTextAsync("a-low");
        }, dark);
    }
}
