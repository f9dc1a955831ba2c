using System.Globalization;
using System.Text.Json;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Cairn.Server.Ui;

/// <summary>One flavor of a model package (<c>python_function</c>, <c>sklearn</c>, <c>mlnet</c>…) and its settings, nested ones flattened to dotted keys.</summary>
public sealed record ModelFlavor(string Name, IReadOnlyList<KeyValuePair<string, string>> Settings);

/// <summary>One column, tensor or parameter of a model signature.</summary>
/// <param name="Name">The column or parameter name; null for an unnamed tensor.</param>
/// <param name="Type">Its type: <c>double</c>, <c>array&lt;string&gt;</c>, <c>tensor float32</c>…</param>
/// <param name="Shape">A tensor's or parameter's shape, such as <c>(-1, 4)</c>, or null.</param>
/// <param name="Required">False for a column the model accepts missing.</param>
/// <param name="Default">A parameter's default value as JSON, or null.</param>
public sealed record SignatureField(string? Name, string Type, string? Shape, bool Required, string? Default);

/// <summary>One part of a signature (<c>inputs</c>, <c>outputs</c> or <c>params</c>), or why it could not be read.</summary>
public sealed record SignatureSchema(string Part, IReadOnlyList<SignatureField> Fields, string? Error);

/// <summary>
/// What an <c>MLmodel</c> file (MLflow's model package descriptor, YAML) says, for the artifact
/// browser: identity fields, the flavors, and the signature, whose parts are JSON strings inside the
/// YAML.
/// </summary>
/// <param name="Fields">Model UUID, run id, creation time and the like, labelled, in display order.</param>
public sealed record MlModelSummary(
    IReadOnlyList<KeyValuePair<string, string>> Fields,
    IReadOnlyList<ModelFlavor> Flavors,
    IReadOnlyList<SignatureSchema> Signature)
{
    private static readonly (string Key, string Label)[] Identity =
    [
        ("model_uuid", "Model UUID"),
        ("run_id", "Run ID"),
        ("utc_time_created", "Created (UTC)"),
        ("artifact_path", "Artifact path"),
        ("model_size_bytes", "Size"),
        ("mlflow_version", "MLflow version"),
        ("cairn_version", "Cairn version"),
    ];

    /// <summary>Reads an <c>MLmodel</c> text; null when it is not YAML or not a mapping with flavors.</summary>
    public static MlModelSummary? Parse(string text)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (Exception ex) when (ex is YamlException or InvalidOperationException)
        {
            // Not YAML (YamlDotNet's scanner throws InvalidOperationException on some malformed scalars).
            return null;
        }

        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlMappingNode root
            || Child(root, "flavors") is not YamlMappingNode flavorsNode)
        {
            return null;
        }

        var fields = new List<KeyValuePair<string, string>>();
        foreach (var (key, label) in Identity)
        {
            if (Scalar(Child(root, key)) is { Length: > 0 } value)
            {
                fields.Add(new(label, key == "model_size_bytes" && long.TryParse(value, CultureInfo.InvariantCulture, out var bytes) ? Format.Bytes(bytes) : value));
            }
        }

        if (Child(root, "saved_input_example_info") is YamlMappingNode example && Scalar(Child(example, "artifact_path")) is { } examplePath)
        {
            fields.Add(new("Input example", Scalar(Child(example, "type")) is { } type ? $"{examplePath} ({type})" : examplePath));
        }

        var flavors = new List<ModelFlavor>();
        foreach (var (name, node) in flavorsNode.Children)
        {
            var settings = new List<KeyValuePair<string, string>>();
            Flatten(node, "", settings);
            flavors.Add(new ModelFlavor(Scalar(name) ?? "", settings));
        }

        var signature = new List<SignatureSchema>();
        if (Child(root, "signature") is YamlMappingNode signatureNode)
        {
            foreach (var part in (string[])["inputs", "outputs", "params"])
            {
                if (Scalar(Child(signatureNode, part)) is { Length: > 0 } json)
                {
                    signature.Add(ReadSchema(part, json));
                }
            }
        }

        return new MlModelSummary(fields, flavors, signature);
    }

    private static YamlNode? Child(YamlMappingNode map, string key) =>
        map.Children.TryGetValue(new YamlScalarNode(key), out var node) ? node : null;

    /// <summary>A scalar's text; null for a missing node, a YAML null or a collection.</summary>
    private static string? Scalar(YamlNode? node) =>
        node is YamlScalarNode { Value: { } value } scalar && !(scalar.Style == ScalarStyle.Plain && value is "" or "~" or "null" or "Null" or "NULL") ? value : null;

    private static void Flatten(YamlNode node, string prefix, List<KeyValuePair<string, string>> into)
    {
        switch (node)
        {
            case YamlMappingNode map:
                foreach (var (key, child) in map.Children)
                {
                    var name = Scalar(key) ?? "";
                    Flatten(child, prefix.Length == 0 ? name : $"{prefix}.{name}", into);
                }

                break;
            case YamlSequenceNode list:
                into.Add(new(prefix, string.Join(", ", list.Children.Select(c => Scalar(c) ?? "…"))));
                break;
            default:
                into.Add(new(prefix, Scalar(node) ?? "—"));
                break;
        }
    }

    private static SignatureSchema ReadSchema(string part, string json)
    {
        try
        {
            using var doc = JsonDocument.Parse(json);
            if (doc.RootElement.ValueKind != JsonValueKind.Array)
            {
                return new SignatureSchema(part, [], "not a JSON list");
            }

            var fields = new List<SignatureField>();
            foreach (var item in doc.RootElement.EnumerateArray())
            {
                if (item.ValueKind != JsonValueKind.Object)
                {
                    continue;
                }

                var name = Text(item, "name");
                var shape = item.TryGetProperty("shape", out var s) ? Shape(s) : null;
                var type = DescribeType(item);
                if (item.TryGetProperty("tensor-spec", out var tensor) && tensor.ValueKind == JsonValueKind.Object)
                {
                    type = $"tensor {Text(tensor, "dtype") ?? "?"}";
                    shape = tensor.TryGetProperty("shape", out var ts) ? Shape(ts) : null;
                }

                var required = !item.TryGetProperty("required", out var r) || r.ValueKind != JsonValueKind.False;
                var @default = item.TryGetProperty("default", out var d) && d.ValueKind != JsonValueKind.Null ? d.GetRawText() : null;
                fields.Add(new SignatureField(name, type, shape, required, @default));
            }

            return new SignatureSchema(part, fields, null);
        }
        catch (JsonException ex)
        {
            return new SignatureSchema(part, [], "not valid JSON: " + ex.Message);
        }
    }

    /// <summary>A column type in short: <c>long</c>, <c>array&lt;string&gt;</c>, <c>map&lt;double&gt;</c>, <c>object{a: long, b: string}</c>.</summary>
    private static string DescribeType(JsonElement spec) => Text(spec, "type") switch
    {
        "array" when spec.TryGetProperty("items", out var items) => $"array<{DescribeType(items)}>",
        "map" when spec.TryGetProperty("values", out var values) => $"map<{DescribeType(values)}>",
        "object" when spec.TryGetProperty("properties", out var props) && props.ValueKind == JsonValueKind.Object =>
            "object{" + string.Join(", ", props.EnumerateObject().Select(p => $"{p.Name}: {DescribeType(p.Value)}")) + "}",
        { } type => type,
        null => "?",
    };

    private static string? Text(JsonElement o, string name) =>
        o.ValueKind == JsonValueKind.Object && o.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static string? Shape(JsonElement shape) => shape.ValueKind switch
    {
        JsonValueKind.Array => "(" + string.Join(", ", shape.EnumerateArray().Select(d => d.GetRawText())) + ")",
        JsonValueKind.Null => null,
        _ => shape.GetRawText(),
    };
}
