using System.Net;
using Dapper;
using IntelSharing.Api.Domain;
using IntelSharing.Api.Infrastructure.Audit;
using IntelSharing.Api.Infrastructure.Security;
using IntelSharing.IntegrationTests.Console;
using IntelSharing.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace IntelSharing.IntegrationTests.Security;

/// <summary>
/// Per-agency rate limits and the per-address throttle of failed authentications, with the limits lowered
/// (<see cref="LoweredLimits"/>) and time on a fake clock; and the lazy recording of a key's last use.
/// </summary>
public abstract class AbuseLimitTests(ApiFixture app)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private FakeTimeProvider Clock => ((IClockedFixture)app).Clock;

    private sealed class KeyUse
    {
        public DateTimeOffset? LastUsedAt { get; set; }
    }

    private static async Task AssertRateLimitedAsync(HttpResponseMessage response, int maxRetryAfterSeconds)
    {
        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("urn:intelsharing:problem:rate-limited", (await response.ReadJsonAsync()).GetProperty("type").GetString());
        var retryAfter = response.Headers.RetryAfter?.Delta?.TotalSeconds;
        Assert.True(retryAfter is > 0 && retryAfter <= maxRetryAfterSeconds, $"Retry-After was {retryAfter}");
    }

    [Fact]
    public async Task An_agency_over_its_request_limit_gets_429_with_retry_after_on_every_key_while_others_and_health_are_unaffected()
    {
        var busy = await app.CreateAgencyAsync("Border Police Directorate");
        var secondKey = await app.ClientWithScopesAsync(busy.Id, Scopes.AlertsRead);
        var other = await app.CreateAgencyAsync("Hungarian National Police", "HU");
        for (var i = 0; i < LoweredLimits.PerAgencyPermits; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await busy.Client.GetAsync("/api/v1/agencies", Ct)).StatusCode);
        }

        await AssertRateLimitedAsync(await busy.Client.GetAsync("/api/v1/agencies", Ct), LoweredLimits.PerAgencyWindowSeconds);
        await AssertRateLimitedAsync(await secondKey.GetAsync("/api/v1/alerts", Ct), LoweredLimits.PerAgencyWindowSeconds);
        Assert.Equal(HttpStatusCode.OK, (await other.Client.GetAsync("/api/v1/agencies", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await busy.Client.GetAsync("/health/live", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await busy.Client.GetAsync("/health/ready", Ct)).StatusCode);
    }

    [Fact]
    public async Task A_console_session_over_its_agencys_limit_gets_a_429_page_in_its_language_while_the_agencys_keys_get_the_json_problem()
    {
        var busy = await app.CreateAgencyAsync("Serbian Ministry of Interior", "RS", AgencyKind.Police, Scopes.AlertsRead, Scopes.SubscriptionsManage);
        var other = await app.CreateAgencyAsync("Europol", "NL");
        var console = await ConsoleClient.SignedInAsync(app, busy.Key);
        for (var i = 0; i < LoweredLimits.PerAgencyPermits; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await console.GetAsync(i % 2 == 0 ? "/console" : "/console/partner-health")).Status);
        }

        var page = await console.Http.GetAsync("/console/partner-health?cursor=x", Ct);
        using var serbian = new HttpRequestMessage(HttpMethod.Get, "/console");
        serbian.Headers.AcceptLanguage.ParseAdd("sr");
        var serbianPage = await console.Http.SendAsync(serbian, Ct);
        // One window per agency: the session used up what the agency's API keys may do too, and they get the API's answer.
        await AssertRateLimitedAsync(await busy.Client.GetAsync("/api/v1/alerts", Ct), LoweredLimits.PerAgencyWindowSeconds);

        var html = await AssertRateLimitedPageAsync(page, LoweredLimits.PerAgencyWindowSeconds);
        Assert.Contains("<html lang=\"en\">", html, StringComparison.Ordinal);
        Assert.Contains("<title>Too many requests · IntelSharing</title>", html, StringComparison.Ordinal);
        Assert.Matches("<p role=\"alert\">[^<]*Wait [0-9]+ seconds", html);
        Assert.Contains("<a href=\"/console/partner-health?cursor=x\">Try again</a>", html, StringComparison.Ordinal);
        Assert.Contains("href=\"/console/assets/console.css\"", html, StringComparison.Ordinal);
        var serbianHtml = WebUtility.HtmlDecode(await AssertRateLimitedPageAsync(serbianPage, LoweredLimits.PerAgencyWindowSeconds));
        Assert.Contains("<html lang=\"sr\">", serbianHtml, StringComparison.Ordinal);
        Assert.Contains("<h1>Previše zahteva</h1>", serbianHtml, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await (await ConsoleClient.SignedInAsync(app, other.Key)).GetAsync("/console")).Status);
    }

    /// <summary>A console page's 429: HTML under the console's CSP, with Retry-After, never the API's JSON problem.</summary>
    private static async Task<string> AssertRateLimitedPageAsync(HttpResponseMessage response, int maxRetryAfterSeconds)
    {
        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        var retryAfter = response.Headers.RetryAfter?.Delta?.TotalSeconds;
        Assert.True(retryAfter is > 0 && retryAfter <= maxRetryAfterSeconds, $"Retry-After was {retryAfter}");
        Assert.StartsWith("default-src 'self'", response.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
        var html = await response.Content.ReadAsStringAsync(Ct);
        Assert.Contains(((int)retryAfter!).ToString(System.Globalization.CultureInfo.InvariantCulture), html, StringComparison.Ordinal);
        return html;
    }

    [Fact]
    public async Task Repeated_failed_authentications_from_one_address_are_audited_then_answered_429_before_any_key_is_checked_until_the_window_ends()
    {
        var address = TestClientAddress.Next();
        var guesser = app.ClientWithKey("isk_zzzzzzzzzz_" + new string('B', 43), address);
        var partner = await app.CreateAgencyAsync("Croatian Border Police", "HR");
        for (var i = 0; i < LoweredLimits.AuthFailuresPerClient; i++)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await guesser.GetAsync("/api/v1/alerts", Ct)).StatusCode);
        }

        await AssertRateLimitedAsync(await guesser.GetAsync("/api/v1/alerts", Ct), LoweredLimits.AuthFailureWindowSeconds);
        // Same address, valid key: still refused, without the key being looked at.
        await AssertRateLimitedAsync(await app.ClientWithKey(partner.Key, address).GetAsync("/api/v1/alerts", Ct), LoweredLimits.AuthFailureWindowSeconds);
        Assert.Equal(HttpStatusCode.OK, (await partner.Client.GetAsync("/api/v1/alerts", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await app.ClientWithKey(null, address).GetAsync("/health/live", Ct)).StatusCode);

        var records = await app.AuditRecordsAsync("client_ip = @address", new { address });
        Assert.Equal(
            [.. Enumerable.Repeat((AuditActions.AuthFailed, 401), LoweredLimits.AuthFailuresPerClient), (AuditActions.AuthThrottled, 429)],
            records.Select(r => (r.Action, r.Outcome)).OrderBy(r => r.Outcome));
        Assert.All(records.Where(r => r.Action == AuditActions.AuthFailed), r => Assert.Equal("zzzzzzzzzz", r.KeyPrefix));

        Clock.Advance(TimeSpan.FromSeconds(LoweredLimits.AuthFailureWindowSeconds + 1));
        Assert.Equal(HttpStatusCode.OK, (await app.ClientWithKey(partner.Key, address).GetAsync("/api/v1/alerts", Ct)).StatusCode);
    }

    [Fact]
    public async Task A_keys_last_use_is_written_at_most_once_a_minute_and_never_on_the_request_itself()
    {
        var operations = await app.CreateOperatorAsync();
        var partner = await app.CreateAgencyAsync("Slovenian Police", "SI");
        var usage = app.Services.GetRequiredService<ApiKeyUsage>();
        var prefix = TestData.KeyPrefixOf(partner.Key);
        async Task<DateTimeOffset?> LastUsedAsync()
        {
            await using var connection = await app.Database.OpenAsync(Ct);
            return (await connection.QuerySingleAsync<KeyUse>("SELECT last_used_at AS LastUsedAt FROM api_keys WHERE prefix = @prefix", new { prefix })).LastUsedAt;
        }

        var firstUse = Clock.GetUtcNow();
        Assert.Equal(HttpStatusCode.OK, (await partner.Client.GetAsync("/api/v1/alerts", Ct)).StatusCode);
        Assert.Null(await LastUsedAsync());
        await usage.FlushAsync(Ct);
        Assert.Equal(firstUse, await LastUsedAsync());

        Clock.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(HttpStatusCode.OK, (await partner.Client.GetAsync("/api/v1/alerts", Ct)).StatusCode);
        await usage.FlushAsync(Ct);
        Assert.Equal(firstUse, await LastUsedAsync());

        Clock.Advance(TimeSpan.FromSeconds(31));
        var laterUse = Clock.GetUtcNow();
        Assert.Equal(HttpStatusCode.OK, (await partner.Client.GetAsync("/api/v1/alerts", Ct)).StatusCode);
        await usage.FlushAsync(Ct);
        Assert.Equal(laterUse, await LastUsedAsync());

        var keys = await (await operations.Client.GetAsync($"/api/v1/agencies/{partner.Id}/keys", Ct)).ReadJsonAsync();
        Assert.Equal(laterUse, keys.GetProperty("items")[0].GetProperty("lastUsedAt").GetDateTimeOffset());
    }
}

public sealed class AbuseLimitTestsOnSqlite(LimitedSqliteApiFixture app) : AbuseLimitTests(app), IClassFixture<LimitedSqliteApiFixture>;

public sealed class AbuseLimitTestsOnPostgres(LimitedPostgresApiFixture app) : AbuseLimitTests(app), IClassFixture<LimitedPostgresApiFixture>;
