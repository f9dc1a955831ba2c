using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Cairn.EndToEnd.Tests;

/// <summary>The model registry pages: list and search, a model's versions, aliases and stages, links to runs.</summary>
[Collection(UiCollection.Name)]
public sealed class RegistryTests(UiFixture ui)
{
    private SeededData Data => ui.Data;

    /// <summary>A model with two versions from the baseline run and @champion on version 1, under a fresh name.</summary>
    private async Task<string> SeedModelAsync(string prefix)
    {
        var name = prefix + "-" + Guid.NewGuid().ToString("N")[..6];
        await ui.Server.OkAsync("registered-models/create", new { name, description = "Classifies the e2e images.", tags = new[] { new { key = "team", value = "vision" } } });
        for (var i = 0; i < 2; i++)
        {
            await ui.Server.OkAsync("model-versions/create", new { name, source = $"runs:/{Data.BaselineRunId}/model", run_id = Data.BaselineRunId });
        }

        await ui.Server.OkAsync("registered-models/alias", new { name, alias = "champion", version = "1" });
        return name;
    }

    [Fact]
    public async Task Moving_an_alias_in_the_ui_is_reflected_in_the_rest_api()
    {
        if (ui.Unavailable is not null)
        {
            return;
        }

        var name = await SeedModelAsync("e2e-classifier");
        await ui.WithPageAsync(nameof(Moving_an_alias_in_the_ui_is_reflected_in_the_rest_api), async page =>
        {
            await page.GotoAsync("/");
            await page.Locator("[data-testid=nav-models]").ClickAsync();
            await Expect(page).ToHaveURLAsync(new Regex("/models$"));
            await page.Locator("[data-testid=model-search] input, input[data-testid=model-search]").First.FillAsync(name[^6..]);
            await Expect(page).ToHaveURLAsync(new Regex("q="));
            var table = page.Locator("[data-testid=models-table]");
            await Expect(table.Locator("tbody tr")).ToHaveCountAsync(1);
            await Expect(table.Locator($"tr[data-model='{name}']")).ToContainTextAsync("@champion → v1");
            await UiFixture.ReviewScreenshotAsync(page, "models-list");
            await table.GetByRole(AriaRole.Link, new() { Name = name, Exact = true }).ClickAsync();

            await Expect(page.Locator("h1")).ToHaveTextAsync(name);
            var versions = page.Locator("[data-testid=versions-table]");
            await Expect(versions.Locator("tbody tr")).ToHaveCountAsync(2);
            await Expect(versions.Locator("tr[data-version='1']")).ToContainTextAsync("@champion");

            // Move @champion to version 2.
            await page.Locator("[data-testid=alias-name]").FillAsync("champion");
            await page.Locator("[data-testid=alias-version]").SelectOptionAsync("2");
            await Expect(page.Locator("[data-testid=set-alias]")).ToHaveTextAsync(new Regex("Move from v1", RegexOptions.IgnoreCase));
            await page.Locator("[data-testid=set-alias]").ClickAsync();
            await Expect(versions.Locator("tr[data-version='2']")).ToContainTextAsync("@champion");
            await Expect(versions.Locator("tr[data-version='1']")).Not.ToContainTextAsync("@champion");

            var byAlias = await ui.Server.OkGetAsync($"registered-models/alias?name={Uri.EscapeDataString(name)}&alias=champion");
            Assert.Equal("2", (string?)byAlias["model_version"]!["version"]);

            // Transition a stage, then delete the alias.
            await versions.Locator("tr[data-version='2'] [data-testid=stage-select]").SelectOptionAsync("Staging");
            await Expect(versions.Locator("tr[data-version='2'] [data-testid=stage-select]")).ToHaveClassAsync(new Regex("stage-staging"));
            var v2 = await ui.Server.OkGetAsync($"model-versions/get?name={Uri.EscapeDataString(name)}&version=2");
            Assert.Equal("Staging", (string?)v2["model_version"]!["current_stage"]);

            await page.Locator("[data-alias=champion] [data-testid=delete-alias]").ClickAsync();
            await Expect(page.Locator("[data-alias=champion]")).ToHaveCountAsync(0);
            var model = await ui.Server.OkGetAsync($"registered-models/get?name={Uri.EscapeDataString(name)}");
            Assert.Null(model["registered_model"]!["aliases"]);

            await UiFixture.ReviewScreenshotAsync(page, "model-detail");

            // Each version links back to the run that produced it.
            await versions.Locator("tr[data-version='1'] [data-testid=source-run]").ClickAsync();
            await Expect(page).ToHaveURLAsync(new Regex($"/runs/{Data.BaselineRunId}$"));
            await Expect(page.Locator("h1")).ToHaveTextAsync("baseline");
        });
    }

    [Fact]
    public async Task An_unknown_model_and_an_empty_search_say_so()
    {
        if (ui.Unavailable is not null)
        {
            return;
        }

        await ui.WithPageAsync(nameof(An_unknown_model_and_an_empty_search_say_so), async page =>
        {
            await page.GotoAsync("/models/no-such-model");
            await Expect(page.GetByText("Model no-such-model does not exist")).ToBeVisibleAsync();
            await page.GotoAsync("/models?q=zzz-nothing-matches");
            await Expect(page.GetByText("No model name contains")).ToBeVisibleAsync();
        });
    }
}
