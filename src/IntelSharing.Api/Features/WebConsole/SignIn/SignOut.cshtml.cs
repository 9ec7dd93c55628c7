using IntelSharing.Api.Infrastructure.Audit;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace IntelSharing.Api.Features.WebConsole.SignIn;

/// <summary>Ends the session: the cookie is deleted. A form post (with its antiforgery token), so no link can sign anyone out.</summary>
public sealed class SignOutModel(AuditTrail audit) : PageModel
{
    public IActionResult OnGet() => LocalRedirect(ConsoleSetup.PathBase);

    public async Task<IActionResult> OnPostAsync()
    {
        await HttpContext.SignOutAsync(ConsoleSession.SchemeName);
        await audit.RecordAsync(new AuditEvent(AuditActions.ConsoleSignOut, StatusCodes.Status200OK));
        return LocalRedirect(ConsoleSession.SignInPath);
    }
}
