using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Cairn.Tuning;

/// <summary>The range a parameter is drawn from. Samplers work on an internal double representation.</summary>
public abstract record Distribution
{
    /// <summary>Converts a value given by a user (or read back from storage) to the internal double.</summary>
    public abstract double ToInternal(object? value);

    /// <summary>Converts an internal double back to the value the objective sees.</summary>
    public abstract object? ToExternal(double internalValue);

    /// <summary>True when the internal value lies in the distribution.</summary>
    public abstract bool Contains(double internalValue);

    /// <summary>True when the distribution has exactly one value, so there is nothing to sample.</summary>
    public abstract bool IsSingle { get; }

    /// <summary>Serialises the distribution to the JSON stored beside each parameter.</summary>
    public abstract string ToJson();

    /// <summary>Reads a distribution written by <see cref="ToJson"/>.</summary>
    public static Distribution FromJson(string json)
    {
        var node = JsonNode.Parse(json) as JsonObject ?? throw new FormatException($"Not a distribution: {json}");
        var type = (string?)node["type"];
        return type switch
        {
            "float" => new FloatDistribution((double)node["low"]!, (double)node["high"]!, (bool)node["log"]!, (double?)node["step"]),
            "int" => new IntDistribution((long)node["low"]!, (long)node["high"]!, (bool)node["log"]!, (long)node["step"]!),
            "categorical" => new CategoricalDistribution(((JsonArray)node["choices"]!).Select(ChoiceFromNode).ToArray()),
            _ => throw new FormatException($"Unknown distribution type '{type}' in {json}"),
        };
    }

    /// <summary>True when a trial may ask for the same name with both distributions (Optuna's rule: same kind and same range).</summary>
    public static bool AreCompatible(Distribution a, Distribution b) => a.Equals(b);

    private static object? ChoiceFromNode(JsonNode? n) => n switch
    {
        null => null,
        JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
        JsonValue v when v.GetValueKind() is JsonValueKind.True or JsonValueKind.False => v.GetValue<bool>(),
        JsonValue v when v.TryGetValue<long>(out var l) => l,
        JsonValue v => v.GetValue<double>(),
        _ => throw new FormatException($"Unsupported categorical choice {n.ToJsonString()}"),
    };
}

/// <summary>A float parameter in [Low, High], optionally log-scaled or quantised by Step (not both).</summary>
public sealed record FloatDistribution : Distribution
{
    public double Low { get; }
    public double High { get; }
    public bool Log { get; }
    public double? Step { get; }

    public FloatDistribution(double low, double high, bool log = false, double? step = null)
    {
        if (double.IsNaN(low) || double.IsNaN(high) || double.IsInfinity(low) || double.IsInfinity(high))
            throw new ArgumentException($"Float bounds must be finite numbers, got low={low}, high={high}.");
        if (low > high)
            throw new ArgumentException($"low must be <= high for a float parameter, got low={low}, high={high}.");
        if (log && step is not null)
            throw new ArgumentException("A float parameter cannot have both log=true and a step.");
        if (log && low <= 0)
            throw new ArgumentException($"low must be > 0 for a log-scaled float parameter, got low={low}.");
        if (step is { } s)
        {
            if (!(s > 0) || double.IsInfinity(s))
                throw new ArgumentException($"step must be > 0 for a float parameter, got step={s}.");
            // Like Optuna, shrink high to the last grid point so every value is reachable.
            var n = Math.Floor((high - low) / s + 1e-9);
            high = Math.Min(high, low + n * s);
        }
        Low = low; High = high; Log = log; Step = step;
    }

    public override double ToInternal(object? value) => Convert.ToDouble(value ?? throw new ArgumentException("A float parameter cannot be null."), CultureInfo.InvariantCulture);
    public override object? ToExternal(double internalValue) => internalValue;
    public override bool Contains(double v)
    {
        if (double.IsNaN(v) || v < Low - 1e-12 * Math.Max(1, Math.Abs(Low)) || v > High + 1e-12 * Math.Max(1, Math.Abs(High))) return false;
        if (Step is not { } s) return true;
        var k = (v - Low) / s;
        return Math.Abs(k - Math.Round(k)) < 1e-8;
    }
    public override bool IsSingle => Low == High;
    public override string ToJson() => new JsonObject
    {
        ["type"] = "float",
        ["low"] = Low,
        ["high"] = High,
        ["log"] = Log,
        ["step"] = Step,
    }.ToJsonString();
}

/// <summary>An integer parameter in [Low, High] with a step, optionally log-scaled (then Step must be 1).</summary>
public sealed record IntDistribution : Distribution
{
    public long Low { get; }
    public long High { get; }
    public bool Log { get; }
    public long Step { get; }

    public IntDistribution(long low, long high, bool log = false, long step = 1)
    {
        if (low > high)
            throw new ArgumentException($"low must be <= high for an int parameter, got low={low}, high={high}.");
        if (step <= 0)
            throw new ArgumentException($"step must be >= 1 for an int parameter, got step={step}.");
        if (log && step != 1)
            throw new ArgumentException($"An int parameter with log=true must have step=1, got step={step}.");
        if (log && low < 1)
            throw new ArgumentException($"low must be >= 1 for a log-scaled int parameter, got low={low}.");
        high = low + (high - low) / step * step;
        Low = low; High = high; Log = log; Step = step;
    }

    public override double ToInternal(object? value) => Convert.ToDouble(value ?? throw new ArgumentException("An int parameter cannot be null."), CultureInfo.InvariantCulture);
    public override object? ToExternal(double internalValue) => (long)Math.Round(internalValue);
    public override bool Contains(double v)
    {
        if (double.IsNaN(v) || v < Low || v > High || v != Math.Round(v)) return false;
        return ((long)v - Low) % Step == 0;
    }
    public override bool IsSingle => Low == High;
    public override string ToJson() => new JsonObject
    {
        ["type"] = "int",
        ["low"] = Low,
        ["high"] = High,
        ["log"] = Log,
        ["step"] = Step,
    }.ToJsonString();
}

/// <summary>A parameter chosen from a list. Choices must be null, bool, integers, floats or strings so they can be stored.</summary>
public sealed record CategoricalDistribution : Distribution
{
    private readonly string[] _keys;

    public IReadOnlyList<object?> Choices { get; }

    public CategoricalDistribution(IReadOnlyList<object?> choices)
    {
        ArgumentNullException.ThrowIfNull(choices);
        if (choices.Count == 0)
            throw new ArgumentException("A categorical parameter needs at least one choice.");
        _keys = new string[choices.Count];
        for (var i = 0; i < choices.Count; i++)
        {
            _keys[i] = KeyOf(choices[i]);
            for (var j = 0; j < i; j++)
                if (_keys[j] == _keys[i])
                    throw new ArgumentException($"Categorical choices must be distinct, but {_keys[i]} appears twice.");
        }
        Choices = choices.ToArray();
    }

    /// <summary>Index of a choice by value (ints and longs, floats and doubles compare equal).</summary>
    public int IndexOf(object? value)
    {
        var key = KeyOf(value);
        return Array.IndexOf(_keys, key);
    }

    public override double ToInternal(object? value)
    {
        var i = IndexOf(value);
        if (i < 0) throw new ArgumentException($"{KeyOf(value)} is not one of the choices [{string.Join(", ", _keys)}].");
        return i;
    }
    public override object? ToExternal(double internalValue) => Choices[(int)internalValue];
    public override bool Contains(double v) => v >= 0 && v < Choices.Count && v == Math.Round(v);
    public override bool IsSingle => Choices.Count == 1;
    public override string ToJson()
    {
        var arr = new JsonArray();
        foreach (var c in Choices) arr.Add(NodeOf(c));
        return new JsonObject { ["type"] = "categorical", ["choices"] = arr }.ToJsonString();
    }

    public bool Equals(CategoricalDistribution? other) => other is not null && _keys.SequenceEqual(other._keys);
    public override int GetHashCode() => string.Join("\u0001", _keys).GetHashCode(StringComparison.Ordinal);

    internal static string KeyOf(object? value) => NodeOf(value)?.ToJsonString() ?? "null";

    private static JsonNode? NodeOf(object? value) => value switch
    {
        null => null,
        string s => JsonValue.Create(s),
        bool b => JsonValue.Create(b),
        int or long or short or byte or sbyte or ushort or uint => JsonValue.Create(Convert.ToInt64(value, CultureInfo.InvariantCulture)),
        float or double or decimal => JsonValue.Create(Convert.ToDouble(value, CultureInfo.InvariantCulture)),
        Enum e => JsonValue.Create(e.ToString()),
        _ => throw new ArgumentException($"Categorical choices must be null, bool, a number or a string; got {value.GetType().Name}."),
    };
}
