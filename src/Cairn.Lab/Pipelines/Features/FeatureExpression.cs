using System.Globalization;
using System.Text;

namespace Cairn.Lab.Pipelines.Features;

/// <summary>
/// One fitted feature as a formula over the raw numeric columns, so that a whole chain of
/// enrichers collapses into one expression per feature. Two back ends read it: <see cref="Evaluate"/>
/// (C#, over whole columns, float arithmetic) and <see cref="FeatureGraph"/> (an ONNX graph inside
/// the saved model, so it takes raw columns). Both compute in single precision; they agree to
/// float rounding (ONNX Runtime's vectorised log and division may differ in the last bit).
/// </summary>
public abstract record FeatureExpression
{
    /// <summary>A raw numeric column of the input.</summary>
    public sealed record Column(string Name) : FeatureExpression;

    public sealed record Constant(float Value) : FeatureExpression;

    /// <summary><c>+ - * /</c> in single precision.</summary>
    public sealed record Binary(char Operator, FeatureExpression Left, FeatureExpression Right) : FeatureExpression;

    /// <summary>The natural logarithm (ML.NET's <c>ln</c>: <c>(float)Math.Log(x)</c>).</summary>
    public sealed record Ln(FeatureExpression Operand) : FeatureExpression;

    /// <summary><c>isna(value) ? replacement : value</c>: imputation of a missing value.</summary>
    public sealed record FillMissing(FeatureExpression Value, float Replacement) : FeatureExpression;

    public static FeatureExpression operator +(FeatureExpression left, FeatureExpression right) => new Binary('+', left, right);

    public static FeatureExpression operator -(FeatureExpression left, FeatureExpression right) => new Binary('-', left, right);

    public static FeatureExpression operator *(FeatureExpression left, FeatureExpression right) => new Binary('*', left, right);

    public static FeatureExpression operator /(FeatureExpression left, FeatureExpression right) => new Binary('/', left, right);

    /// <summary>The raw columns the expression reads, in order of first appearance.</summary>
    public IReadOnlyList<string> Columns()
    {
        var names = new List<string>();
        Visit(this);
        return names;

        void Visit(FeatureExpression e)
        {
            switch (e)
            {
                case Column c when !names.Contains(c.Name):
                    names.Add(c.Name);
                    break;
                case Binary b:
                    Visit(b.Left);
                    Visit(b.Right);
                    break;
                case Ln l:
                    Visit(l.Operand);
                    break;
                case FillMissing f:
                    Visit(f.Value);
                    break;
            }
        }
    }

    /// <summary>
    /// Evaluates over whole columns of <paramref name="rows"/> rows; <paramref name="column"/>
    /// gives a raw column's values. The result may be a column's own array: do not write to it.
    /// </summary>
    public float[] Evaluate(Func<string, float[]> column, int rows) => Evaluate(column, rows, null, null);

    /// <summary>
    /// As <see cref="Evaluate(Func{string, float[]}, int)"/>, reusing the values in
    /// <paramref name="cache"/> (keyed by reference) and storing there the nodes <paramref name="store"/> selects.
    /// </summary>
    internal float[] Evaluate(Func<string, float[]> column, int rows, Dictionary<FeatureExpression, float[]>? cache, Func<FeatureExpression, bool>? store)
    {
        if (cache is not null && cache.TryGetValue(this, out var cached))
        {
            return cached;
        }

        var values = Compute(column, rows, cache, store);
        if (cache is not null && store is not null && store(this))
        {
            cache[this] = values;
        }

        return values;
    }

    private float[] Compute(Func<string, float[]> column, int rows, Dictionary<FeatureExpression, float[]>? cache, Func<FeatureExpression, bool>? store)
    {
        switch (this)
        {
            case Column c:
                return column(c.Name);
            case Constant k:
                var constant = new float[rows];
                Array.Fill(constant, k.Value);
                return constant;
            case Binary b:
                return EvaluateBinary(b, column, rows, cache, store);
            case Ln l:
                {
                    var operand = l.Operand.Evaluate(column, rows, cache, store);
                    var result = new float[rows];
                    for (var i = 0; i < rows; i++)
                    {
                        result[i] = (float)Math.Log(operand[i]);
                    }

                    return result;
                }

            case FillMissing f:
                {
                    var value = f.Value.Evaluate(column, rows, cache, store);
                    var result = new float[rows];
                    for (var i = 0; i < rows; i++)
                    {
                        result[i] = float.IsNaN(value[i]) ? f.Replacement : value[i];
                    }

                    return result;
                }

            default:
                throw new InvalidOperationException($"Unknown expression {GetType().Name}.");
        }
    }

    private static float[] EvaluateBinary(Binary b, Func<string, float[]> column, int rows, Dictionary<FeatureExpression, float[]>? cache, Func<FeatureExpression, bool>? store)
    {
        // A constant operand is applied as a scalar: the same float operation as on a column of it.
        var left = b.Left is Constant ? null : b.Left.Evaluate(column, rows, cache, store);
        var right = b.Right is Constant ? null : b.Right.Evaluate(column, rows, cache, store);
        var leftConstant = (b.Left as Constant)?.Value ?? 0;
        var rightConstant = (b.Right as Constant)?.Value ?? 0;
        var result = new float[rows];
        for (var i = 0; i < rows; i++)
        {
            var x = left is null ? leftConstant : left[i];
            var y = right is null ? rightConstant : right[i];
            result[i] = b.Operator switch
            {
                '+' => x + y,
                '-' => x - y,
                '*' => x * y,
                '/' => x / y,
                _ => throw new InvalidOperationException($"Unknown operator '{b.Operator}'."),
            };
        }

        return result;
    }

    /// <summary>A readable form for model cards and logs: <c>(ln(1 + petal_length) - 0.5) / 2</c>.</summary>
    public sealed override string ToString()
    {
        var text = new StringBuilder();
        Write(this, text);
        return text.ToString();
    }

    private static void Write(FeatureExpression e, StringBuilder text)
    {
        switch (e)
        {
            case Column c:
                text.Append(c.Name);
                break;
            case Constant k:
                text.Append(k.Value.ToString("G6", CultureInfo.InvariantCulture));
                break;
            case Binary b:
                text.Append('(');
                Write(b.Left, text);
                text.Append(' ').Append(b.Operator).Append(' ');
                Write(b.Right, text);
                text.Append(')');
                break;
            case Ln l:
                text.Append("ln(");
                Write(l.Operand, text);
                text.Append(')');
                break;
            case FillMissing f:
                text.Append("(isna(");
                Write(f.Value, text);
                text.Append(") ? ").Append(f.Replacement.ToString("G6", CultureInfo.InvariantCulture)).Append(" : ");
                Write(f.Value, text);
                text.Append(')');
                break;
        }
    }
}
