using IntelSharing.Api.Infrastructure.Audit;
using IntelSharing.Api.Infrastructure.Security;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace IntelSharing.Api.Features.WebConsole.SignIn;

/// <summary>
/// Exchanges an API key for a console session. The key is checked exactly as the API checks a bearer key
/// (<see cref="ApiKeyLookup.VerifyAsync"/>); a refusal is audited and counts towards the client address's limit of
/// failed authentications, like a refused API request. The key itself goes no further than this handler.
/// </summary>
public sealed class SignInModel(ApiKeyLookup keys, TimeProvider time, AuditTrail audit, AuthFailureThrottle throttle) : PageModel
{
    public const int MaxKeyLength = 200;

    public bool Refused { get; private set; }

    public string ReturnUrl { get; private set; } = ConsoleSetup.PathBase;

    public void OnGet(string? returnUrl) => ReturnUrl = ConsoleSetup.ReturnInside(returnUrl);

    public async Task<IActionResult> OnPostAsync(string? apiKey, string? returnUrl)
    {
        ReturnUrl = ConsoleSetup.ReturnInside(returnUrl);
        var verdict = apiKey is { Length: > 0 and <= MaxKeyLength }
            ? await keys.VerifyAsync(apiKey.Trim(), time.GetUtcNow(), HttpContext.RequestAborted)
            : new ApiKeyVerdict(null, "No API key was entered, or it is longer than any key.", null, null);
        if (verdict.Row is not { } row)
        {
            await audit.RecordAsync(new AuditEvent(AuditActions.AuthFailed, StatusCodes.Status401Unauthorized)
            {
                KeyPrefix = verdict.Prefix,
                AgencyId = verdict.AgencyId,
                Detail = new { reason = verdict.Refusal, method = Request.Method, path = Request.Path.Value },
            });
            if (throttle.RecordFailure(RequestOrigin.ClientKey(HttpContext)))
            {
                await audit.RecordAsync(new AuditEvent(AuditActions.AuthThrottled, StatusCodes.Status429TooManyRequests)
                {
                    Detail = new { reason = "The client address reached the limit of failed authentications; it is answered 429 until the window ends." },
                });
            }

            Refused = true;
            Response.StatusCode = StatusCodes.Status401Unauthorized;
            return Page();
        }

        await HttpContext.SignInAsync(ConsoleSession.SchemeName, ConsoleSession.Ticket(row, verdict.Prefix!));
        await audit.RecordAsync(new AuditEvent(AuditActions.ConsoleSignIn, StatusCodes.Status200OK) { KeyPrefix = verdict.Prefix, AgencyId = row.AgencyId });
        return LocalRedirect(ReturnUrl);
    }
}
