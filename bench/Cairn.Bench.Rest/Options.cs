using System.Globalization;

namespace Cairn.Bench.Rest;

internal sealed class Options
{
    public string Url { get; private set; } = "";
    public string Label { get; private set; } = "";
    public double Scale { get; private set; } = 1.0;
    public string Phases { get; private set; } = "abcdef";
    public int? ServerPid { get; private set; }
    public int Threads { get; private set; } = 4;
    public double Duration { get; private set; } = 20.0;
    public int SetupThreads { get; private set; } = 4;
    public bool Warmup { get; private set; } = true;

    public const string Usage = """
        Cairn.Bench.Rest: REST benchmark for any MLflow-compatible tracking server.

          dotnet run --project bench/Cairn.Bench.Rest -c Release -- --url http://127.0.0.1:5000 [options]

          --url URL            server base URL (also accepted as the first positional argument)
          --label TEXT         free text copied into the JSON
          --scale X            multiply the counts (not the batch size); 0.1 for a smoke test (default 1.0)
          --phases LIST        phases to run, e.g. a,b,c,d,e,f,g or abcdef (default a..f; g is opt-in)
          --server-pid PID     local server process: report its peak RSS and CPU seconds from /proc
          --threads N          concurrent writers in phase f (default 4)
          --duration S         seconds of phase f (default 20)
          --setup-threads N    concurrency of untimed setup work (default 4)
          --no-warmup          skip the short untimed warm-up before phase a

        Phases: a runs/create x200, b log-metric x2000, c log-batch 200x1000 points,
        d get-history of 100,000 points, e search over 1,000 runs (p50 of 20),
        f 4 writers x log-batch for 20 s (+ read-back check), g search over 100,000 runs (p50 of 20).
        Prints exactly one JSON line on stdout; progress goes to stderr.
        Exit code 0: all phases ran and all checks passed; 2: a phase failed or a check failed; 1: usage.
        """;

    public static Options Parse(string[] args)
    {
        var o = new Options();
        for (var i = 0; i < args.Length; i++)
        {
            var a = args[i];
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{a} needs a value");
            switch (a)
            {
                case "--url": o.Url = Next(); break;
                case "--label": o.Label = Next(); break;
                case "--scale": o.Scale = double.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--phases": o.Phases = new string(Next().Where(char.IsLetter).Select(char.ToLowerInvariant).ToArray()); break;
                case "--server-pid": o.ServerPid = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--threads": o.Threads = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--duration": o.Duration = double.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--setup-threads": o.SetupThreads = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--no-warmup": o.Warmup = false; break;
                case "-h" or "--help": throw new HelpRequested();
                default:
                    if (!a.StartsWith('-') && o.Url.Length == 0)
                    {
                        o.Url = a;
                        break;
                    }

                    throw new ArgumentException($"unknown argument {a}");
            }
        }

        if (o.Url.Length == 0)
        {
            throw new ArgumentException("--url is required");
        }

        if (!Uri.TryCreate(o.Url, UriKind.Absolute, out var u) || (u.Scheme != "http" && u.Scheme != "https"))
        {
            throw new ArgumentException($"unsupported URL {o.Url}");
        }

        if (o.Scale <= 0 || o.Threads < 1 || o.SetupThreads < 1 || o.Duration <= 0)
        {
            throw new ArgumentException("--scale, --threads, --setup-threads and --duration must be positive");
        }

        var unknown = o.Phases.Where(p => p is < 'a' or > 'g').ToArray();
        if (unknown.Length > 0)
        {
            throw new ArgumentException($"unknown phase(s) {new string(unknown)}; use a..g");
        }

        return o;
    }

    /// <summary>Scaled count, rounded like Python's <c>int(round(n * scale))</c> in bench_rest.py.</summary>
    public int S(int n) => Math.Max(1, (int)Math.Round(n * Scale, MidpointRounding.ToEven));
}

internal sealed class HelpRequested : Exception;
