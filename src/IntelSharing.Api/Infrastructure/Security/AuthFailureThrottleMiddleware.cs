using IntelSharing.Api.Infrastructure.Audit;
using Microsoft.AspNetCore.Authorization;

namespace IntelSharing.Api.Infrastructure.Security;

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
