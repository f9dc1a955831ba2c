using System.Globalization;

namespace Cairn.Bench.Rest;

/// <summary>
/// Samples a local server process (given by pid) from /proc every 50 ms: resident memory
/// (VmRSS, and the kernel's own high-water mark VmHWM) and CPU time (utime+stime from
/// /proc/pid/stat). Per-phase windows give each phase's peak RSS and server CPU seconds; the
/// CPU figure is a useful cross-check on a shared machine, where wall-clock throughput also
/// depends on what else is running.
/// </summary>
internal sealed class ServerProbe : IDisposable
{
    private const double ClockTicksPerSecond = 100.0; // USER_HZ on Linux
    private readonly int _pid;
    private readonly Thread _thread;
    private readonly object _gate = new();
    private volatile bool _stop;
    private long _peakRssKb;
    private long _windowPeakRssKb;
    private double _windowCpuStart;

    private ServerProbe(int pid)
    {
        _pid = pid;
        _thread = new Thread(Loop) { IsBackground = true, Name = "server-probe" };
    }

    /// <summary>A probe for <paramref name="pid"/>, or null (with a reason) when it cannot be read.</summary>
    public static ServerProbe? TryStart(int pid, out string? problem)
    {
        problem = null;
        if (!File.Exists($"/proc/{pid}/status"))
        {
            problem = $"/proc/{pid}/status not readable (server not local, or pid wrong)";
            return null;
        }

        var p = new ServerProbe(pid);
        p.Sample();
        p._thread.Start();
        return p;
    }

    public int Pid => _pid;

    private void Loop()
    {
        while (!_stop)
        {
            Sample();
            Thread.Sleep(50);
        }
    }

    private void Sample()
    {
        var rss = ReadStatusKb("VmRSS:");
        if (rss is null)
        {
            return;
        }

        lock (_gate)
        {
            _peakRssKb = Math.Max(_peakRssKb, rss.Value);
            _windowPeakRssKb = Math.Max(_windowPeakRssKb, rss.Value);
        }
    }

    /// <summary>Starts a measurement window (one phase).</summary>
    public void BeginWindow()
    {
        Sample();
        lock (_gate)
        {
            _windowPeakRssKb = ReadStatusKb("VmRSS:") ?? 0;
            _windowCpuStart = CpuSeconds() ?? 0;
        }
    }

    /// <summary>Ends the window: peak RSS seen in it (MiB) and server CPU seconds spent in it.</summary>
    public (double PeakRssMiB, double CpuSeconds) EndWindow()
    {
        Sample();
        lock (_gate)
        {
            var cpu = (CpuSeconds() ?? _windowCpuStart) - _windowCpuStart;
            return (Math.Round(_windowPeakRssKb / 1024.0, 1), Math.Round(cpu, 2));
        }
    }

    public double PeakRssMiB
    {
        get
        {
            lock (_gate)
            {
                return Math.Round(_peakRssKb / 1024.0, 1);
            }
        }
    }

    public double? VmHwmMiB => ReadStatusKb("VmHWM:") is { } kb ? Math.Round(kb / 1024.0, 1) : null;

    public double? CurrentRssMiB => ReadStatusKb("VmRSS:") is { } kb ? Math.Round(kb / 1024.0, 1) : null;

    public double? CpuSeconds()
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{_pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            // After "pid (comm) ", field 3 (state) is index 0; utime is field 14, stime field 15.
            var utime = long.Parse(fields[11], CultureInfo.InvariantCulture);
            var stime = long.Parse(fields[12], CultureInfo.InvariantCulture);
            return (utime + stime) / ClockTicksPerSecond;
        }
        catch (Exception)
        {
            return null;
        }
    }

    private long? ReadStatusKb(string field)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{_pid}/status"))
            {
                if (line.StartsWith(field, StringComparison.Ordinal))
                {
                    var parts = line[field.Length..].Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
                    return long.Parse(parts[0], CultureInfo.InvariantCulture);
                }
            }
        }
        catch (Exception)
        {
            // process gone
        }

        return null;
    }

    public void Dispose()
    {
        _stop = true;
        _thread.Join(500);
    }
}
