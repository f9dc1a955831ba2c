using System.Text;
using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace Cairn.Server.Tests.Conformance;

/// <summary>One replay of every golden case, in order, against one fresh server.</summary>
public sealed record Replay(IReadOnlyList<(GoldenCase Case, CaseResult Result)> Cases);

/// <summary>
/// Replays the golden transcripts once per backend and shares the answers between the tests of
/// <see cref="ConformanceTests"/>: the cases build on one another, so one replay serves every scope.
/// </summary>
public sealed class ConformanceReplays
{
    private readonly Dictionary<string, Task<Replay>> _replays = new(StringComparer.Ordinal);

    public Task<Replay> GetAsync(string backend)
    {
        lock (_replays)
        {
            if (!_replays.TryGetValue(backend, out var replay))
            {
                _replays[backend] = replay = RunAsync(backend);
            }

            return replay;
        }
    }

    private static async Task<Replay> RunAsync(string backend)
    {
        var cases = GoldenTranscripts.LoadAll();
        await using var server = await CairnProcess.StartAsync(backend);
        using var replayer = new ProtocolReplayer(server.BaseUrl);
        var results = new List<(GoldenCase, CaseResult)>(cases.Count);
        foreach (var c in cases)
        {
            results.Add((c, await replayer.SendAsync(c)));
        }

        if (server.HasExited)
        {
            throw new InvalidOperationException("cairn server died during the replay:\n" + server.Output);
        }

        return new Replay(results);
    }
}

/// <summary>
/// Cairn answers MLflow's REST protocol as MLflow 2.17.2 does: every golden case of
/// shared/mlflow-protocol is replayed (all areas, because later cases depend on earlier state)
/// and the tracking, artifact and registry cases are compared by capture_protocol.py's rules. Where Cairn
/// deliberately differs, <see cref="Deviations"/> says why and what Cairn answers instead.
/// Trace cases are replayed but not yet asserted (a later issue).
/// </summary>
public sealed class ConformanceTests(ConformanceReplays replays, ITestOutputHelper output) : IClassFixture<ConformanceReplays>
{
    [Theory]
    [MemberData(nameof(Backends.All), MemberType = typeof(Backends))]
    public Task Tracking_cases_answer_like_mlflow_2_17_2(string backend) => AssertScopeAsync(backend, CaseScope.Tracking);

    /// <summary>The artifact cases (artifact listing, the mlflow-artifacts proxy, get-artifact and their error cases).</summary>
    [Theory]
    [MemberData(nameof(Backends.All), MemberType = typeof(Backends))]
    public Task Artifact_cases_answer_like_mlflow_2_17_2(string backend) => AssertScopeAsync(backend, CaseScope.Artifacts);

    /// <summary>The model registry cases (registered models, versions, stages, aliases) and the registry's error cases.</summary>
    [Theory]
    [MemberData(nameof(Backends.All), MemberType = typeof(Backends))]
    public Task Registry_cases_answer_like_mlflow_2_17_2(string backend) => AssertScopeAsync(backend, CaseScope.Registry);

    [Fact]
    public void Every_deliberate_difference_names_a_golden_case_and_is_documented()
    {
        var names = GoldenTranscripts.LoadAll().Select(c => c.Name).ToHashSet(StringComparer.Ordinal);
        var unknown = Deviations.All.Where(d => !names.Contains(d.Case)).Select(d => d.Case).ToList();
        Assert.True(unknown.Count == 0, "Deviations name cases that are not in the golden transcripts: " + string.Join(", ", unknown));

        var doc = File.ReadAllText(Path.Combine(CairnProcess.RepoRoot, "docs", "COMPATIBILITY.md"));
        var documented = Regex.Matches(doc, @"^\|\s*`([a-z0-9_]+)`", RegexOptions.Multiline).Select(m => m.Groups[1].Value).ToHashSet(StringComparer.Ordinal);
        var undocumented = Deviations.All.Select(d => d.Case).Where(c => !documented.Contains(c)).ToList();
        var stale = documented.Where(c => !Deviations.ByCase.ContainsKey(c)).ToList();
        Assert.True(undocumented.Count == 0 && stale.Count == 0,
            $"docs/COMPATIBILITY.md and Deviations.All disagree. Not documented: {string.Join(", ", undocumented)}. Documented but not in the table: {string.Join(", ", stale)}");
    }

    private async Task AssertScopeAsync(string backend, CaseScope scope)
    {
        if (backend == "postgres" && !TestPostgres.Available)
        {
            return;
        }

        var replay = await replays.GetAsync(backend);
        var failures = new List<string>();
        var perArea = new SortedDictionary<string, (int Passed, int Failed)>(StringComparer.Ordinal);
        foreach (var (c, result) in replay.Cases.Where(r => r.Case.Scope == scope))
        {
            List<string> diffs;
            if (Deviations.ByCase.TryGetValue(c.Name, out var deviation))
            {
                diffs = Deviations.Check(deviation, result);
                if (diffs.Count == 0 && ResponseComparer.Compare(c, result).Count == 0)
                {
                    diffs.Add("now answers exactly like MLflow: remove it from Deviations.All and docs/COMPATIBILITY.md");
                }

                diffs = diffs.Select(d => "deliberate difference: " + d).ToList();
            }
            else
            {
                diffs = ResponseComparer.Compare(c, result);
            }

            var (passed, failed) = perArea.GetValueOrDefault(c.Area);
            perArea[c.Area] = diffs.Count == 0 ? (passed + 1, failed) : (passed, failed + 1);
            if (diffs.Count > 0)
            {
                failures.Add($"{c.Area}/{c.Name} (seq {c.Seq}, {c.Method} {c.Path}): {string.Join("; ", diffs.Take(8))}{(diffs.Count > 8 ? " ..." : "")}");
            }
        }

        var summary = new StringBuilder($"{scope} cases on {backend}:");
        foreach (var (area, (passed, failed)) in perArea)
        {
            summary.Append($" {area} {passed}/{passed + failed};");
        }

        output.WriteLine(summary.ToString());
        foreach (var failure in failures)
        {
            output.WriteLine("FAIL " + failure);
        }

        Assert.True(failures.Count == 0, $"{failures.Count} {scope.ToString().ToLowerInvariant()} case(s) differ from MLflow 2.17.2 on {backend} ({summary}):\n" + string.Join("\n", failures));
    }
}
