using System.Text.Json;
using System.Text.Json.Nodes;

namespace Cairn.Server.Tests.Conformance;

/// <summary>Which part of Cairn a golden case exercises; decides which test asserts it.</summary>
public enum CaseScope
{
    Tracking,
    Artifacts,
    Registry,
    Traces,
}

/// <summary>
/// One request of the golden MLflow 2.17.2 transcripts (shared/mlflow-protocol/*.jsonl) and the
/// answer the reference server gave. The record format is described in that folder's README.
/// </summary>
public sealed record GoldenCase(
    string Area,
    int Seq,
    string Name,
    string Method,
    string Path,
    JsonObject? Query,
    JsonNode? Request,
    bool RawRequest,
    bool HasRequestContentType,
    string? RequestContentType,
    int Status,
    JsonNode? Response,
    bool ResponseIsJson,
    string? ResponseContentType,
    IReadOnlyList<string> Volatile,
    IReadOnlyList<KeyValuePair<string, string>> Defines)
{
    /// <summary>
    /// The errors file mixes every area, so its cases are scoped by route: registry and trace routes
    /// wait for their own issues, artifact routes for the artifact repository.
    /// </summary>
    public CaseScope Scope => Area switch
    {
        "registry" => CaseScope.Registry,
        "traces" => CaseScope.Traces,
        "artifacts" => CaseScope.Artifacts,
        "errors" => ScopeOfRoute(Path),
        _ => CaseScope.Tracking,
    };

    private static CaseScope ScopeOfRoute(string path)
    {
        if (path.Contains("/registered-models", StringComparison.Ordinal) || path.Contains("/model-versions", StringComparison.Ordinal))
        {
            return CaseScope.Registry;
        }

        if (path.Contains("/traces", StringComparison.Ordinal))
        {
            return CaseScope.Traces;
        }

        if (path.Contains("artifact", StringComparison.Ordinal))
        {
            return CaseScope.Artifacts;
        }

        return CaseScope.Tracking;
    }

    public override string ToString() => $"{Area}/{Name}";
}

/// <summary>Loads the golden transcripts that sit beside the repository (../shared/mlflow-protocol).</summary>
public static class GoldenTranscripts
{
    public static string Directory => Path.GetFullPath(Path.Combine(CairnProcess.RepoRoot, "..", "shared", "mlflow-protocol"));

    /// <summary>Every case of every file, in the one global order the captures used.</summary>
    public static IReadOnlyList<GoldenCase> LoadAll()
    {
        var dir = Directory;
        var files = System.IO.Directory.Exists(dir) ? System.IO.Directory.GetFiles(dir, "*.jsonl") : [];
        if (files.Length == 0)
        {
            throw new InvalidOperationException(
                $"The golden MLflow transcripts were not found in {dir} (expected *.jsonl files from shared/mlflow-protocol beside the repository).");
        }

        var cases = files.SelectMany(File.ReadLines).Where(line => line.Length > 0).Select(Parse).OrderBy(c => c.Seq).ToList();
        for (var i = 0; i < cases.Count; i++)
        {
            // Later cases depend on the state earlier ones made, so a gap would make the replay meaningless.
            if (cases[i].Seq != i + 1)
            {
                throw new InvalidOperationException($"Golden transcripts in {dir} are incomplete: expected seq {i + 1}, found {cases[i].Seq} ({cases[i]}).");
            }
        }

        return cases;
    }

    private static GoldenCase Parse(string line)
    {
        var o = JsonNode.Parse(line)!.AsObject();
        var responseIsJson = (bool)o["response_is_json"]!;
        var headers = o["response_headers"] as JsonObject;
        return new GoldenCase(
            Area: (string)o["area"]!,
            Seq: (int)o["seq"]!,
            Name: (string)o["name"]!,
            Method: (string)o["method"]!,
            Path: (string)o["path"]!,
            Query: o["query"] as JsonObject,
            Request: o["request"]?.DeepClone(),
            RawRequest: (string?)o["request_encoding"] == "raw",
            HasRequestContentType: o.ContainsKey("request_content_type"),
            RequestContentType: (string?)o["request_content_type"],
            Status: (int)o["status"]!,
            Response: o["response"]?.DeepClone(),
            ResponseIsJson: responseIsJson,
            ResponseContentType: (string?)headers?["content-type"],
            Volatile: (o["volatile"] as JsonArray)?.Select(v => (string)v!).ToList() ?? [],
            Defines: (o["defines"] as JsonObject)?.Select(p => KeyValuePair.Create(p.Key, (string)p.Value!)).ToList() ?? []);
    }

    /// <summary>The JSON kind of a node, with C# null standing for JSON null.</summary>
    public static JsonValueKind KindOf(JsonNode? node) => node?.GetValueKind() ?? JsonValueKind.Null;
}
