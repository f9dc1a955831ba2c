using Npgsql;

namespace Cairn.Tuning.Storage;

/// <summary>Opens a study storage from a URI, as MLflow and Optuna do: <c>sqlite:///path.db</c>,
/// <c>postgresql://user:password@host:port/db</c>, an Npgsql connection string, or <c>memory:</c>.</summary>
public static class StudyStorage
{
    public static IStudyStorage Open(string uri)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(uri);
        if (uri is "memory:" or "inmemory:" or ":memory:") return new InMemoryStudyStorage();
        if (uri.StartsWith("sqlite:///", StringComparison.OrdinalIgnoreCase))
        {
            // SQLAlchemy's convention: sqlite:///relative.db and sqlite:////absolute/path.db.
            var path = uri["sqlite:///".Length..];
            if (path.Length == 0) throw new ArgumentException($"No file path in '{uri}'.");
            return SqlStudyStorage.Sqlite(path);
        }
        if (uri.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase) || uri.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase))
            return SqlStudyStorage.Postgres(PostgresUriToConnectionString(uri));
        if (uri.Contains('=') && !uri.Contains("://", StringComparison.Ordinal))
            return SqlStudyStorage.Postgres(uri);
        throw new ArgumentException($"Unsupported storage URI '{uri}'. Use sqlite:///path.db, postgresql://user@host:port/db or an Npgsql connection string.");
    }

    internal static string PostgresUriToConnectionString(string uri)
    {
        var u = new Uri(uri);
        var b = new NpgsqlConnectionStringBuilder { Host = u.Host };
        if (u.Port > 0) b.Port = u.Port;
        var db = Uri.UnescapeDataString(u.AbsolutePath.TrimStart('/'));
        if (db.Length > 0) b.Database = db;
        if (u.UserInfo.Length > 0)
        {
            var parts = u.UserInfo.Split(':', 2);
            b.Username = Uri.UnescapeDataString(parts[0]);
            if (parts.Length > 1) b.Password = Uri.UnescapeDataString(parts[1]);
        }
        foreach (var pair in u.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var kv = pair.Split('=', 2);
            var key = Uri.UnescapeDataString(kv[0]);
            var value = kv.Length > 1 ? Uri.UnescapeDataString(kv[1]) : "";
            // libpq's sslmode maps onto Npgsql's SSL Mode; other keys are passed through when Npgsql knows them.
            if (key.Equals("sslmode", StringComparison.OrdinalIgnoreCase)) b["SSL Mode"] = value switch
            {
                "disable" => "Disable",
                "allow" => "Allow",
                "prefer" => "Prefer",
                "require" => "Require",
                "verify-ca" => "VerifyCA",
                "verify-full" => "VerifyFull",
                _ => value,
            };
            else b[key] = value;
        }
        return b.ConnectionString;
    }
}
