using System.Globalization;
using System.Text.Encodings.Web;
using IntelSharing.Api.Infrastructure.Security;

namespace IntelSharing.Api.Features.WebConsole.RateLimited;

/// <summary>
/// The console's answer when a session is over its agency's request limit (or its address over the limit of failed
/// sign-ins): a page, not the API's JSON problem, in the session's language, saying how long to wait, with the same
/// status (429) and <c>Retry-After</c>. Written here rather than by a Razor page: the limiter refuses the request before
/// any page runs, and running one would be another request past the limiter.
/// </summary>
public sealed class ConsoleTooManyRequestsPage : ITooManyRequestsPage
{
    public bool Answers(HttpContext context) => context.Request.Path.StartsWithSegments(ConsoleSetup.PathBase);

    public async ValueTask WriteAsync(HttpContext context, int retryAfterSeconds, CancellationToken cancellationToken)
    {
        // The encoder Razor pages use (Serbian letters kept as they are), not the ASCII-only default.
        var encoder = context.RequestServices.GetRequiredService<HtmlEncoder>();
        var language = ConsoleText.Choose(context);
        var texts = ConsoleText.All[language];
        string T(string key) => encoder.Encode(texts[key]);
        var explain = encoder.Encode(string.Format(CultureInfo.InvariantCulture, texts["TooMany.Explain"], retryAfterSeconds));
        // Only a GET is offered again: a refused form post is not re-sent by a link.
        var again = HttpMethods.IsGet(context.Request.Method)
            ? $"""<a href="{encoder.Encode(ConsoleSetup.ReturnInside(context.Request.Path + context.Request.QueryString))}">{T("TooMany.Again")}</a> · """
            : string.Empty;
        context.Response.ContentType = "text/html; charset=utf-8";
        await context.Response.WriteAsync(
            $"""
            <!DOCTYPE html>
            <html lang="{language}">
            <head>
                <meta charset="utf-8">
                <meta name="viewport" content="width=device-width, initial-scale=1">
                <title>{T("TooMany.Title")} · IntelSharing</title>
                <link rel="icon" href="/console/assets/favicon.svg" type="image/svg+xml">
                <link rel="stylesheet" href="/console/assets/console.css">
            </head>
            <body>
            <a class="skip" href="#main">{T("Layout.Skip")}</a>
            <header class="bar"><span class="brand">IntelSharing</span></header>
            <main id="main" tabindex="-1">
                <h1>{T("TooMany.Title")}</h1>
                <p role="alert">{explain}</p>
                <p>{again}<a href="/console">{T("Home.Title")}</a></p>
            </main>
            </body>
            </html>
            """, cancellationToken);
    }
}
