using System.Diagnostics;

namespace IntelSharing.Api.Infrastructure.Problems;

/// <summary>
/// Applied to every problem response, ours and the framework's (unknown route, wrong method, wrong media
/// type): the same <c>type</c> vocabulary, the request path as <c>instance</c>, and a trace id for support.
/// </summary>
public static class ProblemCustomization
{
    public static void Apply(ProblemDetailsContext context)
    {
        var problem = context.ProblemDetails;
        problem.Instance ??= context.HttpContext.Request.Path;
        problem.Extensions["traceId"] = Activity.Current?.Id ?? context.HttpContext.TraceIdentifier;

        if (problem.Type is null || problem.Type.StartsWith("https://tools.ietf.org/", StringComparison.Ordinal))
        {
            (problem.Type, problem.Detail) = problem.Status switch
            {
                StatusCodes.Status400BadRequest => (ProblemTypes.MalformedRequest, problem.Detail ?? "The request is malformed."),
                StatusCodes.Status401Unauthorized => (ProblemTypes.Unauthenticated, problem.Detail ?? "Send an API key as 'Authorization: Bearer isk_…'."),
                StatusCodes.Status403Forbidden => (ProblemTypes.Forbidden, problem.Detail),
                StatusCodes.Status404NotFound => (ProblemTypes.NotFound, problem.Detail ?? "There is no resource at this address."),
                StatusCodes.Status405MethodNotAllowed => (ProblemTypes.MethodNotAllowed, problem.Detail ?? "This resource does not support that method."),
                StatusCodes.Status413PayloadTooLarge => (ProblemTypes.PayloadTooLarge, problem.Detail ?? "The request body is larger than this API accepts."),
                StatusCodes.Status415UnsupportedMediaType => (ProblemTypes.UnsupportedMediaType, problem.Detail ?? "The request body must be sent as 'application/json'."),
                StatusCodes.Status429TooManyRequests => (ProblemTypes.RateLimited, problem.Detail),
                StatusCodes.Status503ServiceUnavailable => (ProblemTypes.ServiceUnavailable, problem.Detail),
                _ => (problem.Type, problem.Detail),
            };
        }
    }
}
