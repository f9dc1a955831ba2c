namespace Cairn.Lab.Pipelines.Data;

/// <summary>
/// Stratified splits: every class is spread over train / validation / test (and over k folds) in
/// proportion to its size, and the same seed gives the same rows. Row indexes come back in
/// ascending order; a trainer that is sensitive to order shuffles them itself.
/// </summary>
public static class Splits
{
    /// <summary>
    /// Splits <paramref name="table"/>'s rows into train, validation and test. The test and
    /// validation sizes are <c>round(N × fraction)</c>, shared out over the classes by largest
    /// remainder, so each class's share is within one row of its exact proportion.
    /// </summary>
    /// <exception cref="PipelineConfigException">A fraction outside [0, 1), or fractions adding up to 1 or more.</exception>
    public static (int[] Train, int[] Validation, int[] Test) Stratified(DataTable table, double testFraction, double validationFraction, int seed)
    {
        ArgumentNullException.ThrowIfNull(table);
        CheckFraction("test_fraction", testFraction);
        CheckFraction("validation_fraction", validationFraction);
        if (testFraction + validationFraction >= 1)
        {
            throw new PipelineConfigException(
                $"test_fraction ({testFraction}) + validation_fraction ({validationFraction}) must be less than 1, leaving rows to train on.");
        }

        var classes = ShuffledByClass(table.ClassIndexes(), table.ClassNames.Count, seed);
        var sizes = classes.Select(c => c.Count).ToArray();
        var testCounts = Apportion(sizes, testFraction);
        var validationCounts = Apportion(sizes, validationFraction);
        List<int> train = [], validation = [], test = [];
        for (var c = 0; c < classes.Length; c++)
        {
            var rows = classes[c];
            var nTest = Math.Min(testCounts[c], rows.Count);
            var nValidation = Math.Min(validationCounts[c], rows.Count - nTest);
            test.AddRange(rows.Take(nTest));
            validation.AddRange(rows.Skip(nTest).Take(nValidation));
            train.AddRange(rows.Skip(nTest + nValidation));
        }

        return ([.. train.Order()], [.. validation.Order()], [.. test.Order()]);
    }

    /// <summary>
    /// Stratified k-fold cross-validation over rows whose classes are <paramref name="classIndexes"/>:
    /// each row is in exactly one validation fold, each class spread evenly over the folds.
    /// </summary>
    /// <exception cref="PipelineConfigException">Fewer than 2 folds, or more folds than the smallest class has rows.</exception>
    public static IReadOnlyList<(int[] Train, int[] Validation)> StratifiedKFold(int[] classIndexes, int folds, int seed)
    {
        ArgumentNullException.ThrowIfNull(classIndexes);
        if (folds < 2)
        {
            throw new PipelineConfigException($"Cross-validation needs at least 2 folds, not {folds}.");
        }

        var classCount = classIndexes.Length == 0 ? 0 : classIndexes.Max() + 1;
        var classes = ShuffledByClass(classIndexes, classCount, seed).Where(c => c.Count > 0).ToArray();
        if (classes.Length == 0)
        {
            throw new PipelineConfigException("Cross-validation needs rows; there are none.");
        }

        var smallest = classes.Min(c => c.Count);
        if (folds > smallest)
        {
            throw new PipelineConfigException(
                $"{folds} folds is more than the smallest class has rows ({smallest}); use at most {smallest} folds.");
        }

        // Deal the rows out class after class, continuing the count: each class is within one row
        // of even over the folds, and the folds are within one row of each other in size.
        var fold = new int[classIndexes.Length];
        var next = 0;
        foreach (var rows in classes)
        {
            foreach (var row in rows)
            {
                fold[row] = next;
                next = (next + 1) % folds;
            }
        }

        var result = new List<(int[] Train, int[] Validation)>(folds);
        for (var f = 0; f < folds; f++)
        {
            var validation = new List<int>();
            var train = new List<int>();
            for (var row = 0; row < fold.Length; row++)
            {
                (fold[row] == f ? validation : train).Add(row);
            }

            result.Add(([.. train], [.. validation]));
        }

        return result;
    }

    private static void CheckFraction(string name, double value)
    {
        if (!(value >= 0 && value < 1))
        {
            throw new PipelineConfigException($"{name} must be in [0, 1), not {value}.");
        }
    }

    /// <summary>The rows of each class, each list shuffled by one seeded generator (classes in index order).</summary>
    private static List<int>[] ShuffledByClass(int[] classIndexes, int classCount, int seed)
    {
        var classes = new List<int>[classCount];
        for (var c = 0; c < classCount; c++)
        {
            classes[c] = [];
        }

        for (var row = 0; row < classIndexes.Length; row++)
        {
            if (classIndexes[row] < 0)
            {
                throw new ArgumentException($"Row {row} has a negative class index.", nameof(classIndexes));
            }

            classes[classIndexes[row]].Add(row);
        }

        var random = new Random(seed);
        foreach (var rows in classes)
        {
            for (var i = rows.Count - 1; i > 0; i--)
            {
                var j = random.Next(i + 1);
                (rows[i], rows[j]) = (rows[j], rows[i]);
            }
        }

        return classes;
    }

    /// <summary>Shares <c>round(total × fraction)</c> rows over the classes by largest remainder.</summary>
    private static int[] Apportion(int[] sizes, double fraction)
    {
        var total = (int)Math.Round(sizes.Sum() * fraction, MidpointRounding.AwayFromZero);
        var exact = sizes.Select(s => s * fraction).ToArray();
        var counts = exact.Select(e => (int)Math.Floor(e)).ToArray();
        var remaining = total - counts.Sum();
        foreach (var c in Enumerable.Range(0, sizes.Length).OrderByDescending(c => exact[c] - counts[c]).ThenBy(c => c))
        {
            if (remaining <= 0)
            {
                break;
            }

            if (counts[c] < sizes[c])
            {
                counts[c]++;
                remaining--;
            }
        }

        return counts;
    }
}
