using System.Globalization;

namespace Cairn.Server.Ui;

/// <summary>
/// Chart smoothing as TensorBoard and MLflow offer it: an exponential moving average whose weight
/// runs from 0 (raw values) to <see cref="MaxWeight"/>, debiased so the line starts at the first value
/// instead of climbing from zero. Applied to the points a chart draws, in order.
/// </summary>
public static class Smoothing
{
    /// <summary>The strongest smoothing offered; a weight of 1 would be a flat line at the first value.</summary>
    public const double MaxWeight = 0.99;

    /// <summary>
    /// Each point's smoothed value: the running average <c>a = weight·a + (1 − weight)·y</c> divided by
    /// <c>1 − weight^n</c> (n points so far), which cancels the bias of starting the average at zero.
    /// A weight of 0 returns the values unchanged.
    /// </summary>
    public static double[] Ema(ReadOnlySpan<double> values, double weight)
    {
        weight = double.IsNaN(weight) ? 0 : Math.Clamp(weight, 0, MaxWeight);
        var smoothed = new double[values.Length];
        var average = 0.0;
        var bias = 1.0;
        for (var i = 0; i < values.Length; i++)
        {
            average = (weight * average) + ((1 - weight) * values[i]);
            bias *= weight;
            smoothed[i] = average / (1 - bias);
        }

        return smoothed;
    }

    /// <summary>
    /// Reads a weight from the URL (<c>smooth=0.6</c>): anything missing or not a number is 0, the
    /// rest is rounded to hundredths (the slider's step) and clamped to 0..<see cref="MaxWeight"/>.
    /// </summary>
    public static double Parse(string? text) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var weight) ? Clamp(weight) : 0;

    /// <summary>The weight as written in the URL, or null for no smoothing (the parameter is then left out).</summary>
    public static string? ToQuery(double weight) =>
        Clamp(weight) is var w && w > 0 ? w.ToString("0.##", CultureInfo.InvariantCulture) : null;

    private static double Clamp(double weight) => double.IsFinite(weight) ? Math.Clamp(Math.Round(weight, 2), 0, MaxWeight) : 0;
}
