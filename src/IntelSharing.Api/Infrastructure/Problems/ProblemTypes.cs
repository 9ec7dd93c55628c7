namespace IntelSharing.Api.Infrastructure.Problems;

/// <summary>
/// The problem <c>type</c> URIs IntelSharing answers with (RFC 9457 §3.1.1). They are stable identifiers,
/// documented in docs/problems.md; clients branch on them, never on <c>title</c> or <c>detail</c>.
/// </summary>
public static class ProblemTypes
{
    private const string Base = "urn:intelsharing:problem:";

    public const string Validation = Base + "validation";
    public const string MalformedRequest = Base + "malformed-request";
    public const string Unauthenticated = Base + "unauthenticated";
    public const string Forbidden = Base + "forbidden";
    public const string NotFound = Base + "not-found";
    public const string Conflict = Base + "conflict";
    public const string ReplayRefused = Base + "replay-refused";
    public const string SubscriptionLimitReached = Base + "subscription-limit-reached";
    public const string IdempotencyKeyReused = Base + "idempotency-key-reused";
    public const string PreconditionFailed = Base + "precondition-failed";
    public const string PreconditionRequired = Base + "precondition-required";
    public const string MethodNotAllowed = Base + "method-not-allowed";
    public const string PayloadTooLarge = Base + "payload-too-large";
    public const string UnsupportedMediaType = Base + "unsupported-media-type";
    public const string RateLimited = Base + "rate-limited";
    public const string ServiceUnavailable = Base + "service-unavailable";
    public const string SearchTimedOut = Base + "search-timed-out";
    public const string Internal = Base + "internal";
}
