using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Cairn.Models;

/// <summary>How an ONNX model is saved into a package and how its outputs are read as predictions.</summary>
public sealed record OnnxSaveOptions
{
    /// <summary>The graph output holding each row's predicted class (or value). Default <c>label</c>.</summary>
    public string LabelOutput { get; init; } = OnnxFlavor.DefaultLabelOutput;

    /// <summary>The graph output holding each row's per-class probabilities ([N, classes]). Default <c>probabilities</c>.</summary>
    public string ProbabilitiesOutput { get; init; } = OnnxFlavor.DefaultProbabilitiesOutput;

    /// <summary>Class names in probability order; an integer label output is mapped through them.</summary>
    public IReadOnlyList<string>? ClassNames { get; init; }

    /// <summary>Inference parameters recorded in the signature.</summary>
    public IReadOnlyList<ParamSpec>? Params { get; init; }

    /// <summary>Execution providers recorded for MLflow's loader (Cairn itself scores on the CPU).</summary>
    public IReadOnlyList<string> Providers { get; init; } = ["CPUExecutionProvider"];

    public string? ArtifactPath { get; init; }

    public string? RunId { get; init; }
}

/// <summary>
/// The <c>onnx</c> flavor: an ONNX graph saved as <c>model.onnx</c> and scored by OnnxRuntime. The
/// signature's input columns feed the graph either one input per column (an input named like the
/// column) or all together, in signature order, into the graph's single input ([N, F] for F values
/// per row). Outputs named by the flavor's <c>label_output</c> and <c>probabilities_output</c> become
/// <see cref="Prediction.Label"/> and <see cref="Prediction.Scores"/>.
/// </summary>
public static class OnnxFlavor
{
    public const string Name = "onnx";
    public const string ModelFileName = "model.onnx";
    public const string DefaultLabelOutput = "label";
    public const string DefaultProbabilitiesOutput = "probabilities";

    /// <summary>The OnnxRuntime version scoring the models (the native library's own version string).</summary>
    public static string OnnxRuntimeVersion => OrtEnv.Instance().GetVersionString();

    /// <summary>Saves the ONNX file at <paramref name="onnxModelPath"/>; see <see cref="Save(string, byte[], ModelSignature?, InputExample?, OnnxSaveOptions?)"/>.</summary>
    public static ModelFile Save(string packageDir, string onnxModelPath, ModelSignature? signature = null, InputExample? inputExample = null, OnnxSaveOptions? options = null) =>
        Save(packageDir, File.ReadAllBytes(onnxModelPath), signature, inputExample, options);

    /// <summary>
    /// Writes a complete package into <paramref name="packageDir"/> (created if needed): <c>model.onnx</c>,
    /// <c>MLmodel</c> with the <c>onnx</c> flavor and the signature (inferred from the graph's inputs and
    /// outputs when not given), the input example and <c>dotnet_env.yaml</c>. The model is opened
    /// with OnnxRuntime and the signature and example are checked against it before anything is written.
    /// </summary>
    /// <exception cref="ArgumentException">The bytes are not a model OnnxRuntime can load, the signature does not fit the graph, or the example does not score.</exception>
    public static ModelFile Save(string packageDir, byte[] onnxModel, ModelSignature? signature = null, InputExample? inputExample = null, OnnxSaveOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(onnxModel);
        options ??= new OnnxSaveOptions();
        var flavor = new Dictionary<string, object?>
        {
            ["data"] = ModelFileName,
            ["env"] = ModelEnvironment.FileName,
            ["onnxruntime_version"] = OnnxRuntimeVersion,
            ["providers"] = options.Providers.ToList(),
            ["label_output"] = options.LabelOutput,
            ["probabilities_output"] = options.ProbabilitiesOutput,
        };
        if (options.ClassNames is { } classes)
        {
            flavor["class_names"] = classes.ToList();
        }

        InferenceSession session;
        try
        {
            session = new InferenceSession(onnxModel);
        }
        catch (OnnxRuntimeException e)
        {
            throw new ArgumentException($"The bytes given are not an ONNX model OnnxRuntime {OnnxRuntimeVersion} can load: {e.Message}", nameof(onnxModel), e);
        }

        ModelFile file;
        using (session)
        {
            try
            {
                signature = (signature ?? Inferred(session, options)) with { Params = options.Params ?? signature?.Params };
            }
            catch (NotSupportedException e)
            {
                throw new ArgumentException($"Cannot infer a signature: {e.Message}", nameof(signature), e);
            }

            file = new ModelFile
            {
                ArtifactPath = options.ArtifactPath,
                RunId = options.RunId,
                Flavors = new Dictionary<string, IReadOnlyDictionary<string, object?>> { [Name] = flavor },
                Signature = signature,
            };
            OnnxPredictor predictor;
            try
            {
                predictor = new OnnxPredictor(file, packageDir, session, flavor, ownsSession: false);
            }
            catch (InvalidModelPackageException e)
            {
                throw new ArgumentException(e.Message, nameof(signature), e);
            }

            if (inputExample is not null)
            {
                predictor.Predict(inputExample.Rows()); // an example that does not score fails here, naming the column
            }
        }

        Directory.CreateDirectory(packageDir);
        File.WriteAllBytes(Path.Combine(packageDir, ModelFileName), onnxModel);
        var exampleInfo = inputExample?.Write(packageDir);
        ModelEnvironment.Current([typeof(InferenceSession)]).Write(packageDir);
        file = file with
        {
            SavedInputExampleInfo = exampleInfo,
            ModelSizeBytes = Directory.EnumerateFiles(packageDir, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length),
        };
        file.Write(packageDir);
        return file;
    }

    /// <summary>The graph's signature; an integer label output read through class names is a string column.</summary>
    private static ModelSignature Inferred(InferenceSession session, OnnxSaveOptions options)
    {
        var signature = InferSignature(session);
        return options.ClassNames is null ? signature : signature with
        {
            Outputs = signature.Outputs!.Select(c => c.Name == options.LabelOutput && c.Type is ColumnTypes.Long or ColumnTypes.Integer ? c with { Type = ColumnTypes.String } : c).ToList(),
        };
    }

    /// <summary>
    /// A signature read off the graph: a tensor with one value per row ([N] or [N, 1]) is a scalar
    /// column, a wider one ([N, F]) an array column, each named after its graph input or output.
    /// </summary>
    public static ModelSignature InferSignature(InferenceSession session)
    {
        ArgumentNullException.ThrowIfNull(session);
        foreach (var (name, meta) in session.InputMetadata)
        {
            if (!meta.IsTensor)
            {
                throw new NotSupportedException($"Graph input '{name}' is a {meta.OnnxValueType}, not a tensor; Cairn feeds tensor inputs only.");
            }
        }

        // Outputs Cairn does not read (ZipMap's sequence of maps) are left out of the signature.
        return new ModelSignature(
            session.InputMetadata.Select(kv => Column(kv.Key, kv.Value, "input")).ToList(),
            session.OutputMetadata.Where(kv => kv.Value.IsTensor).Select(kv => Column(kv.Key, kv.Value, "output")).ToList());
    }

    private static ColumnSpec Column(string name, NodeMetadata meta, string kind)
    {

        var type = ColumnType(meta.ElementDataType) ?? throw new NotSupportedException($"Graph {kind} '{name}' has element type {meta.ElementDataType}, which has no MLflow column type.");
        return meta.Dimensions.Length <= 1 || (meta.Dimensions.Length == 2 && meta.Dimensions[1] == 1)
            ? new ColumnSpec(name, type)
            : new ColumnSpec(name, ColumnTypes.Array, true, type);
    }

    internal static string? ColumnType(TensorElementType type) => type switch
    {
        TensorElementType.Float => ColumnTypes.Float,
        TensorElementType.Double => ColumnTypes.Double,
        TensorElementType.Int32 or TensorElementType.Int16 or TensorElementType.Int8 or TensorElementType.UInt8 or TensorElementType.UInt16 => ColumnTypes.Integer,
        TensorElementType.Int64 or TensorElementType.UInt32 => ColumnTypes.Long,
        TensorElementType.String => ColumnTypes.String,
        TensorElementType.Bool => ColumnTypes.Boolean,
        _ => null,
    };

    /// <summary>Loads the package's <c>onnx</c> flavor into one OnnxRuntime session.</summary>
    public static OnnxPredictor Load(string packageDir)
    {
        var file = ModelFile.Read(packageDir);
        var flavor = file.Flavor(Name);
        var path = Path.Combine(packageDir, flavor.TryGetValue("data", out var d) && d is string s ? s : ModelFileName);
        if (!File.Exists(path))
        {
            throw new InvalidModelPackageException($"The onnx flavor names '{Path.GetFileName(path)}', but the package at '{packageDir}' has no such file.");
        }

        InferenceSession session;
        using var sessionOptions = SessionOptions(flavor);
        try
        {
            session = new InferenceSession(path, sessionOptions);
        }
        catch (OnnxRuntimeException e)
        {
            throw new InvalidModelPackageException($"'{path}' is not an ONNX model OnnxRuntime {OnnxRuntimeVersion} can load: {e.Message}", e);
        }

        try
        {
            return new OnnxPredictor(file, Path.GetFullPath(packageDir), session, flavor, ownsSession: true);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    /// <summary>The thread counts of MLflow's <c>onnx_session_options</c>, when the package sets them.</summary>
    private static SessionOptions SessionOptions(IReadOnlyDictionary<string, object?> flavor)
    {
        var options = new SessionOptions();
        if (flavor.TryGetValue("onnx_session_options", out var o) && o is IReadOnlyDictionary<string, object?> map)
        {
            if (map.TryGetValue("intra_op_num_threads", out var intra) && int.TryParse(intra?.ToString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var i))
            {
                options.IntraOpNumThreads = i;
            }

            if (map.TryGetValue("inter_op_num_threads", out var inter) && int.TryParse(inter?.ToString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var j))
            {
                options.InterOpNumThreads = j;
            }
        }

        return options;
    }
}

/// <summary>
/// An ONNX model loaded from a package. Rows are converted with the signature's column types (the
/// same rules and messages as the <c>mlnet</c> flavor), packed into one tensor per graph input and
/// scored by one <see cref="InferenceSession"/>, whose <c>Run</c> is safe to call from several threads.
/// </summary>
public sealed class OnnxPredictor : IModelPredictor, IDisposable
{
    private readonly InferenceSession _session;
    private readonly bool _ownsSession;
    private readonly DataViewSchema _schema;
    private readonly HashSet<string> _optional;
    private readonly Feed[] _feeds;
    private readonly string[] _inputNames;
    private readonly string[] _outputNames;
    private readonly string? _labelOutput;
    private readonly string? _scoresOutput;

    /// <summary>One graph input and the schema columns (by index) whose values fill each row of it, in order.</summary>
    private sealed record Feed(string Name, TensorElementType Type, int[] Dimensions, int[] Columns, int Width);

    internal OnnxPredictor(ModelFile file, string localPath, InferenceSession session, IReadOnlyDictionary<string, object?> flavor, bool ownsSession)
    {
        Model = file;
        LocalPath = localPath;
        _session = session;
        _ownsSession = ownsSession;

        var signature = file.Signature ?? Signature(session);
        var columns = signature.Inputs.Select((c, i) => c.Name ?? throw new InvalidModelPackageException($"Input column {i} of the signature has no name; the onnx flavor feeds the graph by column name.")).ToList();
        var builder = new DataViewSchema.Builder();
        foreach (var c in signature.Inputs)
        {
            builder.AddColumn(c.Name!, DataType(c));
        }

        _schema = builder.ToSchema();
        _optional = signature.Inputs.Where(c => !c.Required).Select(c => c.Name!).ToHashSet(StringComparer.Ordinal);
        _feeds = Bind(session, signature.Inputs, columns);
        _inputNames = _feeds.Select(f => f.Name).ToArray();

        var outputs = session.OutputMetadata;
        string? Named(string key, string fallback) =>
            (flavor.TryGetValue(key, out var v) && v is string s ? s : fallback) is var name && outputs.ContainsKey(name) ? name : null;
        _labelOutput = Named("label_output", OnnxFlavor.DefaultLabelOutput);
        _scoresOutput = Named("probabilities_output", OnnxFlavor.DefaultProbabilitiesOutput);
        if (_labelOutput is null && _scoresOutput is null)
        {
            // Neither named output: the graph's first output is the prediction (a value or a vector per row).
            var first = outputs.First().Key;
            if (PerRow(outputs[first]) == 1)
            {
                _labelOutput = first;
            }
            else
            {
                _scoresOutput = first;
            }
        }

        foreach (var name in new[] { _labelOutput, _scoresOutput }.OfType<string>())
        {
            if (!outputs[name].IsTensor)
            {
                throw new InvalidModelPackageException($"Graph output '{name}' is a {outputs[name].OnnxValueType}, not a tensor; Cairn reads tensor outputs only (drop ZipMap from the graph).");
            }
        }

        _outputNames = new[] { _labelOutput, _scoresOutput }.OfType<string>().ToArray();
        ClassNames = flavor.TryGetValue("class_names", out var names) && names is IEnumerable<object?> list
            ? list.Select(n => Convert.ToString(n, CultureInfo.InvariantCulture) ?? "").ToList()
            : null;
    }

    public ModelFile Model { get; }

    public string LocalPath { get; }

    public IReadOnlyList<string>? ClassNames { get; }

    /// <summary>The OnnxRuntime session (input and output metadata, or direct runs).</summary>
    public InferenceSession Session => _session;

    public void Dispose()
    {
        if (_ownsSession)
        {
            _session.Dispose();
        }
    }

    private static ModelSignature Signature(InferenceSession session)
    {
        try
        {
            return OnnxFlavor.InferSignature(session);
        }
        catch (NotSupportedException e)
        {
            throw new InvalidModelPackageException(e.Message, e);
        }
    }

    private static DataViewType DataType(ColumnSpec column) => column.Type switch
    {
        ColumnTypes.Array => new VectorDataViewType(column.Items switch
        {
            ColumnTypes.Float => NumberDataViewType.Single,
            ColumnTypes.Double => NumberDataViewType.Double,
            _ => throw new InvalidModelPackageException($"Signature column '{column.Name}' is an array of {column.Items}; the onnx flavor takes arrays of float or double."),
        }),
        ColumnTypes.Float => NumberDataViewType.Single,
        ColumnTypes.Double => NumberDataViewType.Double,
        ColumnTypes.Integer => NumberDataViewType.Int32,
        ColumnTypes.Long => NumberDataViewType.Int64,
        ColumnTypes.Boolean => BooleanDataViewType.Instance,
        ColumnTypes.String => TextDataViewType.Instance,
        _ => throw new InvalidModelPackageException($"Signature column '{column.Name}' has type {column.Type}, which the onnx flavor cannot feed to a tensor."),
    };

    /// <summary>Values per row of a tensor shaped [N, ...]: the product of the fixed dimensions after the first (-1 when one is dynamic).</summary>
    private static int PerRow(NodeMetadata meta) =>
        meta.Dimensions.Skip(1).Aggregate(1, (a, d) => a < 0 || d < 0 ? -1 : a * d);

    /// <summary>
    /// Which columns feed which graph input: every graph input named like a signature column takes
    /// that column; otherwise a graph with one input takes all columns in signature order.
    /// </summary>
    private static Feed[] Bind(InferenceSession session, IReadOnlyList<ColumnSpec> inputs, List<string> columns)
    {
        var graph = session.InputMetadata;
        foreach (var (name, meta) in graph)
        {
            if (!meta.IsTensor)
            {
                throw new InvalidModelPackageException($"Graph input '{name}' is a {meta.OnnxValueType}, not a tensor; Cairn feeds tensor inputs only.");
            }
        }

        List<(string Name, NodeMetadata Meta, int[] Columns)> bound;
        if (graph.Keys.All(columns.Contains))
        {
            bound = graph.Select(kv => (kv.Key, kv.Value, new[] { columns.IndexOf(kv.Key) })).ToList();
        }
        else if (graph.Count == 1)
        {
            var (name, meta) = graph.First();
            bound = [(name, meta, Enumerable.Range(0, columns.Count).ToArray())];
        }
        else
        {
            throw new InvalidModelPackageException(
                $"The graph's inputs ({string.Join(", ", graph.Keys)}) do not match the signature's columns ({string.Join(", ", columns)}): name each graph input after a column, or give the graph a single input that takes all columns in order.");
        }

        return bound.Select(b =>
        {
            if (OnnxFlavor.ColumnType(b.Meta.ElementDataType) is null)
            {
                throw new InvalidModelPackageException($"Graph input '{b.Name}' has element type {b.Meta.ElementDataType}, which Cairn cannot feed.");
            }

            // A fixed per-row size must match what the columns give (an array column of unknown length is checked per row).
            var perRow = PerRow(b.Meta);
            if (perRow > 0 && !b.Columns.Any(c => inputs[c].Type == ColumnTypes.Array) && perRow != b.Columns.Length)
            {
                throw new InvalidModelPackageException(
                    $"Graph input '{b.Name}' takes {perRow} values per row, but the signature gives it {b.Columns.Length} column(s): {string.Join(", ", b.Columns.Select(c => columns[c]))}.");
            }

            if (perRow < 0 && b.Meta.Dimensions.Length > 2)
            {
                throw new InvalidModelPackageException($"Graph input '{b.Name}' has rank {b.Meta.Dimensions.Length} with a dynamic dimension after the batch; Cairn feeds [N], [N, F] or fixed-size inputs.");
            }

            if (b.Meta.ElementDataType == TensorElementType.String && b.Columns.Length != 1)
            {
                throw new InvalidModelPackageException($"Graph input '{b.Name}' takes strings; it must be fed by exactly one column.");
            }

            return new Feed(b.Name, b.Meta.ElementDataType, b.Meta.Dimensions, b.Columns, perRow);
        }).ToArray();
    }

    public IReadOnlyList<Prediction> Predict(IEnumerable<IReadOnlyDictionary<string, object?>> rows)
    {
        var values = RowDataView.ConvertRows(_schema, rows, _optional.Contains);
        if (values.Length == 0)
        {
            return [];
        }

        var inputs = new OrtValue[_feeds.Length];
        try
        {
            for (var i = 0; i < _feeds.Length; i++)
            {
                inputs[i] = Tensor(_feeds[i], values);
            }

            using var runOptions = new RunOptions();
            using var results = _session.Run(runOptions, _inputNames, inputs, _outputNames);
            return Read(results, values.Length);
        }
        catch (OnnxRuntimeException e)
        {
            // Shapes and types are checked before the run, so this is the model failing on these values.
            throw new InvalidOperationException($"OnnxRuntime could not score the rows: {e.Message}", e);
        }
        finally
        {
            foreach (var input in inputs)
            {
                input?.Dispose();
            }
        }
    }

    /// <summary>How many values a row gives a graph input (an array column counts its length); checked against a fixed width.</summary>
    private int RowWidth(Feed feed, object?[] row, int index)
    {
        var width = 0;
        foreach (var c in feed.Columns)
        {
            width += row[c] switch
            {
                VBuffer<float> f => f.Length,
                VBuffer<double> d => d.Length,
                null => throw new ArgumentException($"Row {index}: missing value for column '{_schema[c].Name}'."),
                _ => 1,
            };
        }

        if (feed.Width > 0 && width != feed.Width)
        {
            throw new ArgumentException(
                $"Row {index}: column(s) {string.Join(", ", feed.Columns.Select(c => $"'{_schema[c].Name}'"))} give {width} values, but the model's input '{feed.Name}' takes {feed.Width} per row.");
        }

        return width;
    }

    /// <summary>The rows' values for one graph input as a tensor of its element type, [N, values per row].</summary>
    private OrtValue Tensor(Feed feed, object?[][] rows)
    {
        var width = RowWidth(feed, rows[0], 0);
        for (var i = 1; i < rows.Length; i++)
        {
            if (RowWidth(feed, rows[i], i) is var w && w != width)
            {
                throw new ArgumentException($"Row {i}: gives {w} values for the model's input '{feed.Name}', but row 0 gives {width}; every row must give the same number.");
            }
        }

        var shape = Shape(feed, rows.Length, width);
        var inv = CultureInfo.InvariantCulture;
        try
        {
            return feed.Type switch
            {
                TensorElementType.Float => Dense(feed, rows, width, shape, v => v is float f ? f : Convert.ToSingle(v, inv), d => (float)d),
                TensorElementType.Double => Dense(feed, rows, width, shape, v => Convert.ToDouble(v, inv), d => d),
                TensorElementType.Int64 => Dense(feed, rows, width, shape, v => v is long l ? l : Integer<long>(feed, Convert.ToDouble(v, inv)), d => Integer<long>(feed, d)),
                TensorElementType.Int32 => Dense(feed, rows, width, shape, v => v is int i ? i : Integer<int>(feed, Convert.ToDouble(v, inv)), d => Integer<int>(feed, d)),
                TensorElementType.Bool => Dense(feed, rows, width, shape, v => Convert.ToBoolean(v, inv), d => d != 0),
                TensorElementType.String => Strings(feed, rows, shape),
                _ => throw new InvalidOperationException($"Graph input '{feed.Name}' has element type {feed.Type}, which Cairn cannot feed."),
            };
        }
        catch (Exception e) when (e is FormatException or InvalidCastException or OverflowException)
        {
            throw new ArgumentException($"A value for the model's input '{feed.Name}' cannot be converted to {feed.Type}: {e.Message}", e);
        }
    }

    /// <summary>Fills a dense buffer row by row, columns in feed order: scalars through <paramref name="scalar"/>, array items through <paramref name="item"/>.</summary>
    private static OrtValue Dense<T>(Feed feed, object?[][] rows, int width, long[] shape, Func<object, T> scalar, Func<double, T> item)
        where T : unmanaged
    {
        var data = new T[rows.Length * width];
        var k = 0;
        foreach (var row in rows)
        {
            foreach (var c in feed.Columns)
            {
                switch (row[c])
                {
                    case VBuffer<float> f:
                        foreach (var x in f.DenseValues())
                        {
                            data[k++] = item(x);
                        }

                        break;
                    case VBuffer<double> d:
                        foreach (var x in d.DenseValues())
                        {
                            data[k++] = item(x);
                        }

                        break;
                    case ReadOnlyMemory<char> text:
                        data[k++] = scalar(text.ToString());
                        break;
                    case { } v:
                        data[k++] = scalar(v);
                        break;
                }
            }
        }

        return OrtValue.CreateTensorValueFromMemory(data, shape);
    }

    private static OrtValue Strings(Feed feed, object?[][] rows, long[] shape)
    {
        var tensor = OrtValue.CreateTensorWithEmptyStrings(OrtAllocator.DefaultInstance, shape);
        for (var i = 0; i < rows.Length; i++)
        {
            var value = rows[i][feed.Columns[0]];
            tensor.StringTensorSetElementAt((value is ReadOnlyMemory<char> text ? text.ToString() : Convert.ToString(value, CultureInfo.InvariantCulture)).AsSpan(), i);
        }

        return tensor;
    }

    /// <summary>An integer input fed from a float column takes only whole values.</summary>
    private static T Integer<T>(Feed feed, double d)
        where T : struct
    {
        if (d != Math.Floor(d) || double.IsNaN(d))
        {
            throw new ArgumentException($"The model's input '{feed.Name}' takes integers, got {d.ToString(CultureInfo.InvariantCulture)}.");
        }

        return (T)Convert.ChangeType(d, typeof(T), CultureInfo.InvariantCulture);
    }

    /// <summary>[N] for a rank-1 input, [N, ...fixed dims] when they hold the row, else [N, values per row].</summary>
    private static long[] Shape(Feed feed, int rows, int width)
    {
        if (feed.Dimensions.Length <= 1)
        {
            if (width != 1)
            {
                throw new ArgumentException($"The model's input '{feed.Name}' takes one value per row, got {width}.");
            }

            return [rows];
        }

        return feed.Width > 0
            ? [rows, .. feed.Dimensions.Skip(1).Select(d => (long)d)]
            : [rows, width];
    }

    private List<Prediction> Read(IReadOnlyList<OrtValue> results, int rows)
    {
        var labels = _labelOutput is null ? null : Labels(results[0], rows);
        float[]? scores = null;
        var classes = 0;
        if (_scoresOutput is not null)
        {
            var value = results[_labelOutput is null ? 0 : 1];
            scores = value.GetTensorTypeAndShape().ElementDataType switch
            {
                TensorElementType.Float => value.GetTensorDataAsSpan<float>().ToArray(),
                TensorElementType.Double => value.GetTensorDataAsSpan<double>().ToArray().Select(d => (float)d).ToArray(),
                var t => throw new InvalidOperationException($"Graph output '{_scoresOutput}' has element type {t}; scores must be float or double."),
            };
            classes = scores.Length / rows;
        }

        var predictions = new List<Prediction>(rows);
        for (var i = 0; i < rows; i++)
        {
            float[]? rowScores = scores?.AsSpan(i * classes, classes).ToArray();
            predictions.Add(new Prediction(labels?[i], rowScores, rowScores is { Length: 2 } ? rowScores[1] : null));
        }

        return predictions;
    }

    /// <summary>Each row's label: strings and numbers as they are; an integer class index mapped through the class names.</summary>
    private object?[] Labels(OrtValue value, int rows)
    {
        var info = value.GetTensorTypeAndShape();
        if (info.ElementCount != rows)
        {
            throw new InvalidOperationException($"Graph output '{_labelOutput}' has {info.ElementCount} values for {rows} rows; a label output holds one value per row.");
        }

        object? Class(long index) => ClassNames is { } names && index >= 0 && index < names.Count ? names[(int)index] : index;
        return info.ElementDataType switch
        {
            TensorElementType.String => Enumerable.Range(0, rows).Select(i => (object?)value.GetStringElement(i)).ToArray(),
            TensorElementType.Int64 => value.GetTensorDataAsSpan<long>().ToArray().Select(Class).ToArray(),
            TensorElementType.Int32 => value.GetTensorDataAsSpan<int>().ToArray().Select(i => Class(i)).ToArray(),
            TensorElementType.Float => value.GetTensorDataAsSpan<float>().ToArray().Select(f => (object?)f).ToArray(),
            TensorElementType.Double => value.GetTensorDataAsSpan<double>().ToArray().Select(d => (object?)d).ToArray(),
            TensorElementType.Bool => value.GetTensorDataAsSpan<bool>().ToArray().Select(b => (object?)b).ToArray(),
            var t => throw new InvalidOperationException($"Graph output '{_labelOutput}' has element type {t}, which Cairn cannot read as a label."),
        };
    }
}
