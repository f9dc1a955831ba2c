namespace Cairn.Tuning.Tests;

internal static class Problems
{
    public static double Branin(double x1, double x2)
    {
        const double a = 1, r = 6, s = 10;
        var b = 5.1 / (4 * Math.PI * Math.PI);
        var c = 5 / Math.PI;
        var t = 1 / (8 * Math.PI);
        return a * Math.Pow(x2 - b * x1 * x1 + c * x1 - r, 2) + s * (1 - t) * Math.Cos(x1) + s;
    }

    public static double Branin(Trial trial) =>
        Branin(trial.SuggestFloat("x1", -5, 10), trial.SuggestFloat("x2", 0, 15));
}
