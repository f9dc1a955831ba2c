using System.Globalization;
using Cairn.Tuning;
using YamlDotNet.Core;
using YamlDotNet.Serialization;

namespace Cairn.Lab.Pipelines;

/// <summary>One step of a feature set: an enricher's catalog name and its options.</summary>
public sealed record EnricherConfig(string Name, IReadOnlyDictionary<string, object?> Options);

/// <summary>A model to try, with the search space its fine-tuner explores (the model's default when empty).</summary>
public sealed record ModelConfig(string Name, IReadOnlyDictionary<string, Distribution> SearchSpace);

/// <param name="Name">grid, random or tpe.</param>
/// <param name="Trials">Trials per configuration (a grid stops earlier when it has fewer points).</param>
/// <param name="Folds">Stratified cross-validation folds on the training split.</param>
/// <param name="Metric">The metric the tuner optimises and the configurations are ranked by.</param>
/// <param name="GridPoints">Points per continuous range when a grid search meets one.</param>
/// <param name="TuneRows">Cross-validate on a stratified sample of at most this many training rows (large data sets); the best parameters are refitted on every training row.</param>
public sealed record TunerConfig(string Name, int Trials, int Folds, string Metric, string Pruner, int GridPoints, int? TuneRows = null);

/// <param name="ModelName">The registered model; default: the experiment name.</param>
/// <param name="Alias">The alias every newly registered best model gets.</param>
/// <param name="ChampionAlias">Moved to the new version only when it beats the current champion.</param>
public sealed record RegistryConfig(bool Register, string? ModelName, string Alias, string ChampionAlias);

/// <summary>
/// A pipeline configuration (<c>cairn train -f config.yaml</c>): the data set and its split, named
/// feature sets (chains of enrichers), the models, the fine-tuner and what to register. Every name
/// is checked against its catalog before anything runs.
/// </summary>
public sealed record PipelineConfig
{
    public required string Experiment { get; init; }

    public string? TrackingUri { get; init; }

    public int Seed { get; init; } = 42;

    public required DatasetOptions Dataset { get; init; }

    public double TestFraction { get; init; } = 0.2;

    public double ValidationFraction { get; init; } = 0.2;

    /// <summary>Feature-set name → enricher chain, in the file's order.</summary>
    public required IReadOnlyList<KeyValuePair<string, IReadOnlyList<EnricherConfig>>> FeatureSets { get; init; }

    public required IReadOnlyList<ModelConfig> Models { get; init; }

    public required TunerConfig Tuner { get; init; }

    public required RegistryConfig Registry { get; init; }

    /// <summary>The config file, when read from one (the runs' source, for code lineage).</summary>
    public string? SourcePath { get; init; }

    public static readonly IReadOnlyList<string> Tuners = ["grid", "random", "tpe"];

    public static readonly IReadOnlyList<string> Pruners = ["none", "median"];

    /// <summary>Metrics a tuner can optimise, and whether larger is better.</summary>
    public static readonly IReadOnlyDictionary<string, bool> Metrics = new Dictionary<string, bool>(StringComparer.Ordinal)
    {
        ["accuracy"] = true,
        ["f1_macro"] = true,
        ["f1_weighted"] = true,
        ["precision_macro"] = true,
        ["recall_macro"] = true,
        ["roc_auc"] = true,
        ["log_loss"] = false,
    };

    public bool MetricIsMaximized => Metrics[Tuner.Metric];

    /// <summary>Reads a YAML (or JSON) config file.</summary>
    /// <exception cref="PipelineConfigException">The file is missing or malformed, or a value is invalid.</exception>
    public static PipelineConfig Load(string path)
    {
        if (!File.Exists(path))
        {
            throw new PipelineConfigException($"Config file '{path}' does not exist (looked in {Path.GetFullPath(path)}).");
        }

        return Parse(File.ReadAllText(path), path) with { SourcePath = Path.GetFullPath(path) };
    }

    public static PipelineConfig Parse(string text, string origin = "config")
    {
        object? root;
        try
        {
            root = new DeserializerBuilder().Build().Deserialize<object?>(text);
        }
        catch (YamlException e)
        {
            throw new PipelineConfigException($"{origin} is not valid YAML: {e.Message} (line {e.Start.Line}, column {e.Start.Column}).");
        }

        var map = root as IDictionary<object, object?> ?? throw new PipelineConfigException($"{origin} must be a mapping with keys such as experiment, dataset, models and tuner.");
        var reader = new ConfigReader(map, origin);
        reader.AllowOnly("experiment", "tracking_uri", "seed", "dataset", "split", "feature_sets", "models", "tuner", "registry");

        var dataset = reader.Map("dataset") is { } ds ? ds : new ConfigReader(new Dictionary<object, object?>(), origin + ": dataset");
        dataset.AllowOnly("name", "location", "path", "label", "row_limit");
        var datasetName = dataset.String("name") ?? throw new PipelineConfigException($"{origin}: dataset.name is required.");

        var split = reader.Map("split");
        split?.AllowOnly("test", "validation");
        var test = split?.Double("test") ?? 0.2;
        var validation = split?.Double("validation") ?? 0.2;
        if (test <= 0 || validation < 0 || test + validation >= 1)
        {
            throw new PipelineConfigException($"{origin}: split.test ({test}) must be > 0, split.validation ({validation}) ≥ 0, and together below 1.");
        }

        var tuner = reader.Map("tuner") ?? new ConfigReader(new Dictionary<object, object?>(), origin + ": tuner");
        tuner.AllowOnly("name", "trials", "folds", "metric", "pruner", "grid_points", "tune_rows");
        var tunerName = tuner.String("name") ?? "tpe";
        Require(Tuners, tunerName, $"{origin}: tuner.name", "fine-tuner");
        var metric = tuner.String("metric") ?? "accuracy";
        Require([.. Metrics.Keys], metric, $"{origin}: tuner.metric", "metric");
        var pruner = tuner.String("pruner") ?? "none";
        Require(Pruners, pruner, $"{origin}: tuner.pruner", "pruner");
        var folds = tuner.Int("folds") ?? 5;
        var trials = tuner.Int("trials") ?? (tunerName == "grid" ? 1000 : 20);
        var gridPoints = tuner.Int("grid_points") ?? 3;
        var tuneRows = tuner.Int("tune_rows");
        if (folds < 2 || trials < 1 || gridPoints < 1 || tuneRows < 10)
        {
            throw new PipelineConfigException($"{origin}: tuner.folds must be ≥ 2 (got {folds}), tuner.trials ≥ 1 (got {trials}), tuner.grid_points ≥ 1 (got {gridPoints}) and tuner.tune_rows ≥ 10 (got {tuneRows}).");
        }

        var registry = reader.Map("registry");
        registry?.AllowOnly("register", "model_name", "alias", "champion_alias");

        var experiment = reader.String("experiment") ?? datasetName;
        return new PipelineConfig
        {
            Experiment = experiment,
            TrackingUri = reader.String("tracking_uri"),
            Seed = reader.Int("seed") ?? 42,
            Dataset = new DatasetOptions(datasetName, dataset.String("location"), dataset.String("path"), dataset.String("label"), dataset.Long("row_limit")),
            TestFraction = test,
            ValidationFraction = validation,
            FeatureSets = ReadFeatureSets(reader, origin),
            Models = ReadModels(reader, origin),
            Tuner = new TunerConfig(tunerName, trials, folds, metric, pruner, gridPoints, tuneRows),
            Registry = new RegistryConfig(registry?.Bool("register") ?? true, registry?.String("model_name"), registry?.String("alias") ?? "challenger", registry?.String("champion_alias") ?? "champion"),
        };
    }

    /// <summary>
    /// The config as YAML, with every default and command-line override written out: what the
    /// pipeline logs as <c>config.yaml</c>, and what <c>cairn rerun</c> reads back.
    /// </summary>
    public string ToYaml()
    {
        static object? Scalar(object? v) => v is double d ? d.ToString("R", CultureInfo.InvariantCulture) : v;
        static object Space(Distribution d) => d switch
        {
            CategoricalDistribution c => c.Choices.Select(Scalar).ToList(),
            FloatDistribution f => Range("float", f.Low, f.High, f.Log, f.Step),
            IntDistribution i => Range("int", i.Low, i.High, i.Log, i.Step),
            _ => throw new NotSupportedException(d.GetType().Name),
        };
        static Dictionary<string, object?> Range(string type, double low, double high, bool log, double? step)
        {
            var r = new Dictionary<string, object?> { ["type"] = type, ["low"] = Scalar(low), ["high"] = Scalar(high) };
            if (log)
            {
                r["log"] = true;
            }

            if (step is { } s && !(type == "int" && s == 1))
            {
                r["step"] = Scalar(s);
            }

            return r;
        }

        var dataset = new Dictionary<string, object?> { ["name"] = Dataset.Name };
        if (Dataset.Location is { } location)
        {
            dataset["location"] = location;
        }

        if (Dataset.Path is { } path)
        {
            dataset["path"] = path;
        }

        if (Dataset.Label is { } label)
        {
            dataset["label"] = label;
        }

        if (Dataset.RowLimit is { } rows)
        {
            dataset["row_limit"] = rows;
        }

        var tuner = new Dictionary<string, object?>
        {
            ["name"] = Tuner.Name,
            ["trials"] = Tuner.Trials,
            ["folds"] = Tuner.Folds,
            ["metric"] = Tuner.Metric,
            ["pruner"] = Tuner.Pruner,
            ["grid_points"] = Tuner.GridPoints,
        };
        if (Tuner.TuneRows is { } tuneRows)
        {
            tuner["tune_rows"] = tuneRows;
        }

        var registry = new Dictionary<string, object?> { ["register"] = Registry.Register, ["alias"] = Registry.Alias, ["champion_alias"] = Registry.ChampionAlias };
        if (Registry.ModelName is { } modelName)
        {
            registry["model_name"] = modelName;
        }

        var root = new Dictionary<string, object?>
        {
            ["experiment"] = Experiment,
            ["seed"] = Seed,
            ["dataset"] = dataset,
            ["split"] = new Dictionary<string, object?> { ["test"] = Scalar(TestFraction), ["validation"] = Scalar(ValidationFraction) },
            ["feature_sets"] = FeatureSets.ToDictionary(
                f => f.Key,
                f => f.Value.Select(e => e.Options.Count == 0 ? (object)e.Name : new Dictionary<string, object?> { [e.Name] = e.Options }).ToList()),
            ["models"] = Models.ToDictionary(
                m => m.Name,
                m => new Dictionary<string, object?> { ["search_space"] = m.SearchSpace.ToDictionary(p => p.Key, p => Space(p.Value)) }),
            ["tuner"] = tuner,
            ["registry"] = registry,
        };
        if (TrackingUri is { } trackingUri)
        {
            root["tracking_uri"] = trackingUri;
        }

        return new SerializerBuilder().Build().Serialize(root);
    }

    private static List<KeyValuePair<string, IReadOnlyList<EnricherConfig>>> ReadFeatureSets(ConfigReader reader, string origin)
    {
        var result = new List<KeyValuePair<string, IReadOnlyList<EnricherConfig>>>();
        switch (reader.Raw("feature_sets"))
        {
            case null:
                result.Add(KeyValuePair.Create("basic", (IReadOnlyList<EnricherConfig>)[new EnricherConfig("none", new Dictionary<string, object?>())]));
                break;
            case IDictionary<object, object?> sets:
                foreach (var (name, chain) in sets)
                {
                    result.Add(KeyValuePair.Create(Convert.ToString(name, CultureInfo.InvariantCulture)!, (IReadOnlyList<EnricherConfig>)ReadChain(chain, $"{origin}: feature_sets.{name}")));
                }

                break;
            default:
                throw new PipelineConfigException($"{origin}: feature_sets must map a name to a list of enrichers, e.g. feature_sets: {{basic: [none], scaled: [zscale]}}.");
        }

        if (result.Count == 0)
        {
            throw new PipelineConfigException($"{origin}: feature_sets is empty.");
        }

        return result;
    }

    private static List<EnricherConfig> ReadChain(object? chain, string where)
    {
        var steps = chain switch
        {
            null => [],
            string one => [one],
            IList<object?> list => list,
            _ => throw new PipelineConfigException($"{where} must be a list of enrichers, e.g. [impute, zscale] or [{{polynomial: {{degree: 2}}}}]."),
        };
        var result = new List<EnricherConfig>();
        foreach (var step in steps)
        {
            result.Add(step switch
            {
                string name => new EnricherConfig(name, new Dictionary<string, object?>()),
                IDictionary<object, object?> { Count: 1 } one when one.Single() is var (key, value) =>
                    new EnricherConfig(Convert.ToString(key, CultureInfo.InvariantCulture)!, value switch
                    {
                        null => new Dictionary<string, object?>(),
                        IDictionary<object, object?> options => options.ToDictionary(o => Convert.ToString(o.Key, CultureInfo.InvariantCulture)!, o => o.Value),
                        _ => throw new PipelineConfigException($"{where}: the options of '{key}' must be a mapping, e.g. {{degree: 2}}."),
                    }),
                _ => throw new PipelineConfigException($"{where}: each step is an enricher name or {{name: {{options}}}}."),
            });
        }

        return result.Count == 0 ? [new EnricherConfig("none", new Dictionary<string, object?>())] : result;
    }

    private static List<ModelConfig> ReadModels(ConfigReader reader, string origin)
    {
        var models = new List<ModelConfig>();
        switch (reader.Raw("models"))
        {
            case IDictionary<object, object?> map:
                foreach (var (name, body) in map)
                {
                    models.Add(ReadModel(Convert.ToString(name, CultureInfo.InvariantCulture)!, body, origin));
                }

                break;
            case IList<object?> list:
                foreach (var item in list)
                {
                    models.Add(item switch
                    {
                        string name => new ModelConfig(name, new Dictionary<string, Distribution>()),
                        IDictionary<object, object?> { Count: 1 } one when one.Single() is var (key, value) => ReadModel(Convert.ToString(key, CultureInfo.InvariantCulture)!, value, origin),
                        _ => throw new PipelineConfigException($"{origin}: each entry of models is a model name or {{name: {{search_space: ...}}}}."),
                    });
                }

                break;
            default:
                throw new PipelineConfigException($"{origin}: models is required: a list of model names, or a mapping of model name → {{search_space: ...}}.");
        }

        return models.Count == 0 ? throw new PipelineConfigException($"{origin}: models is empty.") : models;
    }

    private static ModelConfig ReadModel(string name, object? body, string origin)
    {
        if (body is null)
        {
            return new ModelConfig(name, new Dictionary<string, Distribution>());
        }

        var where = $"{origin}: models.{name}";
        var model = new ConfigReader(body as IDictionary<object, object?> ?? throw new PipelineConfigException($"{where} must be a mapping with a search_space."), where);
        model.AllowOnly("search_space");
        var space = new Dictionary<string, Distribution>(StringComparer.Ordinal);
        if (model.Map("search_space") is { } spaceReader)
        {
            foreach (var key in spaceReader.Keys)
            {
                space[key] = ReadDistribution(spaceReader.Raw(key), $"{where}.search_space.{key}");
            }
        }

        return new ModelConfig(name, space);
    }

    /// <summary>
    /// <c>[a, b, c]</c> or <c>{values: [...]}</c> → categorical; <c>{low, high, log?, step?, type?: int|float}</c>
    /// → a range (int when both bounds are whole numbers and no type says otherwise); a single value → fixed.
    /// </summary>
    private static Distribution ReadDistribution(object? raw, string where)
    {
        switch (raw)
        {
            case IList<object?> list:
                return Categorical(list, where);
            case IDictionary<object, object?> map:
                var spec = new ConfigReader(map, where);
                spec.AllowOnly("type", "low", "high", "log", "step", "values");
                if (spec.Raw("values") is IList<object?> values)
                {
                    return Categorical(values, where);
                }

                var low = spec.Double("low") ?? throw new PipelineConfigException($"{where} needs low and high (or values).");
                var high = spec.Double("high") ?? throw new PipelineConfigException($"{where} needs low and high (or values).");
                if (low > high)
                {
                    throw new PipelineConfigException($"{where}: low ({Fmt(low)}) is greater than high ({Fmt(high)}).");
                }

                var log = spec.Bool("log") ?? false;
                if (log && low <= 0)
                {
                    throw new PipelineConfigException($"{where}: a log range needs low > 0 (got {Fmt(low)}).");
                }

                var step = spec.Double("step");
                if (step is <= 0)
                {
                    throw new PipelineConfigException($"{where}: step must be > 0 (got {Fmt(step.Value)}).");
                }

                var type = spec.String("type") ?? (IsWhole(low) && IsWhole(high) && (step is null || IsWhole(step.Value)) && spec.RawText("low")?.Contains('.') != true ? "int" : "float");
                Require(["int", "float"], type, $"{where}.type", "parameter type");
                try
                {
                    return type == "int"
                        ? new IntDistribution((long)low, (long)high, log, (long)(step ?? 1))
                        : new FloatDistribution(low, high, log, step);
                }
                catch (ArgumentException e)
                {
                    throw new PipelineConfigException($"{where}: {e.Message}");
                }

            case null:
                throw new PipelineConfigException($"{where} is empty; give a range {{low, high}} or a list of values.");
            default:
                return Categorical([raw], where);
        }
    }

    private static CategoricalDistribution Categorical(IList<object?> values, string where)
    {
        if (values.Count == 0)
        {
            throw new PipelineConfigException($"{where}: the list of values is empty.");
        }

        try
        {
            return new CategoricalDistribution([.. values.Select(ConfigReader.Scalar)]);
        }
        catch (ArgumentException e)
        {
            throw new PipelineConfigException($"{where}: {e.Message}");
        }
    }

    private static bool IsWhole(double v) => Math.Abs(v - Math.Round(v)) < 1e-12 && Math.Abs(v) < long.MaxValue;

    private static string Fmt(double v) => v.ToString("G", CultureInfo.InvariantCulture);

    /// <summary>Throws a message naming <paramref name="what"/> and the allowed values when <paramref name="value"/> is not one of them.</summary>
    public static void Require(IReadOnlyList<string> allowed, string value, string where, string what)
    {
        if (!allowed.Contains(value, StringComparer.Ordinal))
        {
            throw new PipelineConfigException($"{where}: unknown {what} '{value}'. Allowed: {string.Join(", ", allowed)}.");
        }
    }

    /// <summary>Typed access to one YAML mapping, with messages that say where a bad value is.</summary>
    private sealed class ConfigReader(IDictionary<object, object?> map, string where)
    {
        public IEnumerable<string> Keys => map.Keys.Select(k => Convert.ToString(k, CultureInfo.InvariantCulture)!);

        public void AllowOnly(params string[] keys)
        {
            foreach (var key in Keys)
            {
                if (!keys.Contains(key, StringComparer.Ordinal))
                {
                    throw new PipelineConfigException($"{where}: unknown key '{key}'. Allowed: {string.Join(", ", keys)}.");
                }
            }
        }

        public object? Raw(string key) => map.FirstOrDefault(kv => Convert.ToString(kv.Key, CultureInfo.InvariantCulture) == key).Value;

        public string? RawText(string key) => Raw(key) as string;

        public ConfigReader? Map(string key) => Raw(key) switch
        {
            null => null,
            IDictionary<object, object?> m => new ConfigReader(m, $"{where}: {key}"),
            _ => throw new PipelineConfigException($"{where}: {key} must be a mapping."),
        };

        public string? String(string key) => Raw(key) switch
        {
            null => null,
            string s => s,
            _ => throw new PipelineConfigException($"{where}: {key} must be a single value."),
        };

        public double? Double(string key) => String(key) is { } s
            ? double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d : throw new PipelineConfigException($"{where}: {key} must be a number, not '{s}'.")
            : null;

        public int? Int(string key) => String(key) is { } s
            ? int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var i) ? i : throw new PipelineConfigException($"{where}: {key} must be a whole number, not '{s}'.")
            : null;

        public long? Long(string key) => String(key) is { } s
            ? long.TryParse(s.Replace("_", "", StringComparison.Ordinal), NumberStyles.Integer, CultureInfo.InvariantCulture, out var l) ? l : throw new PipelineConfigException($"{where}: {key} must be a whole number, not '{s}'.")
            : null;

        public bool? Bool(string key) => String(key) is { } s
            ? bool.TryParse(s, out var b) ? b : s is "yes" or "on" ? true : s is "no" or "off" ? false : throw new PipelineConfigException($"{where}: {key} must be true or false, not '{s}'.")
            : null;

        /// <summary>A YAML scalar as the tuner sees it: a long, a double, a bool or the text.</summary>
        public static object? Scalar(object? value) => value switch
        {
            string s when long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var l) => l,
            string s when double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) => d,
            "true" => true,
            "false" => false,
            string s => s,
            null => null,
            _ => throw new PipelineConfigException($"A search-space value must be a number or text, not {value.GetType().Name}."),
        };
    }
}
