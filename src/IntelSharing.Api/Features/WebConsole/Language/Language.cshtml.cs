using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace IntelSharing.Api.Features.WebConsole.Language;

/// <summary>The language switch: remembers the choice in a cookie (a year) and goes back to the page it came from.</summary>
public sealed class LanguageModel : PageModel
{
    public IActionResult OnGet() => LocalRedirect(ConsoleSetup.PathBase);

    public IActionResult OnPost(string? language, string? returnUrl)
    {
        if (language is not null && ConsoleText.Languages.Contains(language))
        {
            Response.Cookies.Append(ConsoleText.CookieName, language, new CookieOptions
            {
                Path = ConsoleSetup.PathBase,
                HttpOnly = true,
                SameSite = SameSiteMode.Strict,
                Secure = Request.IsHttps,
                MaxAge = TimeSpan.FromDays(365),
                IsEssential = true,
            });
        }

        return LocalRedirect(ConsoleSetup.ReturnInside(returnUrl));
    }
}
