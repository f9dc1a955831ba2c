namespace Cairn.Client;

/// <summary>Renders ScottPlot plots for <see cref="ActiveRun.LogFigureAsync"/>.</summary>
public static class Figures
{
    public const string SansFont = "DejaVu Sans";

    private static readonly Lazy<string> OriginalDefault = new(() =>
    {
        var original = ScottPlot.Fonts.Default;
        ScottPlot.Fonts.Default = SansFont;
        return original;
    });

    /// <summary>
    /// ScottPlot's default font resolves to a serif face on Linux; plots still using it are switched
    /// to DejaVu Sans (a font the caller chose is kept), so figures look like other tools' charts.
    /// </summary>
    public static byte[] RenderPng(ScottPlot.Plot plot, int width = 800, int height = 600)
    {
        ArgumentNullException.ThrowIfNull(plot);
        var original = OriginalDefault.Value;
        if (plot.Axes.Title.Label.FontName == original)
        {
            plot.Font.Set(SansFont);
        }

        return plot.GetImageBytes(width, height, ScottPlot.ImageFormat.Png);
    }
}
