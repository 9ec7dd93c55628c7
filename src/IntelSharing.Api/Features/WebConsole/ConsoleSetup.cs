using IntelSharing.Api.Infrastructure.Delivery;
using IntelSharing.Api.Infrastructure.Persistence;
using IntelSharing.Api.Infrastructure.Security;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.Extensions.Options;

namespace IntelSharing.Api.Features.WebConsole;

/// <summary>
/// The console: server-rendered Razor Pages in the API host (docs/console.md, docs/decisions/0031). One folder per
/// screen under Features/WebConsole; every page but sign-in and the language switch needs a console session.
/// </summary>
public static class ConsoleSetup
{
    public const string PathBase = "/console";

    /// <summary>
    /// No inline script or style anywhere, nothing from another origin, no framing, forms only to the console itself.
    /// The console ships no script at all: every action is a form.
    /// </summary>
    public const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; font-src 'self'; connect-src 'self'; " +
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

    public static IServiceCollection AddWebConsole(this IServiceCollection services)
    {
        services.AddOptions<ConsoleOptions>().BindConfiguration(ConsoleOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<ConsoleOptions>, ConsoleOptionsValidator>();
        services.AddScoped<ConsoleText>();
        services.AddSingleton<ITooManyRequestsPage, RateLimited.ConsoleTooManyRequestsPage>();
        services.AddScoped<ConsoleRequests>();

        // The session cookie and the antiforgery tokens are data-protected; the key ring lives in the database so
        // that every replica can read what another issued.
        services.AddDataProtection().SetApplicationName("IntelSharing");
        services.AddSingleton<IConfigureOptions<KeyManagementOptions>>(provider => new ConfigureOptions<KeyManagementOptions>(options =>
            options.XmlRepository = new DatabaseKeyRepository(
                provider.GetRequiredService<Database>(), provider.GetRequiredService<SecretProtector>(), provider.GetRequiredService<TimeProvider>())));

        services.AddAntiforgery(options =>
        {
            options.Cookie.Name = "intelsharing-console-csrf";
            options.Cookie.Path = PathBase;
            options.Cookie.SameSite = SameSiteMode.Strict;
            options.Cookie.SecurePolicy = Microsoft.AspNetCore.Http.CookieSecurePolicy.SameAsRequest;
            options.FormFieldName = "__csrf";
        });
        // TempData carries a form's outcome across its redirect (post/redirect/get); its cookie is held like the others.
        services.Configure<Microsoft.AspNetCore.Mvc.CookieTempDataProviderOptions>(options =>
        {
            options.Cookie.Name = "intelsharing-console-outcome";
            options.Cookie.Path = PathBase;
            options.Cookie.SameSite = SameSiteMode.Strict;
            options.Cookie.SecurePolicy = Microsoft.AspNetCore.Http.CookieSecurePolicy.SameAsRequest;
            options.Cookie.IsEssential = true;
        });
        services.AddRazorPages(options =>
        {
            options.RootDirectory = "/Features/WebConsole";
            options.Conventions.AuthorizeFolder("/", ConsoleSession.Policy);
            options.Conventions.AllowAnonymousToPage("/SignIn/SignIn");
            options.Conventions.AllowAnonymousToPage("/Language/Language");
        });
        return services;
    }

    /// <summary>Security headers on every console response, pages and assets alike; then the assets (wwwroot/console).</summary>
    public static void UseWebConsole(this WebApplication app)
    {
        app.UseWhen(context => context.Request.Path.StartsWithSegments(PathBase), console => console.Use(async (context, next) =>
        {
            var headers = context.Response.Headers;
            headers.ContentSecurityPolicy = ContentSecurityPolicy;
            headers.XContentTypeOptions = "nosniff";
            headers.XFrameOptions = "DENY";
            headers["Referrer-Policy"] = "no-referrer";
            headers["Cross-Origin-Opener-Policy"] = "same-origin";
            if (!context.Request.Path.StartsWithSegments($"{PathBase}/assets"))
            {
                // Pages show what one key may see: no copy of them in any cache.
                headers.CacheControl = "no-store";
            }

            await next();
        }));
        app.UseStaticFiles();
    }

    /// <summary>A return address inside the console, else the console's home: a link cannot send the browser anywhere else afterwards.</summary>
    public static string ReturnInside(string? url) =>
        url is { Length: <= 500 } && url.StartsWith(PathBase, StringComparison.Ordinal)
            && !url.StartsWith("//", StringComparison.Ordinal) && !url.Contains('\\', StringComparison.Ordinal)
            ? url
            : PathBase;
}
