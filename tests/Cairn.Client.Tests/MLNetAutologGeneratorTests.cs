using Cairn.Client.MLNet;
using Cairn.Client.MLNet.Generators;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers;

namespace Cairn.Client.Tests;

/// <summary>The autolog interceptor generator on small programs, without building them.</summary>
public sealed class MLNetAutologGeneratorTests
{
    private const string Program = """
        using Cairn.Client;
        using Cairn.Client.MLNet;
        using Microsoft.ML;

        internal static class Program
        {
            private static void Main()
            {
                var ml = new MLContext();
                IDataView data = ml.Data.LoadFromEnumerable(new[] { new Row() });
                var chain = ml.Transforms.Concatenate("Features", "X").Append(ml.Regression.Trainers.Sdca());
                var model = chain.Fit(data);
                ml.Regression.Trainers.Sdca().Fit(data);
                IEstimator<ITransformer> estimator = chain;
                estimator.Fit(data);
                new Unrelated().Fit(data);
                ml.Regression.Evaluate(model.Transform(data));
                ml.BinaryClassification.EvaluateNonCalibrated(data);
                ml.MulticlassClassification.Evaluate(data);
            }

            private static void LoggedByHand(ActiveRun run, MLContext ml, IDataView data)
            {
                run.LogMetrics(ml.Clustering.Evaluate(data), "test_");
                var ranking = ml.Ranking.Evaluate(data);
                run.LogMetrics(ranking);
            }
        }

        internal class Estimator : IEstimator<ITransformer>
        {
            public virtual ITransformer Fit(IDataView input) => throw new System.NotSupportedException();

            public SchemaShape GetOutputSchema(SchemaShape inputSchema) => inputSchema;
        }

        internal sealed class Derived : Estimator
        {
            public override ITransformer Fit(IDataView input) => base.Fit(input);
        }

        internal sealed class Unrelated
        {
            public int Fit(IDataView data) => 1;
        }

        internal sealed class Row
        {
            public float X { get; set; }

            public float Label { get; set; }
        }
        """;

    private static (string? Source, IReadOnlyList<Diagnostic> Errors) Generate(string program, bool withAutolog = true)
    {
        var parse = CSharpParseOptions.Default.WithLanguageVersion(LanguageVersion.Preview)
            .WithFeatures([new("InterceptorsNamespaces", AutologInterceptorGenerator.InterceptorsNamespace)]);
        var platform = Directory.GetFiles(Path.GetDirectoryName(typeof(object).Assembly.Location)!, "*.dll")
            .Where(path => !Path.GetFileName(path).StartsWith("Microsoft.VisualBasic", StringComparison.Ordinal));
        var ours = new[] { typeof(IDataView), typeof(IEstimator<>), typeof(MLContext), typeof(EstimatorChain<>), typeof(SdcaRegressionTrainer), typeof(ActiveRun) }
            .Select(t => t.Assembly.Location)
            .Concat(withAutolog ? [typeof(MLNetAutologHooks).Assembly.Location] : []);
        var compilation = CSharpCompilation.Create(
            "Snippet",
            [CSharpSyntaxTree.ParseText(program, parse)],
            platform.Concat(ours).Distinct().Select(path => MetadataReference.CreateFromFile(path)),
            new CSharpCompilationOptions(OutputKind.ConsoleApplication));
        CSharpGeneratorDriver.Create([new AutologInterceptorGenerator().AsSourceGenerator()], parseOptions: parse)
            .RunGeneratorsAndUpdateCompilation(compilation, out var output, out _);
        var generated = output.SyntaxTrees.Skip(1).SingleOrDefault()?.ToString();
        return (generated, output.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).ToList());
    }

    [Fact]
    public void Intercepts_estimator_fits_and_catalog_evaluations_and_nothing_else()
    {
        var (source, errors) = Generate(Program);

        Assert.Empty(errors); // the interceptors' signatures fit the calls
        Assert.NotNull(source);
        Assert.Equal(6, source.Split("InterceptsLocation(1, ").Length - 1);
        Assert.Contains("this global::Microsoft.ML.Data.EstimatorChain<", source);
        Assert.Contains("this global::Microsoft.ML.IEstimator<global::Microsoft.ML.ITransformer> receiver", source);
        Assert.Contains("MLNetAutologHooks.Fit<", source);
        Assert.Contains("receiver.EvaluateNonCalibrated(", source);
        Assert.Contains("this global::Microsoft.ML.MulticlassClassificationCatalog receiver", source);
        Assert.DoesNotContain("Unrelated", source);
        Assert.DoesNotContain("global::Estimator", source); // base.Fit stays a base call
        Assert.DoesNotContain("ClusteringCatalog", source); // its metrics go to run.LogMetrics
        Assert.DoesNotContain("RankingCatalog", source);
    }

    [Fact]
    public void Emits_nothing_without_cairn_client_mlnet()
    {
        var (source, _) = Generate(Program, withAutolog: false); // (run.LogMetrics does not bind then: no matter)

        Assert.Null(source);
    }
}
