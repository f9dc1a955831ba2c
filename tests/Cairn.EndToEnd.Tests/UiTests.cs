using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Cairn.EndToEnd.Tests;

/// <summary>The web UI in a real browser against a real server: each page, filtering, sorting, columns, charts, artifacts.</summary>
[Collection(UiCollection.Name)]
public sealed partial class UiTests(UiFixture ui)
{
    private SeededData Data => ui.Data;

    private static ILocator FilterBox(IPage page) => page.Locator("input[data-testid=run-filter], [data-testid=run-filter] input").First;

    /// <summary>Run names in the runs table, top to bottom.</summary>
    private static async Task<string[]> RunNamesAsync(IPage page)
    {
        await Expect(page.Locator("[data-testid=runs-table] tbody tr[data-run-id]").First).ToBeVisibleAsync();
        return [.. (await page.Locator("[data-testid=runs-table] tbody tr[data-run-id] td.name a").AllInnerTextsAsync()).Select(s => s.Trim())];
    }

    [Fact]
    public async Task Experiments_page_lists_seeded_experiments_and_searches_by_name()
    {
        if (ui.Unavailable is not null)
        {
            return;
        }

        await ui.WithPageAsync(nameof(Experiments_page_lists_seeded_experiments_and_searches_by_name), async page =>
        {
            await page.GotoAsync("/");
            var table = page.Locator("[data-testid=experiments-table]");
            await Expect(table.GetByRole(AriaRole.Link, new() { Name = SeededData.VisionName, Exact = true })).ToBeVisibleAsync();
            await Expect(table.GetByRole(AriaRole.Link, new() { Name = SeededData.EmptyName, Exact = true })).ToBeVisibleAsync();

            await page.Locator("input[data-testid=experiment-search], [data-testid=experiment-search] input").First.FillAsync("visi");
            await Expect(table.GetByRole(AriaRole.Link, new() { Name = SeededData.EmptyName, Exact = true })).ToHaveCountAsync(0);
            await Expect(table.GetByRole(AriaRole.Link, new() { Name = SeededData.VisionName, Exact = true })).ToBeVisibleAsync();
            await Expect(page).ToHaveURLAsync(new Regex("q=visi"));

            await table.GetByRole(AriaRole.Link, new() { Name = SeededData.VisionName, Exact = true }).ClickAsync();
            await Expect(page).ToHaveURLAsync(new Regex($"/experiments/{Data.VisionExperimentId}$"));
            await Expect(page.Locator("h1")).ToHaveTextAsync(SeededData.VisionName);
        });
    }

    [Fact]
    public async Task Experiments_can_be_created_renamed_deleted_and_restored()
    {
        if (ui.Unavailable is not null)
        {
            return;
        }

        await ui.WithPageAsync(nameof(Experiments_can_be_created_renamed_deleted_and_restored), async page =>
        {
            var name = "e2e-created-" + Guid.NewGuid().ToString("N")[..6];
            await page.GotoAsync("/");
            await page.Locator("[data-testid=create-experiment]").ClickAsync();
            await page.Locator("input[data-testid=experiment-name-input], [data-testid=experiment-name-input] input").First.FillAsync(name);
            await page.Locator("[data-testid=confirm-create]").ClickAsync();
            var row = page.Locator("[data-testid=experiments-table] tr", new() { Has = page.GetByRole(AriaRole.Link, new() { Name = name, Exact = true }) });
            await Expect(row).ToHaveCountAsync(1);

            // A duplicate name is refused inside the dialog, not with a crash.
            await page.Locator("[data-testid=create-experiment]").ClickAsync();
            await page.Locator("input[data-testid=experiment-name-input], [data-testid=experiment-name-input] input").First.FillAsync(name);
            await page.Locator("[data-testid=confirm-create]").ClickAsync();
            await Expect(page.GetByText("already exists")).ToBeVisibleAsync();
            await page.GetByRole(AriaRole.Button, new() { Name = "Cancel" }).ClickAsync();

            var renamed = name + "-renamed";
            await row.GetByRole(AriaRole.Button, new() { Name = $"Rename {name}" }).ClickAsync();
            await page.Locator("input[data-testid=experiment-rename-input], [data-testid=experiment-rename-input] input").First.FillAsync(renamed);
            await page.Locator("[data-testid=confirm-rename]").ClickAsync();
            var renamedLink = page.Locator("[data-testid=experiments-table]").GetByRole(AriaRole.Link, new() { Name = renamed, Exact = true });
            await Expect(renamedLink).ToBeVisibleAsync();

            await page.GetByRole(AriaRole.Button, new() { Name = $"Delete {renamed}" }).ClickAsync();
            await page.Locator("[data-testid=confirm-delete]").ClickAsync();
            await Expect(renamedLink).ToHaveCountAsync(0);

            await page.Locator("[data-testid=show-deleted] input, input[data-testid=show-deleted]").First.ClickAsync();
            await Expect(page).ToHaveURLAsync(new Regex("deleted=true"));
            await page.GetByRole(AriaRole.Button, new() { Name = $"Restore {renamed}" }).ClickAsync();
            await Expect(page.GetByRole(AriaRole.Button, new() { Name = $"Restore {renamed}" })).ToHaveCountAsync(0);

            var json = await ui.Server.OkGetAsync("experiments/get-by-name?experiment_name=" + Uri.EscapeDataString(renamed));
            Assert.Equal("active", (string?)json["experiment"]!["lifecycle_stage"]);
        });
    }

    [Fact]
    public async Task Runs_page_shows_runs_with_children_nested_under_their_parent()
    {
        if (ui.Unavailable is not null)
        {
            return;
        }

        await ui.WithPageAsync(nameof(Runs_page_shows_runs_with_children_nested_under_their_parent), async page =>
        {
            await page.GotoAsync($"/experiments/{Data.VisionExperimentId}");
            var names = await RunNamesAsync(page);

            // Newest first at the top level; each parent is followed by its children.
            Assert.Equal(["long-history", "tuning", "trial-3", "trial-2", "trial-1", "baseline"], names);
            var trial = page.Locator($"tr[data-run-id='{Data.TrialRunIds[0]}']");
            await Expect(trial).ToHaveAttributeAsync("data-depth", "1");
            await Expect(page.Locator($"tr[data-run-id='{Data.TuningRunId}']")).ToContainTextAsync("3 children");

            // Collapsing the parent hides its children.
            await page.GetByRole(AriaRole.Button, new() { Name = "Hide child runs" }).ClickAsync();
            await Expect(trial).ToHaveCountAsync(0);
            Assert.Equal(["long-history", "tuning", "baseline"], await RunNamesAsync(page));

            // Default columns include the metrics and params of the loaded runs.
            await Expect(page.Locator("th[data-column='metrics.accuracy']")).ToBeVisibleAsync();
            await Expect(page.Locator("th[data-column='params.model']")).ToBeVisibleAsync();
            await Expect(page.Locator($"tr[data-run-id='{Data.BaselineRunId}']")).ToContainTextAsync("0.81");
        });
    }

    [Fact]
    public async Task A_mistyped_address_shows_the_not_found_page_while_the_api_keeps_its_json_404()
    {
        if (ui.Unavailable is not null)
        {
            return;
        }

        await ui.WithPageAsync(nameof(A_mistyped_address_shows_the_not_found_page_while_the_api_keeps_its_json_404), async page =>
        {
            await page.GotoAsync("/no-such-page");
            await Expect(page.GetByText("This page does not exist")).ToBeVisibleAsync();
        });

        using var api = await ui.Server.Http.GetAsync("/api/2.0/mlflow/does-not-exist");
        Assert.Equal(System.Net.HttpStatusCode.NotFound, api.StatusCode);
        Assert.Contains("ENDPOINT_NOT_FOUND", await api.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Empty_experiment_says_there_are_no_runs()
    {
        if (ui.Unavailable is not null)
        {
            return;
        }

        await ui.WithPageAsync(nameof(Empty_experiment_says_there_are_no_runs), async page =>
        {
            await page.GotoAsync($"/experiments/{Data.EmptyExperimentId}");
            await Expect(page.GetByText("No runs in this experiment yet")).ToBeVisibleAsync();
            await page.GotoAsync("/experiments/987654");
            await Expect(page.GetByText("Experiment 987654 does not exist")).ToBeVisibleAsync();
        });
    }

    [Fact]
    public async Task A_valid_filter_narrows_the_runs_and_is_kept_in_the_url()
    {
        if (ui.Unavailable is not null)
        {
            return;
        }

        await ui.WithPageAsync(nameof(A_valid_filter_narrows_the_runs_and_is_kept_in_the_url), async page =>
        {
            await page.GotoAsync($"/experiments/{Data.VisionExperimentId}");
            await RunNamesAsync(page);
            await FilterBox(page).FillAsync("metrics.accuracy > 0.86");
            await FilterBox(page).PressAsync("Enter");
            await Expect(page).ToHaveURLAsync(new Regex("filter=metrics.accuracy"));
            await Expect(page.Locator($"tr[data-run-id='{Data.BaselineRunId}']")).ToHaveCountAsync(0);
            Assert.Equal(["tuning", "trial-3", "trial-2"], await RunNamesAsync(page));

            // The URL alone restores the view (a shared link).
            var url = page.Url;
            await page.GotoAsync("about:blank");
            await page.GotoAsync(url);
            Assert.Equal(["tuning", "trial-3", "trial-2"], await RunNamesAsync(page));
            await Expect(FilterBox(page)).ToHaveValueAsync("metrics.accuracy > 0.86");
        });
    }

    [Fact]
    public async Task An_invalid_filter_shows_an_inline_error()
    {
        if (ui.Unavailable is not null)
        {
            return;
        }

        await ui.WithPageAsync(nameof(An_invalid_filter_shows_an_inline_error), async page =>
        {
            await page.GotoAsync($"/experiments/{Data.VisionExperimentId}");
            await RunNamesAsync(page);
            await FilterBox(page).FillAsync("metrics.accuracy >>> 1 and");
            await page.Locator("[data-testid=apply-filter]").ClickAsync();
            await Expect(page.Locator(".mud-input-helper-text.mud-input-error, .mud-input-error").First).ToBeVisibleAsync();
            await Expect(page.GetByText("The filter is not valid")).ToBeVisibleAsync();
            await Expect(page.Locator("[data-testid=runs-table]")).ToHaveCountAsync(0);

            // Clearing it brings every run back.
            await page.Locator("[data-testid=clear-filter]").ClickAsync();
            Assert.Contains("baseline", await RunNamesAsync(page));
        });
    }

    [Fact]
    public async Task Clicking_a_metric_header_sorts_by_it_both_ways()
    {
        if (ui.Unavailable is not null)
        {
            return;
        }

        await ui.WithPageAsync(nameof(Clicking_a_metric_header_sorts_by_it_both_ways), async page =>
        {
            await page.GotoAsync($"/experiments/{Data.VisionExperimentId}");
            await RunNamesAsync(page);
            var header = page.Locator("th[data-column='metrics.accuracy'] button");

            // A metric sorts best-first (descending) on the first click.
            await header.ClickAsync();
            await Expect(page).ToHaveURLAsync(new Regex("sort=metrics.accuracy.*dir=desc"));
            await Expect(page.Locator("th[data-column='metrics.accuracy']")).ToHaveAttributeAsync("aria-sort", "descending");
            var names = await RunNamesAsync(page);
            Assert.True(Array.IndexOf(names, "tuning") < Array.IndexOf(names, "baseline"), string.Join(",", names));
            Assert.Equal(["trial-2", "trial-3", "trial-1"], names.Where(n => n.StartsWith("trial", StringComparison.Ordinal)));

            await header.ClickAsync();
            await Expect(page.Locator("th[data-column='metrics.accuracy']")).ToHaveAttributeAsync("aria-sort", "ascending");
            await Expect(page).ToHaveURLAsync(new Regex("dir=asc"));
            names = await RunNamesAsync(page);
            Assert.True(Array.IndexOf(names, "baseline") < Array.IndexOf(names, "tuning"), string.Join(",", names));
            Assert.Equal(["trial-1", "trial-3", "trial-2"], names.Where(n => n.StartsWith("trial", StringComparison.Ordinal)));
        });
    }

    [Fact]
    public async Task The_column_chooser_adds_and_removes_columns()
    {
        if (ui.Unavailable is not null)
        {
            return;
        }

        await ui.WithPageAsync(nameof(The_column_chooser_adds_and_removes_columns), async page =>
        {
            await page.GotoAsync($"/experiments/{Data.VisionExperimentId}");
            await RunNamesAsync(page);
            await Expect(page.Locator("th[data-column='tags.team']")).ToHaveCountAsync(0);

            await page.Locator("[data-testid=column-chooser-toggle]").ClickAsync();
            await page.Locator("[data-testid=column-chooser] input[data-column='tags.team']").CheckAsync();
            await Expect(page.Locator("th[data-column='tags.team']")).ToBeVisibleAsync();
            await Expect(page.Locator($"tr[data-run-id='{Data.BaselineRunId}']")).ToContainTextAsync("vision");
            await Expect(page).ToHaveURLAsync(new Regex("col=tags.team"));

            await page.Locator("[data-testid=column-chooser] input[data-column='params.model']").UncheckAsync();
            await Expect(page.Locator("th[data-column='params.model']")).ToHaveCountAsync(0);
            await page.Locator("[data-testid=column-chooser] input[data-column='attributes.run_id']").CheckAsync();
            await Expect(page.Locator($"tr[data-run-id='{Data.BaselineRunId}']")).ToContainTextAsync(Data.BaselineRunId);
        });
    }

    [Fact]
    public async Task Run_detail_shows_overview_params_tags_and_a_chart_with_every_point()
    {
        if (ui.Unavailable is not null)
        {
            return;
        }

        await ui.WithPageAsync(nameof(Run_detail_shows_overview_params_tags_and_a_chart_with_every_point), async page =>
        {
            await page.GotoAsync($"/experiments/{Data.VisionExperimentId}");
            await page.GetByRole(AriaRole.Link, new() { Name = "baseline", Exact = true }).ClickAsync();
            await Expect(page.Locator("h1")).ToHaveTextAsync("baseline");
            var overview = page.Locator("[data-testid=run-overview]");
            await Expect(overview).ToContainTextAsync(Data.BaselineRunId);
            await Expect(overview).ToContainTextAsync("alice");
            await Expect(overview).ToContainTextAsync("/home/alice/train.py");
            await Expect(overview).ToContainTextAsync("1m 5s");

            await page.GetByRole(AriaRole.Tab, new() { Name = "Parameters (2)" }).ClickAsync();
            await Expect(page.Locator("[data-testid=params-table]")).ToContainTextAsync("tree");
            await page.GetByRole(AriaRole.Tab, new() { Name = "Tags (1)" }).ClickAsync();
            await Expect(page.Locator("[data-testid=tags-table]")).ToContainTextAsync("vision");

            await page.GetByRole(AriaRole.Tab, new() { Name = "Metrics (2)" }).ClickAsync();
            await Expect(page).ToHaveURLAsync(new Regex("tab=metrics"));
            var loss = page.Locator("[data-testid=metric-chart][data-metric=loss]");
            await Expect(loss.Locator("[data-testid=chart-note]")).ToHaveTextAsync("5 points");

            // plotly draws one marker per point of a short series.
            await Expect(loss.Locator("g.scatterlayer path.point")).ToHaveCountAsync(SeededData.LossHistory.Length);
            await Expect(page.Locator("[data-testid=metrics-table]")).ToContainTextAsync("0.4");
        });
    }

    [Fact]
    public async Task Run_detail_of_a_child_links_to_its_parent_and_the_parent_lists_children()
    {
        if (ui.Unavailable is not null)
        {
            return;
        }

        await ui.WithPageAsync(nameof(Run_detail_of_a_child_links_to_its_parent_and_the_parent_lists_children), async page =>
        {
            await page.GotoAsync($"/experiments/{Data.VisionExperimentId}/runs/{Data.TrialRunIds[1]}");
            await Expect(page.Locator("h1")).ToHaveTextAsync("trial-2");
            await page.Locator("[data-testid=run-overview]").GetByRole(AriaRole.Link, new() { Name = "tuning", Exact = true }).ClickAsync();
            await Expect(page.Locator("h1")).ToHaveTextAsync("tuning");
            await Expect(page.Locator("[data-testid=child-runs] a")).ToHaveTextAsync(["trial-1", "trial-2", "trial-3"]);
        });
    }

    [Fact]
    public async Task A_long_history_is_downsampled_on_the_server_keeping_its_spike()
    {
        if (ui.Unavailable is not null)
        {
            return;
        }

        await ui.WithPageAsync(nameof(A_long_history_is_downsampled_on_the_server_keeping_its_spike), async page =>
        {
            await page.GotoAsync($"/experiments/{Data.VisionExperimentId}/runs/{Data.LongHistoryRunId}?tab=metrics");
            var chart = page.Locator("[data-testid=metric-chart][data-metric=noisy]");
            await Expect(chart.Locator("[data-testid=chart-note]")).ToContainTextAsync("10,000 points");
            await Expect(chart.Locator("[data-testid=chart-note]")).ToContainTextAsync("drawn");
            await Expect(chart.Locator("g.scatterlayer path.js-line")).ToHaveCountAsync(1);

            // The y-axis reaches the spike at 100: the maximum survived downsampling.
            var ticks = await chart.Locator("g.ytick text").AllTextContentsAsync();
            Assert.Contains(ticks, t => double.TryParse(t, System.Globalization.CultureInfo.InvariantCulture, out var v) && v >= 80);
        });
    }

    [Fact]
    public async Task Artifacts_are_listed_and_previewed_as_text_json_csv_and_image()
    {
        if (ui.Unavailable is not null)
        {
            return;
        }

        await ui.WithPageAsync(nameof(Artifacts_are_listed_and_previewed_as_text_json_csv_and_image), async page =>
        {
            await page.GotoAsync($"/experiments/{Data.VisionExperimentId}/runs/{Data.BaselineRunId}?tab=artifacts");
            var browser = page.Locator("[data-testid=artifact-browser]");
            var preview = page.Locator("[data-testid=artifact-preview]");

            await browser.Locator("[data-artifact='notes.txt']").ClickAsync();
            await Expect(preview.Locator("[data-testid=artifact-text]")).ToContainTextAsync("Baseline notes");
            await Expect(preview.Locator("[data-testid=artifact-download]")).ToHaveAttributeAsync("href", new Regex("get-artifact\\?path=notes.txt"));

            await browser.Locator("[data-artifact='config.json']").ClickAsync();
            await Expect(preview.Locator("[data-testid=artifact-text]")).ToContainTextAsync("\"depth\": 5");

            await browser.Locator("[data-artifact='data.csv']").ClickAsync();
            await Expect(preview.Locator("[data-testid=artifact-csv] td").First).ToHaveTextAsync("sepal_length");
            await Expect(preview.Locator("[data-testid=artifact-csv]")).ToContainTextAsync("petal, width");

            await browser.Locator("[data-artifact='plots']").ClickAsync();
            await browser.Locator("[data-artifact='plots/curve.png']").ClickAsync();
            var image = preview.Locator("[data-testid=artifact-image]");
            await Expect(image).ToBeVisibleAsync();
            await page.WaitForFunctionAsync("() => { const i = document.querySelector('[data-testid=artifact-image]'); return i && i.complete && i.naturalWidth === 2; }");

            // The download link serves the bytes that were uploaded.
            var href = await preview.Locator("[data-testid=artifact-download]").GetAttributeAsync("href");
            var bytes = await ui.Server.Http.GetByteArrayAsync("/" + href);
            Assert.Equal(SeededData.Png, bytes);
        });
    }

    [Fact]
    public async Task The_theme_toggle_switches_to_dark_and_remembers_it()
    {
        if (ui.Unavailable is not null)
        {
            return;
        }

        await ui.WithPageAsync(nameof(The_theme_toggle_switches_to_dark_and_remembers_it), async page =>
        {
            await page.GotoAsync("/");
            await Expect(page.Locator("[data-testid=experiments-table]")).ToBeVisibleAsync();
            var background = "() => getComputedStyle(document.body).backgroundColor";
            var light = await page.EvaluateAsync<string>(background);
            await page.Locator("[data-testid=theme-toggle]").ClickAsync();
            await page.WaitForFunctionAsync($"before => ({background})() !== before", light);
            Assert.Equal("dark", await page.EvaluateAsync<string>("() => localStorage.getItem('cairn-theme')"));

            await page.ReloadAsync();
            await Expect(page.Locator("[data-testid=experiments-table]")).ToBeVisibleAsync();
            await page.WaitForFunctionAsync($"before => ({background})() !== before", light);
        });
    }
}
