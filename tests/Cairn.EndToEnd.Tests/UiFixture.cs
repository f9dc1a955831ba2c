using Cairn.Server.Tests;
using Microsoft.Playwright;

namespace Cairn.EndToEnd.Tests;

/// <summary>
/// One `cairn server` seeded through the REST API and one headless Debian Chromium, shared by the UI
/// tests. Without /usr/bin/chromium the tests return early, unless CI is set: then they fail, so a
/// CI machine that lost its browser cannot pass silently.
/// </summary>
public sealed class UiFixture : IAsyncLifetime
{
    public const string ChromiumPath = "/usr/bin/chromium";

    private static readonly string[] ChromiumArgs =
    [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-sync",
    ];

    private IPlaywright? _playwright;

    public CairnProcess Server { get; private set; } = null!;

    public IBrowser? Browser { get; private set; }

    /// <summary>Why the browser tests cannot run here, or null when they can.</summary>
    public string? Unavailable { get; private set; }

    public SeededData Data { get; private set; } = null!;

    public static string ScreenshotDir { get; } = Path.Combine(CairnProcess.RepoRoot, "tests", "Cairn.EndToEnd.Tests", "TestResults", "screenshots");

    public async Task InitializeAsync()
    {
        if (!File.Exists(ChromiumPath))
        {
            var message = $"{ChromiumPath} is missing: install Debian's chromium (apt-get install -y chromium) to run the browser tests.";
            if (!string.IsNullOrEmpty(Environment.GetEnvironmentVariable("CI")))
            {
                throw new InvalidOperationException(message + " CI is set, so the browser tests fail instead of being skipped.");
            }

            Unavailable = message;
            return;
        }

        // The machine is shared and plotly's full bundle is large: give assertions more than Playwright's 5 s.
        Assertions.SetDefaultExpectTimeout(15_000);
        Server = await CairnProcess.StartAsync();
        Data = await SeededData.SeedAsync(Server);
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ChromiumArgs,
        });
    }

    /// <summary>
    /// Runs <paramref name="test"/> on a fresh page. On failure a full-page screenshot goes to
    /// TestResults/screenshots/&lt;name&gt;.png and the server's output is attached to the error.
    /// </summary>
    public async Task WithPageAsync(string name, Func<IPage, Task> test, bool dark = false)
    {
        await using var context = await Browser!.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = Server.BaseUrl,
            ViewportSize = new ViewportSize { Width = 1400, Height = 900 },
            ColorScheme = dark ? ColorScheme.Dark : ColorScheme.Light,
        });
        context.SetDefaultTimeout(15_000);
        var page = await context.NewPageAsync();
        var consoleErrors = new List<string>();
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                consoleErrors.Add(message.Text);
            }
        };
        try
        {
            await test(page);
            Assert.True(consoleErrors.Count == 0, "Browser console errors:\n" + string.Join("\n", consoleErrors));
            if (Environment.GetEnvironmentVariable("CAIRN_UI_SCREENSHOTS") is { Length: > 0 } reviewDir)
            {
                // For looking at the pages by eye; not part of the assertions.
                Directory.CreateDirectory(reviewDir);
                await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(reviewDir, name + ".png"), FullPage = true });
            }
        }
        catch (Exception ex)
        {
            Directory.CreateDirectory(ScreenshotDir);
            var file = Path.Combine(ScreenshotDir, name + ".png");
            try
            {
                await page.ScreenshotAsync(new PageScreenshotOptions { Path = file, FullPage = true });
            }
            catch (PlaywrightException)
            {
            }

            throw new InvalidOperationException($"{name} failed at {page.Url}; screenshot: {file}\nserver output:\n{Server.Output}", ex);
        }
    }

    /// <summary>With CAIRN_UI_SCREENSHOTS set, saves a screenshot of a page mid-test for review (a test's last page is saved anyway).</summary>
    public static async Task ReviewScreenshotAsync(IPage page, string name)
    {
        if (Environment.GetEnvironmentVariable("CAIRN_UI_SCREENSHOTS") is { Length: > 0 } reviewDir)
        {
            Directory.CreateDirectory(reviewDir);
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(reviewDir, name + ".png"), FullPage = true });
        }
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.DisposeAsync();
        }

        _playwright?.Dispose();
        if (Unavailable is null && Server is not null)
        {
            await Server.DisposeAsync();
        }
    }
}

[CollectionDefinition(Name)]
public sealed class UiCollection : ICollectionFixture<UiFixture>
{
    public const string Name = "ui";
}
