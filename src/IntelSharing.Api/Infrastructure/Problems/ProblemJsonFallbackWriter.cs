using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;

namespace IntelSharing.Api.Infrastructure.Problems;

/// <summary>
/// Writes the problem as application/problem+json when the framework's writer declines because the request's
/// Accept header names neither JSON type (text/html, application/xml…). Errors in this API are always RFC 9457
/// JSON: without this, such a client got a 4xx with an empty body, or a text/plain status line, and no type.
/// Registered after the default writer, so it only ever answers what that one refuses.
/// </summary>
public sealed class ProblemJsonFallbackWriter(IOptions<ProblemDetailsOptions> options, IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json)
    : IProblemDetailsWriter
{
    public bool CanWrite(ProblemDetailsContext context) => true;

    public ValueTask WriteAsync(ProblemDetailsContext context)
    {
        var response = context.HttpContext.Response;
        var problem = context.ProblemDetails;
        problem.Status ??= response.StatusCode;
        problem.Title ??= ReasonPhrases.GetReasonPhrase(problem.Status.Value);
        options.Value.CustomizeProblemDetails?.Invoke(context);
        var typeInfo = json.Value.SerializerOptions.GetTypeInfo(problem.GetType());
        return new ValueTask(response.WriteAsJsonAsync(problem, typeInfo, "application/problem+json", context.HttpContext.RequestAborted));
    }
}
