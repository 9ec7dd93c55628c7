namespace IntelSharing.Api.Infrastructure.Security;

/// <summary>
/// A 429 answer for requests that a person reads rather than a program: the console registers one, so that a browser
/// over its agency's request limit gets a page in its own language, while the API keeps its problem+json.
/// </summary>
public interface ITooManyRequestsPage
{
    /// <summary>Whether this request is answered with the page instead of the API's problem.</summary>
    bool Answers(HttpContext context);

    /// <summary>Writes the page; the status (429) and <c>Retry-After</c> are already set.</summary>
    ValueTask WriteAsync(HttpContext context, int retryAfterSeconds, CancellationToken cancellationToken);
}
