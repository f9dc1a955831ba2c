using System.Diagnostics;
using System.Text.Json.Nodes;

namespace Cairn.Server.Tests;

public class ConcurrencyTests
{
    /// <summary>
    /// Four writers hammer log-batch on SQLite for 20 s: no request fails ("database is locked" or
    /// otherwise), and every acknowledged point is stored exactly once.
    /// </summary>
    [Fact]
    public async Task Four_writers_for_20_seconds_on_sqlite_lose_and_duplicate_nothing()
    {
        await using var server = await CairnProcess.StartAsync();
        var exp = (string)(await server.OkAsync("experiments/create", new { name = "concurrency" }))["experiment_id"]!;
        var runs = new string[4];
        for (var i = 0; i < runs.Length; i++)
        {
            runs[i] = (string)(await server.OkAsync("runs/create", new { experiment_id = exp, start_time = i }))["run"]!["info"]!["run_id"]!;
        }

        var acknowledged = new long[runs.Length];
        var errors = new List<string>();
        var until = Stopwatch.StartNew();
        await Task.WhenAll(runs.Select((run, w) => Task.Run(async () =>
        {
            using var http = new HttpClient { BaseAddress = new Uri(server.BaseUrl) };
            long step = 0;
            while (until.Elapsed < TimeSpan.FromSeconds(20))
            {
                var metrics = new JsonArray();
                for (var i = 0; i < 1000; i++, step++)
                {
                    metrics.Add(new JsonObject { ["key"] = "m", ["value"] = step, ["timestamp"] = step, ["step"] = step });
                }

                using var response = await http.PostAsync("/api/2.0/mlflow/runs/log-batch",
                    new StringContent(new JsonObject { ["run_id"] = run, ["metrics"] = metrics }.ToJsonString(), System.Text.Encoding.UTF8, "application/json"));
                if (response.IsSuccessStatusCode)
                {
                    acknowledged[w] = step;
                }
                else
                {
                    var body = await response.Content.ReadAsStringAsync();
                    lock (errors)
                    {
                        errors.Add($"{(int)response.StatusCode} {body}");
                    }

                    step -= 1000;
                }
            }
        })));

        Assert.Empty(errors);
        for (var w = 0; w < runs.Length; w++)
        {
            var expected = acknowledged[w];
            Assert.True(expected > 0, "writer made no progress");
            var steps = new List<long>();
            string? token = null;
            do
            {
                var page = await server.OkGetAsync($"metrics/get-history?run_id={runs[w]}&metric_key=m" + (token is null ? "" : "&page_token=" + Uri.EscapeDataString(token)));
                steps.AddRange(page["metrics"]!.AsArray().Select(m => (long)m!["step"]!));
                token = (string?)page["next_page_token"];
            }
            while (token is not null);

            Assert.Equal(expected, steps.Count);
            Assert.Equal(expected, steps.Distinct().LongCount());
            Assert.Equal(expected - 1, steps.Max());
        }
    }
}
