using System.Runtime.InteropServices;
using Google.Protobuf;

namespace Cairn.Models.Onnx;

/// <summary>Element types of ONNX tensors (the values of ONNX's <c>TensorProto.DataType</c>).</summary>
public enum OnnxElementType
{
    Float = 1,
    UInt8 = 2,
    Int8 = 3,
    Int32 = 6,
    Int64 = 7,
    String = 8,
    Bool = 9,
    Double = 11,
}

/// <summary>
/// Writes ONNX model files (the <c>ModelProto</c> protobuf message) for small feed-forward graphs:
/// typed graph inputs and outputs (a dimension of <see cref="Dynamic"/> becomes the symbolic batch
/// dimension <c>N</c>), float, int64 and string initializers, and nodes with int, float, string and
/// list attributes in the default domain or in <c>ai.onnx.ml</c>. Messages are encoded field by field
/// with Google.Protobuf's <see cref="CodedOutputStream"/>, so no generated ONNX code is needed.
/// </summary>
/// <example>
/// A two-layer classifier for 4 features and 3 classes, scored by OnnxRuntime:
/// <code>
/// var onnx = new OnnxGraphWriter("iris-mlp")
///     .AddInput("features", OnnxElementType.Float, OnnxGraphWriter.Dynamic, 4)
///     .AddInitializer("W1", w1, 4, 8)          // float[32], row-major [in, out]
///     .AddInitializer("B1", b1, 8)
///     .AddInitializer("W2", w2, 3, 8)          // [out, in], used with transB
///     .AddInitializer("B2", b2, 3)
///     .AddNode("MatMul", ["features", "W1"], ["h0"])
///     .AddNode("Add", ["h0", "B1"], ["h1"])
///     .AddNode("Relu", ["h1"], ["h2"])
///     .AddNode("Gemm", ["h2", "W2", "B2"], ["logits"], ("transB", 1L))
///     .AddNode("Softmax", ["logits"], ["probabilities"], ("axis", 1L))
///     .AddNode("ArgMax", ["logits"], ["label"], ("axis", 1L), ("keepdims", 0L))
///     .AddOutput("label", OnnxElementType.Int64, OnnxGraphWriter.Dynamic)
///     .AddOutput("probabilities", OnnxElementType.Float, OnnxGraphWriter.Dynamic, 3)
///     .ToBytes();                              // or .Save("model.onnx")
/// using var session = new InferenceSession(onnx);
/// </code>
/// Attribute values may be <c>long</c>/<c>int</c> (INT), <c>float</c>/<c>double</c> (FLOAT),
/// <c>string</c> (STRING), <c>long[]</c>/<c>int[]</c> (INTS), <c>float[]</c> (FLOATS) or
/// <c>string[]</c> (STRINGS). Use <see cref="AddNodeInDomain"/> for <c>ai.onnx.ml</c> operators.
/// </example>
public sealed class OnnxGraphWriter
{
    /// <summary>A dimension whose size is given at run time (written as the symbolic dimension <c>N</c>).</summary>
    public const long Dynamic = -1;

    /// <summary>The domain of ONNX's traditional-ML operators (LinearClassifier, ZipMap, ...).</summary>
    public const string MLDomain = "ai.onnx.ml";

    /// <summary>ONNX IR version 8 (ONNX 1.10+), which opset 17 and ai.onnx.ml 3 run under.</summary>
    private const long IrVersion = 8;

    private readonly string _graphName;
    private readonly SortedDictionary<string, long> _opsets = new(StringComparer.Ordinal);
    private readonly List<ValueInfo> _inputs = [];
    private readonly List<ValueInfo> _outputs = [];
    private readonly List<Tensor> _initializers = [];
    private readonly List<Node> _nodes = [];
    private readonly List<KeyValuePair<string, string>> _metadata = [];
    private readonly HashSet<string> _defined = new(StringComparer.Ordinal);

    /// <param name="graphName">The graph's name.</param>
    /// <param name="opset">The default-domain (<c>ai.onnx</c>) opset version.</param>
    public OnnxGraphWriter(string graphName = "cairn", int opset = 17)
    {
        ArgumentException.ThrowIfNullOrEmpty(graphName);
        ArgumentOutOfRangeException.ThrowIfLessThan(opset, 1);
        _graphName = graphName;
        _opsets[""] = opset;
    }

    /// <summary>The model's <c>producer_name</c>.</summary>
    public string ProducerName { get; init; } = "cairn";

    /// <summary>The model's <c>producer_version</c>.</summary>
    public string ProducerVersion { get; init; } = ModelFile.CurrentCairnVersion;

    /// <summary>Imports an operator set (for example <c>ai.onnx.ml</c> version 3); the last call per domain wins.</summary>
    public OnnxGraphWriter UseOpset(string domain, int version)
    {
        ArgumentNullException.ThrowIfNull(domain);
        ArgumentOutOfRangeException.ThrowIfLessThan(version, 1);
        _opsets[domain] = version;
        return this;
    }

    /// <summary>Adds a graph input; <see cref="Dynamic"/> in <paramref name="shape"/> is the batch dimension.</summary>
    public OnnxGraphWriter AddInput(string name, OnnxElementType type, params long[] shape)
    {
        Define(name);
        _inputs.Add(new ValueInfo(name, type, CheckShape(name, shape)));
        return this;
    }

    /// <summary>Adds a graph output (a value some node produces); <see cref="Dynamic"/> in <paramref name="shape"/> is the batch dimension.</summary>
    public OnnxGraphWriter AddOutput(string name, OnnxElementType type, params long[] shape)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (_outputs.Any(o => o.Name == name))
        {
            throw new ArgumentException($"Output '{name}' is already declared.", nameof(name));
        }

        _outputs.Add(new ValueInfo(name, type, CheckShape(name, shape)));
        return this;
    }

    /// <summary>Adds a constant float tensor with the given dimensions (row-major values).</summary>
    public OnnxGraphWriter AddInitializer(string name, ReadOnlySpan<float> values, params long[] dims)
    {
        CheckCount(name, values.Length, dims);
        Define(name);
        _initializers.Add(new Tensor(name, OnnxElementType.Float, dims, MemoryMarshal.AsBytes(values).ToArray(), null));
        return this;
    }

    /// <summary>Adds a constant int64 tensor (shapes for Reshape, indices, class ids).</summary>
    public OnnxGraphWriter AddInitializer(string name, ReadOnlySpan<long> values, params long[] dims)
    {
        CheckCount(name, values.Length, dims);
        Define(name);
        _initializers.Add(new Tensor(name, OnnxElementType.Int64, dims, MemoryMarshal.AsBytes(values).ToArray(), null));
        return this;
    }

    /// <summary>Adds a constant string tensor (UTF-8).</summary>
    public OnnxGraphWriter AddInitializer(string name, IReadOnlyList<string> values, params long[] dims)
    {
        ArgumentNullException.ThrowIfNull(values);
        CheckCount(name, values.Count, dims);
        Define(name);
        _initializers.Add(new Tensor(name, OnnxElementType.String, dims, null, values.ToArray()));
        return this;
    }

    /// <summary>Adds a node of the default (<c>ai.onnx</c>) domain; see the class example for attribute value types.</summary>
    public OnnxGraphWriter AddNode(string opType, IReadOnlyList<string> inputs, IReadOnlyList<string> outputs, params (string Name, object Value)[] attributes) =>
        AddNodeInDomain("", opType, inputs, outputs, attributes);

    /// <summary>
    /// Adds a node of <paramref name="domain"/> (for example <see cref="MLDomain"/>, imported at
    /// version 3 unless <see cref="UseOpset"/> chose another). An empty input name is an omitted
    /// optional input.
    /// </summary>
    public OnnxGraphWriter AddNodeInDomain(string domain, string opType, IReadOnlyList<string> inputs, IReadOnlyList<string> outputs, params (string Name, object Value)[] attributes)
    {
        ArgumentNullException.ThrowIfNull(domain);
        ArgumentException.ThrowIfNullOrEmpty(opType);
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(outputs);
        if (outputs.Count == 0)
        {
            throw new ArgumentException($"Node {opType} must have at least one output.", nameof(outputs));
        }

        foreach (var input in inputs)
        {
            if (input.Length > 0 && !_defined.Contains(input))
            {
                throw new ArgumentException($"Node {opType} reads '{input}', which is not an input, an initializer or the output of an earlier node.", nameof(inputs));
            }
        }

        var attrs = attributes.Select(a => new Attribute(a.Name, a.Value switch
        {
            int i => (long)i,
            double d => (float)d,
            int[] ints => ints.Select(i => (long)i).ToArray(),
            long or float or string or long[] or float[] or string[] => a.Value,
            _ => throw new ArgumentException($"Attribute '{a.Name}' of {opType} has a value of type {a.Value?.GetType().Name ?? "null"}; use long, float, string, long[], float[] or string[].", nameof(attributes)),
        })).ToList();
        foreach (var output in outputs)
        {
            Define(output);
        }

        if (domain.Length > 0 && !_opsets.ContainsKey(domain))
        {
            _opsets[domain] = domain == MLDomain ? 3 : 1;
        }

        _nodes.Add(new Node($"{opType}_{_nodes.Count}", domain, opType, inputs.ToArray(), outputs.ToArray(), attrs));
        return this;
    }

    /// <summary>Adds a key/value pair to the model's <c>metadata_props</c> (readable through OnnxRuntime's model metadata).</summary>
    public OnnxGraphWriter AddMetadata(string key, string value)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        ArgumentNullException.ThrowIfNull(value);
        _metadata.Add(KeyValuePair.Create(key, value));
        return this;
    }

    /// <summary>The encoded <c>ModelProto</c>.</summary>
    public byte[] ToBytes()
    {
        using var buffer = new MemoryStream();
        WriteTo(buffer);
        return buffer.ToArray();
    }

    /// <summary>Writes the model to a file (the usual name is <c>model.onnx</c>).</summary>
    public void Save(string path)
    {
        using var file = File.Create(path);
        WriteTo(file);
    }

    /// <summary>Writes the encoded <c>ModelProto</c> to <paramref name="stream"/>.</summary>
    public void WriteTo(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        foreach (var output in _outputs)
        {
            if (!_defined.Contains(output.Name))
            {
                throw new InvalidOperationException($"Output '{output.Name}' is not produced by any node, input or initializer.");
            }
        }

        if (_outputs.Count == 0)
        {
            throw new InvalidOperationException("The graph has no outputs.");
        }

        var model = new CodedOutputStream(stream, leaveOpen: true);
        // ModelProto: ir_version 1, producer_name 2, producer_version 3, graph 7, opset_import 8, metadata_props 14.
        model.WriteTag(1, WireFormat.WireType.Varint);
        model.WriteInt64(IrVersion);
        WriteString(model, 2, ProducerName);
        WriteString(model, 3, ProducerVersion);
        WriteMessage(model, 7, WriteGraph);
        foreach (var (domain, version) in _opsets)
        {
            // OperatorSetIdProto: domain 1, version 2.
            WriteMessage(model, 8, o =>
            {
                WriteString(o, 1, domain);
                o.WriteTag(2, WireFormat.WireType.Varint);
                o.WriteInt64(version);
            });
        }

        foreach (var (key, value) in _metadata)
        {
            // StringStringEntryProto: key 1, value 2.
            WriteMessage(model, 14, o =>
            {
                WriteString(o, 1, key);
                WriteString(o, 2, value);
            });
        }

        model.Flush();
    }

    // GraphProto: node 1, name 2, initializer 5, input 11, output 12.
    private void WriteGraph(CodedOutputStream o)
    {
        foreach (var node in _nodes)
        {
            WriteMessage(o, 1, n => WriteNode(n, node));
        }

        WriteString(o, 2, _graphName);
        foreach (var tensor in _initializers)
        {
            WriteMessage(o, 5, t => WriteTensor(t, tensor));
        }

        foreach (var input in _inputs)
        {
            WriteMessage(o, 11, v => WriteValueInfo(v, input));
        }

        foreach (var output in _outputs)
        {
            WriteMessage(o, 12, v => WriteValueInfo(v, output));
        }
    }

    // NodeProto: input 1, output 2, name 3, op_type 4, attribute 5, domain 7.
    private static void WriteNode(CodedOutputStream o, Node node)
    {
        foreach (var input in node.Inputs)
        {
            WriteString(o, 1, input);
        }

        foreach (var output in node.Outputs)
        {
            WriteString(o, 2, output);
        }

        WriteString(o, 3, node.Name);
        WriteString(o, 4, node.OpType);
        foreach (var attribute in node.Attributes)
        {
            WriteMessage(o, 5, a => WriteAttribute(a, attribute));
        }

        if (node.Domain.Length > 0)
        {
            WriteString(o, 7, node.Domain);
        }
    }

    // AttributeProto: name 1, f 2, i 3, s 4, floats 7, ints 8, strings 9, type 20
    // (AttributeType FLOAT 1, INT 2, STRING 3, FLOATS 6, INTS 7, STRINGS 8).
    private static void WriteAttribute(CodedOutputStream o, Attribute attribute)
    {
        WriteString(o, 1, attribute.Name);
        int type;
        switch (attribute.Value)
        {
            case float f:
                o.WriteTag(2, WireFormat.WireType.Fixed32);
                o.WriteFloat(f);
                type = 1;
                break;
            case long i:
                o.WriteTag(3, WireFormat.WireType.Varint);
                o.WriteInt64(i);
                type = 2;
                break;
            case string s:
                WriteString(o, 4, s);
                type = 3;
                break;
            case float[] floats:
                foreach (var f in floats)
                {
                    o.WriteTag(7, WireFormat.WireType.Fixed32);
                    o.WriteFloat(f);
                }

                type = 6;
                break;
            case long[] ints:
                foreach (var i in ints)
                {
                    o.WriteTag(8, WireFormat.WireType.Varint);
                    o.WriteInt64(i);
                }

                type = 7;
                break;
            case string[] strings:
                foreach (var s in strings)
                {
                    WriteString(o, 9, s);
                }

                type = 8;
                break;
            default:
                throw new InvalidOperationException($"Unsupported attribute value {attribute.Value.GetType()}.");
        }

        o.WriteTag(20, WireFormat.WireType.Varint);
        o.WriteInt32(type);
    }

    // TensorProto: dims 1, data_type 2, string_data 6, name 8, raw_data 9 (little-endian values).
    private static void WriteTensor(CodedOutputStream o, Tensor tensor)
    {
        foreach (var dim in tensor.Dims)
        {
            o.WriteTag(1, WireFormat.WireType.Varint);
            o.WriteInt64(dim);
        }

        o.WriteTag(2, WireFormat.WireType.Varint);
        o.WriteInt32((int)tensor.Type);
        foreach (var s in tensor.Strings ?? [])
        {
            WriteString(o, 6, s);
        }

        WriteString(o, 8, tensor.Name);
        if (tensor.Raw is { } raw)
        {
            if (!BitConverter.IsLittleEndian)
            {
                throw new PlatformNotSupportedException("ONNX raw_data is little-endian; this writer runs on little-endian machines only.");
            }

            o.WriteTag(9, WireFormat.WireType.LengthDelimited);
            o.WriteBytes(UnsafeByteOperations.UnsafeWrap(raw));
        }
    }

    // ValueInfoProto: name 1, type 2. TypeProto: tensor_type 1. TypeProto.Tensor: elem_type 1, shape 2.
    // TensorShapeProto: dim 1. Dimension: dim_value 1, dim_param 2.
    private static void WriteValueInfo(CodedOutputStream o, ValueInfo info)
    {
        WriteString(o, 1, info.Name);
        WriteMessage(o, 2, type => WriteMessage(type, 1, tensor =>
        {
            tensor.WriteTag(1, WireFormat.WireType.Varint);
            tensor.WriteInt32((int)info.Type);
            WriteMessage(tensor, 2, shape =>
            {
                foreach (var dim in info.Shape)
                {
                    WriteMessage(shape, 1, d =>
                    {
                        if (dim == Dynamic)
                        {
                            WriteString(d, 2, "N");
                        }
                        else
                        {
                            d.WriteTag(1, WireFormat.WireType.Varint);
                            d.WriteInt64(dim);
                        }
                    });
                }
            });
        }));
    }

    private static void WriteString(CodedOutputStream o, int field, string value)
    {
        o.WriteTag(field, WireFormat.WireType.LengthDelimited);
        o.WriteString(value);
    }

    /// <summary>Writes a length-delimited sub-message: encoded into a buffer first, since its length precedes it.</summary>
    private static void WriteMessage(CodedOutputStream o, int field, Action<CodedOutputStream> write)
    {
        using var buffer = new MemoryStream();
        var inner = new CodedOutputStream(buffer, leaveOpen: true);
        write(inner);
        inner.Flush();
        o.WriteTag(field, WireFormat.WireType.LengthDelimited);
        o.WriteBytes(UnsafeByteOperations.UnsafeWrap(buffer.GetBuffer().AsMemory(0, (int)buffer.Length)));
    }

    private void Define(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (!_defined.Add(name))
        {
            throw new ArgumentException($"'{name}' is already defined in the graph (each value has exactly one producer).", nameof(name));
        }
    }

    private static long[] CheckShape(string name, long[] shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        if (shape.Any(d => d < 0 && d != Dynamic))
        {
            throw new ArgumentException($"Shape of '{name}' has a negative dimension; use OnnxGraphWriter.Dynamic for the batch dimension.", nameof(shape));
        }

        return shape.ToArray();
    }

    private static void CheckCount(string name, int count, long[] dims)
    {
        ArgumentNullException.ThrowIfNull(dims);
        if (dims.Any(d => d < 0))
        {
            throw new ArgumentException($"Initializer '{name}' has a negative dimension.", nameof(dims));
        }

        var expected = dims.Aggregate(1L, (a, d) => a * d);
        if (expected != count)
        {
            throw new ArgumentException($"Initializer '{name}' has {count} values, but dimensions [{string.Join(", ", dims)}] hold {expected}.", nameof(dims));
        }
    }

    private sealed record ValueInfo(string Name, OnnxElementType Type, long[] Shape);

    private sealed record Tensor(string Name, OnnxElementType Type, long[] Dims, byte[]? Raw, string[]? Strings);

    private sealed record Attribute(string Name, object Value);

    private sealed record Node(string Name, string Domain, string OpType, string[] Inputs, string[] Outputs, List<Attribute> Attributes);
}
