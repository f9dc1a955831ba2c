using Cairn.Lab.Pipelines;
using Cairn.Lab.Pipelines.Data;

namespace Cairn.Lab.Tests.Pipelines.Data;

public sealed class SplitsTests
{
    [Theory]
    [InlineData("iris", 0.2, 0.1)]
    [InlineData("wine", 0.25, 0.15)]
    [InlineData("breast_cancer", 0.3, 0.0)]
    [InlineData("breast_cancer", 0.0, 0.2)]
    public async Task Stratified_split_is_disjoint_covering_and_proportional_per_class(string name, double test, double validation)
    {
        var table = (await DatasetCatalog.LoadAsync(new DatasetOptions(name))).Table;

        var (trainRows, validationRows, testRows) = Splits.Stratified(table, test, validation, seed: 42);

        var all = trainRows.Concat(validationRows).Concat(testRows).ToArray();
        Assert.Equal(table.RowCount, all.Length);
        Assert.Equal(Enumerable.Range(0, table.RowCount), all.Order());
        Assert.Equal((int)Math.Round(table.RowCount * test, MidpointRounding.AwayFromZero), testRows.Length);
        Assert.Equal((int)Math.Round(table.RowCount * validation, MidpointRounding.AwayFromZero), validationRows.Length);
        foreach (var className in table.ClassNames)
        {
            var inClass = table.Labels.Count(l => l == className);
            Assert.InRange(testRows.Count(r => table.Labels[r] == className), (inClass * test) - 1, (inClass * test) + 1);
            Assert.InRange(validationRows.Count(r => table.Labels[r] == className), (inClass * validation) - 1, (inClass * validation) + 1);
        }
    }

    [Fact]
    public async Task Stratified_split_is_deterministic_for_a_seed_and_varies_with_it()
    {
        var table = (await DatasetCatalog.LoadAsync(new DatasetOptions("iris"))).Table;

        var first = Splits.Stratified(table, 0.2, 0.2, seed: 7);
        var again = Splits.Stratified(table, 0.2, 0.2, seed: 7);
        var other = Splits.Stratified(table, 0.2, 0.2, seed: 8);

        Assert.Equal(first.Train, again.Train);
        Assert.Equal(first.Validation, again.Validation);
        Assert.Equal(first.Test, again.Test);
        Assert.NotEqual(first.Test, other.Test);
        Assert.Equal(30, first.Test.Length);
        Assert.All(table.ClassNames, c => Assert.Equal(10, first.Test.Count(r => table.Labels[r] == c)));
    }

    [Theory]
    [InlineData(-0.1, 0.1)]
    [InlineData(1.0, 0.0)]
    [InlineData(0.2, 1.0)]
    [InlineData(0.6, 0.4)]
    [InlineData(double.NaN, 0.1)]
    public void Stratified_split_rejects_bad_fractions(double test, double validation)
    {
        var table = new DataTable([new NumericColumn("x", [1, 2, 3, 4])], "y", ["a", "a", "b", "b"]);

        var error = Assert.Throws<PipelineConfigException>(() => Splits.Stratified(table, test, validation, 1));

        Assert.Contains("fraction", error.Message);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(5)]
    [InlineData(10)]
    public async Task Stratified_k_fold_folds_are_disjoint_covering_and_balanced(int k)
    {
        var table = (await DatasetCatalog.LoadAsync(new DatasetOptions("wine"))).Table;
        var classes = table.ClassIndexes();

        var folds = Splits.StratifiedKFold(classes, k, seed: 3);

        Assert.Equal(k, folds.Count);
        Assert.Equal(Enumerable.Range(0, table.RowCount), folds.SelectMany(f => f.Validation).Order());
        foreach (var (train, validation) in folds)
        {
            Assert.Empty(train.Intersect(validation));
            Assert.Equal(table.RowCount, train.Length + validation.Length);
            Assert.InRange(validation.Length, (table.RowCount / k) - 1, (table.RowCount / k) + 1);
            for (var c = 0; c < table.ClassNames.Count; c++)
            {
                var inClass = classes.Count(x => x == c);
                Assert.InRange(validation.Count(r => classes[r] == c), (inClass / k) - 1, (inClass / k) + 1);
            }
        }

        var again = Splits.StratifiedKFold(classes, k, seed: 3);
        Assert.Equal(folds.Select(f => f.Validation), again.Select(f => f.Validation));
    }

    [Fact]
    public void Stratified_k_fold_rejects_too_few_or_too_many_folds()
    {
        int[] classes = [0, 0, 0, 1, 1, 1, 1];

        Assert.Contains("at least 2", Assert.Throws<PipelineConfigException>(() => Splits.StratifiedKFold(classes, 1, 0)).Message);
        var error = Assert.Throws<PipelineConfigException>(() => Splits.StratifiedKFold(classes, 4, 0));
        Assert.Contains("smallest class has rows (3)", error.Message);
        Assert.Equal(3, Splits.StratifiedKFold(classes, 3, 0).Count);
    }
}
