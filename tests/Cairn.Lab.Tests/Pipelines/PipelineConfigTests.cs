using Cairn.Lab.Pipelines;
using Cairn.Tuning;

namespace Cairn.Lab.Tests.Pipelines;

public class PipelineConfigTests
{
    private static string RepoFile(params string[] parts)
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Cairn.slnx")))
        {
            dir = dir.Parent;
        }

        return Path.Combine([dir!.FullName, .. parts]);
    }

    [Fact]
    public void The_iris_sample_reads_into_feature_sets_models_search_spaces_and_tuner()
    {
        var config = PipelineConfig.Load(RepoFile("samples", "iris.yaml"));
        Assert.Equal("iris", config.Experiment);
        Assert.Equal("iris", config.Dataset.Name);
        Assert.Equal(["basic", "subset", "squared"], config.FeatureSets.Select(f => f.Key));
        var squared = config.FeatureSets[2].Value;
        Assert.Equal(["polynomial", "zscale"], squared.Select(e => e.Name));
        Assert.Equal("2", squared[0].Options["degree"]);
        Assert.Equal(["logistic_regression", "random_forest", "lightgbm"], config.Models.Select(m => m.Name));
        var l2 = Assert.IsType<CategoricalDistribution>(config.Models[0].SearchSpace["l2"]);
        Assert.Equal([0.01, 0.1, 1.0], l2.Choices.Cast<double>());
        Assert.Equal(new TunerConfig("grid", 1000, 5, "accuracy", "none", 3), config.Tuner);
        Assert.True(config.MetricIsMaximized);
        Assert.Equal(new RegistryConfig(true, "iris-classifier", "challenger", "champion"), config.Registry);
        Assert.EndsWith(Path.Combine("samples", "iris.yaml"), config.SourcePath);
    }

    [Fact]
    public void Ranges_become_int_or_float_distributions_with_log_and_step()
    {
        var config = PipelineConfig.Parse("""
            dataset: {name: wine}
            models:
              lightgbm:
                search_space:
                  num_iterations: {low: 20, high: 200, step: 10}
                  learning_rate: {low: 0.01, high: 0.3, log: true}
                  lambda: {low: 0, high: 1}
                  leaves: {type: float, low: 4, high: 64}
                  fixed: 100
            """);
        var space = config.Models.Single().SearchSpace;
        Assert.Equal(new IntDistribution(20, 200, false, 10), space["num_iterations"]);
        Assert.Equal(new FloatDistribution(0.01, 0.3, log: true), space["learning_rate"]);
        Assert.Equal(new IntDistribution(0, 1), space["lambda"]);
        Assert.Equal(new FloatDistribution(4, 64), space["leaves"]);
        Assert.Equal([100L], Assert.IsType<CategoricalDistribution>(space["fixed"]).Choices);
        Assert.Equal("wine", config.Experiment);
        Assert.Equal("basic", Assert.Single(config.FeatureSets).Key);
        Assert.Equal("tpe", config.Tuner.Name);
    }

    [Theory]
    [InlineData("dataset: {name: iris}\nmodels: [x]\nmodel: y\n", "unknown key 'model'", "models")]
    [InlineData("dataset: {name: iris}\nmodels: [x]\ntuner: {name: bayes}\n", "unknown fine-tuner 'bayes'", "grid, random, tpe")]
    [InlineData("dataset: {name: iris}\nmodels: [x]\ntuner: {metric: auc}\n", "unknown metric 'auc'", "roc_auc")]
    [InlineData("dataset: {name: iris}\nmodels: [x]\ntuner: {folds: 1}\n", "tuner.folds must be ≥ 2", "got 1")]
    [InlineData("dataset: {name: iris}\nmodels:\n  x:\n    search_space:\n      a: {low: 5, high: 1}\n", "models.x.search_space.a: low (5) is greater than high (1)", "")]
    [InlineData("dataset: {name: iris}\nmodels:\n  x:\n    search_space:\n      a: {low: 0, high: 1, log: true}\n", "a log range needs low > 0", "")]
    [InlineData("dataset: {name: iris}\nmodels:\n  x:\n    search_space:\n      a: {low: 1, hi: 2}\n", "unknown key 'hi'", "high")]
    [InlineData("dataset: {name: iris}\nmodels:\n  x:\n    search_space:\n      a: []\n", "the list of values is empty", "")]
    [InlineData("dataset: {name: iris}\nsplit: {test: 0.6, validation: 0.5}\nmodels: [x]\n", "split.test", "below 1")]
    [InlineData("models: [x]\n", "dataset.name is required", "")]
    [InlineData("dataset: {name: iris}\n", "models is required", "")]
    [InlineData("dataset: {name: iris}\nmodels: [x]\nfeature_sets: [zscale]\n", "feature_sets must map a name", "")]
    [InlineData("dataset: {name: iris\n", "not valid YAML", "line")]
    [InlineData("- just\n- a list\n", "must be a mapping", "")]
    public void Mistakes_are_one_message_naming_the_place_and_the_allowed_values(string yaml, string mentions, string alsoMentions)
    {
        var e = Assert.Throws<PipelineConfigException>(() => PipelineConfig.Parse(yaml, "bad.yaml"));
        Assert.Contains(mentions, e.Message, StringComparison.Ordinal);
        Assert.Contains(alsoMentions, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_file_says_where_it_looked()
    {
        var e = Assert.Throws<PipelineConfigException>(() => PipelineConfig.Load("no-such-config.yaml"));
        Assert.Contains(Path.GetFullPath("no-such-config.yaml"), e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("iris.yaml")]
    [InlineData("wine.yaml")]
    [InlineData("breast_cancer.yaml")]
    [InlineData("higgs.yaml")]
    public void ToYaml_writes_every_setting_so_that_reading_it_back_gives_the_same_config(string sample)
    {
        var config = PipelineConfig.Load(RepoFile("samples", sample));
        var again = PipelineConfig.Parse(config.ToYaml());
        Assert.Equal(config.Experiment, again.Experiment);
        Assert.Equal(config.Seed, again.Seed);
        Assert.Equal(config.Dataset, again.Dataset);
        Assert.Equal((config.TestFraction, config.ValidationFraction), (again.TestFraction, again.ValidationFraction));
        Assert.Equal(config.Tuner, again.Tuner);
        Assert.Equal(config.Registry, again.Registry);
        Assert.Equal(config.FeatureSets.Select(f => f.Key), again.FeatureSets.Select(f => f.Key));
        Assert.Equal(
            config.FeatureSets.SelectMany(f => f.Value).Select(e => e.Name + string.Join(",", e.Options.Select(o => $"{o.Key}={o.Value}"))),
            again.FeatureSets.SelectMany(f => f.Value).Select(e => e.Name + string.Join(",", e.Options.Select(o => $"{o.Key}={o.Value}"))));
        Assert.Equal(config.Models.Select(m => m.Name), again.Models.Select(m => m.Name));
        foreach (var (model, other) in config.Models.Zip(again.Models))
        {
            Assert.Equal(model.SearchSpace.Keys, other.SearchSpace.Keys);
            foreach (var key in model.SearchSpace.Keys)
            {
                Assert.Equal(model.SearchSpace[key].ToJson(), other.SearchSpace[key].ToJson());
            }
        }
    }
}
