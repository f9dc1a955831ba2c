using Cairn.Tuning;

namespace Cairn.Bench.Tuning;

/// <summary>The reference problems of optuna-reference.md, bit for bit (names, bounds, order of suggestion).</summary>
internal static class Problems
{
    public static double Branin(double x1, double x2)
    {
        var b = 5.1 / (4 * Math.PI * Math.PI);
        var c = 5 / Math.PI;
        var t = 1 / (8 * Math.PI);
        return Math.Pow(x2 - b * x1 * x1 + c * x1 - 6, 2) + 10 * (1 - t) * Math.Cos(x1) + 10;
    }

    private static readonly double[] Alpha = [1.0, 1.2, 3.0, 3.2];
    private static readonly double[,] A =
    {
        { 10, 3, 17, 3.5, 1.7, 8 },
        { 0.05, 10, 17, 0.1, 8, 14 },
        { 3, 3.5, 1.7, 10, 17, 8 },
        { 17, 8, 0.05, 10, 0.1, 14 },
    };
    private static readonly double[,] P =
    {
        { 1312, 1696, 5569, 124, 8283, 5886 },
        { 2329, 4135, 8307, 3736, 1004, 9991 },
        { 2348, 1451, 3522, 2883, 3047, 6650 },
        { 4047, 8828, 8732, 5743, 1091, 381 },
    };

    public static double Hartmann6(double[] x)
    {
        double sum = 0;
        for (var i = 0; i < 4; i++)
        {
            double inner = 0;
            for (var j = 0; j < 6; j++) inner += A[i, j] * Math.Pow(x[j] - 1e-4 * P[i, j], 2);
            sum += Alpha[i] * Math.Exp(-inner);
        }
        return -sum;
    }

    public static double Rosenbrock(double[] x)
    {
        double sum = 0;
        for (var i = 0; i < x.Length - 1; i++) sum += 100 * Math.Pow(x[i + 1] - x[i] * x[i], 2) + Math.Pow(1 - x[i], 2);
        return sum;
    }

    public static double Mixed(double lr, long depth, string optimizer) =>
        Math.Pow(Math.Log10(lr) + 2.5, 2) + 0.1 * Math.Pow(depth - 7, 2) + optimizer switch
        {
            "sgd" => 0.5,
            "adam" => 0.0,
            "rmsprop" => 0.2,
            _ => throw new ArgumentException(optimizer),
        };

    public static readonly string[] Optimizers = ["sgd", "adam", "rmsprop"];

    public static Func<Trial, double> Objective(string problem) => problem switch
    {
        "branin" or "branin_grid" => t => Branin(t.SuggestFloat("x1", -5, 10), t.SuggestFloat("x2", 0, 15)),
        "hartmann6" => t => Hartmann6(Enumerable.Range(0, 6).Select(j => t.SuggestFloat($"x{j}", 0, 1)).ToArray()),
        "rosenbrock4" => t => Rosenbrock(Enumerable.Range(0, 4).Select(j => t.SuggestFloat($"x{j}", -5, 10)).ToArray()),
        "mixed" or "mixed_grid" => t => Mixed(t.SuggestFloat("lr", 1e-5, 1e-1, log: true), t.SuggestInt("depth", 1, 10), t.SuggestCategorical("optimizer", Optimizers)),
        _ => throw new ArgumentException($"Unknown problem {problem}"),
    };

    public static IEnumerable<KeyValuePair<string, IReadOnlyList<object?>>> Grid(string problem) => problem switch
    {
        "branin_grid" =>
        [
            new("x1", Enumerable.Range(-5, 16).Select(v => (object?)(double)v).ToArray()),
            new("x2", Enumerable.Range(0, 16).Select(v => (object?)(double)v).ToArray()),
        ],
        "mixed_grid" =>
        [
            new("lr", Enumerable.Range(0, 9).Select(k => (object?)Math.Pow(10, -5 + 0.5 * k)).ToArray()),
            new("depth", Enumerable.Range(1, 10).Select(v => (object?)v).ToArray()),
            new("optimizer", Optimizers.Select(o => (object?)o).ToArray()),
        ],
        _ => throw new ArgumentException($"No grid for {problem}"),
    };

    /// <summary>The 30-step learning curve; reports every step and raises TrialPrunedException when told to.</summary>
    public static async Task<double> LearningCurve(Trial trial, Action<int> countStep)
    {
        var lr = trial.SuggestFloat("lr", 1e-4, 1, log: true);
        var momentum = trial.SuggestFloat("momentum", 0, 0.99);
        var final = 0.1 + Math.Pow(Math.Log10(lr) + 2, 2) / 4 + Math.Pow(momentum - 0.9, 2);
        var k = 0.02 + 0.5 * Math.Sqrt(lr);
        double v = 0;
        for (var t = 0; t < 30; t++)
        {
            v = final + 2 * Math.Exp(-k * (t + 1));
            countStep(1);
            trial.Report(v, t);
            if (await trial.ShouldPruneAsync()) throw new TrialPrunedException();
        }
        return v;
    }
}
