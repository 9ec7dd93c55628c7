using System.Security.Claims;
using IntelSharing.Api.Infrastructure.Audit;
using IntelSharing.Api.Infrastructure.Security;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;

namespace IntelSharing.Api.Features.WebConsole;

/// <summary>
/// The console's session: an API key, checked once at sign-in, exchanged for a short-lived cookie. The cookie is a
/// data-protected (encrypted and authenticated) ticket holding the key's id and public prefix, never the key; on every
/// request the key's row is read again (<see cref="ApiKeyLookup"/>, which revocation empties at once) and the session
/// ends as soon as the key is revoked, expired or its agency deactivated. The agency, name and scopes on the request
/// come from that fresh row, so a page sees exactly what the same key would see through the API.
/// </summary>
public static class ConsoleSession
{
    public const string SchemeName = "ConsoleSession";

    /// <summary>The authorization policy of every console page but sign-in: a live session.</summary>
    public const string Policy = "console-session";

    public const string CookieName = "intelsharing-console";

    public const string KeyIdClaim = "key_id";

    public const string SignInPath = "/console/sign-in";

    public static AuthenticationBuilder AddConsoleSession(this AuthenticationBuilder authentication)
    {
        authentication.Services.AddOptions<CookieAuthenticationOptions>(SchemeName)
            .Configure<IOptions<ConsoleOptions>>((cookie, console) =>
            {
                cookie.Cookie.Name = CookieName;
                cookie.Cookie.Path = "/console";
                cookie.Cookie.HttpOnly = true;
                cookie.Cookie.SameSite = SameSiteMode.Strict;
                cookie.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
                cookie.ExpireTimeSpan = TimeSpan.FromMinutes(console.Value.SessionMinutes);
                cookie.SlidingExpiration = false;
                cookie.LoginPath = SignInPath;
                cookie.LogoutPath = "/console/sign-out";
                cookie.AccessDeniedPath = "/console/denied";
                cookie.Events.OnValidatePrincipal = RecheckKeyAsync;
            });
        return authentication.AddCookie(SchemeName);
    }

    public static void AddConsolePolicy(this AuthorizationOptions options) =>
        options.AddPolicy(Policy, new AuthorizationPolicyBuilder(SchemeName).RequireAuthenticatedUser().Build());

    /// <summary>
    /// Reads the session on console paths before the rate limiter runs. The limiter partitions by the agency on the
    /// request's user, and the default scheme (bearer keys) never looks at the cookie: without this, a console session
    /// reached the limiter anonymous and was not limited at all. The handler keeps its result for the request, so the
    /// page's authorization does not check the key a second time.
    /// </summary>
    public static void UseConsoleSessionBeforeRateLimits(this IApplicationBuilder app) =>
        app.UseWhen(context => context.Request.Path.StartsWithSegments(ConsoleSetup.PathBase), console => console.Use(async (context, next) =>
        {
            var session = await context.AuthenticateAsync(SchemeName);
            if (session.Succeeded)
            {
                context.User = session.Principal;
            }

            await next();
        }));

    /// <summary>What the cookie carries: which key, by id and public prefix. Nothing that would authenticate anywhere else.</summary>
    public static ClaimsPrincipal Ticket(ApiKeyRecord key, string prefix) =>
        new(new ClaimsIdentity([new Claim(KeyIdClaim, key.KeyId.ToString()), new Claim(Caller.KeyPrefixClaim, prefix)], SchemeName));

    private static async Task RecheckKeyAsync(CookieValidatePrincipalContext context)
    {
        var services = context.HttpContext.RequestServices;
        var keyId = context.Principal?.FindFirstValue(KeyIdClaim);
        var prefix = context.Principal?.FindFirstValue(Caller.KeyPrefixClaim);
        var row = prefix is null ? null : await services.GetRequiredService<ApiKeyLookup>().FindAsync(prefix, context.HttpContext.RequestAborted);
        var now = services.GetRequiredService<TimeProvider>().GetUtcNow();
        if (row is null || row.KeyId.ToString() != keyId || !row.IsUsableAt(now))
        {
            context.RejectPrincipal();
            await context.HttpContext.SignOutAsync(SchemeName);
            await services.GetRequiredService<AuditTrail>().RecordAsync(new AuditEvent(AuditActions.ConsoleSessionEnded, StatusCodes.Status401Unauthorized)
            {
                KeyPrefix = prefix,
                AgencyId = row?.AgencyId,
                Detail = new { reason = "The session's API key is revoked, expired, or belongs to a deactivated agency.", path = context.HttpContext.Request.Path.Value },
            });
            return;
        }

        services.GetRequiredService<ApiKeyUsage>().Touch(row.KeyId);
        var claims = row.Claims(prefix!);
        claims.Add(new Claim(KeyIdClaim, keyId));
        context.ReplacePrincipal(new ClaimsPrincipal(new ClaimsIdentity(claims, SchemeName)));
    }
}
