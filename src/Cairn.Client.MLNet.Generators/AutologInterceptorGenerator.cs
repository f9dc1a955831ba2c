using System.Collections.Immutable;
using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Cairn.Client.MLNet.Generators;

/// <summary>
/// ML.NET autolog without code changes: in a project that references Cairn.Client.MLNet, replaces every
/// <c>Fit(IDataView)</c> of an <c>IEstimator&lt;T&gt;</c> and every <c>Evaluate</c>/<c>EvaluateNonCalibrated</c>
/// of ML.NET's task catalogs with an interceptor that makes the same call through
/// <c>Cairn.Client.MLNet.MLNetAutologHooks</c>, which logs to the active run when autolog is enabled.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed class AutologInterceptorGenerator : IIncrementalGenerator
{
    /// <summary>The namespace of the emitted interceptors; consumers list it in <c>InterceptorsNamespaces</c>.</summary>
    public const string InterceptorsNamespace = "Cairn.Client.MLNet.Interceptors";

    private const string Hooks = "global::Cairn.Client.MLNet.MLNetAutologHooks";

    private static readonly ImmutableHashSet<string> Catalogs = ImmutableHashSet.Create(
        StringComparer.Ordinal,
        "MulticlassClassificationCatalog",
        "BinaryClassificationCatalog",
        "RegressionCatalog",
        "ClusteringCatalog",
        "RankingCatalog",
        "AnomalyDetectionCatalog");

    private static readonly SymbolDisplayFormat TypeFormat = SymbolDisplayFormat.FullyQualifiedFormat;

    /// <inheritdoc />
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        // Only where the hooks come from a referenced Cairn.Client.MLNet (never inside that assembly).
        var consumer = context.CompilationProvider.Select(static (compilation, _) =>
            compilation.GetTypeByMetadataName("Cairn.Client.MLNet.MLNetAutologHooks") is { } hooks
            && !SymbolEqualityComparer.Default.Equals(hooks.ContainingAssembly, compilation.Assembly));

        var calls = context.SyntaxProvider.CreateSyntaxProvider(
                static (node, _) => node is InvocationExpressionSyntax { Expression: MemberAccessExpressionSyntax { Name.Identifier.ValueText: "Fit" or "Evaluate" or "EvaluateNonCalibrated" } },
                static (ctx, ct) => Classify((InvocationExpressionSyntax)ctx.Node, ctx.SemanticModel, ct))
            .Where(static call => call is not null)
            .Select(static (call, _) => call!)
            .Collect();

        context.RegisterSourceOutput(calls.Combine(consumer), static (spc, input) =>
        {
            if (input.Right && !input.Left.IsEmpty)
            {
                spc.AddSource("MLNetAutolog.Interceptors.g.cs", Emit(input.Left));
            }
        });
    }

    /// <summary>The interceptor a call needs, or null when the call is not one autolog intercepts.</summary>
    internal static Interception? Classify(InvocationExpressionSyntax invocation, SemanticModel model, CancellationToken ct)
    {
        // base.Fit(...) inside an override must stay a non-virtual call.
        if (invocation.Expression is MemberAccessExpressionSyntax { Expression: BaseExpressionSyntax }
            || model.GetSymbolInfo(invocation, ct).Symbol is not IMethodSymbol method
            || method.MethodKind != MethodKind.Ordinary || method.IsStatic || method.IsGenericMethod
            || method.ContainingType is not { IsValueType: false } receiver)
        {
            return null;
        }

        string? header;
        string? body;
        if (method.Name == "Fit")
        {
            if (!IsEstimatorFit(method, model.Compilation))
            {
                return null;
            }

            var result = method.ReturnType.ToDisplayString(TypeFormat);
            header = $"{result} Fit(this {receiver.ToDisplayString(TypeFormat)} receiver, global::Microsoft.ML.IDataView data)";
            body = $"{Hooks}.Fit<{result}>(receiver, data)";
        }
        else
        {
            if (receiver.ContainingNamespace.ToDisplayString() != "Microsoft.ML" || !Catalogs.Contains(receiver.Name)
                || method.Parameters.Any(p => p.RefKind != RefKind.None || p.IsParams)
                || ResultLoggedByCaller(invocation, model, ct))
            {
                return null;
            }

            var parameters = string.Join(", ", method.Parameters.Select(p => $"{p.Type.ToDisplayString(TypeFormat)} @{p.Name}"));
            var arguments = string.Join(", ", method.Parameters.Select(p => "@" + p.Name));
            header = $"{method.ReturnType.ToDisplayString(TypeFormat)} {method.Name}(this {receiver.ToDisplayString(TypeFormat)} receiver, {parameters})";
            body = $"{Hooks}.Evaluated(receiver.{method.Name}({arguments}))";
        }

        if (!Accessible(receiver, model.Compilation) || !Accessible(method.ReturnType, model.Compilation)
            || model.GetInterceptableLocation(invocation, ct) is not { } location)
        {
            return null;
        }

        return new Interception(header, body, location.Version, location.Data, location.GetDisplayLocation());
    }

    /// <summary><paramref name="method"/> is <c>IEstimator&lt;T&gt;.Fit(IDataView)</c> or its implementation on a concrete estimator.</summary>
    private static bool IsEstimatorFit(IMethodSymbol method, Compilation compilation)
    {
        if (method.Parameters.Length != 1 || method.Parameters[0].Type.ToDisplayString() != "Microsoft.ML.IDataView"
            || compilation.GetTypeByMetadataName("Microsoft.ML.IEstimator`1") is not { } estimator)
        {
            return false;
        }

        var receiver = method.ContainingType;
        return receiver.AllInterfaces.Add(receiver).Any(t =>
            SymbolEqualityComparer.Default.Equals(t.OriginalDefinition, estimator)
            && SymbolEqualityComparer.Default.Equals(t.TypeArguments[0], method.ReturnType));
    }

    /// <summary>
    /// The generated (file-local, non-generic) class can name <paramref name="type"/>: no type parameters,
    /// nothing private to the caller's types.
    /// </summary>
    private static bool Accessible(ITypeSymbol type, Compilation compilation) => type switch
    {
        ITypeParameterSymbol => false,
        IArrayTypeSymbol array => Accessible(array.ElementType, compilation),
        INamedTypeSymbol named => compilation.IsSymbolAccessibleWithin(named, compilation.Assembly)
            && named.TypeArguments.All(t => Accessible(t, compilation))
            && (named.ContainingType is null || Accessible(named.ContainingType, compilation)),
        _ => false,
    };

    /// <summary>
    /// The metrics go to <c>run.LogMetrics</c> in the same code (as its argument, or through a local
    /// passed to it), so the caller chose how they are logged and autolog stays out.
    /// </summary>
    private static bool ResultLoggedByCaller(InvocationExpressionSyntax evaluate, SemanticModel model, CancellationToken ct)
    {
        if (evaluate.Parent is ArgumentSyntax { Parent: ArgumentListSyntax { Parent: InvocationExpressionSyntax outer } })
        {
            return IsLogMetrics(outer, model, ct);
        }

        var local = evaluate.Parent switch
        {
            EqualsValueClauseSyntax { Parent: VariableDeclaratorSyntax declarator } => model.GetDeclaredSymbol(declarator, ct) as ILocalSymbol,
            AssignmentExpressionSyntax { Left: IdentifierNameSyntax name } assignment when assignment.IsKind(SyntaxKind.SimpleAssignmentExpression) =>
                model.GetSymbolInfo(name, ct).Symbol as ILocalSymbol,
            _ => null,
        };
        if (local?.DeclaringSyntaxReferences.FirstOrDefault()?.GetSyntax(ct) is not { } declaration)
        {
            return false;
        }

        var scope = (SyntaxNode?)declaration.FirstAncestorOrSelf<BlockSyntax>() ?? declaration.SyntaxTree.GetRoot(ct);
        return scope.DescendantNodes().OfType<InvocationExpressionSyntax>().Any(call =>
            IsLogMetrics(call, model, ct)
            && call.ArgumentList.Arguments.Any(a => a.Expression is IdentifierNameSyntax id
                && id.Identifier.ValueText == local.Name
                && SymbolEqualityComparer.Default.Equals(model.GetSymbolInfo(id, ct).Symbol, local)));
    }

    private static bool IsLogMetrics(InvocationExpressionSyntax call, SemanticModel model, CancellationToken ct) =>
        call.Expression is MemberAccessExpressionSyntax { Name.Identifier.ValueText: "LogMetrics" }
        && model.GetSymbolInfo(call, ct).Symbol is IMethodSymbol method
        && (method.ReducedFrom ?? method).ContainingType.ToDisplayString() == "Cairn.Client.MLNet.MLNetRunExtensions";

    /// <summary>One file: the attribute (file-local, as the compiler expects) and one method per distinct signature.</summary>
    internal static string Emit(ImmutableArray<Interception> calls)
    {
        var sb = new StringBuilder();
        sb.Append("// <auto-generated/> Cairn.Client.MLNet.Generators: ML.NET autolog interceptors.\n");
        sb.Append("#nullable disable\n\n");
        sb.Append("namespace System.Runtime.CompilerServices\n{\n");
        sb.Append("    [global::System.AttributeUsage(global::System.AttributeTargets.Method, AllowMultiple = true)]\n");
        sb.Append("    file sealed class InterceptsLocationAttribute : global::System.Attribute\n    {\n");
        sb.Append("        public InterceptsLocationAttribute(int version, string data)\n        {\n        }\n    }\n}\n\n");
        sb.Append("namespace ").Append(InterceptorsNamespace).Append("\n{\n");
        sb.Append("    file static class MLNetAutologInterceptors\n    {\n");
        var index = 0;
        foreach (var group in calls.GroupBy(c => (c.Header, c.Body)).OrderBy(g => g.Key.Header, StringComparer.Ordinal).ThenBy(g => g.Key.Body, StringComparer.Ordinal))
        {
            if (index > 0)
            {
                sb.Append('\n');
            }

            foreach (var call in group.OrderBy(c => c.Data, StringComparer.Ordinal))
            {
                sb.Append("        // ").Append(call.Where.Replace('\n', ' ').Replace('\r', ' ')).Append('\n');
                sb.Append("        [global::System.Runtime.CompilerServices.InterceptsLocation(")
                    .Append(call.Version).Append(", \"").Append(call.Data).Append("\")]\n");
            }

            // The method name is the intercepted one plus a number: "Fit(this" becomes "Fit0(this".
            var open = group.Key.Header.IndexOf("(this ", StringComparison.Ordinal);
            sb.Append("        public static ").Append(group.Key.Header, 0, open).Append(index++)
                .Append(group.Key.Header, open, group.Key.Header.Length - open)
                .Append(" =>\n            ").Append(group.Key.Body).Append(";\n");
        }

        sb.Append("    }\n}\n");
        return sb.ToString();
    }
}

/// <summary>An intercepted call: the interceptor's signature and body, and where the call is.</summary>
internal sealed record Interception(string Header, string Body, int Version, string Data, string Where);
