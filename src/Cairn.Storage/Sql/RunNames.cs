namespace Cairn.Storage.Sql;

/// <summary>Friendly generated run names ("brave-owl-42"), as MLflow gives runs created without one.</summary>
internal static class RunNames
{
    private static readonly string[] Adjectives =
    [
        "agile", "amazing", "bold", "brave", "bright", "calm", "capable", "clean", "clever", "colorful",
        "crisp", "dapper", "eager", "fearless", "gentle", "glamorous", "honest", "judicious", "keen", "lucky",
        "mercurial", "nimble", "placid", "polite", "quiet", "rebellious", "resilient", "rumbling", "sassy", "silent",
        "skillful", "smiling", "stately", "sincere", "thundering", "tasteful", "unique", "valuable", "whimsical", "wise",
    ];

    private static readonly string[] Nouns =
    [
        "ant", "bass", "bat", "bear", "boar", "carp", "cat", "colt", "crab", "crane", "deer", "doe", "dove", "eel",
        "elk", "finch", "fish", "fox", "frog", "goat", "gull", "hare", "hawk", "hen", "hog", "horse", "jay", "lamb",
        "lark", "lynx", "mole", "moth", "mouse", "newt", "owl", "ox", "panda", "pig", "ram", "seal", "shark", "shrew",
        "skunk", "snail", "sow", "squid", "stag", "swan", "tern", "toad", "trout", "vole", "whale", "wolf", "wren",
    ];

    public static string Generate() =>
        $"{Adjectives[Random.Shared.Next(Adjectives.Length)]}-{Nouns[Random.Shared.Next(Nouns.Length)]}-{Random.Shared.Next(1000)}";
}
