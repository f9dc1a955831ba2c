using System.Globalization;

namespace Cairn.Server.Ui;

/// <summary>How the UI writes times, durations and numbers: short, invariant and unambiguous.</summary>
internal static class Format
{
    public static string Time(long? millis) =>
        millis is null or 0 ? "—" : DateTimeOffset.FromUnixTimeMilliseconds(millis.Value).UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) + " UTC";

    /// <summary>"3 minutes ago"; the exact time goes in a tooltip (<see cref="Time"/>).</summary>
    public static string Ago(long? millis, DateTimeOffset? now = null)
    {
        if (millis is null or 0)
        {
            return "—";
        }

        var span = (now ?? DateTimeOffset.UtcNow) - DateTimeOffset.FromUnixTimeMilliseconds(millis.Value);
        return span.TotalSeconds switch
        {
            < 0 => Time(millis),
            < 60 => "just now",
            < 3600 => Plural((int)span.TotalMinutes, "minute") + " ago",
            < 86400 => Plural((int)span.TotalHours, "hour") + " ago",
            < 86400 * 30 => Plural((int)span.TotalDays, "day") + " ago",
            _ => DateTimeOffset.FromUnixTimeMilliseconds(millis.Value).UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        };
    }

    public static string Duration(long start, long? end)
    {
        if (start <= 0 || end is null || end < start)
        {
            return "—";
        }

        var span = TimeSpan.FromMilliseconds(end.Value - start);
        return span.TotalSeconds switch
        {
            < 1 => $"{span.TotalMilliseconds:0}ms",
            < 60 => string.Create(CultureInfo.InvariantCulture, $"{span.TotalSeconds:0.#}s"),
            < 3600 => $"{(int)span.TotalMinutes}m {span.Seconds}s",
            < 86400 => $"{(int)span.TotalHours}h {span.Minutes}m",
            _ => $"{(int)span.TotalDays}d {span.Hours}h",
        };
    }

    /// <summary>Up to 6 significant digits, like MLflow's table; NaN and infinities spelled out.</summary>
    public static string Number(double value) => value switch
    {
        double.NaN => "NaN",
        double.PositiveInfinity => "∞",
        double.NegativeInfinity => "-∞",
        _ => value.ToString("G6", CultureInfo.InvariantCulture),
    };

    public static string Bytes(long? size) => size switch
    {
        null => "",
        < 1024 => $"{size} B",
        < 1024 * 1024 => string.Create(CultureInfo.InvariantCulture, $"{size / 1024.0:0.#} KB"),
        < 1024L * 1024 * 1024 => string.Create(CultureInfo.InvariantCulture, $"{size / 1024.0 / 1024:0.#} MB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{size / 1024.0 / 1024 / 1024:0.##} GB"),
    };

    private static string Plural(int n, string unit) => n == 1 ? $"1 {unit}" : $"{n} {unit}s";
}
