using System.Security.Cryptography;
using Cairn.Core;

namespace Cairn.Storage.Tests.Store;

/// <summary>Params and tags at MLflow's size limits, and sorting runs by them, on both databases.</summary>
public sealed class RunValuesTests
{
    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task Params_and_tags_as_long_as_MLflow_allows_are_stored_and_searchable(string backend)
    {
        await using var database = await TestStore.OpenAsync(backend);
        if (database is null)
        {
            return;
        }

        // Random text does not compress: a value this long cannot sit whole in a PostgreSQL B-tree entry.
        var store = database.Store;
        var exp = await store.CreateExperimentAsync("long-values", null, []);
        var run = (await store.CreateRunAsync(new NewRun(exp, "u", 1, null, [new Tag("mlflow.note.content", Random(Validation.MaxRunTagValueLength))]))).Info.RunId;
        var param = Random(Validation.MaxParamValueLength);
        var tag = Random(Validation.MaxRunTagValueLength);
        await store.LogBatchAsync(run, [], [new Param("prompt", param)], [new Tag("notes", tag)]);

        var stored = await store.GetRunAsync(run);
        Assert.Equal(param, Assert.Single(stored.Params).Value);
        Assert.Equal(tag, stored.Tags.Single(t => t.Key == "notes").Value);
        var found = await store.SearchRunsAsync(new RunSearchQuery([exp], $"tags.notes = '{tag}'", OrderBy: ["params.prompt DESC"]));
        Assert.Equal(run, Assert.Single(found.Items).Info.RunId);
    }

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task Runs_sorted_by_a_param_or_tag_page_through_in_order_with_runs_lacking_it_last(string backend)
    {
        await using var database = await TestStore.OpenAsync(backend);
        if (database is null)
        {
            return;
        }

        var store = database.Store;
        var exp = await store.CreateExperimentAsync("sorted", null, []);
        var other = await store.CreateExperimentAsync("other", null, []);
        string[] values = ["b", "a", "B", "c", "a", "ab"];
        for (var i = 0; i < values.Length; i++)
        {
            var id = (await store.CreateRunAsync(new NewRun(exp, "u", 100 + i, $"r{i}", []))).Info.RunId;
            await store.LogBatchAsync(id, [], [new Param("opt", values[i])], [new Tag("team", values[i])]);
        }

        await store.CreateRunAsync(new NewRun(exp, "u", 50, "bare", []));
        var elsewhere = (await store.CreateRunAsync(new NewRun(other, "u", 1, "elsewhere", []))).Info.RunId;
        await store.LogBatchAsync(elsewhere, [], [new Param("opt", "a")], [new Tag("team", "a")]);

        foreach (var order in new[] { "params.opt", "params.opt DESC", "tags.team", "tags.team DESC" })
        {
            var whole = (await store.SearchRunsAsync(new RunSearchQuery([exp], OrderBy: [order]))).Items.Select(r => r.Info.RunName).ToList();
            var ascending = !order.EndsWith("DESC", StringComparison.Ordinal);

            // Code-point order (upper case first), ties newest first, the run lacking the key last.
            var expected = values.Select((v, i) => (Value: v, Name: $"r{i}", Start: 100 + i))
                .OrderBy(x => x.Value, ascending ? StringComparer.Ordinal : Comparer<string>.Create((a, b) => string.CompareOrdinal(b, a)))
                .ThenByDescending(x => x.Start).Select(x => x.Name).Append("bare").ToList();
            Assert.Equal(expected, whole);

            for (var size = 1; size <= 4; size++)
            {
                var paged = new List<string>();
                string? token = null;
                do
                {
                    var page = await store.SearchRunsAsync(new RunSearchQuery([exp], MaxResults: size, OrderBy: [order], PageToken: token));
                    paged.AddRange(page.Items.Select(r => r.Info.RunName));
                    token = page.NextPageToken;
                }
                while (token is not null);

                Assert.Equal(expected, paged);
            }
        }
    }

    private static string Random(int length) => Convert.ToHexString(RandomNumberGenerator.GetBytes(length / 2))[..length];
}
