using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace Cairn.Bench.Tuning;

/// <summary>Renders the benchmark JSON as the tables of bench/TUNING-RESULTS.md.</summary>
internal static class Markdown
{
    public static string Render(JsonObject r)
    {
        var sb = new StringBuilder();
        sb.AppendLine(CultureInfo.InvariantCulture, $"Generated {r["generated_at"]} by `bench/Cairn.Bench.Tuning` ({r["seeds"]} seeds, .NET {r["environment"]!["dotnet"]}, {r["environment"]!["cpu_count"]} cores).");
        sb.AppendLine();
        sb.AppendLine("### Best value after N trials (median [q25, q75] over seeds; lower is better)");
        sb.AppendLine();
        sb.AppendLine("| problem | sampler | N | Cairn median [q25, q75] | Optuna 3.1 median [q25, q75] | gap ratio¹ | Mann-Whitney p² |");
        sb.AppendLine("|---|---|---:|---|---|---:|---:|");
        foreach (var e in r["best_value"]!.AsArray())
            foreach (var (n, v) in e!["best_after"]!.AsObject())
            {
                if (n == "10") continue;
                var o = v!["optuna"]!;
                sb.AppendLine(CultureInfo.InvariantCulture,
                    $"| {e["problem"]} | {e["sampler"]} | {n} | {F(v["median"])} [{F(v["q25"])}, {F(v["q75"])}] | {F(o["median"])} [{F(o["q25"])}, {F(o["q75"])}] | {F(v["gap_ratio_median"])} | {F(v["mann_whitney_p"])} |");
            }
        sb.AppendLine();
        sb.AppendLine("¹ (Cairn median − optimum) / (Optuna median − optimum): below 1 means Cairn's median is closer to the optimum.");
        sb.AppendLine("² two-sided, Cairn's per-seed bests against Optuna's at the last N; p < 0.05 means the distributions differ.");
        sb.AppendLine();
        sb.AppendLine("### Pruning: MedianPruner on the 30-step learning curve (100 trials)");
        sb.AppendLine();
        sb.AppendLine("| sampler | pruner | pruned trials, median (Optuna) | steps used, median (Optuna) | best after 100, median [q25, q75] | Optuna best after 100 |");
        sb.AppendLine("|---|---|---|---|---|---|");
        foreach (var e in r["pruning"]!.AsArray())
        {
            var b = e!["best_after"]!["100"]!;
            sb.AppendLine(CultureInfo.InvariantCulture,
                $"| {e["sampler"]} | {e["pruner"]} | {F(e["pruned_trials"]!["median"])} ({F(e["pruned_trials"]!["optuna"]?["median"])}) | {F(e["steps_used"]!["median"])} ({F(e["steps_used"]!["optuna"]?["median"])}) | {F(b["median"])} [{F(b["q25"])}, {F(b["q75"])}] | {F(b["optuna"]?["median"])} [{F(b["optuna"]?["q25"])}, {F(b["optuna"]?["q75"])}] |");
        }
        if (r["timing"] is JsonArray timing)
        {
            sb.AppendLine();
            sb.AppendLine("### Time per trial, Branin, in-memory storage, one process (mean of 3 seeds)");
            sb.AppendLine();
            sb.AppendLine("| sampler | trials | Cairn ms/trial | Optuna 3.1 ms/trial | ratio | by block (Cairn / Optuna ms per trial) |");
            sb.AppendLine("|---|---:|---:|---:|---:|---|");
            foreach (var e in timing)
            {
                var blocks = string.Join("; ", e!["ms_per_trial_by_block"]!.AsObject().Select(kv => $"{kv.Key}: {F(kv.Value!["cairn"])} / {F(kv.Value!["optuna"])}"));
                sb.AppendLine(CultureInfo.InvariantCulture,
                    $"| {e["sampler"]} | {e["n_trials"]} | {F(e["ms_per_trial_mean_over_seeds"])} | {F(e["optuna_ms_per_trial"])} | {F(e["ratio"])} | {blocks} |");
            }
        }
        return sb.ToString();
    }

    private static string F(JsonNode? n)
    {
        if (n is null) return "–";
        if (n.GetValueKind() == System.Text.Json.JsonValueKind.Number)
        {
            var d = double.Parse(n.ToJsonString(), CultureInfo.InvariantCulture);
            return d == 0 ? "0" : Math.Abs(d) >= 1000 ? d.ToString("F0", CultureInfo.InvariantCulture) : d.ToString("G4", CultureInfo.InvariantCulture);
        }
        return n.ToString();
    }
}
