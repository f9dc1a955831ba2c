using System.Numerics.Tensors;

namespace Cairn.Lab.Pipelines.Models;

public enum MlpActivation
{
    Relu,
    Tanh,
}

public enum MlpOptimizer
{
    Adam,
    Sgd,
}

/// <summary>How an <see cref="MlpNetwork"/> is shaped and trained.</summary>
public sealed record MlpOptions
{
    public IReadOnlyList<int> HiddenLayers { get; init; } = [64];

    public MlpActivation Activation { get; init; } = MlpActivation.Relu;

    public MlpOptimizer Optimizer { get; init; } = MlpOptimizer.Adam;

    public float LearningRate { get; init; } = 0.005f;

    public int Epochs { get; init; } = 200;

    public int BatchSize { get; init; } = 32;

    public float L2 { get; init; } = 1e-3f;

    /// <summary>Epochs without a better validation loss before training stops; 0 trains all epochs.</summary>
    public int Patience { get; init; } = 20;

    public double ValidationFraction { get; init; } = 0.1;

    public int Seed { get; init; }
}

/// <summary>
/// A fully connected network, softmax output, cross-entropy loss, trained with mini-batch Adam or
/// momentum SGD, in float with <see cref="TensorPrimitives"/> for the inner loops. Small on purpose:
/// tabular data sets (hundreds of features at most) need nothing more, and plain arrays export to ONNX
/// as they are. Weights of layer l are [inputs, outputs] row-major (ONNX MatMul's layout).
/// </summary>
public sealed class MlpNetwork
{
    private readonly MlpActivation _activation;

    private MlpNetwork(int[] sizes, MlpActivation activation, float[][] weights, float[][] biases)
    {
        Sizes = sizes;
        _activation = activation;
        Weights = weights;
        Biases = biases;
    }

    /// <summary>Layer widths: inputs, hidden layers..., classes.</summary>
    public int[] Sizes { get; }

    public MlpActivation Activation => _activation;

    public float[][] Weights { get; }

    public float[][] Biases { get; }

    public int Epochs { get; private set; }

    /// <summary>Validation loss per epoch (training loss when nothing is held out).</summary>
    public List<double> Losses { get; } = [];

    /// <summary>
    /// Trains on rows <paramref name="features"/> (n × d) with classes <paramref name="classes"/> in [0, k).
    /// <paramref name="onEpoch"/> gets (epoch, validation loss) and stops training by returning false.
    /// </summary>
    public static MlpNetwork Train(float[][] features, int[] classes, int classCount, MlpOptions options, Func<int, double, bool>? onEpoch = null)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(classes);
        ArgumentNullException.ThrowIfNull(options);
        if (features.Length == 0)
        {
            throw new ArgumentException("The MLP needs at least one training row.", nameof(features));
        }

        var random = new Random(options.Seed);
        var inputs = features[0].Length;
        var sizes = new[] { inputs }.Concat(options.HiddenLayers).Append(classCount).ToArray();
        var weights = new float[sizes.Length - 1][];
        var biases = new float[sizes.Length - 1][];
        for (var l = 0; l < weights.Length; l++)
        {
            // He initialisation for ReLU, Glorot for tanh and the output layer: activations keep their scale.
            var relu = options.Activation == MlpActivation.Relu && l < weights.Length - 1;
            var std = relu ? Math.Sqrt(2.0 / sizes[l]) : Math.Sqrt(2.0 / (sizes[l] + sizes[l + 1]));
            weights[l] = new float[sizes[l] * sizes[l + 1]];
            for (var i = 0; i < weights[l].Length; i++)
            {
                weights[l][i] = (float)(Gaussian(random) * std);
            }

            biases[l] = new float[sizes[l + 1]];
        }

        var network = new MlpNetwork(sizes, options.Activation, weights, biases);
        network.Fit(features, classes, options, random, onEpoch);
        return network;
    }

    /// <summary>Class probabilities of each row.</summary>
    public float[][] Predict(float[][] features)
    {
        var result = new float[features.Length][];
        var rows = Enumerable.Range(0, features.Length).ToArray();
        const int chunk = 256;
        for (var start = 0; start < rows.Length; start += chunk)
        {
            var batch = rows.AsSpan(start, Math.Min(chunk, rows.Length - start)).ToArray();
            var activations = Forward(features, batch);
            var output = activations[^1];
            var k = Sizes[^1];
            for (var b = 0; b < batch.Length; b++)
            {
                result[batch[b]] = output.AsSpan(b * k, k).ToArray();
            }
        }

        return result;
    }

    private void Fit(float[][] features, int[] classes, MlpOptions options, Random random, Func<int, double, bool>? onEpoch)
    {
        var all = Enumerable.Range(0, features.Length).ToArray();
        random.Shuffle(all);
        var holdout = options.Patience > 0 || onEpoch is not null ? (int)Math.Round(features.Length * options.ValidationFraction) : 0;
        // Too few rows to judge a loss on: train on everything and report the training loss instead.
        if (holdout < 5 || features.Length - holdout < 5)
        {
            holdout = 0;
        }

        var validation = all[..holdout];
        var train = all[holdout..];
        var optimizer = new Optimizer(this, options);
        var gradW = Weights.Select(w => new float[w.Length]).ToArray();
        var gradB = Biases.Select(b => new float[b.Length]).ToArray();
        var best = double.PositiveInfinity;
        var bestWeights = Snapshot(Weights);
        var bestBiases = Snapshot(Biases);
        var sinceBest = 0;
        for (var epoch = 1; epoch <= options.Epochs; epoch++)
        {
            random.Shuffle(train);
            var trainLoss = 0.0;
            for (var start = 0; start < train.Length; start += options.BatchSize)
            {
                var batch = train.AsSpan(start, Math.Min(options.BatchSize, train.Length - start)).ToArray();
                trainLoss += Backward(features, classes, batch, gradW, gradB, options.L2) * batch.Length;
                optimizer.Step(gradW, gradB);
            }

            trainLoss /= train.Length;
            var loss = validation.Length > 0 ? Loss(features, classes, validation) : trainLoss;
            Losses.Add(loss);
            Epochs = epoch;
            if (!double.IsFinite(loss))
            {
                break; // diverged: keep the best weights seen
            }

            if (loss < best - 1e-6)
            {
                best = loss;
                sinceBest = 0;
                Copy(Weights, bestWeights);
                Copy(Biases, bestBiases);
            }
            else
            {
                sinceBest++;
            }

            if (onEpoch is not null && !onEpoch(epoch, loss))
            {
                break;
            }

            if (options.Patience > 0 && validation.Length > 0 && sinceBest >= options.Patience)
            {
                break;
            }
        }

        // With a held-out set the best epoch's weights are the model; without one, the last (unless it diverged).
        if (double.IsFinite(best) && (validation.Length > 0 || !double.IsFinite(Losses[^1])))
        {
            Copy(bestWeights, Weights);
            Copy(bestBiases, Biases);
        }
    }

    /// <summary>Layer outputs for the rows in <paramref name="batch"/>: [0] the inputs, [^1] softmax probabilities; each [batch × width].</summary>
    private float[][] Forward(float[][] features, int[] batch)
    {
        var n = batch.Length;
        var activations = new float[Sizes.Length][];
        activations[0] = new float[n * Sizes[0]];
        for (var b = 0; b < n; b++)
        {
            features[batch[b]].AsSpan().CopyTo(activations[0].AsSpan(b * Sizes[0], Sizes[0]));
        }

        for (var l = 0; l < Weights.Length; l++)
        {
            int inputs = Sizes[l], outputs = Sizes[l + 1];
            var output = new float[n * outputs];
            var w = Weights[l];
            for (var b = 0; b < n; b++)
            {
                var row = output.AsSpan(b * outputs, outputs);
                Biases[l].AsSpan().CopyTo(row);
                var x = activations[l].AsSpan(b * inputs, inputs);
                for (var i = 0; i < inputs; i++)
                {
                    if (x[i] != 0)
                    {
                        TensorPrimitives.MultiplyAdd(w.AsSpan(i * outputs, outputs), x[i], row, row);
                    }
                }

                if (l < Weights.Length - 1)
                {
                    if (_activation == MlpActivation.Relu)
                    {
                        TensorPrimitives.Max(row, 0f, row);
                    }
                    else
                    {
                        TensorPrimitives.Tanh(row, row);
                    }
                }
                else
                {
                    // Shift by the largest logit first: SoftMax itself does not, and exp overflows past ~88.
                    TensorPrimitives.Subtract(row, TensorPrimitives.Max(row), row);
                    TensorPrimitives.SoftMax(row, row);
                }
            }

            activations[l + 1] = output;
        }

        return activations;
    }

    /// <summary>Gradients of the mean cross-entropy (plus L2 on weights) over the batch; returns the batch's mean loss.</summary>
    private double Backward(float[][] features, int[] classes, int[] batch, float[][] gradW, float[][] gradB, float l2)
    {
        var n = batch.Length;
        var activations = Forward(features, batch);
        var k = Sizes[^1];
        var loss = 0.0;
        // Softmax + cross-entropy: d loss / d logits = (p - onehot) / n.
        var delta = (float[])activations[^1].Clone();
        for (var b = 0; b < n; b++)
        {
            var c = classes[batch[b]];
            loss -= Math.Log(Math.Max(delta[(b * k) + c], 1e-12f));
            delta[(b * k) + c] -= 1;
        }

        TensorPrimitives.Multiply(delta, 1f / n, delta);
        for (var l = Weights.Length - 1; l >= 0; l--)
        {
            int inputs = Sizes[l], outputs = Sizes[l + 1];
            var gw = gradW[l];
            var gb = gradB[l];
            TensorPrimitives.Multiply(Weights[l], l2, gw);
            Array.Clear(gb);
            var previous = l > 0 ? new float[n * inputs] : null;
            for (var b = 0; b < n; b++)
            {
                var d = delta.AsSpan(b * outputs, outputs);
                TensorPrimitives.Add(gb, d, gb);
                var x = activations[l].AsSpan(b * inputs, inputs);
                for (var i = 0; i < inputs; i++)
                {
                    var wRow = Weights[l].AsSpan(i * outputs, outputs);
                    if (x[i] != 0)
                    {
                        var gRow = gw.AsSpan(i * outputs, outputs);
                        TensorPrimitives.MultiplyAdd(d, x[i], gRow, gRow);
                    }

                    if (previous is not null)
                    {
                        previous[(b * inputs) + i] = TensorPrimitives.Dot(wRow, d);
                    }
                }
            }

            if (previous is not null)
            {
                // Through the activation of layer l's input (a hidden layer's output).
                var a = activations[l];
                for (var i = 0; i < previous.Length; i++)
                {
                    previous[i] *= _activation == MlpActivation.Relu ? (a[i] > 0 ? 1 : 0) : 1 - (a[i] * a[i]);
                }

                delta = previous;
            }
        }

        return loss / n;
    }

    private double Loss(float[][] features, int[] classes, int[] rows)
    {
        var k = Sizes[^1];
        var loss = 0.0;
        const int chunk = 256;
        for (var start = 0; start < rows.Length; start += chunk)
        {
            var batch = rows.AsSpan(start, Math.Min(chunk, rows.Length - start)).ToArray();
            var p = Forward(features, batch)[^1];
            for (var b = 0; b < batch.Length; b++)
            {
                loss -= Math.Log(Math.Max(p[(b * k) + classes[batch[b]]], 1e-12f));
            }
        }

        return loss / rows.Length;
    }

    private static float[][] Snapshot(float[][] arrays) => [.. arrays.Select(a => (float[])a.Clone())];

    private static void Copy(float[][] from, float[][] to)
    {
        for (var i = 0; i < from.Length; i++)
        {
            from[i].AsSpan().CopyTo(to[i]);
        }
    }

    private static double Gaussian(Random random)
    {
        // Box-Muller: two uniforms → one standard normal.
        var u1 = 1.0 - random.NextDouble();
        var u2 = random.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    /// <summary>Adam (β₁ 0.9, β₂ 0.999) or SGD with momentum 0.9, one state per parameter array.</summary>
    private sealed class Optimizer
    {
        private const float Beta1 = 0.9f;
        private const float Beta2 = 0.999f;
        private const float Epsilon = 1e-8f;
        private const float Momentum = 0.9f;

        private readonly MlpNetwork _network;
        private readonly MlpOptions _options;
        private readonly float[][] _m;
        private readonly float[][] _v;
        private int _t;

        public Optimizer(MlpNetwork network, MlpOptions options)
        {
            _network = network;
            _options = options;
            var parameters = network.Weights.Concat(network.Biases).ToArray();
            _m = [.. parameters.Select(p => new float[p.Length])];
            _v = [.. parameters.Select(p => new float[p.Length])];
        }

        public void Step(float[][] gradW, float[][] gradB)
        {
            _t++;
            var parameters = _network.Weights.Concat(_network.Biases).ToArray();
            var gradients = gradW.Concat(gradB).ToArray();
            var lr = _options.LearningRate;
            var correction1 = 1 - MathF.Pow(Beta1, _t);
            var correction2 = 1 - MathF.Pow(Beta2, _t);
            for (var p = 0; p < parameters.Length; p++)
            {
                var w = parameters[p];
                var g = gradients[p];
                var m = _m[p];
                if (_options.Optimizer == MlpOptimizer.Sgd)
                {
                    // m = μ m + g; w -= lr m
                    TensorPrimitives.MultiplyAdd(m, Momentum, g, m);
                    TensorPrimitives.MultiplyAdd(m, -lr, w, w);
                    continue;
                }

                var v = _v[p];
                for (var i = 0; i < w.Length; i++)
                {
                    m[i] = (Beta1 * m[i]) + ((1 - Beta1) * g[i]);
                    v[i] = (Beta2 * v[i]) + ((1 - Beta2) * g[i] * g[i]);
                    w[i] -= lr * (m[i] / correction1) / (MathF.Sqrt(v[i] / correction2) + Epsilon);
                }
            }
        }
    }
}
