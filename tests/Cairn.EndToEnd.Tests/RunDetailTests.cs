using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Cairn.EndToEnd.Tests;

/// <summary>The run page's editing and rendering: tags written through the UI and read back over REST, chart smoothing, YAML and MLmodel previews, both themes.</summary>
[Collection(UiCollection.Name)]
public sealed class RunDetailTests(UiFixture ui)
{
    private SeededData Data => ui.Data;

    /// <summary>The y values of each trace plotly drew for one metric's chart.</summary>
    private static Task<double[][]> TraceYAsync(IPage page, string metric) =>
        page.EvaluateAsync<double[][]>(
            "m => Array.from(document.querySelector(`[data-testid=metric-chart][data-metric=${m}] .js-plotly-plot`).data, t => Array.from(t.y))", metric);

    private static Task WaitForTracesAsync(IPage page, string metric, int count) =>
        page.WaitForFunctionAsync(
            "([m, n]) => { const p = document.querySelector(`[data-testid=metric-chart][data-metric=${m}] .js-plotly-plot`); return p && p.data && p.data.length === n; }",
            new object[] { metric, count });

    /// <summary>The run's tags as the REST API returns them (runs/get).</summary>
    private async Task<Dictionary<string, string>> TagsOverRestAsync(string runId)
    {
        var json = await ui.Server.OkGetAsync("runs/get?run_id=" + runId);
        return (json["run"]!["data"]!["tags"] as JsonArray ?? []).ToDictionary(t => (string)t!["key"]!, t => (string?)t!["value"] ?? "");
    }

    [Fact]
    public async Task Tags_are_added_edited_and_deleted_in_the_ui_and_read_back_over_rest()
    {
        if (ui.Unavailable is not null)
        {
            return;
        }

        // A run of its own, so the other tests' view of the seeded runs does not change.
        var experiment = await ui.Server.CreateExperimentAsync("e2e-tags-" + Guid.NewGuid().ToString("N")[..6]);
        var runId = await ui.Server.CreateRunAsync(experiment, "tagged", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());

        await ui.WithPageAsync(nameof(Tags_are_added_edited_and_deleted_in_the_ui_and_read_back_over_rest), async page =>
        {
            await page.GotoAsync($"/experiments/{experiment}/runs/{runId}?tab=tags");
            await Expect(page.GetByText("No tags")).ToBeVisibleAsync();
            var key = page.Locator("[data-testid=tag-key]");
            var value = page.Locator("[data-testid=tag-value]");
            var add = page.Locator("[data-testid=add-tag]");
            await Expect(add).ToBeDisabledAsync();

            // Add: the table and the REST API both have it.
            await key.FillAsync("owner");
            await value.FillAsync("alice");
            await add.ClickAsync();
            var row = page.Locator("[data-testid=tags-table] tr[data-tag=owner]");
            await Expect(row).ToContainTextAsync("alice");
            await Expect(page.GetByRole(AriaRole.Tab, new() { Name = "Tags (1)" })).ToBeVisibleAsync();
            await Expect(key).ToHaveValueAsync("");
            Assert.Equal("alice", (await TagsOverRestAsync(runId))["owner"]);

            // An invalid key is refused inline by the store's validation, and the page keeps working.
            await key.FillAsync("bad key!");
            await value.FillAsync("x");
            await add.ClickAsync();
            await Expect(page.Locator("[data-testid=tag-error]")).ToContainTextAsync("Names may only contain");
            Assert.False((await TagsOverRestAsync(runId)).ContainsKey("bad key!"));

            // Typing an existing key offers to replace its value.
            await key.FillAsync("owner");
            await Expect(add).ToHaveTextAsync("Replace value");
            await key.FillAsync("");

            // Edit in place, over several lines.
            await row.GetByRole(AriaRole.Button, new() { Name = "Edit owner" }).ClickAsync();
            await page.Locator("[data-testid=tag-edit-value]").FillAsync("bob\nand carol");
            await UiFixture.ReviewScreenshotAsync(page, "run-tag-editing");
            await page.Locator("[data-testid=save-tag]").ClickAsync();
            await Expect(row).ToContainTextAsync("and carol");
            await Expect(page.Locator("[data-testid=tag-error]")).ToHaveCountAsync(0);
            Assert.Equal("bob\nand carol", (await TagsOverRestAsync(runId))["owner"]);

            // Escape leaves an edit without saving.
            await row.GetByRole(AriaRole.Button, new() { Name = "Edit owner" }).ClickAsync();
            await page.Locator("[data-testid=tag-edit-value]").FillAsync("nobody");
            await page.Locator("[data-testid=tag-edit-value]").PressAsync("Escape");
            await Expect(page.Locator("[data-testid=tag-edit-value]")).ToHaveCountAsync(0);
            Assert.Equal("bob\nand carol", (await TagsOverRestAsync(runId))["owner"]);

            // System tags are listed on demand, and editable as in MLflow: mlflow.runName renames the run.
            await Expect(page.Locator("[data-testid=tags-table] tr[data-tag='mlflow.runName']")).ToHaveCountAsync(0);
            await page.Locator("[data-testid=show-system-tags] input, input[data-testid=show-system-tags]").First.ClickAsync();
            var runName = page.Locator("[data-testid=tags-table] tr[data-tag='mlflow.runName']");
            await Expect(runName).ToContainTextAsync("tagged");
            await runName.GetByRole(AriaRole.Button, new() { Name = "Edit mlflow.runName" }).ClickAsync();
            await page.Locator("[data-testid=tag-edit-value]").FillAsync("retagged");
            await page.Locator("[data-testid=tag-edit-value]").PressAsync("Control+Enter");
            await Expect(page.Locator("h1")).ToHaveTextAsync("retagged");
            Assert.Equal("retagged", (await TagsOverRestAsync(runId))["mlflow.runName"]);

            // Delete.
            await row.GetByRole(AriaRole.Button, new() { Name = "Delete owner" }).ClickAsync();
            await Expect(row).ToHaveCountAsync(0);
            await Expect(page.GetByRole(AriaRole.Tab, new() { Name = "Tags (0)" })).ToBeVisibleAsync();
            Assert.False((await TagsOverRestAsync(runId)).ContainsKey("owner"));
        });
    }

    [Fact]
    public async Task Smoothing_draws_a_moving_average_over_the_faint_raw_line_and_is_kept_in_the_url()
    {
        if (ui.Unavailable is not null)
        {
            return;
        }

        await ui.WithPageAsync(nameof(Smoothing_draws_a_moving_average_over_the_faint_raw_line_and_is_kept_in_the_url), async page =>
        {
            await page.GotoAsync($"/experiments/{Data.VisionExperimentId}/runs/{Data.BaselineRunId}?tab=metrics");
            await WaitForTracesAsync(page, "loss", 1);
            Assert.Equal(SeededData.LossHistory, (await TraceYAsync(page, "loss")).Single());
            await Expect(page.Locator("[data-testid=smoothing-value]")).ToHaveTextAsync("off");

            await page.Locator("[data-testid=smoothing] input[type=range]").FillAsync("0.6");
            await Expect(page).ToHaveURLAsync(new Regex(@"[?&]smooth=0\.6(&|$)"));
            await Expect(page.Locator("[data-testid=smoothing-value]")).ToHaveTextAsync("0.60");

            // Every chart of the page gets a raw and a smoothed trace.
            await WaitForTracesAsync(page, "loss", 2);
            await WaitForTracesAsync(page, "accuracy", 2);
            var traces = await TraceYAsync(page, "loss");
            Assert.Equal(SeededData.LossHistory, traces[0]);
            Assert.Equal(Expected(SeededData.LossHistory, 0.6), traces[1], (a, b) => Math.Abs(a - b) < 1e-9);
            Assert.NotEqual(traces[0], traces[1]);
            var opacity = await page.EvaluateAsync<double>("() => document.querySelector('[data-testid=metric-chart][data-metric=loss] .js-plotly-plot').data[0].opacity");
            Assert.True(opacity < 0.5, $"the raw line should be faint, opacity {opacity}");

            // A shared link restores the smoothing.
            var url = page.Url;
            await page.GotoAsync("about:blank");
            await page.GotoAsync(url);
            await Expect(page.Locator("[data-testid=smoothing-value]")).ToHaveTextAsync("0.60");
            await WaitForTracesAsync(page, "loss", 2);
            await UiFixture.ReviewScreenshotAsync(page, "run-metrics-smoothed");

            // The x-axis and log scale are kept in the URL beside it.
            await page.Locator("[data-testid=x-axis]").GetByText("Relative time").ClickAsync();
            await Expect(page).ToHaveURLAsync(new Regex("x=time"));
            await Expect(page.Locator("[data-testid=metric-chart][data-metric=loss] .g-xtitle")).ToHaveTextAsync("Relative time (s)");
            await page.Locator("[data-testid=log-scale] input, input[data-testid=log-scale]").First.ClickAsync();
            await Expect(page).ToHaveURLAsync(new Regex("log=true"));
            await Expect(page).ToHaveURLAsync(new Regex("smooth=0.6"));
            await WaitForTracesAsync(page, "loss", 2);

            // Back to 0: one raw line, and the parameter leaves the URL.
            await page.Locator("[data-testid=smoothing] input[type=range]").FillAsync("0");
            await WaitForTracesAsync(page, "loss", 1);
            await Expect(page).Not.ToHaveURLAsync(new Regex("smooth="));
        });

        // A debiased exponential moving average, written out independently of the server's.
        static double[] Expected(double[] values, double weight)
        {
            var result = new double[values.Length];
            var sum = 0.0;
            var norm = 0.0;
            for (var i = 0; i < values.Length; i++)
            {
                sum = (sum * weight) + values[i];
                norm = (norm * weight) + 1;
                result[i] = sum / norm;
            }

            return result;
        }
    }

    [Fact]
    public async Task Yaml_is_shown_coloured_and_an_mlmodel_file_as_a_summary()
    {
        if (ui.Unavailable is not null)
        {
            return;
        }

        await ui.WithPageAsync(nameof(Yaml_is_shown_coloured_and_an_mlmodel_file_as_a_summary), async page =>
        {
            await page.GotoAsync($"/experiments/{Data.VisionExperimentId}/runs/{Data.BaselineRunId}?tab=artifacts");
            var browser = page.Locator("[data-testid=artifact-browser]");
            var preview = page.Locator("[data-testid=artifact-preview]");

            await browser.Locator("[data-artifact='config.yaml']").ClickAsync();
            var yaml = preview.Locator("[data-testid=artifact-yaml]");
            await Expect(yaml.Locator(".y-key", new() { HasTextString = "learning_rate" })).ToBeVisibleAsync();
            await Expect(yaml.Locator(".y-comment")).ToHaveTextAsync("# Training configuration");
            await Expect(yaml.Locator(".y-literal", new() { HasTextString = "0.01" })).ToBeVisibleAsync();

            // The text is shown exactly as written: indentation and order survive.
            Assert.Equal(SeededData.ConfigYaml, await yaml.TextContentAsync());
            await Expect(preview.Locator("[data-testid=yaml-error]")).ToHaveCountAsync(0);

            await browser.Locator("[data-artifact='model']").ClickAsync();
            await browser.Locator("[data-artifact='model/MLmodel']").ClickAsync();
            var summary = preview.Locator("[data-testid=mlmodel-summary]");
            var fields = summary.Locator("[data-testid=mlmodel-fields]");
            await Expect(fields).ToContainTextAsync(SeededData.ModelUuid);
            await Expect(fields).ToContainTextAsync(Data.BaselineRunId);
            await Expect(fields).ToContainTextAsync("2026-11-26 10:00:00.000000");
            await Expect(fields).ToContainTextAsync("2.16.2");
            await Expect(summary.Locator(".flavor[data-flavor=python_function]")).ToContainTextAsync("mlflow.sklearn");
            await Expect(summary.Locator(".flavor[data-flavor=sklearn]")).ToContainTextAsync("1.5.1");

            var inputs = summary.Locator("[data-testid=signature-inputs] tbody tr");
            await Expect(inputs).ToHaveCountAsync(2);
            await Expect(inputs.Nth(0).Locator("td")).ToHaveTextAsync(["sepal_length", "double", "yes"]);
            await Expect(inputs.Nth(1).Locator("td")).ToHaveTextAsync(["species", "string", "no"]);
            await Expect(summary.Locator("[data-testid=signature-outputs] tbody td")).ToHaveTextAsync(["—", "tensor int64", "(-1)", "yes"]);
            await Expect(summary.Locator("[data-testid=signature-params]")).ToHaveCountAsync(0);

            // The raw file follows, and the download serves it.
            Assert.Equal(SeededData.MlModel(Data.BaselineRunId), await summary.Locator("[data-testid=artifact-yaml]").TextContentAsync());
            var href = await preview.Locator("[data-testid=artifact-download]").GetAttributeAsync("href");
            Assert.Equal(SeededData.MlModel(Data.BaselineRunId), await ui.Server.Http.GetStringAsync("/" + href));
        });
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task The_run_page_reads_well_in_both_themes(bool dark)
    {
        if (ui.Unavailable is not null)
        {
            return;
        }

        var theme = dark ? "dark" : "light";
        await ui.WithPageAsync($"{nameof(The_run_page_reads_well_in_both_themes)}-{theme}", async page =>
        {
            await page.GotoAsync($"/experiments/{Data.VisionExperimentId}/runs/{Data.BaselineRunId}");
            await Expect(page.Locator("[data-testid=run-overview]")).ToContainTextAsync(Data.BaselineRunId);
            await Expect(page.Locator(".cairn-page.cairn-dark")).ToHaveCountAsync(dark ? 1 : 0);
            await UiFixture.ReviewScreenshotAsync(page, $"run-{theme}-overview");

            await page.GotoAsync($"/experiments/{Data.VisionExperimentId}/runs/{Data.BaselineRunId}?tab=metrics&smooth=0.5");
            await WaitForTracesAsync(page, "loss", 2);
            await UiFixture.ReviewScreenshotAsync(page, $"run-{theme}-metrics");

            await page.GetByRole(AriaRole.Tab, new() { Name = "Tags (1)" }).ClickAsync();
            await Expect(page.Locator("[data-testid=tags-table] tr[data-tag=team]")).ToContainTextAsync("vision");
            await UiFixture.ReviewScreenshotAsync(page, $"run-{theme}-tags");

            await page.GetByRole(AriaRole.Tab, new() { Name = "Artifacts" }).ClickAsync();
            await page.Locator("[data-artifact='config.yaml']").ClickAsync();
            var key = page.Locator("[data-testid=artifact-yaml] .y-key").First;
            await Expect(key).ToBeVisibleAsync();

            // Keys stand out from the text around them in either theme.
            var colours = await page.EvaluateAsync<string[]>(
                "() => [getComputedStyle(document.querySelector('[data-testid=artifact-yaml] .y-key')).color, getComputedStyle(document.querySelector('[data-testid=artifact-yaml]')).color]");
            Assert.NotEqual(colours[1], colours[0]);
            await UiFixture.ReviewScreenshotAsync(page, $"run-{theme}-yaml");

            await page.Locator("[data-artifact='model']").ClickAsync();
            await page.Locator("[data-artifact='model/MLmodel']").ClickAsync();
            await Expect(page.Locator("[data-testid=mlmodel-summary]")).ToBeVisibleAsync();
        }, dark);
    }
}
