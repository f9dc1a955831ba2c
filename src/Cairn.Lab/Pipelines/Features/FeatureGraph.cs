using System.Text;
using Cairn.Models.Onnx;

namespace Cairn.Lab.Pipelines.Features;

/// <summary>
/// Compiles a plan's feature formulas into one small ONNX graph, vectorised: formulas of the same
/// shape (say <c>((a * b) - m) / s</c> for every pair of a polynomial) become one group whose column
/// references are a Gather of index vectors and whose constants are vectors, so 500 features cost a
/// dozen nodes. ML.NET applies the graph with its ONNX transform, which it saves inside the model zip:
/// a served model still takes the raw columns, and applying the features costs one ONNX call per row
/// instead of one ML.NET transform per feature.
/// </summary>
internal static class FeatureGraph
{
    public const string InputName = "cairn_raw";
    public const string OutputName = "cairn_features";

    /// <summary>The graph from the numeric columns <paramref name="rawColumns"/> (input <c>cairn_raw</c>, [N, R]) to <paramref name="features"/> (output <c>cairn_features</c>, [N, F]).</summary>
    public static byte[] Compile(IReadOnlyList<string> rawColumns, IReadOnlyList<FeatureExpression> features)
    {
        var index = rawColumns.Select((c, i) => (c, i)).ToDictionary(p => p.c, p => (long)p.i, StringComparer.Ordinal);
        var graph = new OnnxGraphWriter("cairn_features") { ProducerName = "cairn" };
        graph.AddInput(InputName, OnnxElementType.Float, OnnxGraphWriter.Dynamic, rawColumns.Count);
        graph.AddOutput(OutputName, OnnxElementType.Float, OnnxGraphWriter.Dynamic, features.Count);

        var groups = features
            .Select((e, i) => (Position: i, Expression: Fold(e)))
            .GroupBy(f => Shape(f.Expression), StringComparer.Ordinal)
            .ToList();
        var outputs = new List<string>();
        var order = new List<long>();
        var counter = 0;
        foreach (var group in groups)
        {
            var members = group.ToList();
            var emitter = new Emitter(graph, index, $"g{counter++}");
            outputs.Add(emitter.Emit([.. members.Select(m => m.Expression)]));
            order.AddRange(members.Select(m => (long)m.Position));
        }

        // The groups' columns, concatenated, then put back in the plan's order.
        var inverse = new long[features.Count];
        for (var i = 0; i < order.Count; i++)
        {
            inverse[order[i]] = i;
        }

        var concatenated = outputs.Count == 1 ? outputs[0] : "concatenated";
        if (outputs.Count > 1)
        {
            graph.AddNode("Concat", outputs, [concatenated], ("axis", 1L));
        }

        graph.AddInitializer("order", inverse, inverse.Length);
        graph.AddNode("Gather", [concatenated, "order"], [OutputName], ("axis", 1L));
        return graph.ToBytes();
    }

    /// <summary>The formula with every constant-only part computed (as the C# evaluator would compute it).</summary>
    private static FeatureExpression Fold(FeatureExpression e) => e switch
    {
        FeatureExpression.Binary b when (Fold(b.Left), Fold(b.Right)) is var (l, r) =>
            l is FeatureExpression.Constant lc && r is FeatureExpression.Constant rc
                ? new FeatureExpression.Constant(b.Operator switch { '+' => lc.Value + rc.Value, '-' => lc.Value - rc.Value, '*' => lc.Value * rc.Value, _ => lc.Value / rc.Value })
                : new FeatureExpression.Binary(b.Operator, l, r),
        FeatureExpression.Ln l when Fold(l.Operand) is var o =>
            o is FeatureExpression.Constant c ? new FeatureExpression.Constant((float)Math.Log(c.Value)) : new FeatureExpression.Ln(o),
        FeatureExpression.FillMissing f when Fold(f.Value) is var v =>
            v is FeatureExpression.Constant c ? new FeatureExpression.Constant(float.IsNaN(c.Value) ? f.Replacement : c.Value) : new FeatureExpression.FillMissing(v, f.Replacement),
        _ => e,
    };

    /// <summary>The formula's structure without its columns and constants: formulas with the same shape are computed together.</summary>
    private static string Shape(FeatureExpression e)
    {
        var text = new StringBuilder();
        Write(e);
        return text.ToString();

        void Write(FeatureExpression x)
        {
            switch (x)
            {
                case FeatureExpression.Column:
                    text.Append('c');
                    break;
                case FeatureExpression.Constant:
                    text.Append('k');
                    break;
                case FeatureExpression.Binary b:
                    text.Append('(');
                    Write(b.Left);
                    text.Append(b.Operator);
                    Write(b.Right);
                    text.Append(')');
                    break;
                case FeatureExpression.Ln l:
                    text.Append("ln(");
                    Write(l.Operand);
                    text.Append(')');
                    break;
                case FeatureExpression.FillMissing f:
                    text.Append("fill(");
                    Write(f.Value);
                    text.Append(')');
                    break;
            }
        }
    }

    /// <summary>Emits the nodes of one group: every member has the same shape, so walking them in step visits matching parts.</summary>
    private sealed class Emitter(OnnxGraphWriter graph, IReadOnlyDictionary<string, long> index, string prefix)
    {
        private int _next;

        private string Name(string what) => $"{prefix}_{what}{_next++}";

        /// <summary>A [N, k] tensor of the members' values.</summary>
        public string Emit(IReadOnlyList<FeatureExpression> members)
        {
            var value = EmitTensorOrConstant(members);
            if (value.IsTensor)
            {
                return value.Name;
            }

            // Constant features (a constant formula): the constants expanded to [N, k].
            var shape = Name("shape");
            graph.AddNode("Shape", [InputName], [shape]);
            var batchIndex = Name("batch_index");
            graph.AddInitializer(batchIndex, (ReadOnlySpan<long>)[0L], 1);
            var batch = Name("batch");
            graph.AddNode("Gather", [shape, batchIndex], [batch], ("axis", 0L));
            var width = Name("width");
            graph.AddInitializer(width, (ReadOnlySpan<long>)[(long)members.Count], 1);
            var target = Name("target");
            graph.AddNode("Concat", [batch, width], [target], ("axis", 0L));
            var result = Name("constant");
            graph.AddNode("Expand", [value.Name, target], [result]);
            return result;
        }

        private (string Name, bool IsTensor) EmitTensorOrConstant(IReadOnlyList<FeatureExpression> members)
        {
            switch (members[0])
            {
                case FeatureExpression.Column:
                    {
                        var indexes = members.Select(m => index[((FeatureExpression.Column)m).Name]).ToArray();
                        var indexName = Name("index");
                        graph.AddInitializer(indexName, indexes, indexes.Length);
                        var gathered = Name("column");
                        graph.AddNode("Gather", [InputName, indexName], [gathered], ("axis", 1L));
                        return (gathered, true);
                    }

                case FeatureExpression.Constant:
                    {
                        var values = members.Select(m => ((FeatureExpression.Constant)m).Value).ToArray();
                        var name = Name("constant");
                        graph.AddInitializer(name, values, values.Length);
                        return (name, false);
                    }

                case FeatureExpression.Binary b:
                    {
                        var left = EmitTensorOrConstant([.. members.Select(m => ((FeatureExpression.Binary)m).Left)]);
                        var right = EmitTensorOrConstant([.. members.Select(m => ((FeatureExpression.Binary)m).Right)]);
                        var op = b.Operator switch { '+' => "Add", '-' => "Sub", '*' => "Mul", '/' => "Div", _ => throw new InvalidOperationException($"Unknown operator '{b.Operator}'.") };
                        var result = Name(op.ToLowerInvariant());
                        graph.AddNode(op, [left.Name, right.Name], [result]);
                        return (result, left.IsTensor || right.IsTensor);
                    }

                case FeatureExpression.Ln:
                    {
                        var operand = EmitTensorOrConstant([.. members.Select(m => ((FeatureExpression.Ln)m).Operand)]);
                        var result = Name("ln");
                        graph.AddNode("Log", [operand.Name], [result]);
                        return (result, operand.IsTensor);
                    }

                case FeatureExpression.FillMissing:
                    {
                        var value = EmitTensorOrConstant([.. members.Select(m => ((FeatureExpression.FillMissing)m).Value)]);
                        var replacements = members.Select(m => ((FeatureExpression.FillMissing)m).Replacement).ToArray();
                        var replacement = Name("replacement");
                        graph.AddInitializer(replacement, replacements, replacements.Length);
                        var missing = Name("missing");
                        graph.AddNode("IsNaN", [value.Name], [missing]);
                        var result = Name("filled");
                        graph.AddNode("Where", [missing, replacement, value.Name], [result]);
                        return (result, value.IsTensor);
                    }

                default:
                    throw new InvalidOperationException($"Unknown expression {members[0].GetType().Name}.");
            }
        }
    }
}
