using Cairn.Models.Onnx;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers;

namespace Cairn.Lab.Pipelines.Models;

/// <summary>
/// Trains an <see cref="MlpNetwork"/> on the features/label columns and returns a chain made only of
/// ML.NET's own transformers, so <c>ml.Model.Save</c>/<c>Load</c> (and the mlnet flavor) need nothing of
/// Cairn to load it:
/// <list type="number">
/// <item>OnnxTransformer running the network exported as ONNX (the bytes are stored in the saved model);</item>
/// <item>an ML.NET multiclass linear "head" (L-BFGS maximum entropy) that turns the network's output into
/// <c>Score</c> (probabilities, class names as slot names) and a key <c>PredictedLabel</c>, mapped back to text.</item>
/// </list>
/// OnnxTransformer can only produce tensors (a scalar string or integer output fails when read), so the
/// text label has to come from an ML.NET predictor. The head is fitted on one-hot rows (so its weights
/// are a known, well-conditioned shape), and its affine map W·x + b is then undone in the network's last
/// layer: the ONNX graph outputs x = M(logits − b) with W·M = centring, so the head computes
/// softmax(W·x + b) = softmax(logits), i.e. the network's own probabilities (to float rounding) and their argmax.
/// </summary>
public sealed class MlpEstimator : IEstimator<ITransformer>
{
    /// <summary>The ONNX output column: the network's logits expressed in the head's input space.</summary>
    public const string NetworkOutputColumn = "MlpOutput";

    private readonly MLContext _ml;
    private readonly TrainerContext _context;
    private readonly MlpOptions _options;

    public MlpEstimator(MLContext ml, TrainerContext context, MlpOptions options)
    {
        ArgumentNullException.ThrowIfNull(ml);
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(options);
        _ml = ml;
        _context = context;
        _options = options;
    }

    /// <summary>The trained network of the last <see cref="Fit"/> (for inspection: epochs run, losses).</summary>
    public MlpNetwork? LastNetwork { get; private set; }

    public ITransformer Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var (features, classes) = Read(input);
        var k = _context.ClassNames.Count;
        var network = MlpNetwork.Train(features, classes, k, _options, _context.OnIteration);
        LastNetwork = network;

        var head = FitHead();
        var model = head.OfType<MulticlassPredictionTransformer<MaximumEntropyModelParameters>>().Single().Model;
        VBuffer<float>[] weights = [];
        model.GetWeights(ref weights, out var classCount);
        var biases = model.GetBiases().ToArray();
        if (classCount != k)
        {
            throw new InvalidOperationException($"The MLP head has {classCount} classes, expected {k}.");
        }

        var onnx = ExportOnnx(network, weights, biases);
        var scorer = _ml.Transforms.ApplyOnnxModel([NetworkOutputColumn], [_context.FeaturesColumn], new MemoryStream(onnx)).Fit(input);
        return new TransformerChain<ITransformer>([scorer, .. head]);
    }

    public SchemaShape GetOutputSchema(SchemaShape inputSchema) =>
        // The network's output is a float vector like the features; the head's schema follows from that.
        _ml.Transforms.CopyColumns(NetworkOutputColumn, _context.FeaturesColumn).Append(HeadEstimator()).GetOutputSchema(inputSchema);

    private IEstimator<ITransformer> HeadEstimator() =>
        _ml.Transforms.Conversion.MapValueToKey(ClassifierPipeline.LabelKeyColumn, _context.LabelColumn, keyData: ClassifierPipeline.ClassKeys(_ml, _context.ClassNames))
            .Append(_ml.MulticlassClassification.Trainers.LbfgsMaximumEntropy(new LbfgsMaximumEntropyMulticlassTrainer.Options
            {
                LabelColumnName = ClassifierPipeline.LabelKeyColumn,
                FeatureColumnName = NetworkOutputColumn,
                L2Regularization = 1f,
                L1Regularization = 0f,
                NumberOfThreads = 1,
            }))
            .Append(_ml.Transforms.Conversion.MapKeyToValue("PredictedLabel"));

    /// <summary>The head, fitted on one one-hot row per class (labels in class order).</summary>
    private TransformerChain<ITransformer> FitHead()
    {
        var k = _context.ClassNames.Count;
        var rows = Enumerable.Range(0, k).Select(c =>
        {
            var oneHot = new float[k];
            oneHot[c] = 1;
            return new HeadRow { Label = _context.ClassNames[c], Output = oneHot };
        }).ToList();
        var definition = SchemaDefinition.Create(typeof(HeadRow));
        // The indexer finds a column by its current name: set the type before renaming.
        definition[nameof(HeadRow.Output)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, k);
        definition[nameof(HeadRow.Output)].ColumnName = NetworkOutputColumn;
        definition[nameof(HeadRow.Label)].ColumnName = _context.LabelColumn;
        var data = _ml.Data.LoadFromEnumerable(rows, definition);
        var fitted = HeadEstimator().Fit(data);
        return new TransformerChain<ITransformer>([.. (IEnumerable<ITransformer>)fitted]);
    }

    /// <summary>
    /// The network as ONNX (opset 17): input [d] (one row; ML.NET feeds rows one at a time and a
    /// one-dimensional input gives a fixed-size vector column), MatMul+Add+activation per hidden layer,
    /// and a last MatMul+Add whose weights already include the inverse of the head's affine map.
    /// </summary>
    private byte[] ExportOnnx(MlpNetwork network, VBuffer<float>[] headWeights, float[] headBiases)
    {
        var k = network.Sizes[^1];
        // W[c][j]: head weight of input j for class c. The head computes z = W x + b, so the graph
        // outputs x = M (logits − b); as a row vector x = (logits − b) · Mᵀ.
        var w = new double[k, k];
        for (var c = 0; c < k; c++)
        {
            var dense = headWeights[c].DenseValues().ToArray();
            for (var j = 0; j < k; j++)
            {
                w[c, j] = dense[j];
            }
        }

        // Softmax ignores a shift shared by all classes, and the L2-regularised head learns exactly such a
        // blind spot: W ≈ a·(I − 11ᵀ/k), singular, with 1 in its null space. So invert W + (a/k)·11ᵀ, which
        // is a·I for that W: then W·M·v = v − mean(v)·1, and softmax(W·M·(logits − b) + b) = softmax(logits).
        var a = Enumerable.Range(0, k).Sum(i => w[i, i] - (Enumerable.Range(0, k).Where(j => j != i).Sum(j => w[i, j]) / (k - 1)));
        var shift = a / k / k;
        var shifted = (double[,])w.Clone();
        for (var i = 0; i < k; i++)
        {
            for (var j = 0; j < k; j++)
            {
                shifted[i, j] += shift;
            }
        }

        var inverse = Invert(shifted);
        var layers = network.Weights.Length;
        var last = layers - 1;
        var hidden = network.Sizes[last];
        var lastWeights = new float[hidden * k];
        for (var i = 0; i < hidden; i++)
        {
            for (var j = 0; j < k; j++)
            {
                double s = 0;
                for (var c = 0; c < k; c++)
                {
                    s += network.Weights[last][(i * k) + c] * inverse[j, c];
                }

                lastWeights[(i * k) + j] = (float)s;
            }
        }

        var lastBias = new float[k];
        for (var j = 0; j < k; j++)
        {
            double s = 0;
            for (var c = 0; c < k; c++)
            {
                s += (network.Biases[last][c] - headBiases[c]) * inverse[j, c];
            }

            lastBias[j] = (float)s;
        }

        var input = _context.FeaturesColumn;
        var graph = new OnnxGraphWriter("cairn_mlp")
            .AddInput(input, OnnxElementType.Float, network.Sizes[0])
            .AddMetadata("cairn.model", "mlp")
            .AddMetadata("cairn.classes", string.Join(",", _context.ClassNames))
            .AddMetadata("cairn.layers", string.Join(",", network.Sizes));
        var current = input;
        for (var l = 0; l < layers; l++)
        {
            var isLast = l == last;
            graph.AddInitializer($"W{l}", isLast ? lastWeights : network.Weights[l], network.Sizes[l], network.Sizes[l + 1])
                .AddInitializer($"B{l}", isLast ? lastBias : network.Biases[l], network.Sizes[l + 1])
                .AddNode("MatMul", [current, $"W{l}"], [$"mm{l}"])
                .AddNode("Add", [$"mm{l}", $"B{l}"], [isLast ? NetworkOutputColumn : $"z{l}"]);
            if (!isLast)
            {
                graph.AddNode(network.Activation == MlpActivation.Tanh ? "Tanh" : "Relu", [$"z{l}"], [$"h{l}"]);
                current = $"h{l}";
            }
        }

        graph.AddOutput(NetworkOutputColumn, OnnxElementType.Float, k);
        return graph.ToBytes();
    }

    private (float[][] Features, int[] Classes) Read(IDataView input)
    {
        var featureColumn = input.Schema.GetColumnOrNull(_context.FeaturesColumn)
            ?? throw new ArgumentException($"The MLP needs a feature vector column '{_context.FeaturesColumn}'.", nameof(input));
        var labelColumn = input.Schema.GetColumnOrNull(_context.LabelColumn)
            ?? throw new ArgumentException($"The MLP needs the label column '{_context.LabelColumn}'.", nameof(input));
        if (featureColumn.Type is not VectorDataViewType { ItemType: var item, Size: > 0 } || item != NumberDataViewType.Single)
        {
            throw new ArgumentException($"Column '{_context.FeaturesColumn}' must be a fixed-size float vector, but is {featureColumn.Type}.", nameof(input));
        }

        if (labelColumn.Type is not TextDataViewType)
        {
            throw new ArgumentException($"The label column '{_context.LabelColumn}' must be text, but is {labelColumn.Type}.", nameof(input));
        }

        var index = _context.ClassNames.Select((name, i) => (name, i)).ToDictionary(p => p.name, p => p.i, StringComparer.Ordinal);
        var features = new List<float[]>();
        var classes = new List<int>();
        using var cursor = input.GetRowCursor([featureColumn, labelColumn]);
        var getFeatures = cursor.GetGetter<VBuffer<float>>(featureColumn);
        var getLabel = cursor.GetGetter<ReadOnlyMemory<char>>(labelColumn);
        VBuffer<float> vector = default;
        ReadOnlyMemory<char> label = default;
        while (cursor.MoveNext())
        {
            getLabel(ref label);
            var name = label.ToString();
            if (!index.TryGetValue(name, out var c))
            {
                throw new ArgumentException($"Label '{name}' is not one of the classes: {string.Join(", ", _context.ClassNames)}.", nameof(input));
            }

            getFeatures(ref vector);
            var row = new float[vector.Length];
            vector.CopyTo(row);
            features.Add(row);
            classes.Add(c);
        }

        return ([.. features], [.. classes]);
    }

    /// <summary>Gauss-Jordan with partial pivoting; the head's matrix is small (classes × classes) and well conditioned.</summary>
    private static double[,] Invert(double[,] matrix)
    {
        var n = matrix.GetLength(0);
        var a = (double[,])matrix.Clone();
        var inverse = new double[n, n];
        for (var i = 0; i < n; i++)
        {
            inverse[i, i] = 1;
        }

        for (var col = 0; col < n; col++)
        {
            var pivot = col;
            for (var r = col + 1; r < n; r++)
            {
                if (Math.Abs(a[r, col]) > Math.Abs(a[pivot, col]))
                {
                    pivot = r;
                }
            }

            if (Math.Abs(a[pivot, col]) < 1e-12)
            {
                throw new InvalidOperationException("The MLP's output head is singular; it cannot be inverted.");
            }

            if (pivot != col)
            {
                for (var j = 0; j < n; j++)
                {
                    (a[col, j], a[pivot, j]) = (a[pivot, j], a[col, j]);
                    (inverse[col, j], inverse[pivot, j]) = (inverse[pivot, j], inverse[col, j]);
                }
            }

            var p = a[col, col];
            for (var j = 0; j < n; j++)
            {
                a[col, j] /= p;
                inverse[col, j] /= p;
            }

            for (var r = 0; r < n; r++)
            {
                if (r != col && a[r, col] != 0)
                {
                    var f = a[r, col];
                    for (var j = 0; j < n; j++)
                    {
                        a[r, j] -= f * a[col, j];
                        inverse[r, j] -= f * inverse[col, j];
                    }
                }
            }
        }

        return inverse;
    }

    private sealed class HeadRow
    {
        public string Label { get; set; } = "";

        public float[] Output { get; set; } = [];
    }
}
