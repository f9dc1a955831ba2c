using System.Text.Json.Nodes;
using Cairn.Server.Tests;

namespace Cairn.EndToEnd.Tests;

/// <summary>Seeds a real server through the MLflow REST API, as any client would.</summary>
public static class Seeding
{
    public static async Task<string> CreateExperimentAsync(this CairnProcess server, string name) =>
        (string)(await server.OkAsync("experiments/create", new { name }))["experiment_id"]!;

    public static async Task<string> CreateRunAsync(this CairnProcess server, string experimentId, string name, long startTime, string? parentRunId = null)
    {
        object[] tags = parentRunId is null ? [] : [new { key = "mlflow.parentRunId", value = parentRunId }];
        var run = await server.OkAsync("runs/create", new { experiment_id = experimentId, run_name = name, start_time = startTime, user_id = "alice", tags });
        return (string)run["run"]!["info"]!["run_id"]!;
    }

    public static Task<JsonNode> LogBatchAsync(this CairnProcess server, string runId, object[]? metrics = null, object[]? @params = null, object[]? tags = null) =>
        server.OkAsync("runs/log-batch", new { run_id = runId, metrics = metrics ?? [], @params = @params ?? [], tags = tags ?? [] });

    public static Task<JsonNode> FinishAsync(this CairnProcess server, string runId, long endTime) =>
        server.OkAsync("runs/update", new { run_id = runId, status = "FINISHED", end_time = endTime });

    /// <summary>Uploads through the MLflow web UI's route, which writes to the run's own artifact location.</summary>
    public static async Task UploadArtifactAsync(this CairnProcess server, string runId, string path, byte[] content)
    {
        using var body = new ByteArrayContent(content);
        using var response = await server.Http.PostAsync($"/ajax-api/2.0/mlflow/upload-artifact?run_uuid={runId}&path={Uri.EscapeDataString(path)}", body);
        Assert.True(response.IsSuccessStatusCode, $"upload {path} -> {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }
}
