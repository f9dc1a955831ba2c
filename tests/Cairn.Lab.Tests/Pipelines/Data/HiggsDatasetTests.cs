using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using System.Text;
using Cairn.Lab.Pipelines;
using Cairn.Lab.Pipelines.Data;
using Xunit.Abstractions;

namespace Cairn.Lab.Tests.Pipelines.Data;

public sealed class HiggsDatasetTests : IDisposable
{
    /// <summary>The first line of the real UCI file, from ../shared/datasets/higgs_sample_format.md.</summary>
    private const string RealFirstLine =
        "1.000000000000000000e+00,8.692932128906250000e-01,-6.350818276405334473e-01,2.256902605295181274e-01,3.274700641632080078e-01,-6.899932026863098145e-01,7.542022466659545898e-01,-2.485731393098831177e-01,-1.092063903808593750e+00,0.000000000000000000e+00,1.374992132186889648e+00,-6.536741852760314941e-01,9.303491115570068359e-01,1.107436060905456543e+00,1.138904333114624023e+00,-1.578198313713073730e+00,-1.046985387802124023e+00,0.000000000000000000e+00,6.579295396804809570e-01,-1.045456994324922562e-02,-4.576716944575309753e-02,3.101961374282836914e+00,1.353760004043579102e+00,9.795631170272827148e-01,9.780761599540710449e-01,9.200048446655273438e-01,7.216574549674987793e-01,9.887509346008300781e-01,8.766783475875854492e-01";

    private readonly string _folder = Directory.CreateTempSubdirectory("cairn-higgs-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    internal static string SyntheticFile =>
        new[] { "../shared/datasets", "/work/shared/datasets" }
            .Select(d => Path.Combine(FindUp(d) ?? d, "higgs_synthetic_10k.csv.gz"))
            .FirstOrDefault(File.Exists) ?? throw new FileNotFoundException("higgs_synthetic_10k.csv.gz (shared/datasets) not found");

    [Fact]
    public async Task Synthetic_file_loads_10k_rows_with_the_uci_columns()
    {
        var progress = new List<string>();
        var loaded = await DatasetCatalog.LoadAsync(new DatasetOptions("higgs", Path: SyntheticFile), new SyncProgress(progress.Add));

        var table = loaded.Table;
        Assert.Equal(10_000, table.RowCount);
        Assert.Equal(28, table.Features.Count);
        Assert.Equal(HiggsDataset.FeatureNames, table.Features.Select(c => c.Name));
        Assert.Equal("lepton_pT", table.Features[0].Name);
        Assert.Equal("m_wwbb", table.Features[^1].Name);
        Assert.Equal("label", table.LabelName);
        Assert.Equal(["0", "1"], table.ClassNames);
        Assert.Equal(5_307, table.Labels.Count(l => l == "1"));
        Assert.Equal(4_693, table.Labels.Count(l => l == "0"));
        Assert.Equal("higgs", loaded.Description.Name);
        Assert.Equal("local", loaded.Description.SourceType);
        Assert.Matches("^[0-9a-f]{16}$", loaded.Description.Digest);
        Assert.Contains("\"num_rows\": 10000", loaded.Description.Profile);
        Assert.Empty(progress);
    }

    [Fact]
    public async Task Fast_parser_matches_float_parse_on_every_value_of_the_synthetic_file()
    {
        using var reader = new StreamReader(new GZipStream(File.OpenRead(SyntheticFile), CompressionMode.Decompress));
        var loaded = await DatasetCatalog.LoadAsync(new DatasetOptions("higgs", Path: SyntheticFile));
        var row = 0;
        while (await reader.ReadLineAsync() is { } line)
        {
            var fields = line.Split(',');
            Assert.Equal(float.Parse(fields[0], CultureInfo.InvariantCulture) == 1 ? "1" : "0", loaded.Table.Labels[row]);
            for (var c = 1; c < fields.Length; c++)
            {
                var expected = float.Parse(fields[c], CultureInfo.InvariantCulture);
                Assert.Equal(BitConverter.SingleToInt32Bits(expected), BitConverter.SingleToInt32Bits(((NumericColumn)loaded.Table.Features[c - 1]).Values[row]));
            }

            row++;
        }

        Assert.Equal(10_000, row);
    }

    [Theory]
    [InlineData("1.000000000000000000e+00")]
    [InlineData("-1.045456994324922562e-02")]
    [InlineData("0.1")]
    [InlineData("-0.000123")]
    [InlineData("12345678901234567890123")]
    [InlineData("3.4028234e38")]
    [InlineData("1e-40")]
    [InlineData("1.5E+3")]
    [InlineData("+7")]
    [InlineData(".5")]
    [InlineData("NaN")]
    [InlineData("0.333333333333333333333333333")]
    public void Fast_parser_agrees_with_float_parse(string text)
    {
        Assert.True(HiggsDataset.TryParseFloat(Encoding.ASCII.GetBytes(text), out var value));

        Assert.Equal(float.Parse(text, CultureInfo.InvariantCulture), value);
    }

    [Theory]
    [InlineData("")]
    [InlineData("1.2.3")]
    [InlineData("e5")]
    [InlineData("1e")]
    [InlineData("abc")]
    public void Fast_parser_rejects_non_numbers(string text) =>
        Assert.False(HiggsDataset.TryParseFloat(Encoding.ASCII.GetBytes(text), out _));

    [Fact]
    public async Task Row_limit_is_honoured_and_progress_reported_every_100k_rows()
    {
        var limited = await DatasetCatalog.LoadAsync(new DatasetOptions("higgs", Path: SyntheticFile, RowLimit: 1_000));
        var full = await DatasetCatalog.LoadAsync(new DatasetOptions("higgs", Path: SyntheticFile));

        Assert.Equal(1_000, limited.Table.RowCount);
        Assert.NotEqual(full.Description.Digest, limited.Description.Digest);
        Assert.Equal(((NumericColumn)full.Table.Features[3]).Values[..1_000], ((NumericColumn)limited.Table.Features[3]).Values);

        // 200k rows of the real first line, uncompressed, found as HIGGS.csv in the data folder.
        var lines = string.Concat(Enumerable.Repeat(RealFirstLine + "\n", 200_000));
        await File.WriteAllTextAsync(Path.Combine(_folder, "HIGGS.csv"), lines);
        var progress = new List<string>();
        var big = await DatasetCatalog.LoadAsync(new DatasetOptions("higgs", Location: _folder), new SyncProgress(progress.Add));

        Assert.Equal(200_000, big.Table.RowCount);
        Assert.Equal(["higgs: 100,000 rows read", "higgs: 200,000 rows read"], progress);
    }

    [Fact]
    public async Task Real_first_line_parses_exactly_from_a_gzipped_higgs_file_in_the_data_folder()
    {
        await using (var file = File.Create(Path.Combine(_folder, "HIGGS.csv.gz")))
        await using (var gzip = new GZipStream(file, CompressionLevel.Fastest))
        {
            // No newline at the end of the last line: the reader must still take it.
            await gzip.WriteAsync(Encoding.ASCII.GetBytes(RealFirstLine + "\r\n" + RealFirstLine.Replace("1.000000000000000000e+00,8.69", "0.000000000000000000e+00,8.69")));
        }

        var loaded = await DatasetCatalog.LoadAsync(new DatasetOptions("higgs", Location: _folder));

        Assert.Equal(2, loaded.Table.RowCount);
        Assert.Equal(["1", "0"], loaded.Table.Labels);
        var expected = RealFirstLine.Split(',').Skip(1).Select(v => float.Parse(v, CultureInfo.InvariantCulture)).ToArray();
        Assert.Equal(expected, loaded.Table.Features.Select(c => ((NumericColumn)c).Values[0]));
        Assert.Equal(0.8692932128906250f, ((NumericColumn)loaded.Table["lepton_pT"]).Values[0]);
        Assert.Equal(3.101961374282836914f, ((NumericColumn)loaded.Table["jet4_b-tag"]).Values[0]);
    }

    [Fact]
    public async Task Missing_file_and_ragged_rows_are_reported()
    {
        var error = await Assert.ThrowsAsync<PipelineConfigException>(() => DatasetCatalog.LoadAsync(new DatasetOptions("higgs", Location: _folder)));
        Assert.Contains(Path.Combine(_folder, "HIGGS.csv.gz"), error.Message);
        Assert.Contains(Path.Combine(_folder, "HIGGS.csv"), error.Message);

        var path = Path.Combine(_folder, "short.csv");
        await File.WriteAllTextAsync(path, RealFirstLine + "\n" + RealFirstLine + "\n1,2,3\n");
        error = await Assert.ThrowsAsync<PipelineConfigException>(() => DatasetCatalog.LoadAsync(new DatasetOptions("higgs", Path: path)));
        Assert.Contains("line 3", error.Message);
        Assert.Contains("3 fields", error.Message);

        await File.WriteAllTextAsync(path, RealFirstLine + ",1\n");
        error = await Assert.ThrowsAsync<PipelineConfigException>(() => DatasetCatalog.LoadAsync(new DatasetOptions("higgs", Path: path)));
        Assert.Contains("line 1: 30 fields", error.Message);

        await File.WriteAllTextAsync(path, RealFirstLine.Replace("8.692932128906250000e-01", "x") + "\n");
        error = await Assert.ThrowsAsync<PipelineConfigException>(() => DatasetCatalog.LoadAsync(new DatasetOptions("higgs", Path: path)));
        Assert.Contains("field 2 ('x') is not a number", error.Message);

        await File.WriteAllTextAsync(path, "");
        error = await Assert.ThrowsAsync<PipelineConfigException>(() => DatasetCatalog.LoadAsync(new DatasetOptions("higgs", Path: path)));
        Assert.Contains("empty", error.Message);

        var notGzip = Path.Combine(_folder, "plain.csv.gz");
        await File.WriteAllTextAsync(notGzip, RealFirstLine + "\n");
        error = await Assert.ThrowsAsync<PipelineConfigException>(() => DatasetCatalog.LoadAsync(new DatasetOptions("higgs", Path: notGzip)));
        Assert.Contains("gzip", error.Message);
    }

    [Fact]
    public async Task A_gzipped_file_larger_than_one_read_buffer_is_streamed_whole()
    {
        // 50,000 rows: five copies of the synthetic file, gzipped as HIGGS.csv.gz is (speed is measured in bench/).
        var path = Path.Combine(_folder, "HIGGS.csv.gz");
        using var source = new StreamReader(new GZipStream(File.OpenRead(SyntheticFile), CompressionMode.Decompress));
        var block = Encoding.ASCII.GetBytes(await source.ReadToEndAsync());
        await using (var file = File.Create(path))
        await using (var gzip = new GZipStream(file, CompressionLevel.Fastest))
        {
            for (var i = 0; i < 5; i++)
            {
                await gzip.WriteAsync(block);
            }
        }

        var loaded = await DatasetCatalog.LoadAsync(new DatasetOptions("higgs", Location: _folder));
        Assert.Equal(50_000, loaded.Table.RowCount);
        var first = (NumericColumn)loaded.Table.Features[0];
        Assert.Equal(first.Values[..10_000], first.Values[40_000..]);
        Assert.Equal(loaded.Table.Labels[..10_000], loaded.Table.Labels[40_000..]);
    }

    private static string? FindUp(string relative)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, relative);
            if (Directory.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    /// <summary>Reports on the caller's thread (Progress{T} posts to the thread pool, racing the assertions).</summary>
    private sealed class SyncProgress(Action<string> report) : IProgress<string>
    {
        public void Report(string value) => report(value);
    }
}
