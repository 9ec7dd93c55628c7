using System.Globalization;
using IntelSharing.Api.Infrastructure.Problems;
using Microsoft.AspNetCore.Mvc;

namespace IntelSharing.Api.Infrastructure.Security;

/// <summary>
/// 429 answers: <c>application/problem+json</c> of type rate-limited, with <c>Retry-After</c> in whole seconds; or, for a
/// request an <see cref="ITooManyRequestsPage"/> answers (a console page), that page with the same status and header.
/// </summary>
public static class TooManyRequests
{
    public static async ValueTask WriteAsync(HttpContext context, TimeSpan retryAfter, string reason)
    {
        var seconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));
        context.Response.StatusCode = StatusCodes.Status429TooManyRequests;
        context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        if (context.RequestServices.GetService<ITooManyRequestsPage>() is { } page && page.Answers(context))
        {
            await page.WriteAsync(context, seconds, context.RequestAborted);
            return;
        }

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
