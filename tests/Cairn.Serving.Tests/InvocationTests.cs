using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cairn.Models;

namespace Cairn.Serving.Tests;

/// <summary>POST /invocations on a real socket against real ML.NET models: request shapes, responses, signature errors.</summary>
public class InvocationTests(ServedModels served) : IClassFixture<ServedModels>
{
    private static readonly string[] F = IrisModels.Features;

    private Task<(HttpStatusCode Status, JsonNode? Body)> PostAsync(string body, string contentType = "application/json", ModelServer? server = null) =>
        Http.PostAsync(served.Http, (server ?? served.ClassifierServer).Url + "/invocations", body, contentType);

    private static string Json(object value) => JsonSerializer.Serialize(value);

    [Fact]
    public async Task Ping_health_and_version_answer()
    {
        foreach (var path in new[] { "/ping", "/health" })
        {
            using var response = await served.Http.GetAsync(served.ClassifierServer.Url + path);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        var version = await served.Http.GetStringAsync(served.ClassifierServer.Url + "/version");
        Assert.Equal(ModelServer.Version, version);
        Assert.Matches(@"^\d+\.\d+\.\d+", version);
    }

    [Fact]
    public async Task Every_request_shape_and_csv_give_the_in_process_predictions()
    {
        var values = IrisModels.Values();
        var expected = served.Classifier.Predict(IrisModels.Rows());
        var records = values.Select(v => F.Zip(v).ToDictionary(p => p.First, p => p.Second)).ToList();
        var columnar = F.Select((f, i) => (f, values.Select(v => v[i]).ToList())).ToDictionary(p => p.f, p => p.Item2);
        (string Name, string Body, string Type)[] requests =
        [
            ("dataframe_split", Json(new { dataframe_split = new { columns = F, data = values } }), "application/json"),
            ("dataframe_split with index", Json(new { dataframe_split = new { index = Enumerable.Range(0, values.Count), columns = F, data = values } }), "application/json"),
            ("dataframe_records", Json(new { dataframe_records = records }), "application/json"),
            ("instances (rows)", Json(new { instances = records }), "application/json"),
            ("instances (columns)", Json(new { instances = columnar }), "application/json"),
            ("inputs (rows)", Json(new { inputs = records }), "application/json; charset=utf-8"),
            ("inputs (columns)", Json(new { inputs = columnar }), "application/json"),
            ("csv", IrisModels.Csv(), "text/csv"),
            ("csv crlf", IrisModels.Csv().Replace("\n", "\r\n", StringComparison.Ordinal), "text/csv; charset=utf-8"),
        ];
        foreach (var (name, body, type) in requests)
        {
            var (status, json) = await PostAsync(body, type);
            Assert.True(status == HttpStatusCode.OK, $"{name}: {(int)status} {json?.ToJsonString()}");
            var predictions = json!["predictions"]!.AsArray();
            Assert.Equal(expected.Count, predictions.Count);
            for (var i = 0; i < expected.Count; i++)
            {
                Assert.Equal((string)expected[i].Label!, (string)predictions[i]!["PredictedLabel"]!);
                Assert.Equal(expected[i].Scores!, predictions[i]!["Score"]!.AsArray().Select(s => (float)s!).ToArray());
            }
        }

        // And the labels match the training labels for (nearly) every row: the model is real.
        var truth = File.ReadLines(IrisModels.CsvPath).Skip(1).Where(l => l.Length > 0).Select(l => l.Split(',')[4]).ToList();
        Assert.True(expected.Zip(truth).Count(p => (string)p.First.Label! == p.Second) >= 140);
        Assert.Equal(3, served.Classifier.ClassNames!.Count);
    }

    [Fact]
    public async Task One_row_answers_one_record_with_label_and_scores()
    {
        var (status, json) = await PostAsync("""{"dataframe_split": {"columns": ["sepal_length_cm","sepal_width_cm","petal_length_cm","petal_width_cm"], "data": [[5.1, 3.5, 1.4, 0.2]]}}""");
        Assert.Equal(HttpStatusCode.OK, status);
        var record = json!["predictions"]![0]!.AsObject();
        Assert.Equal("setosa", (string)record["PredictedLabel"]!);
        var scores = record["Score"]!.AsArray().Select(s => (float)s!).ToArray();
        Assert.Equal(3, scores.Length);
        Assert.InRange(scores.Sum(), 0.99f, 1.01f);
        Assert.Equal(["PredictedLabel", "Score"], record.Select(p => p.Key));

        // Columns of single values are one row; a Content-Type with parameters is still JSON.
        (status, json) = await PostAsync("""{"inputs": {"sepal_length_cm": 6.7, "sepal_width_cm": 3.0, "petal_length_cm": 5.2, "petal_width_cm": 2.3}}""", "Application/JSON; charset=UTF-8");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("virginica", (string)Assert.Single(json!["predictions"]!.AsArray())!["PredictedLabel"]!);
    }

    [Fact]
    public async Task A_model_with_only_a_value_answers_a_flat_list()
    {
        var rows = IrisModels.Values().Take(5).Select(v => F[..3].Zip(v).ToDictionary(p => p.First, p => p.Second)).ToList();
        var expected = served.Regressor.Predict(rows.Select(r => (IReadOnlyDictionary<string, object?>)r.ToDictionary(p => p.Key, p => (object?)p.Value)));
        var (status, json) = await PostAsync(Json(new { dataframe_records = rows }), server: served.RegressorServer);
        Assert.Equal(HttpStatusCode.OK, status);
        var predictions = json!["predictions"]!.AsArray();
        Assert.Equal(expected.Select(p => (float)p.Label!), predictions.Select(p => (float)p!));
    }

    [Fact]
    public async Task Missing_columns_are_named()
    {
        var (status, json) = await PostAsync("""{"dataframe_split": {"columns": ["sepal_length_cm","sepal_width_cm"], "data": [[5.1, 3.5]]}}""");
        AssertError(status, json, HttpStatusCode.BadRequest, "BAD_REQUEST", "'petal_length_cm'", "'petal_width_cm'");
        Assert.Contains("missing inputs", (string)json!["message"]!, StringComparison.Ordinal);

        (status, json) = await PostAsync("""{"dataframe_records": [{"sepal_length_cm": 5.1, "sepal_width_cm": 3.5, "petal_length_cm": 1.4, "petal_widht_cm": 0.2}]}""");
        AssertError(status, json, HttpStatusCode.BadRequest, "BAD_REQUEST", "'petal_width_cm'", "extra inputs: ['petal_widht_cm']");

        (status, json) = await PostAsync("sepal_length_cm,sepal_width_cm,petal_length_cm\n1,2,3\n", "text/csv");
        AssertError(status, json, HttpStatusCode.BadRequest, "BAD_REQUEST", "'petal_width_cm'");
    }

    [Fact]
    public async Task Values_that_cannot_be_converted_safely_are_named()
    {
        string Row(string petalWidth) => """{"dataframe_split": {"columns": ["sepal_length_cm","sepal_width_cm","petal_length_cm","petal_width_cm"], "data": [[5.1, 3.5, 1.4, 0.2], [5.1, 3.5, 1.4, """ + petalWidth + "]]}}";
        foreach (var (value, shows) in new[] { ("\"abc\"", "\"abc\""), ("\"0.2\"", "\"0.2\""), ("true", "boolean"), ("[1,2]", "a list"), ("{\"a\":1}", "{\"a\":1}"), ("1e39", "float's range"), ("1e400", "double's range") })
        {
            var (status, json) = await PostAsync(Row(value));
            AssertError(status, json, HttpStatusCode.BadRequest, "BAD_REQUEST", "column 'petal_width_cm'", "row 1", shows);
        }

        var (s, j) = await PostAsync("sepal_length_cm,sepal_width_cm,petal_length_cm,petal_width_cm\n5.1,3.5,1.4,wide\n", "text/csv");
        AssertError(s, j, HttpStatusCode.BadRequest, "BAD_REQUEST", "column 'petal_width_cm'", "\"wide\"");

        // A string column takes strings only: the label given as a number is not converted.
        (s, j) = await PostAsync("""{"dataframe_records": [{"sepal_length_cm": 5.1, "sepal_width_cm": 3.5, "petal_length_cm": 1.4, "petal_width_cm": 0.2, "species": 7}]}""");
        AssertError(s, j, HttpStatusCode.BadRequest, "BAD_REQUEST", "column 'species'", "integer 7");
    }

    [Fact]
    public async Task Integers_and_nulls_in_float_columns_are_safe_and_extra_columns_are_ignored()
    {
        var reference = served.Classifier.Predict([new Dictionary<string, object?> { [F[0]] = 5f, [F[1]] = 3f, [F[2]] = 1f, [F[3]] = float.NaN }]).Single();
        var (status, json) = await PostAsync("""{"dataframe_records": [{"sepal_length_cm": 5, "sepal_width_cm": 3, "petal_length_cm": 1, "petal_width_cm": null, "colour": "blue", "id": 17}]}""");
        Assert.True(status == HttpStatusCode.OK, json?.ToJsonString());
        Assert.Equal((string)reference.Label!, (string)json!["predictions"]![0]!["PredictedLabel"]!);
        Assert.Equal(reference.Scores!, json["predictions"]![0]!["Score"]!.AsArray().Select(s => s is null ? float.NaN : (float)s).ToArray());

        // A record that lacks a float column is a missing value in that row (pandas fills NaN), not a missing column.
        (status, json) = await PostAsync("""{"dataframe_records": [{"sepal_length_cm": 5.1, "sepal_width_cm": 3.5, "petal_length_cm": 1.4, "petal_width_cm": 0.2}, {"sepal_length_cm": 5, "sepal_width_cm": 3, "petal_length_cm": 1}]}""");
        Assert.True(status == HttpStatusCode.OK, json?.ToJsonString());
        Assert.Equal((string)reference.Label!, (string)json!["predictions"]![1]!["PredictedLabel"]!);
    }

    [Fact]
    public async Task Params_are_checked_against_the_signature()
    {
        const string data = """{"dataframe_split": {"columns": ["sepal_length_cm","sepal_width_cm","petal_length_cm","petal_width_cm"], "data": [[5.1, 3.5, 1.4, 0.2]]}, "params": """;
        var (status, json) = await PostAsync(data + """{"threshold": 0.7, "top_k": 2, "tags": ["a", "b"]}""" + "}");
        Assert.True(status == HttpStatusCode.OK, json?.ToJsonString());
        Assert.Equal("setosa", (string)json!["predictions"]![0]!["PredictedLabel"]!);

        (status, json) = await PostAsync(data + """{"temperature": 0.7}""" + "}");
        AssertError(status, json, HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE", "'temperature'", "'threshold'");

        (status, json) = await PostAsync(data + """{"top_k": 1.5}""" + "}");
        AssertError(status, json, HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE", "'top_k'", "integer");

        (status, json) = await PostAsync(data + """{"threshold": "high"}""" + "}");
        AssertError(status, json, HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE", "'threshold'", "\"high\"");

        (status, json) = await PostAsync(data + """{"tags": "a"}""" + "}");
        AssertError(status, json, HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE", "'tags'", "list");

        (status, json) = await PostAsync(data + """[1, 2]""" + "}");
        AssertError(status, json, HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE", "'params'");

        // Defaults fill the parameters not given; given ones are converted to their types.
        var enforcer = new SignatureEnforcer(served.Classifier.Model.Signature);
        var applied = enforcer.ApplyParams(new Dictionary<string, object?> { ["top_k"] = 3L });
        Assert.Equal(0.5, applied["threshold"]);
        Assert.Equal(3, applied["top_k"]);
        Assert.Null(applied["tags"]);
        Assert.Equal(1, enforcer.ApplyParams(null)["top_k"]);

        // A model whose signature has no params rejects any.
        (status, json) = await PostAsync("""{"dataframe_records": [{"sepal_length_cm": 5.1, "sepal_width_cm": 3.5, "petal_length_cm": 1.4}], "params": {"threshold": 0.7}}""", server: served.RegressorServer);
        AssertError(status, json, HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE", "'threshold'", "declares no inference parameters");
    }

    [Fact]
    public async Task Wrong_shapes_content_types_and_sizes_get_mlflow_errors()
    {
        var (status, json) = await PostAsync("""{"data": [[1, 2, 3, 4]]}""");
        AssertError(status, json, HttpStatusCode.BadRequest, "BAD_REQUEST", "exactly one of", "'data'");

        (status, json) = await PostAsync("""{"dataframe_split": {"columns": ["a"], "data": [[1]]}, "inputs": [{"a": 1}]}""");
        AssertError(status, json, HttpStatusCode.BadRequest, "BAD_REQUEST", "'dataframe_split'", "'inputs'");

        (status, json) = await PostAsync("""{"inputs": [[5.1, 3.5, 1.4, 0.2]]}""");
        AssertError(status, json, HttpStatusCode.BadRequest, "BAD_REQUEST", "named columns");

        (status, json) = await PostAsync("""{"dataframe_split": {"columns": ["a", "b"], "data": [[1]]}}""");
        AssertError(status, json, HttpStatusCode.BadRequest, "BAD_REQUEST", "row 0 has 1 values for 2 columns");

        (status, json) = await PostAsync("""{"inputs": {"a": [1, 2], "b": [1]}}""");
        AssertError(status, json, HttpStatusCode.BadRequest, "BAD_REQUEST", "same length", "'b'");

        (status, json) = await PostAsync("""{"inputs": [{"a": 1}""");
        AssertError(status, json, HttpStatusCode.BadRequest, "BAD_REQUEST", "not valid JSON");

        (status, json) = await PostAsync("sepal_length_cm\n1", "text/plain");
        AssertError(status, json, HttpStatusCode.UnsupportedMediaType, "BAD_REQUEST", "text/plain");

        (status, json) = await PostAsync("{}", "");
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, status);

        var big = "{\"inputs\": [" + string.Join(',', Enumerable.Repeat("{\"sepal_length_cm\": 5.1}", 60_000)) + "]}";
        (status, json) = await PostAsync(big);
        AssertError(status, json, HttpStatusCode.RequestEntityTooLarge, "REQUEST_LIMIT_EXCEEDED", "1048576");

        using var get = await served.Http.GetAsync(served.ClassifierServer.Url + "/invocations");
        Assert.Equal(HttpStatusCode.MethodNotAllowed, get.StatusCode);
        using var unknown = await served.Http.GetAsync(served.ClassifierServer.Url + "/predict");
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal("ENDPOINT_NOT_FOUND", (string)JsonNode.Parse(await unknown.Content.ReadAsStringAsync())!["error_code"]!);
    }

    [Fact]
    public async Task A_thousand_malformed_requests_all_get_json_4xx_and_the_server_keeps_scoring()
    {
        var random = new Random(42);
        const string valid = """{"dataframe_split": {"columns": ["sepal_length_cm","sepal_width_cm","petal_length_cm","petal_width_cm"], "data": [[5.1, 3.5, 1.4, 0.2]]}, "params": {"top_k": 2}}""";
        string[] shapes =
        [
            "null", "[]", "1", "\"x\"", "{}", "{\"inputs\": null}", "{\"inputs\": 5}", "{\"inputs\": \"abc\"}", "{\"dataframe_split\": []}",
            "{\"dataframe_split\": {\"columns\": null, \"data\": [[1]]}}", "{\"dataframe_split\": {\"columns\": [1, 2], \"data\": [[1, 2]]}}",
            "{\"dataframe_split\": {\"columns\": [\"a\", \"a\"], \"data\": [[1, 2]]}}", "{\"dataframe_split\": {\"columns\": [\"a\"], \"data\": 7}}",
            "{\"dataframe_records\": {\"a\": 1}}", "{\"dataframe_records\": [1, 2, 3]}", "{\"dataframe_records\": [null]}", "{\"instances\": [[null]]}",
            "{\"inputs\": {\"a\": [1], \"b\": 2}}", "{\"inputs\": [{\"sepal_length_cm\": 1e999999}]}",
            "{\"inputs\": [{\"sepal_length_cm\": null, \"sepal_width_cm\": null, \"petal_length_cm\": null, \"petal_width_cm\": \"\"}]}",
            "{\"inputs\": [{\"sepal_length_cm\": 123456789012345678901234567890, \"sepal_width_cm\": -1e308, \"petal_length_cm\": 1, \"petal_width_cm\": 1}]}",
            "{\"inputs\": [{\"sepal_length_cm\": {}, \"sepal_width_cm\": [], \"petal_length_cm\": 1, \"petal_width_cm\": 1}]}",
            new string('[', 5000) + new string(']', 5000), "{\"inputs\": " + new string('[', 100) + new string(']', 100) + "}",
            "{\"dataframe_split\": {\"columns\": [\"sepal_length_cm\"], \"data\": [[1]]}, \"params\": {\"top_k\": 99999999999}}",
            valid.Replace("\"top_k\": 2", "\"top_k\": null, \"x\": 1", StringComparison.Ordinal),
            "\uFEFF{\"inputs\": [}", "{\"inputs\": [{\"a\": 1}]} trailing", "{'inputs': []}",
        ];
        var failures = new List<string>();
        for (var i = 0; i < 1000; i++)
        {
            string body;
            var type = "application/json";
            switch (i % 5)
            {
                case 0:
                    var bytes = new byte[random.Next(0, 300)];
                    random.NextBytes(bytes);
                    body = Encoding.Latin1.GetString(bytes);
                    break;
                case 1:
                    body = valid[..random.Next(0, valid.Length - 1)];
                    break;
                case 2:
                    body = shapes[random.Next(shapes.Length)];
                    break;
                case 3:
                    var chars = valid.ToCharArray();
                    for (var k = 0; k < 3; k++)
                    {
                        chars[random.Next(chars.Length)] = "{}[]\",:0e-.xn"[random.Next(13)];
                    }

                    body = new string(chars);
                    break;
                default:
                    type = "text/csv";
                    body = random.Next(4) switch
                    {
                        0 => "sepal_length_cm,\"sepal_width_cm\n5,3",
                        1 => "a,b\n1,2,3\n",
                        2 => "sepal_length_cm,sepal_width_cm,petal_length_cm,petal_width_cm\n1,2,3,nan-ish\n",
                        _ => "",
                    };
                    break;
            }

            var (status, json) = await PostAsync(body, type);
            var code = (int)status;
            if (code == 200)
            {
                continue; // a mutation can still be a valid request
            }

            if (code is < 400 or >= 500 || json?["error_code"] is null || json["message"] is null)
            {
                failures.Add($"{code} {json?.ToJsonString()} for {body[..Math.Min(body.Length, 80)]}");
            }
        }

        Assert.Empty(failures);
        using var ping = await served.Http.GetAsync(served.ClassifierServer.Url + "/ping");
        Assert.Equal(HttpStatusCode.OK, ping.StatusCode);
        var (okStatus, okJson) = await PostAsync(valid);
        Assert.Equal(HttpStatusCode.OK, okStatus);
        Assert.Equal("setosa", (string)okJson!["predictions"]![0]!["PredictedLabel"]!);
    }

    internal static void AssertError(HttpStatusCode status, JsonNode? json, HttpStatusCode expectedStatus, string code, params string[] mentions)
    {
        Assert.True(status == expectedStatus, $"expected {(int)expectedStatus}, got {(int)status}: {json?.ToJsonString()}");
        Assert.Equal(code, (string)json!["error_code"]!);
        var message = (string)json["message"]!;
        foreach (var m in mentions)
        {
            Assert.Contains(m, message, StringComparison.Ordinal);
        }
    }
}

internal static class Http
{
    public static async Task<(HttpStatusCode Status, JsonNode? Body)> PostAsync(HttpClient http, string url, string body, string contentType)
    {
        using var content = new StringContent(body, Encoding.UTF8);
        content.Headers.ContentType = null;
        if (contentType.Length > 0)
        {
            content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        }

        using var response = await http.PostAsync(url, content);
        var text = await response.Content.ReadAsStringAsync();
        JsonNode? json = null;
        if (text.Length > 0)
        {
            try
            {
                json = JsonNode.Parse(text);
            }
            catch (JsonException)
            {
                json = JsonValue.Create(text);
            }
        }

        return (response.StatusCode, json);
    }

    public static string Number(float v) => v.ToString("R", CultureInfo.InvariantCulture);
}
