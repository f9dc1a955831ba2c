using System.Net.Http.Headers;
using System.Text;

namespace Cairn.Client.Rest;

/// <summary>
/// How the REST client talks to a tracking server. Credentials default to MLflow's environment
/// variables: <c>MLFLOW_TRACKING_TOKEN</c> (bearer) or <c>MLFLOW_TRACKING_USERNAME</c>/<c>MLFLOW_TRACKING_PASSWORD</c> (basic).
/// </summary>
public sealed record RestOptions
{
    /// <summary>Bearer token; null reads <c>MLFLOW_TRACKING_TOKEN</c>.</summary>
    public string? Token { get; init; }

    /// <summary>Basic-auth user; null reads <c>MLFLOW_TRACKING_USERNAME</c>.</summary>
    public string? Username { get; init; }

    /// <summary>Basic-auth password; null reads <c>MLFLOW_TRACKING_PASSWORD</c>.</summary>
    public string? Password { get; init; }

    /// <summary>Retries after the first attempt for connection failures, 5xx and 429 (never 4xx).</summary>
    public int MaxRetries { get; init; } = 5;

    /// <summary>First backoff delay; it doubles per attempt (with jitter) up to <see cref="MaxRetryDelay"/>.</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromMilliseconds(200);

    public TimeSpan MaxRetryDelay { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Time limit of one HTTP attempt.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(120);

    /// <summary>Skips TLS certificate checks, as <c>MLFLOW_TRACKING_INSECURE_TLS=true</c> does.</summary>
    public bool? InsecureTls { get; init; }

    /// <summary>A handler to send requests through (tests, proxies); the client does not dispose it.</summary>
    public HttpMessageHandler? Handler { get; init; }

    internal AuthenticationHeaderValue? Authorization()
    {
        var token = Token ?? Environment.GetEnvironmentVariable("MLFLOW_TRACKING_TOKEN");
        if (!string.IsNullOrEmpty(token))
        {
            return new AuthenticationHeaderValue("Bearer", token);
        }

        var user = Username ?? Environment.GetEnvironmentVariable("MLFLOW_TRACKING_USERNAME");
        var password = Password ?? Environment.GetEnvironmentVariable("MLFLOW_TRACKING_PASSWORD");
        if (!string.IsNullOrEmpty(user) && password is not null)
        {
            return new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));
        }

        return null;
    }

    internal bool SkipTlsChecks() =>
        InsecureTls ?? string.Equals(Environment.GetEnvironmentVariable("MLFLOW_TRACKING_INSECURE_TLS"), "true", StringComparison.OrdinalIgnoreCase);
}
