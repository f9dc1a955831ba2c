using System.CommandLine;
using Cairn.Server;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Hosting;

namespace Cairn.Cli;

/// <summary><c>cairn server</c>: the tracking server, taking <c>mlflow server</c>'s flags.</summary>
internal static class ServerCommand
{
    public static Command Create()
    {
        var backend = new Option<string>("--backend-store-uri")
        {
            Description = "Where tracking data lives: sqlite:///path.db (default ./.cairn/cairn.db) or postgresql://user:password@host:port/database.",
            DefaultValueFactory = _ => "sqlite:///.cairn/cairn.db",
        };
        var destination = new Option<string>("--artifacts-destination")
        {
            Description = "Folder the artifact proxy stores artifacts in (default ./.cairn/artifacts).",
            DefaultValueFactory = _ => ".cairn/artifacts",
        };
        var defaultRoot = new Option<string?>("--default-artifact-root")
        {
            Description = "Artifact root for new experiments. Default: mlflow-artifacts:/ when serving artifacts, else the artifacts destination.",
        };
        var serve = new Option<bool>("--serve-artifacts") { Description = "Proxy artifact uploads and downloads through this server (the default)." };
        var noServe = new Option<bool>("--no-serve-artifacts") { Description = "Do not proxy artifacts; clients read and write the artifact root themselves." };
        var host = new Option<string>("--host", "-h") { Description = "Address to listen on.", DefaultValueFactory = _ => "127.0.0.1" };
        var port = new Option<int>("--port", "-p") { Description = "Port to listen on.", DefaultValueFactory = _ => 5000 };
        var workers = new Option<int?>("--workers", "-w") { Description = "Accepted for compatibility with mlflow server; one process serves all requests." };

        var command = new Command("server", "Run the MLflow-compatible tracking server.")
        {
            backend, destination, defaultRoot, serve, noServe, host, port, workers,
        };
        command.SetAction(async (parse, ct) =>
        {
            var options = new CairnServerOptions
            {
                BackendStoreUri = parse.GetValue(backend)!,
                ArtifactsDestination = parse.GetValue(destination)!,
                DefaultArtifactRoot = parse.GetValue(defaultRoot),
                ServeArtifacts = !parse.GetValue(noServe),
                Host = parse.GetValue(host)!,
                Port = parse.GetValue(port),
            };
            await using var app = await CairnServer.BuildAsync(options, ct);
            await app.StartAsync(ct);
            Console.WriteLine($"Cairn {CairnServer.Version} listening on http://{options.Host}:{options.Port} (store {options.BackendStoreUri}, artifacts {options.EffectiveArtifactRoot})");
            await app.WaitForShutdownAsync(ct);
            return 0;
        });
        return command;
    }
}
