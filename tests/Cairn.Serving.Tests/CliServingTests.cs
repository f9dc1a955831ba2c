using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Cairn.Client;
using Cairn.Client.Rest;
using Cairn.Models;
using Cairn.Server.Tests;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Cairn.Serving.Tests;

/// <summary>A real `cairn models serve` process on a free loopback port, killed on dispose.</summary>
internal sealed class ServeProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private ServeProcess(Process process, string url)
    {
        _process = process;
        Url = url;
    }

    public string Url { get; }

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public static async Task<ServeProcess> StartAsync(string modelUri, string[]? extra = null, IDictionary<string, string>? env = null)
    {
        var port = CairnProcess.FreePort();
        var process = Cairn.Start(["models", "serve", "-m", modelUri, "-p", port.ToString(CultureInfo.InvariantCulture), "--host", "127.0.0.1", .. extra ?? []], env);
        var serve = new ServeProcess(process, $"http://127.0.0.1:{port}");
        process.OutputDataReceived += (_, e) => serve.Append(e.Data);
        process.ErrorDataReceived += (_, e) => serve.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var http = new HttpClient();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"cairn models serve exited with {process.ExitCode}:\n{serve.Output}");
            }

            try
            {
                using var response = await http.GetAsync(serve.Url + "/ping");
                if (response.IsSuccessStatusCode)
                {
                    return serve;
                }
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(50);
        }

        throw new TimeoutException("cairn models serve did not answer /ping:\n" + serve.Output);
    }

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (_output)
            {
                _output.AppendLine(line);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }
}

internal static class Cairn
{
    public static Process Start(IEnumerable<string> args, IDictionary<string, string>? env = null)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(CairnProcess.CairnDll);
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment.Remove("CAIRN_TRACKING_URI");
        psi.Environment.Remove("MLFLOW_TRACKING_URI");
        foreach (var (k, v) in env ?? new Dictionary<string, string>())
        {
            psi.Environment[k] = v;
        }

        return Process.Start(psi)!;
    }

    public static async Task<(int Code, string Stdout, string Stderr)> RunAsync(params string[] args)
    {
        using var process = Start(args);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await stdout, await stderr);
    }
}

/// <summary>The `cairn models serve` and `cairn models predict` commands, run as real processes.</summary>
public class CliServingTests
{
    private static readonly string Dataframe =
        """{"dataframe_split": {"columns": ["sepal_length_cm","sepal_width_cm","petal_length_cm","petal_width_cm"], "data": [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]}}""";

    [Fact]
    public async Task Serve_process_answers_a_local_package_and_survives_bad_requests()
    {
        var dir = Directory.CreateTempSubdirectory("cairn-serve-cli-").FullName;
        try
        {
            var predictor = ModelLoader.Load(IrisModels.SaveClassifier(Path.Combine(dir, "model")));
            var expected = predictor.Predict(IrisModels.Rows());
            await using var serve = await ServeProcess.StartAsync(Path.Combine(dir, "model"));
            Assert.Contains(serve.Url, serve.Output, StringComparison.Ordinal);
            using var http = new HttpClient();
            var (status, json) = await Http.PostAsync(http, serve.Url + "/invocations", IrisModels.Csv(), "text/csv");
            Assert.Equal(HttpStatusCode.OK, status);
            Assert.Equal(expected.Select(p => (string)p.Label!), json!["predictions"]!.AsArray().Select(p => (string)p!["PredictedLabel"]!));

            (status, json) = await Http.PostAsync(http, serve.Url + "/invocations", "{\"inputs\": [{\"sepal_length_cm\": \"abc\"}]}", "application/json");
            InvocationTests.AssertError(status, json, HttpStatusCode.BadRequest, "BAD_REQUEST", "'sepal_width_cm'");
            (status, json) = await Http.PostAsync(http, serve.Url + "/invocations", "{\"inputs\": [", "application/json");
            InvocationTests.AssertError(status, json, HttpStatusCode.BadRequest, "BAD_REQUEST", "JSON");
            Assert.Equal(ModelServer.Version, await http.GetStringAsync(serve.Url + "/version"));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public async Task Serve_reports_a_missing_model_and_exits()
    {
        var (code, _, stderr) = await Cairn.RunAsync("models", "serve", "-m", "/nonexistent/model", "-p", CairnProcess.FreePort().ToString(CultureInfo.InvariantCulture));
        Assert.Equal(1, code);
        Assert.Contains("/nonexistent/model", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Predict_streams_a_100k_row_csv_into_100k_predictions()
    {
        var dir = Directory.CreateTempSubdirectory("cairn-predict-cli-").FullName;
        try
        {
            var model = IrisModels.SaveClassifier(Path.Combine(dir, "model"));
            var predictor = ModelLoader.Load(model);
            var lines = IrisModels.Lines();
            var input = Path.Combine(dir, "in.csv");
            await using (var writer = new StreamWriter(input))
            {
                await writer.WriteLineAsync("id," + string.Join(',', IrisModels.Features));
                for (var i = 0; i < 100_000; i++)
                {
                    await writer.WriteLineAsync(i.ToString(CultureInfo.InvariantCulture) + "," + string.Join(',', lines[i % lines.Count]));
                }
            }

            var output = Path.Combine(dir, "out.csv");
            var (code, _, stderr) = await Cairn.RunAsync("models", "predict", "-m", model, "-i", input, "-o", output, "--chunk-rows", "10000");
            Assert.True(code == 0, stderr);
            Assert.Contains("scored 100,000 rows", stderr, StringComparison.Ordinal);
            Assert.Contains("scored 10,000 rows", stderr, StringComparison.Ordinal);

            var expected = predictor.Predict(IrisModels.Rows());
            var header = "id," + string.Join(',', IrisModels.Features) + ",PredictedLabel," + string.Join(',', predictor.ClassNames!.Select(c => "Score." + c));
            var count = 0;
            foreach (var line in File.ReadLines(output))
            {
                if (count == 0)
                {
                    Assert.Equal(header, line);
                }
                else
                {
                    var fields = line.Split(',');
                    var i = count - 1;
                    Assert.Equal(i.ToString(CultureInfo.InvariantCulture), fields[0]);
                    var e = expected[i % expected.Count];
                    Assert.Equal((string)e.Label!, fields[5]);
                    Assert.Equal(e.Scores!, fields[6..].Select(f => float.Parse(f, CultureInfo.InvariantCulture)).ToArray());
                }

                count++;
            }

            Assert.Equal(100_001, count);

            // JSON output of the same input, and a JSON request as input.
            var json = Path.Combine(dir, "out.json");
            (code, _, stderr) = await Cairn.RunAsync("models", "predict", "-m", model, "-i", input, "-o", json);
            Assert.True(code == 0, stderr);
            var predictions = JsonNode.Parse(await File.ReadAllTextAsync(json))!["predictions"]!.AsArray();
            Assert.Equal(100_000, predictions.Count);
            Assert.Equal((string)expected[7].Label!, (string)predictions[7]!["PredictedLabel"]!);

            var request = Path.Combine(dir, "request.json");
            await File.WriteAllTextAsync(request, Dataframe);
            (code, var stdout, stderr) = await Cairn.RunAsync("models", "predict", "-m", model, "-i", request);
            Assert.True(code == 0, stderr);
            Assert.Equal(["setosa", "virginica"], JsonNode.Parse(stdout)!["predictions"]!.AsArray().Select(p => (string)p!["PredictedLabel"]!));

            // A bad value stops with the column named.
            await File.WriteAllTextAsync(input, string.Join(',', IrisModels.Features) + "\n1,2,3,x\n");
            (code, _, stderr) = await Cairn.RunAsync("models", "predict", "-m", model, "-i", input, "-o", output);
            Assert.Equal(1, code);
            Assert.Contains("column 'petal_width_cm'", stderr, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public async Task Serve_resolves_a_registered_onnx_model_by_every_uri_form(string backend)
    {
        await using var server = await CairnProcess.StartAsync(backend);
        var signature = new ModelSignature(IrisModels.Features.Select(f => new ColumnSpec(f, ColumnTypes.Float)).ToList());
        await using var client = await TrackingClient.ConnectAsync(server.BaseUrl);
        LoggedModel logged;
        await using (var run = await client.StartRunAsync(new RunOptions { ExperimentName = "iris-onnx", LogLineage = false }))
        {
            logged = await run.LogOnnxModelAsync(OnnxServingTests.Graph(), "model", signature, registeredModelName: "iris-onnx", options: new OnnxSaveOptions { ClassNames = OnnxServingTests.Classes });
        }

        using (var registry = new RestModelRegistry(server.BaseUrl))
        {
            await registry.SetRegisteredModelAliasAsync("iris-onnx", "champion", "1");
            await registry.TransitionModelVersionStageAsync("iris-onnx", "1", "Staging", archiveExistingVersions: false);
        }

        // What the package predicts in process is what every URI form serves.
        var dir = Directory.CreateTempSubdirectory("cairn-onnx-ref-").FullName;
        OnnxFlavor.Save(dir, OnnxServingTests.Graph(), signature, options: new OnnxSaveOptions { ClassNames = OnnxServingTests.Classes });
        var rows = new[] { new[] { 5.1, 3.5, 1.4, 0.2 }, new[] { 6.7, 3.0, 5.2, 2.3 } }
            .Select(v => (IReadOnlyDictionary<string, object?>)IrisModels.Features.Zip(v).ToDictionary(p => p.First, p => (object?)p.Second)).ToList();
        var expected = ModelLoader.Load(dir).Predict(rows).Select(p => Convert.ToString(p.Label, CultureInfo.InvariantCulture)).ToList();
        Directory.Delete(dir, true);

        using var http = new HttpClient();
        foreach (var uri in new[] { "models:/iris-onnx@champion", "models:/iris-onnx/1", "models:/iris-onnx/Staging", logged.ModelUri })
        {
            await using var serve = await ServeProcess.StartAsync(uri, ["--tracking-uri", server.BaseUrl], new Dictionary<string, string> { ["MLFLOW_TRACKING_URI"] = server.BaseUrl });
            var (status, json) = await Http.PostAsync(http, serve.Url + "/invocations", Dataframe, "application/json");
            Assert.True(status == HttpStatusCode.OK, json?.ToJsonString());
            Assert.Equal(expected, json!["predictions"]!.AsArray().Select(p => (string?)p!["PredictedLabel"]!.ToString()));
            var (badStatus, bad) = await Http.PostAsync(http, serve.Url + "/invocations", """{"dataframe_split": {"columns": ["sepal_length_cm"], "data": [[1.0]]}}""", "application/json");
            Assert.Equal(HttpStatusCode.BadRequest, badStatus);
            Assert.Contains("petal_length_cm", bad!["message"]!.ToString(), StringComparison.Ordinal);
        }
    }

    public static TheoryData<string> Backends()
    {
        var data = new TheoryData<string> { "sqlite" };
        if (TestPostgres.Available)
        {
            data.Add("postgres");
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public async Task Serve_resolves_a_registered_model_by_alias_stage_and_version(string backend)
    {
        await using var server = await CairnProcess.StartAsync(backend);
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromTextFile(IrisModels.CsvPath,
            [.. IrisModels.Features.Select((f, i) => new TextLoader.Column(f, DataKind.Single, i)), new TextLoader.Column("species", DataKind.String, 4)],
            separatorChar: ',', hasHeader: true);
        var model = ml.Transforms.Concatenate("Features", IrisModels.Features)
            .Append(ml.Transforms.Conversion.MapValueToKey("LabelKey", "species"))
            .Append(ml.MulticlassClassification.Trainers.LbfgsMaximumEntropy("LabelKey", "Features"))
            .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedLabel"))
            .Fit(data);

        await using var client = await TrackingClient.ConnectAsync(server.BaseUrl);
        LoggedModel logged;
        await using (var run = await client.StartRunAsync(new RunOptions { ExperimentName = "iris-serving", LogLineage = false }))
        {
            logged = await run.LogModelAsync(model, data, "model", registeredModelName: "iris", options: new MLNetSaveOptions { LabelColumn = "species" });
        }

        using (var registry = new RestModelRegistry(server.BaseUrl))
        {
            await registry.SetRegisteredModelAliasAsync("iris", "champion", "1");
            await registry.TransitionModelVersionStageAsync("iris", "1", "Production", archiveExistingVersions: false);
        }

        using var http = new HttpClient();
        var temp = Directory.CreateTempSubdirectory("cairn-serve-tmp-").FullName;
        foreach (var uri in new[] { "models:/iris@champion", "models:/iris/1", "models:/iris/Production", logged.ModelUri })
        {
            // The tracking server comes from --tracking-uri, or from the environment as for every SDK call.
            var env = new Dictionary<string, string> { ["TMPDIR"] = temp };
            string[] extra = ["--tracking-uri", server.BaseUrl];
            if (uri.StartsWith("runs:/", StringComparison.Ordinal))
            {
                env["MLFLOW_TRACKING_URI"] = server.BaseUrl;
                extra = [];
            }

            await using var serve = await ServeProcess.StartAsync(uri, extra, env);
            Assert.Contains(uri.StartsWith("models:/", StringComparison.Ordinal) ? "(model 'iris' version 1)" : $"Resolved '{logged.ModelUri}'", serve.Output, StringComparison.Ordinal);
            var (status, json) = await Http.PostAsync(http, serve.Url + "/invocations", Dataframe, "application/json");
            Assert.True(status == HttpStatusCode.OK, json?.ToJsonString());
            Assert.Equal(["setosa", "virginica"], json!["predictions"]!.AsArray().Select(p => (string)p!["PredictedLabel"]!));

            // The downloaded package was a temporary copy, deleted once the model is in memory.
            Assert.Empty(Directory.EnumerateDirectories(temp, "cairn-*"));
        }

        Directory.Delete(temp, recursive: true);
        var (code, _, stderr) = await Cairn.RunAsync("models", "serve", "-m", "models:/iris@nope", "--tracking-uri", server.BaseUrl, "-p", CairnProcess.FreePort().ToString(CultureInfo.InvariantCulture));
        Assert.Equal(1, code);
        Assert.Contains("nope", stderr, StringComparison.Ordinal);
    }
}
