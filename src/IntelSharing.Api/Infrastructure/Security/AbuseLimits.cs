using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Claims;
using System.Threading.RateLimiting;
using IntelSharing.Api.Infrastructure.Audit;
using IntelSharing.Api.Infrastructure.Problems;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.RateLimiting;
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

/// <summary>
/// The per-agency limit, with the ASP.NET Core rate limiter: one fixed window per agency (partitioned by
/// the agency id on the authenticated key, so an agency's keys share it). Unauthenticated requests are
/// not partitioned here; <see cref="AuthFailureThrottle"/> deals with them. Health endpoints opt out.
/// </summary>
public static class AgencyRateLimiting
{
    public static IServiceCollection AddAgencyRateLimiting(this IServiceCollection services)
    {
        services.AddRateLimiter(_ => { });
        services.AddOptions<RateLimiterOptions>().Configure<IOptions<AbuseLimitOptions>>((options, limits) =>
        {
            var permits = limits.Value.PerAgencyPermits;
            var window = TimeSpan.FromSeconds(limits.Value.PerAgencyWindowSeconds);
            options.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            options.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(context =>
                context.User.FindFirstValue(Caller.AgencyIdClaim) is { } agencyId
                    ? RateLimitPartition.GetFixedWindowLimiter(agencyId, _ => new FixedWindowRateLimiterOptions
                    {
                        PermitLimit = permits,
                        Window = window,
                        QueueLimit = 0,
                        AutoReplenishment = true,
                    })
                    : RateLimitPartition.GetNoLimiter(string.Empty));
            options.OnRejected = (context, cancellationToken) =>
            {
                var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : window;
                return TooManyRequests.WriteAsync(context.HttpContext, retryAfter,
                    $"Your agency made more than {permits} requests in {window.TotalSeconds:0} seconds.");
            };
        });
        return services;
    }
}

/// <summary>429 answers: <c>application/problem+json</c> of type rate-limited, with <c>Retry-After</c> in whole seconds.</summary>
public static class TooManyRequests
{
    public static async ValueTask WriteAsync(HttpContext context, TimeSpan retryAfter, string reason)
    {
        var seconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));
        context.Response.StatusCode = StatusCodes.Status429TooManyRequests;
        context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        await context.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails = new ProblemDetails
            {
                Status = StatusCodes.Status429TooManyRequests,
                Type = ProblemTypes.RateLimited,
                Title = "Too many requests",
                Detail = $"{reason} Retry after {seconds} seconds.",
            },
        });
    }
}

/// <summary>
/// Counts failed authentications per client address in a fixed window. Once an address reaches the limit,
/// <see cref="AuthFailureThrottleMiddleware"/> answers it 429 before its key is even looked up, until the
/// window ends. Counts are per instance: with N replicas an address gets at most N times the limit.
/// Not <c>PartitionedRateLimiter.Create</c> with a fixed window, which counts the same way: the built-in limiters read
/// the clock through <c>Stopwatch</c> and take no <see cref="TimeProvider"/> (dotnet/runtime#106447, open), and time in
/// this codebase goes only through <see cref="TimeProvider"/> so its tests can move it (AuthFailureThrottleTests).
/// </summary>
public sealed class AuthFailureThrottle(TimeProvider time, IOptions<AbuseLimitOptions> options)
{
    private const int PruneAbove = 10_000;
    private readonly ConcurrentDictionary<string, Window> _windows = new(StringComparer.Ordinal);

    private sealed class Window(DateTimeOffset start)
    {
        public DateTimeOffset Start { get; } = start;

        public int Failures;
    }

    private TimeSpan Length => TimeSpan.FromSeconds(options.Value.AuthFailureWindowSeconds);

    /// <summary>Counts a failure; returns true exactly when this failure reached the limit (the moment worth auditing).</summary>
    public bool RecordFailure(string client)
    {
        var now = time.GetUtcNow();
        if (_windows.Count > PruneAbove)
        {
            foreach (var (key, stale) in _windows)
            {
                if (now - stale.Start >= Length)
                {
                    _windows.TryRemove(new KeyValuePair<string, Window>(key, stale));
                }
            }
        }

        var window = _windows.AddOrUpdate(client, _ => new Window(now), (_, current) => now - current.Start >= Length ? new Window(now) : current);
        return Interlocked.Increment(ref window.Failures) == options.Value.AuthFailuresPerClient;
    }

    /// <summary>How long the client must wait, or null when it may try.</summary>
    public TimeSpan? RetryAfter(string client)
    {
        if (!_windows.TryGetValue(client, out var window))
        {
            return null;
        }

        var remaining = window.Start + Length - time.GetUtcNow();
        return remaining > TimeSpan.Zero && Volatile.Read(ref window.Failures) >= options.Value.AuthFailuresPerClient ? remaining : null;
    }
}

/// <summary>Answers a throttled client address 429 before authentication runs. Anonymous endpoints (health) are never throttled.</summary>
public sealed class AuthFailureThrottleMiddleware(RequestDelegate next, AuthFailureThrottle throttle)
{
    public Task InvokeAsync(HttpContext context)
    {
        var endpoint = context.GetEndpoint();
        if (endpoint is null || endpoint.Metadata.GetMetadata<IAllowAnonymous>() is not null)
        {
            return next(context);
        }

        return throttle.RetryAfter(RequestOrigin.ClientKey(context)) is { } wait
            ? TooManyRequests.WriteAsync(context, wait, "Too many failed authentication attempts came from your address.").AsTask()
            : next(context);
    }
}
