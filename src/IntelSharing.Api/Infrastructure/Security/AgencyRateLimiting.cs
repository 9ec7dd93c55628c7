using System.Security.Claims;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace IntelSharing.Api.Infrastructure.Security;

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
