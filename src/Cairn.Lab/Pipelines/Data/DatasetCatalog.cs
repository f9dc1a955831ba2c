namespace Cairn.Lab.Pipelines.Data;

/// <summary>
/// The datasets a pipeline config can name: three classic tables shipped inside Cairn.Lab, the
/// UCI HIGGS file read from a data folder, and any CSV or Parquet file with a label column.
/// </summary>
public static class DatasetCatalog
{
    private static readonly IReadOnlyList<OptionInfo> NoOptions = [];

    private static readonly Dictionary<string, string> BuiltinLabels = new(StringComparer.Ordinal)
    {
        ["iris"] = "species",
        ["wine"] = "target",
        ["breast_cancer"] = "target",
    };

    public static IReadOnlyList<CatalogEntry> Entries { get; } =
    [
        new("iris", "Fisher's iris: 150 flowers, 4 measurements, 3 species (built in).", NoOptions),
        new("wine", "UCI wine recognition: 178 wines, 13 chemical measurements, 3 cultivars (built in).", NoOptions),
        new("breast_cancer", "UCI breast cancer Wisconsin (diagnostic): 569 tumours, 30 features, 0 = malignant, 1 = benign (built in).", NoOptions),
        new("higgs", "UCI HIGGS: signal vs background events, 28 features; reads HIGGS.csv.gz from the data folder, streamed.",
        [
            new("location", "The data folder holding HIGGS.csv.gz (or HIGGS.csv).", "."),
            new("path", "An explicit HIGGS-format file (.csv or .csv.gz) instead."),
            new("row_limit", "Read at most this many rows (the file has 11,000,000)."),
        ]),
        new("csv", "Any CSV (with a header) or Parquet file with a label column; column types are inferred.",
        [
            new("path", "The file; .parquet is read as Parquet, anything else as CSV."),
            new("label", "The label column's name.", "label"),
            new("row_limit", "Read at most this many rows."),
        ]),
    ];

    /// <summary>Loads the dataset <see cref="DatasetOptions.Name"/> names.</summary>
    /// <exception cref="PipelineConfigException">An unknown name, a missing file or label column, an empty file, a ragged row.</exception>
    public static async Task<LoadedDataset> LoadAsync(DatasetOptions options, IProgress<string>? progress = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.RowLimit is <= 0)
        {
            throw new PipelineConfigException($"row_limit must be a positive number of rows, not {options.RowLimit}.");
        }

        switch (options.Name)
        {
            case var name when BuiltinLabels.TryGetValue(name, out var label):
                return LoadBuiltin(name, options.Label ?? label, options.RowLimit);
            case "higgs":
                return await HiggsDataset.LoadAsync(FindHiggs(options), options.RowLimit, progress, ct);
            case "csv":
                return await LoadFileAsync(options, ct);
            default:
                throw new PipelineConfigException(
                    $"Unknown dataset '{options.Name}'; the datasets are: {string.Join(", ", Entries.Select(e => e.Name))}.");
        }
    }

    private static LoadedDataset LoadBuiltin(string name, string label, long? rowLimit)
    {
        var resource = $"Cairn.Lab.Datasets.{name}.csv";
        using var stream = typeof(DatasetCatalog).Assembly.GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"The built-in dataset resource {resource} is missing from Cairn.Lab.");
        using var reader = new StreamReader(stream);
        return CsvDataset.Parse(reader.ReadToEnd(), name, label, rowLimit, "builtin", $"cairn:builtin/{name}.csv");
    }

    private static async Task<LoadedDataset> LoadFileAsync(DatasetOptions options, CancellationToken ct)
    {
        var given = options.Path ?? (options.Location is { } l && File.Exists(l) ? l : null)
            ?? throw new PipelineConfigException("Dataset 'csv' needs a file: give its path (path: in the config, or -l FILE).");
        var candidates = Candidates(given, options.Location).ToList();
        var path = candidates.FirstOrDefault(File.Exists)
            ?? throw new PipelineConfigException($"Dataset 'csv': file not found; looked for {string.Join(" and ", candidates.Select(Path.GetFullPath))}.");
        var label = options.Label ?? "label";
        if (path.EndsWith(".parquet", StringComparison.OrdinalIgnoreCase))
        {
            return await ParquetDataset.LoadAsync(path, label, options.RowLimit, ct);
        }

        var text = await File.ReadAllTextAsync(path, ct);
        var loaded = CsvDataset.Parse(text, "csv", label, options.RowLimit, "local", Path.GetFullPath(path));
        return loaded with { Description = loaded.Description with { Name = Path.GetFileNameWithoutExtension(path) } };
    }

    /// <summary>A relative path is looked for in the data folder first, then in the working directory.</summary>
    private static IEnumerable<string> Candidates(string path, string? location)
    {
        if (!Path.IsPathRooted(path) && !string.IsNullOrEmpty(location) && Directory.Exists(location))
        {
            yield return Path.Combine(location, path);
        }

        yield return path;
    }

    private static string FindHiggs(DatasetOptions options)
    {
        List<string> candidates;
        if (options.Path is { } explicitPath)
        {
            candidates = [.. Candidates(explicitPath, options.Location)];
        }
        else if (options.Location is { } location && File.Exists(location))
        {
            candidates = [location];
        }
        else
        {
            var folder = string.IsNullOrEmpty(options.Location) ? "." : options.Location;
            candidates = [Path.Combine(folder, "HIGGS.csv.gz"), Path.Combine(folder, "HIGGS.csv")];
        }

        return candidates.FirstOrDefault(File.Exists)
            ?? throw new PipelineConfigException(
                $"Dataset 'higgs': file not found; looked for {string.Join(" and ", candidates.Select(Path.GetFullPath))}. "
                + "Put HIGGS.csv.gz (from the UCI repository) in the data folder given with -l, or give a path.");
    }
}
