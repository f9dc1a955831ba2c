using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Cairn.Bench.Ui;

/// <summary>The few MLflow REST calls the seeding needs, on one pooled HttpClient.</summary>
internal sealed class Api : IDisposable
{
    private readonly HttpClient _http;

    public Api(string baseUrl, int connections)
    {
        _http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = Math.Max(connections, 2), UseProxy = false, PooledConnectionLifetime = Timeout.InfiniteTimeSpan })
        {
            BaseAddress = new Uri(baseUrl),
            Timeout = TimeSpan.FromSeconds(120),
        };
    }

    public async Task<string> PostAsync(string path, string json)
    {
        using var content = new StringContent(json, Encoding.UTF8, "application/json");
        using var response = await _http.PostAsync("/api/2.0/mlflow/" + path, content);
        var text = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"{path} -> {(int)response.StatusCode} {text}");
        }

        return text;
    }

    public async Task<string> CreateExperimentAsync(string name)
    {
        var body = await PostAsync("experiments/create", JsonSerializer.Serialize(new { name }));
        return (string)JsonNode.Parse(body)!["experiment_id"]!;
    }

    public async Task<string> CreateRunAsync(string experimentId, string name, long startTime)
    {
        var body = await PostAsync("runs/create", JsonSerializer.Serialize(new { experiment_id = experimentId, run_name = name, start_time = startTime, user_id = "bench" }));
        return (string)JsonNode.Parse(body)!["run"]!["info"]!["run_id"]!;
    }

    public async Task<string> FindRunAsync(string experimentId, string runName)
    {
        var body = await PostAsync("runs/search", JsonSerializer.Serialize(new { experiment_ids = new[] { experimentId }, filter = $"attributes.run_name = '{runName}'", max_results = 1 }));
        return (string)JsonNode.Parse(body)!["runs"]![0]!["info"]!["run_id"]!;
    }

    public async Task<string?> TryTextAsync(string path)
    {
        try
        {
            using var response = await _http.GetAsync(path);
            return response.IsSuccessStatusCode ? (await response.Content.ReadAsStringAsync()).Trim() : null;
        }
        catch (HttpRequestException)
        {
            return null;
        }
    }

    public void Dispose() => _http.Dispose();
}
