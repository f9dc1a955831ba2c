using System.Reflection;
using System.Runtime.InteropServices;

namespace Cairn.Models;

/// <summary>
/// The .NET side of MLflow's environment files (<c>conda.yaml</c>, <c>python_env.yaml</c>): the runtime
/// that saved the model and the versions of the packages needed to load it, in <c>dotnet_env.yaml</c>.
/// </summary>
public sealed record ModelEnvironment(string DotnetVersion, string Framework, string RuntimeIdentifier, string Os, IReadOnlyDictionary<string, string> Packages)
{
    public const string FileName = "dotnet_env.yaml";

    /// <summary>The running process's environment plus the packages that define <paramref name="types"/>.</summary>
    public static ModelEnvironment Current(IEnumerable<Type> types)
    {
        var packages = new SortedDictionary<string, string>(StringComparer.Ordinal) { ["Cairn.Models"] = ModelFile.CurrentCairnVersion };
        foreach (var assembly in types.Select(t => t.Assembly).Distinct())
        {
            var name = assembly.GetName().Name ?? "";
            if (name.StartsWith("System.", StringComparison.Ordinal) || name is "System" or "mscorlib" or "System.Private.CoreLib")
            {
                continue;
            }

            packages[PackageOf(name)] = VersionOf(assembly);
        }

        return new ModelEnvironment(Environment.Version.ToString(), RuntimeInformation.FrameworkDescription, RuntimeInformation.RuntimeIdentifier, RuntimeInformation.OSDescription, packages);
    }

    /// <summary>ML.NET's core assemblies all ship in the Microsoft.ML package; others are named like their package.</summary>
    private static string PackageOf(string assemblyName) => assemblyName switch
    {
        "Microsoft.ML.Core" or "Microsoft.ML.Data" or "Microsoft.ML.StandardTrainers" or "Microsoft.ML.Transforms" or "Microsoft.ML.KMeansClustering"
            or "Microsoft.ML.PCA" or "Microsoft.ML.CpuMath" or "Microsoft.ML.DataView" => "Microsoft.ML",
        _ => assemblyName,
    };

    internal static string VersionOf(Assembly assembly) =>
        assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0]
        ?? assembly.GetName().Version?.ToString() ?? "";

    public void Write(string packageDir)
    {
        var doc = new Dictionary<string, object?>
        {
            ["dotnet_version"] = DotnetVersion,
            ["framework"] = Framework,
            ["runtime_identifier"] = RuntimeIdentifier,
            ["os"] = Os,
            ["packages"] = Packages.ToDictionary(p => p.Key, p => (object?)p.Value, StringComparer.Ordinal),
        };
        var sb = new System.Text.StringBuilder();
        YamlText.WriteMapping(sb, doc, 0);
        File.WriteAllText(Path.Combine(packageDir, FileName), sb.ToString());
    }

    public static ModelEnvironment Read(string path)
    {
        object? root;
        try
        {
            root = new YamlDotNet.Serialization.DeserializerBuilder().Build().Deserialize<object>(File.ReadAllText(path));
        }
        catch (YamlDotNet.Core.YamlException e)
        {
            throw new InvalidModelPackageException($"{path} is not valid YAML: {e.Message}", e);
        }

        if (root is not IDictionary<object, object?> map)
        {
            throw new InvalidModelPackageException($"{path} must be a YAML mapping.");
        }

        string S(string key) => map.TryGetValue(key, out var v) ? v?.ToString() ?? "" : "";
        var packages = map.TryGetValue("packages", out var p) && p is IDictionary<object, object?> pm
            ? pm.ToDictionary(kv => kv.Key.ToString()!, kv => kv.Value?.ToString() ?? "", StringComparer.Ordinal)
            : new Dictionary<string, string>();
        return new ModelEnvironment(S("dotnet_version"), S("framework"), S("runtime_identifier"), S("os"), packages);
    }
}
