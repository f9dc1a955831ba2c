using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Cairn.Core;

namespace Cairn.Client;

/// <summary>Builds MLflow dataset records (name, digest, source, schema, profile) for <see cref="ActiveRun.LogInputAsync"/>.</summary>
public static class Datasets
{
    /// <summary>
    /// Describes a delimited text file (CSV with a header row): digest of its content, source
    /// <c>{"uri": "file:///..."}</c>, an <c>mlflow_colspec</c> schema with types inferred from the
    /// values (long, double, string) and a profile with row and element counts.
    /// </summary>
    public static Dataset FromCsv(string path, string? name = null, char separator = ',', bool hasHeader = true)
    {
        var full = Path.GetFullPath(path);
        using var reader = new StreamReader(full);
        var firstLine = reader.ReadLine() ?? "";
        var columns = firstLine.Split(separator).Select(c => c.Trim().Trim('"')).ToArray();
        if (!hasHeader)
        {
            columns = columns.Select((_, i) => "column" + i.ToString(CultureInfo.InvariantCulture)).ToArray();
        }

        var types = new string?[columns.Length];
        long rows = 0;
        void Observe(string line)
        {
            var values = line.Split(separator);
            for (var i = 0; i < Math.Min(values.Length, types.Length); i++)
            {
                var v = values[i].Trim().Trim('"');
                if (v.Length == 0)
                {
                    continue;
                }

                var t = long.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out _) ? "long"
                    : double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out _) ? "double" : "string";
                types[i] = (types[i], t) switch
                {
                    (null, _) => t,
                    ("string", _) or (_, "string") => "string",
                    ("double", _) or (_, "double") => "double",
                    _ => "long",
                };
            }

            rows++;
        }

        if (!hasHeader)
        {
            Observe(firstLine);
        }

        while (reader.ReadLine() is { } line)
        {
            if (line.Length > 0)
            {
                Observe(line);
            }
        }

        var schema = JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["mlflow_colspec"] = columns.Select((c, i) => new Dictionary<string, string> { ["type"] = types[i] ?? "string", ["name"] = c }).ToList(),
        });
        var profile = JsonSerializer.Serialize(new Dictionary<string, long> { ["num_rows"] = rows, ["num_elements"] = rows * columns.Length });
        return new Dataset(
            name ?? Path.GetFileNameWithoutExtension(full),
            Digest(File.ReadAllBytes(full)),
            "local",
            JsonSerializer.Serialize(new Dictionary<string, string> { ["uri"] = new Uri(full).AbsoluteUri }),
            schema,
            profile);
    }

    /// <summary>A short content digest (the first 8 bytes of SHA-256, hex), within MLflow's 36-character limit.</summary>
    public static string Digest(ReadOnlySpan<byte> content) => Convert.ToHexStringLower(SHA256.HashData(content))[..16];

    public static string Digest(string content) => Digest(Encoding.UTF8.GetBytes(content));
}
