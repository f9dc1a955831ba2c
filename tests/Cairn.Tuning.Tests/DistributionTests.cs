namespace Cairn.Tuning.Tests;

public class DistributionTests
{
    [Fact]
    public void FloatDistribution_rejects_low_above_high_with_a_clear_message()
    {
        var e = Assert.Throws<ArgumentException>(() => new FloatDistribution(2, 1));
        Assert.Contains("low must be <= high", e.Message);
    }

    [Fact]
    public void FloatDistribution_rejects_log_with_non_positive_low() =>
        Assert.Contains("must be > 0", Assert.Throws<ArgumentException>(() => new FloatDistribution(0, 1, log: true)).Message);

    [Fact]
    public void FloatDistribution_rejects_log_and_step_together() =>
        Assert.Contains("both log=true and a step", Assert.Throws<ArgumentException>(() => new FloatDistribution(1, 2, log: true, step: 0.1)).Message);

    [Fact]
    public void FloatDistribution_rejects_non_positive_step() =>
        Assert.Throws<ArgumentException>(() => new FloatDistribution(0, 1, step: 0));

    [Fact]
    public void FloatDistribution_with_step_shrinks_high_to_the_last_grid_point()
    {
        var d = new FloatDistribution(0, 1, step: 0.3);
        Assert.Equal(0.9, d.High, 12);
        Assert.True(d.Contains(0.6));
        Assert.False(d.Contains(0.5));
    }

    [Fact]
    public void IntDistribution_rejects_log_with_step_other_than_one() =>
        Assert.Contains("step=1", Assert.Throws<ArgumentException>(() => new IntDistribution(1, 10, log: true, step: 2)).Message);

    [Fact]
    public void IntDistribution_rejects_log_with_low_below_one() =>
        Assert.Throws<ArgumentException>(() => new IntDistribution(0, 10, log: true));

    [Fact]
    public void IntDistribution_with_step_contains_only_grid_points()
    {
        var d = new IntDistribution(1, 10, step: 3);
        Assert.Equal(10, d.High);
        Assert.True(d.Contains(4));
        Assert.False(d.Contains(5));
        Assert.False(d.Contains(4.5));
    }

    [Fact]
    public void CategoricalDistribution_rejects_empty_and_duplicate_choices()
    {
        Assert.Throws<ArgumentException>(() => new CategoricalDistribution([]));
        Assert.Contains("distinct", Assert.Throws<ArgumentException>(() => new CategoricalDistribution(["a", "b", "a"])).Message);
    }

    [Fact]
    public void CategoricalDistribution_rejects_choices_that_cannot_be_stored() =>
        Assert.Throws<ArgumentException>(() => new CategoricalDistribution([new object()]));

    [Fact]
    public void CategoricalDistribution_finds_numbers_whatever_their_type()
    {
        var d = new CategoricalDistribution([1, 2.5, "x", null, true]);
        Assert.Equal(0, d.ToInternal(1L));
        Assert.Equal(1, d.ToInternal(2.5f));
        Assert.Equal(3, d.ToInternal(null));
        Assert.Equal(4, d.ToInternal(true));
        Assert.Throws<ArgumentException>(() => d.ToInternal("y"));
    }

    [Theory]
    [InlineData("float")]
    [InlineData("float-log")]
    [InlineData("float-step")]
    [InlineData("int")]
    [InlineData("int-log")]
    [InlineData("categorical")]
    public void Distributions_round_trip_through_json(string kind)
    {
        Distribution d = kind switch
        {
            "float" => new FloatDistribution(-1.5, 2.25),
            "float-log" => new FloatDistribution(1e-5, 0.1, log: true),
            "float-step" => new FloatDistribution(0, 1, step: 0.25),
            "int" => new IntDistribution(-3, 9, step: 3),
            "int-log" => new IntDistribution(1, 1024, log: true),
            _ => new CategoricalDistribution(["sgd", 1L, 2.5, null, false]),
        };
        var back = Distribution.FromJson(d.ToJson());
        Assert.Equal(d, back);
        Assert.True(Distribution.AreCompatible(d, back));
    }

    [Fact]
    public void Distributions_with_different_ranges_are_not_compatible() =>
        Assert.False(Distribution.AreCompatible(new FloatDistribution(0, 1), new FloatDistribution(0, 2)));
}
