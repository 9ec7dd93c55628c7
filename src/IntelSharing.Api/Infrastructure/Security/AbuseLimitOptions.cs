using Microsoft.Extensions.Options;

namespace IntelSharing.Api.Infrastructure.Security;

/// <summary>Bound from the <c>RateLimits</c> configuration section (e.g. <c>RateLimits__PerAgencyPermits</c>).</summary>
public sealed class AbuseLimitOptions
{
    public const string Section = "RateLimits";

    /// <summary>Requests one agency may make per window, over all its keys and every endpoint but health.</summary>
    public int PerAgencyPermits { get; set; } = 600;

    public int PerAgencyWindowSeconds { get; set; } = 60;

    /// <summary>Failed authentications one client address may make per window before it is answered 429 without its key being checked.</summary>
    public int AuthFailuresPerClient { get; set; } = 20;

    public int AuthFailureWindowSeconds { get; set; } = 300;
}

public sealed class AbuseLimitOptionsValidator : IValidateOptions<AbuseLimitOptions>
{
    public ValidateOptionsResult Validate(string? name, AbuseLimitOptions options)
    {
        var failures = new List<string>();
        Check(options.PerAgencyPermits, 1, 1_000_000, "RateLimits__PerAgencyPermits");
        Check(options.PerAgencyWindowSeconds, 1, 86_400, "RateLimits__PerAgencyWindowSeconds");
        Check(options.AuthFailuresPerClient, 1, 100_000, "RateLimits__AuthFailuresPerClient");
        Check(options.AuthFailureWindowSeconds, 1, 86_400, "RateLimits__AuthFailureWindowSeconds");
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);

        void Check(int value, int min, int max, string setting)
        {
            if (value < min || value > max)
            {
                failures.Add($"{setting} must be from {min} to {max}, not {value}.");
            }
        }
    }
}
