using System.Diagnostics;
using System.Globalization;

namespace Cairn.Client.SystemMetrics;

/// <summary>
/// Samples the machine and the process every <c>interval</c> and logs <c>system/...</c> metrics with
/// MLflow's names (<c>system/cpu_utilization_percentage</c>, <c>system/system_memory_usage_megabytes</c>,
/// <c>system/disk_usage_percentage</c>, <c>system/network_receive_megabytes</c>...) plus the .NET
/// process's own (<c>system/process_memory_megabytes</c>, <c>system/gc_heap_megabytes</c>). Step is the
/// sample number, as in MLflow. Linux figures come from /proc; elsewhere only what .NET exposes.
/// </summary>
internal sealed class SystemMetricsSampler : IAsyncDisposable
{
    private const double MB = 1024 * 1024;

    private readonly Action<string, double, long> _log;
    private readonly TimeSpan _interval;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private readonly Process _process = Process.GetCurrentProcess();
    private (ulong Busy, ulong Total)? _lastCpu;
    private (double Rx, double Tx)? _firstNet;
    private (double Read, double Write)? _firstIo;
    private long _step;

    public SystemMetricsSampler(Action<string, double, long> log, TimeSpan interval)
    {
        _log = log;
        _interval = interval;
        using (ExecutionContext.SuppressFlow())
        {
            _loop = Task.Run(LoopAsync);
        }
    }

    private async Task LoopAsync()
    {
        ReadCpu();
        using var timer = new PeriodicTimer(_interval);
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false))
            {
                SampleOnce();
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Takes one sample now (also used at start-up so short runs get one point).</summary>
    internal void SampleOnce()
    {
        var step = _step++;
        try
        {
            foreach (var (key, value) in Sample())
            {
                _log("system/" + key, value, step);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or InvalidOperationException)
        {
            // A metric that cannot be read this time is skipped, never fatal to the run.
        }
    }

    private IEnumerable<(string, double)> Sample()
    {
        if (ReadCpu() is { } cpu)
        {
            yield return ("cpu_utilization_percentage", cpu);
        }

        if (ReadMemInfo() is { } mem)
        {
            yield return ("system_memory_usage_megabytes", (mem.Total - mem.Available) / MB);
            yield return ("system_memory_usage_percentage", mem.Total > 0 ? 100.0 * (mem.Total - mem.Available) / mem.Total : 0);
        }

        _process.Refresh();
        yield return ("process_memory_megabytes", _process.WorkingSet64 / MB);
        yield return ("gc_heap_megabytes", GC.GetGCMemoryInfo().HeapSizeBytes / MB);

        var drive = new DriveInfo(Path.GetPathRoot(Directory.GetCurrentDirectory()) ?? "/");
        if (drive.IsReady && drive.TotalSize > 0)
        {
            var used = drive.TotalSize - drive.AvailableFreeSpace;
            yield return ("disk_usage_percentage", 100.0 * used / drive.TotalSize);
            yield return ("disk_usage_megabytes", used / MB);
            yield return ("disk_available_megabytes", drive.AvailableFreeSpace / MB);
        }

        if (ReadProcessIo() is { } io)
        {
            _firstIo ??= io;
            yield return ("disk_read_megabytes", (io.Read - _firstIo.Value.Read) / MB);
            yield return ("disk_write_megabytes", (io.Write - _firstIo.Value.Write) / MB);
        }

        if (ReadNetwork() is { } net)
        {
            _firstNet ??= net;
            yield return ("network_receive_megabytes", (net.Rx - _firstNet.Value.Rx) / MB);
            yield return ("network_transmit_megabytes", (net.Tx - _firstNet.Value.Tx) / MB);
        }
    }

    /// <summary>CPU busy share since the previous reading, from /proc/stat's aggregate line.</summary>
    private double? ReadCpu()
    {
        if (!File.Exists("/proc/stat"))
        {
            return null;
        }

        var line = File.ReadLines("/proc/stat").First();
        var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(p => ulong.Parse(p, CultureInfo.InvariantCulture)).ToArray();
        ulong total = 0;
        foreach (var p in parts)
        {
            total += p;
        }

        var idle = parts[3] + (parts.Length > 4 ? parts[4] : 0);
        var now = (Busy: total - idle, Total: total);
        var last = _lastCpu;
        _lastCpu = now;
        if (last is null || now.Total <= last.Value.Total)
        {
            return null;
        }

        return 100.0 * (now.Busy - last.Value.Busy) / (now.Total - last.Value.Total);
    }

    private static (double Total, double Available)? ReadMemInfo()
    {
        if (!File.Exists("/proc/meminfo"))
        {
            var info = GC.GetGCMemoryInfo();
            return info.TotalAvailableMemoryBytes > 0 ? (info.TotalAvailableMemoryBytes, info.TotalAvailableMemoryBytes - info.MemoryLoadBytes) : null;
        }

        double total = 0, available = 0;
        foreach (var line in File.ReadLines("/proc/meminfo"))
        {
            if (line.StartsWith("MemTotal:", StringComparison.Ordinal))
            {
                total = KiB(line);
            }
            else if (line.StartsWith("MemAvailable:", StringComparison.Ordinal))
            {
                available = KiB(line);
            }
        }

        return total > 0 ? (total, available) : null;

        static double KiB(string line) => 1024.0 * double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
    }

    private static (double Read, double Write)? ReadProcessIo()
    {
        const string path = "/proc/self/io";
        if (!File.Exists(path))
        {
            return null;
        }

        double read = 0, write = 0;
        foreach (var line in File.ReadLines(path))
        {
            if (line.StartsWith("rchar:", StringComparison.Ordinal))
            {
                read = double.Parse(line[6..].Trim(), CultureInfo.InvariantCulture);
            }
            else if (line.StartsWith("wchar:", StringComparison.Ordinal))
            {
                write = double.Parse(line[6..].Trim(), CultureInfo.InvariantCulture);
            }
        }

        return (read, write);
    }

    private static (double Rx, double Tx)? ReadNetwork()
    {
        const string path = "/proc/net/dev";
        if (!File.Exists(path))
        {
            return null;
        }

        double rx = 0, tx = 0;
        foreach (var line in File.ReadLines(path).Skip(2))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon < 0 || line[..colon].Trim() == "lo")
            {
                continue;
            }

            var fields = line[(colon + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            rx += double.Parse(fields[0], CultureInfo.InvariantCulture);
            tx += double.Parse(fields[8], CultureInfo.InvariantCulture);
        }

        return (rx, tx);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
        _stop.Dispose();
        _process.Dispose();
    }
}
