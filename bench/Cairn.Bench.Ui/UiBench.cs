using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Playwright;

namespace Cairn.Bench.Ui;

/// <summary>One timed sample: the page's own span (performance.now()) and the same span from .NET.</summary>
internal readonly record struct Sample(double PageMs, double StopwatchMs);

/// <summary>The browser measurements. Every span is taken on the page's clock (performance.now()).</summary>
internal sealed class UiBench(IBrowser browser, string baseUrl, string experimentId, string historyRunId, int runs)
{
    private const string RowSelector = "[data-testid=runs-table] tbody tr[data-run-id]";
    private const string FilterBoxSelector = "input[data-testid=run-filter], [data-testid=run-filter] input";
    private const string SortHeaderSelector = "th[data-column='metrics.accuracy'] button";
    private const string ChartPathSelector = "[data-testid=metric-chart][data-metric=curve] g.scatterlayer g.trace path";
    private const double FilterThreshold = 0.99;
    private const int TimeoutMs = 120_000;

    // Resolves with performance.now() in the first animation frame in which the first runs-table row has a layout box.
    private const string FirstRowVisibleJs = """
        () => {
          const r = document.querySelector('[data-testid=runs-table] tbody tr[data-run-id]');
          return r && r.getBoundingClientRect().height > 0 ? performance.now() : false;
        }
        """;

    // Also notes, in window.__marks, the first frame with the chart card (page rendered over the circuit)
    // and with its chart-note (the server has read and reduced the history).
    private const string ChartDrawnJs = """
        () => {
          const m = window.__marks || (window.__marks = {});
          if (m.card === undefined && document.querySelector('[data-testid=metric-chart][data-metric=curve]')) m.card = performance.now();
          if (m.note === undefined && document.querySelector('[data-testid=metric-chart][data-metric=curve] [data-testid=chart-note]')) m.note = performance.now();
          const p = document.querySelector('[data-testid=metric-chart][data-metric=curve] g.scatterlayer g.trace path');
          const d = p && p.getAttribute('d');
          return d && d.length > 1 ? performance.now() : false;
        }
        """;

    // Arms a watcher: the start is the keydown/click event (performance.now() inside a capturing listener),
    // the end is the first animation frame whose first runs-table row differs from `before` and has a layout box.
    private const string ArmWatcherJs = """
        ([evt, key, before]) => {
          window.__benchStart = null;
          const onEvent = e => { if (window.__benchStart === null && (key === '' || e.key === key)) window.__benchStart = performance.now(); };
          document.addEventListener(evt, onEvent, true);
          window.__benchResult = new Promise(resolve => {
            const tick = () => {
              const r = document.querySelector('[data-testid=runs-table] tbody tr[data-run-id]');
              const id = r ? r.getAttribute('data-run-id') : null;
              if (window.__benchStart !== null && id && id !== before && r.getBoundingClientRect().height > 0) {
                const end = performance.now();
                document.removeEventListener(evt, onEvent, true);
                const a = r.querySelector('td.name a');
                resolve({ ms: end - window.__benchStart, name: a ? a.textContent.trim() : '',
                          rows: document.querySelectorAll('[data-testid=runs-table] tbody tr[data-run-id]').length });
              } else {
                requestAnimationFrame(tick);
              }
            };
            requestAnimationFrame(tick);
          });
          return true;
        }
        """;

    private IBrowserContext? _warm;

    public List<string> ConsoleErrors { get; } = [];

    public string? ChartNote { get; private set; }

    public int? RowsShown { get; private set; }

    private string RunsUrl => $"{baseUrl}/experiments/{experimentId}";

    /// <summary>Runs <paramref name="measure"/> once untimed (warm-up) and <paramref name="repeat"/> times timed.</summary>
    public async Task<JsonObject> RepeatAsync(int repeat, double targetMs, string what, Func<Task<Sample>> measure)
    {
        var warmup = await measure();
        var samples = new List<Sample>();
        for (var i = 0; i < repeat; i++)
        {
            samples.Add(await measure());
            Program.Log($"  {samples[^1].PageMs:F0} ms (stopwatch {samples[^1].StopwatchMs:F0} ms)");
        }

        var values = samples.Select(s => s.PageMs).ToList();
        var median = Median(values);
        return new JsonObject
        {
            ["what"] = what,
            ["median_ms"] = Math.Round(median, 1),
            ["values_ms"] = new JsonArray([.. values.Select(v => (JsonNode?)Math.Round(v, 1))]),
            ["stopwatch_median_ms"] = Math.Round(Median([.. samples.Select(s => s.StopwatchMs)]), 1),
            ["warmup_ms"] = Math.Round(warmup.PageMs, 1),
            ["target_ms"] = targetMs,
            ["ratio_to_target"] = Math.Round(median / targetMs, 3),
            ["met"] = median <= targetMs,
        };
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }

    private async Task<IBrowserContext> NewContextAsync()
    {
        var context = await browser.NewContextAsync(new BrowserNewContextOptions
        {
            ViewportSize = new ViewportSize { Width = 1400, Height = 900 },
        });
        context.SetDefaultTimeout(TimeoutMs);
        return context;
    }

    private async Task<IPage> NewPageAsync(IBrowserContext context)
    {
        var page = await context.NewPageAsync();
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                lock (ConsoleErrors)
                {
                    ConsoleErrors.Add(message.Text);
                }
            }
        };
        return page;
    }

    /// <summary>Navigates from about:blank and waits (every animation frame) for <paramref name="predicateJs"/>; returns its performance.now().</summary>
    private static async Task<Sample> TimeNavigationAsync(IPage page, string url, string predicateJs)
    {
        await page.GotoAsync("about:blank");
        var watch = Stopwatch.StartNew();
        await page.GotoAsync(url, new PageGotoOptions { WaitUntil = WaitUntilState.Commit, Timeout = TimeoutMs });
        var handle = await page.WaitForFunctionAsync(predicateJs, null, new PageWaitForFunctionOptions { Timeout = TimeoutMs });
        var stopwatchMs = watch.Elapsed.TotalMilliseconds;
        var pageMs = await handle.JsonValueAsync<double>();
        return new Sample(pageMs, stopwatchMs);
    }

    public async Task<Sample> FirstPaintColdAsync()
    {
        await using var context = await NewContextAsync();
        var page = await NewPageAsync(context);
        var sample = await TimeNavigationAsync(page, RunsUrl, FirstRowVisibleJs);
        RowsShown = await page.Locator(RowSelector).CountAsync();
        return sample;
    }

    public async Task<Sample> FirstPaintWarmAsync()
    {
        _warm ??= await NewContextAsync();
        var page = _warm.Pages.Count > 0 ? _warm.Pages[0] : await NewPageAsync(_warm);
        return await TimeNavigationAsync(page, RunsUrl, FirstRowVisibleJs);
    }

    /// <summary>Opens the runs page fresh (untimed) and returns the page with its first row's run id.</summary>
    private async Task<(IPage Page, string FirstRunId)> OpenRunsPageAsync()
    {
        _warm ??= await NewContextAsync();
        var page = _warm.Pages.Count > 0 ? _warm.Pages[0] : await NewPageAsync(_warm);
        await TimeNavigationAsync(page, RunsUrl, FirstRowVisibleJs);
        var first = await page.Locator(RowSelector).First.GetAttributeAsync("data-run-id") ?? throw new InvalidOperationException("first row has no data-run-id");

        // Let the circuit settle (the page's follow-up renders) before the timed action.
        await page.WaitForTimeoutAsync(300);
        return (page, first);
    }

    private static async Task<(double Ms, string Name, int Rows)> AwaitWatcherAsync(IPage page)
    {
        var result = await page.EvaluateAsync<JsonElement>("() => window.__benchResult").WaitAsync(TimeSpan.FromMilliseconds(TimeoutMs));
        return (result.GetProperty("ms").GetDouble(), result.GetProperty("name").GetString() ?? "", result.GetProperty("rows").GetInt32());
    }

    private static long RunIndex(string name) =>
        name.StartsWith("run-", StringComparison.Ordinal) ? long.Parse(name[4..], CultureInfo.InvariantCulture) : -1;

    public async Task<Sample> FilterAsync()
    {
        var (page, first) = await OpenRunsPageAsync();
        var box = page.Locator(FilterBoxSelector).First;
        await box.FillAsync($"metrics.accuracy > {FilterThreshold.ToString(CultureInfo.InvariantCulture)}");
        await page.WaitForTimeoutAsync(300);
        await page.EvaluateAsync(ArmWatcherJs, new object[] { "keydown", "Enter", first });
        var watch = Stopwatch.StartNew();
        await box.PressAsync("Enter");
        var (ms, name, _) = await AwaitWatcherAsync(page);
        var stopwatchMs = watch.Elapsed.TotalMilliseconds;
        var index = RunIndex(name);
        if (index < 0 || Program.Accuracy(index) <= FilterThreshold)
        {
            throw new InvalidOperationException($"after filtering, the first row is '{name}', which does not match the filter");
        }

        return new Sample(ms, stopwatchMs);
    }

    public async Task<Sample> SortAsync()
    {
        var (page, first) = await OpenRunsPageAsync();
        await page.EvaluateAsync(ArmWatcherJs, new object[] { "click", "", first });
        var watch = Stopwatch.StartNew();
        await page.Locator(SortHeaderSelector).ClickAsync();
        var (ms, name, _) = await AwaitWatcherAsync(page);
        var stopwatchMs = watch.Elapsed.TotalMilliseconds;
        var best = Enumerable.Range(0, runs).MaxBy(i => Program.Accuracy(i));
        if (name != Program.RunName(best))
        {
            throw new InvalidOperationException($"after sorting by accuracy, the first row is '{name}', expected '{Program.RunName(best)}'");
        }

        return new Sample(ms, stopwatchMs);
    }

    private readonly List<(double Card, double Note, double Drawn)> _chartPhases = [];

    public JsonObject ChartPhases()
    {
        var timed = _chartPhases.Skip(1).ToList(); // the first is the warm-up
        return timed.Count == 0 ? [] : new JsonObject
        {
            ["chart_card_rendered"] = Math.Round(Median([.. timed.Select(p => p.Card)]), 1),
            ["history_loaded_note_shown"] = Math.Round(Median([.. timed.Select(p => p.Note)]), 1),
            ["line_drawn"] = Math.Round(Median([.. timed.Select(p => p.Drawn)]), 1),
            ["note"] = "ms since navigation start; card = page rendered over the circuit, note = the server has read and reduced the history, line = plotly drew it",
        };
    }

    private const string SmallChartDrawnJs = """
        () => {
          const p = document.querySelector('[data-testid=metric-chart][data-metric=accuracy] g.scatterlayer g.trace path');
          const d = p && p.getAttribute('d');
          return d && d.length > 1 ? performance.now() : false;
        }
        """;

    public async Task<Sample> SmallChartAsync(string runId)
    {
        _warm ??= await NewContextAsync();
        var page = _warm.Pages.Count > 0 ? _warm.Pages[0] : await NewPageAsync(_warm);
        return await TimeNavigationAsync(page, $"{baseUrl}/experiments/{experimentId}/runs/{runId}?tab=metrics", SmallChartDrawnJs);
    }

    public async Task<Sample> ChartAsync()
    {
        _warm ??= await NewContextAsync();
        var page = _warm.Pages.Count > 0 ? _warm.Pages[0] : await NewPageAsync(_warm);
        var sample = await TimeNavigationAsync(page, $"{baseUrl}/experiments/{experimentId}/runs/{historyRunId}?tab=metrics", ChartDrawnJs);
        var note = page.Locator("[data-testid=metric-chart][data-metric=curve] [data-testid=chart-note]");
        ChartNote = await note.CountAsync() > 0 ? (await note.First.InnerTextAsync()).Trim() : null;
        _ = await page.Locator(ChartPathSelector).CountAsync();
        var marks = await page.EvaluateAsync<JsonElement>("() => window.__marks || {}");
        double Mark(string name) => marks.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : double.NaN;
        _chartPhases.Add((Mark("card"), Mark("note"), sample.PageMs));
        return sample;
    }
}
