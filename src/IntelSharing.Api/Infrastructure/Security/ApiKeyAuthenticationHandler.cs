using System.Security.Claims;
using System.Text.Encodings.Web;
using IntelSharing.Api.Infrastructure.Audit;
using IntelSharing.Api.Infrastructure.Problems;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace IntelSharing.Api.Infrastructure.Security;

/// <summary>
/// Authenticates <c>Authorization: Bearer isk_…</c> (or HTTP Basic with the key as the password, for TAXII clients): finds the key by its public prefix (<see cref="ApiKeyLookup"/>,
/// which may answer from its cache), compares the hash in constant time on every request, and refuses revoked or
/// expired keys and keys of deactivated agencies. Challenges and forbidden answers are RFC 9457 problems. Every refusal is audited; refusals count towards the client
/// address's <see cref="AuthFailureThrottle"/> limit; successes note the key's use in <see cref="ApiKeyUsage"/>.
/// </summary>
public sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    ApiKeyLookup keys,
    TimeProvider time,
    IProblemDetailsService problemDetails,
    AuditTrail audit,
    ApiKeyUsage usage,
    AuthFailureThrottle throttle)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";

    /// <summary>What the request presented, kept for the audit record of a refusal.</summary>
    private sealed record Attempt(string? KeyPrefix, Guid? AgencyId);

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        string? header = Request.Headers.Authorization;
        if (string.IsNullOrEmpty(header))
        {
            return AuthenticateResult.NoResult();
        }

        var key = KeyFrom(header);
        if (key is null)
        {
            return AuthenticateResult.Fail("The Authorization header must use the Bearer scheme (or Basic, with the API key as the password).");
        }

        var verdict = await keys.VerifyAsync(key, time.GetUtcNow(), Context.RequestAborted);
        Context.Items[typeof(Attempt)] = new Attempt(verdict.Prefix, verdict.AgencyId);
        if (verdict.Refusal is { } refusal)
        {
            return AuthenticateResult.Fail(refusal);
        }

        var row = verdict.Row!;
        usage.Touch(row.KeyId);
        var claims = row.Claims(verdict.Prefix!);
        var principal = new ClaimsPrincipal(new ClaimsIdentity(claims, SchemeName));
        return AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName));
    }

    /// <summary>
    /// The key from <c>Bearer isk_…</c>, or from <c>Basic base64(user:isk_…)</c>: many TAXII clients can only do Basic,
    /// so the key may be the password (the user name is ignored). Null for any other scheme or a malformed value.
    /// </summary>
    public static string? KeyFrom(string header)
    {
        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return header["Bearer ".Length..].Trim();
        }

        if (!header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        Span<byte> decoded = stackalloc byte[512];
        var encoded = header["Basic ".Length..].Trim();
        if (encoded.Length > 680 || !Convert.TryFromBase64String(encoded, decoded, out var length))
        {
            return null;
        }

        var credentials = System.Text.Encoding.UTF8.GetString(decoded[..length]);
        var colon = credentials.IndexOf(':', StringComparison.Ordinal);
        return colon < 0 ? null : credentials[(colon + 1)..];
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var result = await Context.AuthenticateAsync(SchemeName);
        var reason = result.Failure?.Message ?? "No API key was sent.";
        var attempt = Context.Items[typeof(Attempt)] as Attempt;
        var client = RequestOrigin.ClientKey(Context);
        await audit.RecordAsync(new AuditEvent(AuditActions.AuthFailed, StatusCodes.Status401Unauthorized)
        {
            KeyPrefix = attempt?.KeyPrefix,
            AgencyId = attempt?.AgencyId,
            Detail = new { reason, method = Request.Method, path = Request.Path.Value },
        });
        if (throttle.RecordFailure(client))
        {
            await audit.RecordAsync(new AuditEvent(AuditActions.AuthThrottled, StatusCodes.Status429TooManyRequests)
            {
                Detail = new { reason = "The client address reached the limit of failed authentications; it is answered 429 until the window ends." },
            });
        }

        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = Request.Path.StartsWithSegments("/taxii2")
            ? new Microsoft.Extensions.Primitives.StringValues(["Bearer realm=\"IntelSharing\"", "Basic realm=\"IntelSharing\""])
            : "Bearer realm=\"IntelSharing\"";
        await problemDetails.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = Context,
            ProblemDetails = new ProblemDetails
            {
                Status = StatusCodes.Status401Unauthorized,
                Type = ProblemTypes.Unauthenticated,
                Title = "Authentication required",
                Detail = result.Failure?.Message ?? "Send an API key as 'Authorization: Bearer isk_…'.",
            },
        });
    }

    protected override async Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        var required = Context.GetEndpoint()?.Metadata.GetOrderedMetadata<Microsoft.AspNetCore.Authorization.IAuthorizeData>()
            .Select(a => a.Policy).Where(p => p is not null).ToArray() ?? [];
        await audit.RecordAsync(new AuditEvent(AuditActions.AuthForbidden, StatusCodes.Status403Forbidden)
        {
            Detail = new { requiredScopes = required, method = Request.Method, path = Request.Path.Value },
        });
        Response.StatusCode = StatusCodes.Status403Forbidden;
        await problemDetails.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = Context,
            ProblemDetails = new ProblemDetails
            {
                Status = StatusCodes.Status403Forbidden,
                Type = ProblemTypes.Forbidden,
                Title = "Forbidden",
                Detail = required.Length == 0
                    ? "Your API key does not allow this operation."
                    : $"Your API key lacks the scope this operation requires: {string.Join(", ", required)}.",
            },
        });
    }
}
