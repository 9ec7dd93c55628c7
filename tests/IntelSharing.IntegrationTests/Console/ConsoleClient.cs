using System.Net;
using System.Text.RegularExpressions;
using IntelSharing.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Mvc.Testing;

namespace IntelSharing.IntegrationTests.Console;

/// <summary>
/// A browser without a browser: keeps cookies, does not follow redirects (tests assert them), and reads the
/// antiforgery token out of a page's form the way a browser submits it.
/// </summary>
public sealed partial class ConsoleClient
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public HttpClient Http { get; }

    public ConsoleClient(ApiFixture app, string? acceptLanguage = null)
    {
        app.RequireDatabase();
        Http = app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });
        Http.DefaultRequestHeaders.Add(TestClientAddress.Header, TestClientAddress.Next());
        if (acceptLanguage is not null)
        {
            Http.DefaultRequestHeaders.AcceptLanguage.ParseAdd(acceptLanguage);
        }
    }

    /// <summary>Signs in with <paramref name="key"/> through the sign-in form; asserts the redirect into the console.</summary>
    public static async Task<ConsoleClient> SignedInAsync(ApiFixture app, string key)
    {
        var client = new ConsoleClient(app);
        var response = await client.SignInAsync(key);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/console", response.Headers.Location?.OriginalString);
        return client;
    }

    public async Task<HttpResponseMessage> SignInAsync(string key) =>
        await PostFormAsync("/console/sign-in", "/console/sign-in", new() { ["apiKey"] = key });

    public async Task<(HttpStatusCode Status, string Html)> GetAsync(string path)
    {
        var response = await Http.GetAsync(path, Ct);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(Ct));
    }

    /// <summary>Posts a form to <paramref name="action"/> with the antiforgery token of the form on <paramref name="formPage"/>.</summary>
    public async Task<HttpResponseMessage> PostFormAsync(string formPage, string action, Dictionary<string, string> fields)
    {
        var (status, html) = await GetAsync(formPage);
        Assert.True(status == HttpStatusCode.OK, $"GET {formPage}: {(int)status}");
        var token = AntiforgeryToken().Match(html);
        Assert.True(token.Success, $"no antiforgery token on {formPage}");
        return await PostWithoutTokenAsync(action, [.. fields, new("__csrf", token.Groups[1].Value)]);
    }

    public async Task<HttpResponseMessage> PostWithoutTokenAsync(string action, IEnumerable<KeyValuePair<string, string>> fields) =>
        await Http.PostAsync(action, new FormUrlEncodedContent(fields), Ct);

    [GeneratedRegex("name=\"__csrf\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryToken();
}
