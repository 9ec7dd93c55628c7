using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Dapper;
using IntelSharing.Api.Domain;
using IntelSharing.Api.Features.WebConsole;
using IntelSharing.Api.Infrastructure.Delivery;
using IntelSharing.Api.Infrastructure.Persistence;
using IntelSharing.Api.Infrastructure.Security;
using IntelSharing.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace IntelSharing.IntegrationTests.Console;

/// <summary>
/// The console's rules through HTTP, as a browser would meet them (cookies kept, redirects not followed): the session,
/// CSRF, expiry, revocation, and that every page shows only what the same key sees through the API.
/// </summary>
public abstract class ConsoleTests<TFixture>(TFixture app) : IAsyncLifetime
    where TFixture : ApiFixture, IFakeClockFixture
{
    private readonly PartnerRig _partners = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public ValueTask DisposeAsync() => _partners.DisposeAsync();

    private Task<TestAgency> AgencyAsync(string name, string country, params string[] scopes) =>
        app.CreateAgencyAsync(name, country, AgencyKind.Police, scopes);

    /// <summary>
    /// Serbia's border police publishes an amber+strict alert to the Hungarian police only; Hungary's endpoint is down,
    /// so its delivery dies after its one attempt (ConsoleTestSettings). Returns the dead delivery's id.
    /// </summary>
    private async Task<(TestAgency Originator, TestAgency Partner, PartnerReceiver Receiver, Guid SubscriptionId, Guid AlertId, Guid DeliveryId, Func<bool, bool> SetDown)> DeadLetterAsync()
    {
        var originator = await AgencyAsync("Border Police Directorate", "RS", Scopes.AlertsWrite, Scopes.AlertsRead, Scopes.SubscriptionsManage);
        var partner = await AgencyAsync("Hungarian Police", "HU", Scopes.AlertsRead, Scopes.AlertsWrite, Scopes.SubscriptionsManage);
        var down = true;
        var receiver = await _partners.ReceiverAsync(_ => down ? new PartnerReceiver.Response(HttpStatusCode.ServiceUnavailable, Body: "HTTP 503") : new PartnerReceiver.Response(HttpStatusCode.NoContent));
        var (subscriptionId, _) = await _partners.SubscribeAsync(partner, receiver.Url);
        var alertId = await originator.PublishAsync(TestData.SmugglingAlert("amber+strict", agencies: [partner.Id]));
        await using var connection = await app.Database.OpenAsync(Ct);
        var deliveryId = await connection.QuerySingleAsync<Guid>(
            "SELECT d.id FROM deliveries d JOIN events e ON e.id = d.event_id WHERE e.alert_id = @alertId AND d.subscription_id = @subscriptionId",
            new { alertId, subscriptionId });
        await DeliveryTestSettings.EventuallyAsync(async () => (await app.DeliveryStateAsync(deliveryId)).State == "dead", "the delivery to die");
        return (originator, partner, receiver, subscriptionId, alertId, deliveryId, value => down = value);
    }

    /// <summary>Where a redirect sends the browser, as a path (the cookie handler writes absolute addresses).</summary>
    private static string Target(HttpResponseMessage response) =>
        response.Headers.Location is { IsAbsoluteUri: true } absolute ? absolute.PathAndQuery : response.Headers.Location?.OriginalString ?? string.Empty;

    private static string SetCookie(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues("Set-Cookie", out var values) ? values.FirstOrDefault(v => v.StartsWith(name + "=", StringComparison.Ordinal)) ?? string.Empty : string.Empty;

    [Fact]
    public async Task Signing_in_exchanges_the_key_for_an_HttpOnly_SameSite_Strict_session_cookie_that_does_not_hold_the_key()
    {
        var partner = await AgencyAsync("Hungarian Police", "HU", Scopes.AlertsRead, Scopes.SubscriptionsManage);
        var browser = new ConsoleClient(app);

        var response = await browser.SignInAsync(partner.Key);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var cookie = SetCookie(response, ConsoleSession.CookieName);
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("path=/console", cookie, StringComparison.OrdinalIgnoreCase);
        var secret = TestData.KeySecretOf(partner.Key);
        Assert.Equal(43, secret.Length);
        Assert.DoesNotContain(secret, cookie, StringComparison.Ordinal);
        Assert.DoesNotContain(partner.Key, cookie, StringComparison.Ordinal);
        var (status, home) = await browser.GetAsync("/console");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains(WebUtility.HtmlEncode(partner.Name), home, StringComparison.Ordinal);
        Assert.Single(await app.AuditRecordsAsync("action = 'console.sign_in' AND agency_id = @id", new { id = partner.Id }));
    }

    [Fact]
    public async Task A_wrong_key_is_refused_at_sign_in_with_no_session_and_an_audited_failure()
    {
        var partner = await AgencyAsync("Hungarian Police", "HU", Scopes.AlertsRead);
        var browser = new ConsoleClient(app);
        var wrong = partner.Key[..^4] + (partner.Key.EndsWith("AAAA", StringComparison.Ordinal) ? "BBBB" : "AAAA");

        var response = await browser.SignInAsync(wrong);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Empty(SetCookie(response, ConsoleSession.CookieName));
        Assert.Equal(HttpStatusCode.Redirect, (await browser.GetAsync("/console")).Status);
        Assert.NotEmpty(await app.AuditRecordsAsync("action = 'auth.failed' AND key_prefix = @prefix", new { prefix = TestData.KeyPrefixOf(partner.Key) }));
    }

    [Fact]
    public void Every_console_page_requires_a_session_except_sign_in_and_the_language_switch()
    {
        app.RequireDatabase();
        var pages = app.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => ("/" + e.RoutePattern.RawText?.TrimStart('/')).StartsWith("/console", StringComparison.Ordinal))
            .ToList();
        Assert.True(pages.Count >= 8, $"only {pages.Count} console pages found");

        var anonymous = pages.Where(e => e.Metadata.GetMetadata<Microsoft.AspNetCore.Authorization.IAllowAnonymous>() is not null)
            .Select(e => "/" + e.RoutePattern.RawText!.TrimStart('/')).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(["/console/language", "/console/sign-in"], anonymous);
        foreach (var page in pages.Where(e => e.Metadata.GetMetadata<Microsoft.AspNetCore.Authorization.IAllowAnonymous>() is null))
        {
            var policies = page.Metadata.GetOrderedMetadata<Microsoft.AspNetCore.Authorization.IAuthorizeData>().Select(a => a.Policy).ToList();
            Assert.True(policies.Contains(ConsoleSession.Policy), $"{page.RoutePattern.RawText} does not require a console session");
        }
    }

    [Fact]
    public async Task Without_a_session_every_console_page_sends_the_browser_to_sign_in()
    {
        app.RequireDatabase();
        var browser = new ConsoleClient(app);
        var paths = app.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Select(e => "/" + e.RoutePattern.RawText?.TrimStart('/'))
            .Where(p => p.StartsWith("/console", StringComparison.Ordinal) && p is not "/console/sign-in" and not "/console/language")
            .Select(p => System.Text.RegularExpressions.Regex.Replace(p, @"\{[^}]+\}", Guid.CreateVersion7().ToString()))
            .Distinct()
            .ToList();

        foreach (var path in paths)
        {
            var response = await browser.Http.GetAsync(path, Ct);
            Assert.True(response.StatusCode == HttpStatusCode.Redirect, $"GET {path}: {(int)response.StatusCode}");
            Assert.StartsWith("/console/sign-in", Target(response), StringComparison.Ordinal);
            var posted = await browser.PostWithoutTokenAsync(path, []);
            Assert.True(posted.StatusCode is HttpStatusCode.Redirect or HttpStatusCode.BadRequest, $"POST {path}: {(int)posted.StatusCode}");
        }
    }

    [Fact]
    public async Task Console_pages_carry_a_strict_content_security_policy_and_are_not_cached()
    {
        var browser = new ConsoleClient(app);

        var response = await browser.Http.GetAsync("/console/sign-in", Ct);
        var html = await response.Content.ReadAsStringAsync(Ct);

        var csp = response.Headers.GetValues("Content-Security-Policy").Single();
        Assert.Contains("default-src 'self'", csp, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe-inline", csp, StringComparison.Ordinal);
        Assert.Contains("frame-ancestors 'none'", csp, StringComparison.Ordinal);
        Assert.True(response.Headers.CacheControl?.NoStore, "pages must not be stored");
        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("style=", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<style", html, StringComparison.OrdinalIgnoreCase);
        var css = await browser.Http.GetAsync("/console/assets/console.css", Ct);
        Assert.Equal(HttpStatusCode.OK, css.StatusCode);
        Assert.Equal("text/css", css.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task A_form_post_without_the_antiforgery_token_is_refused_and_replays_nothing()
    {
        var (_, partner, receiver, _, _, deliveryId, setDown) = await DeadLetterAsync();
        setDown(false);
        var browser = await ConsoleClient.SignedInAsync(app, partner.Key);
        var requestsBefore = receiver.Requests;

        var replay = await browser.PostWithoutTokenAsync($"/console/deliveries/{deliveryId}?handler=Replay", []);
        var signIn = await new ConsoleClient(app).PostWithoutTokenAsync("/console/sign-in", [new("apiKey", partner.Key)]);

        Assert.Equal(HttpStatusCode.BadRequest, replay.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, signIn.StatusCode);
        Assert.Empty(SetCookie(signIn, ConsoleSession.CookieName));
        Assert.Equal(("dead", 1), await app.DeliveryStateAsync(deliveryId));
        Assert.Equal(requestsBefore, receiver.Requests);
    }

    [Fact]
    public async Task A_session_ends_when_it_expires_and_the_browser_is_sent_to_sign_in()
    {
        var partner = await AgencyAsync("Hungarian Police", "HU", Scopes.AlertsRead, Scopes.SubscriptionsManage);
        var browser = await ConsoleClient.SignedInAsync(app, partner.Key);
        app.Clock.Advance(TimeSpan.FromMinutes(ConsoleTestSettings.SessionMinutes - 1));
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/console")).Status);

        app.Clock.Advance(TimeSpan.FromMinutes(2));
        var response = await browser.Http.GetAsync("/console/dead-letters", Ct);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.StartsWith("/console/sign-in", Target(response), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_key_revoked_while_its_session_is_open_is_refused_on_the_next_request_and_the_session_ends()
    {
        var operations = await app.CreateOperatorAsync();
        var partner = await AgencyAsync("Hungarian Police", "HU", Scopes.AlertsRead, Scopes.SubscriptionsManage);
        var browser = await ConsoleClient.SignedInAsync(app, partner.Key);
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/console")).Status);
        await using (var connection = await app.Database.OpenAsync(Ct))
        {
            var keyId = await connection.QuerySingleAsync<Guid>("SELECT id FROM api_keys WHERE prefix = @prefix", new { prefix = TestData.KeyPrefixOf(partner.Key) });
            var revoked = await operations.Client.DeleteAsync($"/api/v1/agencies/{partner.Id}/keys/{keyId}", Ct);
            Assert.True(revoked.IsSuccessStatusCode, $"revoke: {(int)revoked.StatusCode}");
        }

        var response = await browser.Http.GetAsync("/console", Ct);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.StartsWith("/console/sign-in", Target(response), StringComparison.Ordinal);
        Assert.Contains("expires=Thu, 01 Jan 1970", SetCookie(response, ConsoleSession.CookieName), StringComparison.OrdinalIgnoreCase);
        Assert.Single(await app.AuditRecordsAsync("action = 'console.session_ended' AND key_prefix = @prefix", new { prefix = TestData.KeyPrefixOf(partner.Key) }));
    }

    [Fact]
    public async Task Replaying_a_dead_letter_from_the_console_delivers_it_again_with_the_same_webhook_id()
    {
        var (_, partner, receiver, _, _, deliveryId, setDown) = await DeadLetterAsync();
        var browser = await ConsoleClient.SignedInAsync(app, partner.Key);
        var (listed, list) = await browser.GetAsync("/console/dead-letters");
        Assert.Equal(HttpStatusCode.OK, listed);
        Assert.Contains($"data-delivery=\"{deliveryId}\"", list, StringComparison.Ordinal);
        var (_, detail) = await browser.GetAsync($"/console/deliveries/{deliveryId}");
        Assert.Contains("HTTP 503", detail, StringComparison.Ordinal);
        Assert.Contains("withheld", detail, StringComparison.Ordinal);
        setDown(false);

        var replay = await browser.PostFormAsync("/console/dead-letters", "/console/dead-letters?handler=Replay", new() { ["ids"] = deliveryId.ToString() });

        Assert.Equal(HttpStatusCode.Redirect, replay.StatusCode);
        Assert.Equal("/console/dead-letters", Target(replay));
        var (_, afterReplay) = await browser.GetAsync(Target(replay));
        Assert.Contains($"data-replayed=\"{deliveryId}\"", afterReplay, StringComparison.Ordinal);
        await receiver.WaitForAsync(2);
        Assert.Single(receiver.Received.Select(r => r.Id).Distinct());
        await DeliveryTestSettings.EventuallyAsync(async () => (await app.DeliveryStateAsync(deliveryId)).State == "delivered", "delivered");
        var audited = await app.AuditRecordsAsync("action = 'delivery.replay' AND resource_id = @deliveryId", new { deliveryId });
        Assert.Equal(partner.Id, Assert.Single(audited).AgencyId);
    }

    [Fact]
    public async Task The_session_key_ring_is_stored_encrypted_so_a_database_read_alone_does_not_reveal_it()
    {
        var partner = await AgencyAsync("Hungarian Police", "HU", Scopes.AlertsRead, Scopes.SubscriptionsManage);
        var browser = await ConsoleClient.SignedInAsync(app, partner.Key);

        await using var connection = await app.Database.OpenAsync(Ct);
        var stored = (await connection.QueryAsync<byte[]>(
            "SELECT value FROM server_secrets WHERE name LIKE 'data-protection:%'")).ToList();

        Assert.NotEmpty(stored);
        foreach (var value in stored)
        {
            Assert.False(DatabaseKeyRepository.IsPlainXml(value));
            Assert.DoesNotContain("masterKey", System.Text.Encoding.UTF8.GetString(value), StringComparison.OrdinalIgnoreCase);
            Assert.Contains("masterKey", app.Services.GetRequiredService<SecretProtector>().Unprotect(value), StringComparison.Ordinal);
        }

        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/console")).Status);
    }

    [Fact]
    public async Task A_key_ring_row_stored_unencrypted_by_an_earlier_release_still_reads_and_is_then_encrypted()
    {
        var partner = await AgencyAsync("Hungarian Police", "HU", Scopes.AlertsRead, Scopes.SubscriptionsManage);
        _ = await ConsoleClient.SignedInAsync(app, partner.Key);
        var protector = app.Services.GetRequiredService<SecretProtector>();
        await using var connection = await app.Database.OpenAsync(Ct);
        var (name, value) = await connection.QueryFirstAsync<(string, byte[])>(
            "SELECT name, value FROM server_secrets WHERE name LIKE 'data-protection:%' ORDER BY name");
        var xml = protector.Unprotect(value);
        await connection.ExecuteAsync("UPDATE server_secrets SET value = @plain WHERE name = @name",
            new { name, plain = System.Text.Encoding.UTF8.GetBytes(xml) });
        var repository = new DatabaseKeyRepository(app.Database, protector, TimeProvider.System);

        var elements = repository.GetAllElements();

        Assert.Contains(elements, e => e.ToString(System.Xml.Linq.SaveOptions.DisableFormatting) == System.Xml.Linq.XElement.Parse(xml).ToString(System.Xml.Linq.SaveOptions.DisableFormatting));
        var now = await connection.QuerySingleAsync<byte[]>("SELECT value FROM server_secrets WHERE name = @name", new { name });
        Assert.False(DatabaseKeyRepository.IsPlainXml(now));
        Assert.Equal(xml, protector.Unprotect(now));
        Assert.Equal(elements.Count, repository.GetAllElements().Count);
    }

    /// <summary>The JSON data block of the chart in the figure marked <paramref name="figure"/>.</summary>
    private static JsonElement PlotIn(string html, string figure)
    {
        var at = html.IndexOf(figure, StringComparison.Ordinal);
        Assert.True(at >= 0, $"no figure {figure}");
        var start = html.IndexOf("<script type=\"application/json\">", at, StringComparison.Ordinal) + "<script type=\"application/json\">".Length;
        return JsonDocument.Parse(html[start..html.IndexOf("</script>", start, StringComparison.Ordinal)]).RootElement;
    }

    private static DateTimeOffset HourOf(DateTimeOffset at) => new(at.Year, at.Month, at.Day, at.Hour, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task The_partner_health_page_shows_an_agency_its_failing_endpoint_and_an_outsider_none_of_it()
    {
        var (_, partner, _, subscriptionId, _, _, _) = await DeadLetterAsync();
        var outsider = await AgencyAsync("Croatian Police", "HR", Scopes.SubscriptionsManage);

        var (status, html) = await (await ConsoleClient.SignedInAsync(app, partner.Key)).GetAsync("/console/partner-health");
        var (outsiderStatus, outsiderHtml) = await (await ConsoleClient.SignedInAsync(app, outsider.Key)).GetAsync("/console/partner-health");

        Assert.Equal(HttpStatusCode.OK, status);
        var row = html[html.IndexOf($"data-subscription=\"{subscriptionId}\"", StringComparison.Ordinal)..];
        row = row[..row.IndexOf("</tr>", StringComparison.Ordinal)];
        Assert.Contains("503", row, StringComparison.Ordinal);
        Assert.Matches("data-window=\"day\">[^<]*<br>[^<]*: 1<br>[^<]*: 1</td>", row);
        // The hour's numbers as a table (what a page without script shows) and as the chart's data block.
        Assert.Matches($"<tr data-hour=\"{Format.Hour(HourOf(app.Clock.GetUtcNow()))}\">\\s*<th[^>]*>[^<]*</th>\\s*<td>0</td>\\s*<td>1</td>\\s*<td>1</td>", html);
        var plot = PlotIn(html, $"data-hours=\"{subscriptionId}\"");
        Assert.Equal([0d, 0d, 0d, 1d, 0d, 1d], plot.GetProperty("series").EnumerateArray().Take(3).SelectMany(s => s.GetProperty("values").EnumerateArray().TakeLast(2)).Select(v => v.GetDouble()));
        Assert.Equal(HttpStatusCode.OK, outsiderStatus);
        Assert.DoesNotContain(subscriptionId.ToString(), outsiderHtml, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_published_results_page_suppresses_small_counts_and_downloads_the_same_csv_as_the_api()
    {
        var ministry = await AgencyAsync("Ministry of Interior", "RS", Scopes.AlertsWrite, Scopes.StatisticsRead);
        await ministry.PublishAsync(TestData.SmugglingAlert("green"));
        var day = app.Clock.GetUtcNow().ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        var browser = await ConsoleClient.SignedInAsync(app, ministry.Key);

        var (status, html) = await browser.GetAsync($"/console/published-results?from={day}&to={day}&period=day");
        var download = await browser.Http.GetAsync($"/console/published-results?handler=Csv&from={day}&to={day}&period=day", Ct);
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/statistics?from={day}&to={day}&period=day");
        request.Headers.Accept.ParseAdd("text/csv");
        var api = await ministry.Client.SendAsync(request, Ct);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains($"data-total=\"{day} migrant_smuggling\">&lt;3</td>", html, StringComparison.Ordinal);
        // The chart withholds what the table withholds: the suppressed count is a gap, not a number.
        var categories = PlotIn(html, "data-flow=\"categories\"").GetProperty("series").EnumerateArray().Single();
        Assert.Equal("migrant_smuggling", categories.GetProperty("label").GetString());
        Assert.Equal(JsonValueKind.Null, categories.GetProperty("values").EnumerateArray().Single().ValueKind);
        Assert.Equal(HttpStatusCode.OK, download.StatusCode);
        Assert.Equal("text/csv", download.Content.Headers.ContentType?.MediaType);
        Assert.Equal(await api.Content.ReadAsStringAsync(Ct), await download.Content.ReadAsStringAsync(Ct));
        Assert.Contains($"alerts,{day},migrant_smuggling,,,published_total,<3", await download.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        var (badStatus, bad) = await browser.GetAsync($"/console/published-results?from={day}&to=2000-01-01");
        Assert.Equal(HttpStatusCode.BadRequest, badStatus);
        Assert.Contains("to must not be before from.", bad, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_agency_name_cannot_end_a_charts_data_block_and_run_as_script()
    {
        const string Hostile = "Police </script><script>alert(1)</script>";
        var ministry = await AgencyAsync("Ministry of Interior", "RS", Scopes.AlertsWrite, Scopes.StatisticsRead);
        var partner = await AgencyAsync(Hostile, "HU", Scopes.AlertsRead, Scopes.SubscriptionsManage);
        var receiver = await _partners.ReceiverAsync(_ => new PartnerReceiver.Response(HttpStatusCode.NoContent));
        await _partners.SubscribeAsync(partner, receiver.Url);
        await ministry.PublishAsync(TestData.SmugglingAlert("green"));
        var day = app.Clock.GetUtcNow().ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);

        var (status, html) = await (await ConsoleClient.SignedInAsync(app, ministry.Key)).GetAsync($"/console/published-results?from={day}&to={day}&period=day");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.DoesNotContain("<script>alert(1)", html, StringComparison.Ordinal);
        var names = PlotIn(html, "data-flow=\"partners\"").GetProperty("names").EnumerateArray().Select(n => n.GetString() ?? string.Empty);
        Assert.Contains(names, name => name.StartsWith(Hostile, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Reloading_the_dead_letters_page_after_a_bulk_replay_replays_nothing_again()
    {
        var (_, partner, receiver, _, _, deliveryId, setDown) = await DeadLetterAsync();
        var browser = await ConsoleClient.SignedInAsync(app, partner.Key);
        setDown(false);
        var replay = await browser.PostFormAsync("/console/dead-letters", "/console/dead-letters?handler=Replay", new() { ["ids"] = deliveryId.ToString() });
        Assert.Equal(HttpStatusCode.Redirect, replay.StatusCode);
        var (_, shown) = await browser.GetAsync(Target(replay));
        Assert.Contains($"data-replayed=\"{deliveryId}\"", shown, StringComparison.Ordinal);
        await DeliveryTestSettings.EventuallyAsync(async () => (await app.DeliveryStateAsync(deliveryId)).State == "delivered", "delivered");

        var (reloadStatus, reloaded) = await browser.GetAsync(Target(replay));

        Assert.Equal(HttpStatusCode.OK, reloadStatus);
        Assert.DoesNotContain("data-replayed", reloaded, StringComparison.Ordinal);
        Assert.Single(await app.AuditRecordsAsync("action = 'delivery.replay' AND resource_id = @deliveryId", new { deliveryId }));
        Assert.Equal(2, receiver.Received.Count);
    }

    [Fact]
    public async Task An_outsider_sees_none_of_another_agencys_subscriptions_deliveries_or_restricted_alerts_and_cannot_replay_them()
    {
        var (_, partner, _, _, alertId, deliveryId, _) = await DeadLetterAsync();
        var outsider = await AgencyAsync("Croatian Police", "HR", Scopes.AlertsRead, Scopes.AlertsWrite, Scopes.SubscriptionsManage, Scopes.AuditRead);
        var browser = await ConsoleClient.SignedInAsync(app, outsider.Key);

        var (_, home) = await browser.GetAsync("/console");
        var (_, letters) = await browser.GetAsync("/console/dead-letters");
        var (deliveryStatus, delivery) = await browser.GetAsync($"/console/deliveries/{deliveryId}");
        var (alertStatus, alert) = await browser.GetAsync($"/console/alerts/{alertId}");
        var replay = await browser.PostFormAsync("/console/dead-letters", "/console/dead-letters?handler=Replay", new() { ["ids"] = deliveryId.ToString() });

        Assert.DoesNotContain(deliveryId.ToString(), home, StringComparison.Ordinal);
        Assert.DoesNotContain(partner.Id.ToString(), home, StringComparison.Ordinal);
        Assert.DoesNotContain(deliveryId.ToString(), letters, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, deliveryStatus);
        Assert.DoesNotContain("HTTP 503", delivery, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, alertStatus);
        Assert.DoesNotContain("Smuggling", alert, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(WebUtility.HtmlEncode(partner.Name), alert, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Redirect, replay.StatusCode);
        Assert.Contains("No delivery with that id is visible to you.", (await browser.GetAsync(Target(replay))).Html, StringComparison.Ordinal);
        Assert.Equal(("dead", 1), await app.DeliveryStateAsync(deliveryId));
    }

    [Fact]
    public async Task The_originator_sees_its_alerts_versions_audience_ledger_and_feedback_on_the_alert_page()
    {
        var (originator, partner, _, _, alertId, deliveryId, _) = await DeadLetterAsync();
        var feedback = await partner.Client.PostAsync($"/api/v1/alerts/{alertId}/feedback", Samples.Json(new JsonObject { ["kind"] = "hit", ["note"] = "Same van seen at Horgos" }), Ct);
        Assert.Equal(HttpStatusCode.Created, feedback.StatusCode);
        var browser = await ConsoleClient.SignedInAsync(app, originator.Key);

        var (status, page) = await browser.GetAsync($"/console/alerts/{alertId}");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains(System.Text.Encodings.Web.HtmlEncoder.Default.Encode("amber+strict"), page, StringComparison.Ordinal);
        Assert.Contains(WebUtility.HtmlEncode(partner.Name), page, StringComparison.Ordinal);
        Assert.Contains($"data-delivery=\"{deliveryId}\"", page, StringComparison.Ordinal);
        Assert.Contains("Same van seen at Horgos", page, StringComparison.Ordinal);
        Assert.DoesNotContain("Only the originating agency may read earlier versions", page, StringComparison.Ordinal);
        Assert.NotEmpty(await app.AuditRecordsAsync("action = 'alert.read' AND resource_id = @alertId AND agency_id = @id", new { alertId, id = originator.Id }));

        // The recipient reads the same page: the alert and its own feedback, not the ledger or the earlier versions.
        var recipient = await ConsoleClient.SignedInAsync(app, partner.Key);
        var (recipientStatus, recipientPage) = await recipient.GetAsync($"/console/alerts/{alertId}");
        Assert.Equal(HttpStatusCode.OK, recipientStatus);
        Assert.DoesNotContain($"data-delivery=\"{deliveryId}\"", recipientPage, StringComparison.Ordinal);
        Assert.Contains("Only the originating agency may read earlier versions", recipientPage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_alert_page_shows_the_originator_the_alerts_it_may_see_that_share_an_indicator_and_only_the_agency_of_one_it_may_not()
    {
        var owner = await AgencyAsync("Border Police Directorate", "RS", Scopes.AlertsWrite, Scopes.AlertsRead);
        var partner = await AgencyAsync("Hungarian Police", "HU", Scopes.AlertsWrite, Scopes.AlertsRead);
        var outsider = await AgencyAsync("Croatian Border Police", "HR", Scopes.AlertsWrite, Scopes.AlertsRead);
        var digits = Random.Shared.Next(1_000_000, 9_999_999).ToString(System.Globalization.CultureInfo.InvariantCulture);
        JsonObject Carrying(string tlp, IEnumerable<Guid>? audience = null)
        {
            var alert = TestData.SmugglingAlert(tlp, agencies: audience);
            alert["title"] = $"Van with phone {digits} ({tlp})";
            alert["indicators"] = new JsonArray(new JsonObject { ["type"] = "phone", ["value"] = $"+38164{digits}", ["description"] = "Driver's phone" });
            return alert;
        }

        // The owner's alert goes to the partner only; the partner's and the outsider's alerts are green (anyone may see them).
        var mine = await owner.PublishAsync(Carrying("amber+strict", [partner.Id]));
        var partners = await partner.PublishAsync(Carrying("green"));
        var outsiders = await outsider.PublishAsync(Carrying("green"));
        var correlate = app.Services.GetServices<Microsoft.Extensions.Hosting.IHostedService>().OfType<IntelSharing.Api.Features.Indicators.CorrelateAlerts>().Single();
        while (await correlate.RunOnceAsync(Ct) > 0)
        {
        }

        var browser = await ConsoleClient.SignedInAsync(app, owner.Key);
        var (status, page) = await browser.GetAsync($"/console/alerts/{mine}");

        // Both other alerts are visible to the owner: listed, linked, with the shared number.
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains($"href=\"/console/alerts/{partners}\"", page, StringComparison.Ordinal);
        Assert.Contains($"href=\"/console/alerts/{outsiders}\"", page, StringComparison.Ordinal);
        Assert.Contains(System.Text.Encodings.Web.HtmlEncoder.Default.Encode($"phone +38164{digits}"), page, StringComparison.Ordinal);
        // The outsider may not see the owner's alert: the owner is told its agency, not asked to reveal anything.
        var hidden = page[page.IndexOf("id=\"hidden-correlations\"", StringComparison.Ordinal)..];
        Assert.Contains(WebUtility.HtmlEncode(outsider.Name), hidden, StringComparison.Ordinal);
        Assert.DoesNotContain(WebUtility.HtmlEncode(partner.Name), hidden, StringComparison.Ordinal);

        // The outsider's own page lists the partner's green alert and nothing of the owner's: not the alert, not a count.
        var outsiderBrowser = await ConsoleClient.SignedInAsync(app, outsider.Key);
        var (outsiderStatus, outsiderPage) = await outsiderBrowser.GetAsync($"/console/alerts/{outsiders}");
        Assert.Equal(HttpStatusCode.OK, outsiderStatus);
        Assert.Contains($"href=\"/console/alerts/{partners}\"", outsiderPage, StringComparison.Ordinal);
        Assert.DoesNotContain(mine.ToString(), outsiderPage, StringComparison.Ordinal);
        Assert.DoesNotContain(System.Text.Encodings.Web.HtmlEncoder.Default.Encode("(amber+strict)"), outsiderPage, StringComparison.Ordinal);
        Assert.DoesNotContain(WebUtility.HtmlEncode(owner.Name), outsiderPage, StringComparison.Ordinal);

        // Only the originator's page asks which agencies may not see the alert: another agency's view leaves no refused read of it.
        Assert.NotEmpty(await app.AuditRecordsAsync("action = 'alert.correlations.hidden' AND resource_id = @mine AND agency_id = @id", new { mine, id = owner.Id }));
        var (partnersStatus, partnersPage) = await browser.GetAsync($"/console/alerts/{partners}");
        Assert.Equal(HttpStatusCode.OK, partnersStatus);
        Assert.Contains($"href=\"/console/alerts/{mine}\"", partnersPage, StringComparison.Ordinal);
        Assert.DoesNotContain("id=\"hidden-correlations\"", partnersPage, StringComparison.Ordinal);
        Assert.Empty(await app.AuditRecordsAsync("action = 'alert.correlations.hidden' AND resource_id = @partners", new { partners }));
    }

    [Fact]
    public async Task Verifying_the_audit_chain_from_the_console_shows_an_intact_chain_to_an_auditor_only()
    {
        var auditor = await AgencyAsync("Internal Control Sector", "RS", Scopes.AuditRead);
        var partner = await AgencyAsync("Hungarian Police", "HU", Scopes.AlertsRead);
        await app.SealAuditAsync();
        var browser = await ConsoleClient.SignedInAsync(app, auditor.Key);

        var verified = await browser.PostFormAsync("/console/audit", "/console/audit", []);
        var html = await verified.Content.ReadAsStringAsync(Ct);

        Assert.Equal(HttpStatusCode.OK, verified.StatusCode);
        Assert.Contains("data-ok=\"true\"", html, StringComparison.Ordinal);
        Assert.Contains("The chain is intact.", html, StringComparison.Ordinal);
        Assert.NotEmpty(await app.AuditRecordsAsync("action = 'audit.verify' AND agency_id = @id", new { id = auditor.Id }));
        var denied = await (await ConsoleClient.SignedInAsync(app, partner.Key)).Http.GetAsync("/console/audit", Ct);
        Assert.Equal(HttpStatusCode.Redirect, denied.StatusCode);
        Assert.StartsWith("/console/denied", Target(denied), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Labels_are_Serbian_for_a_Serbian_browser_and_the_switch_changes_them()
    {
        var browser = new ConsoleClient(app, acceptLanguage: "sr-Latn-RS,sr;q=0.9,en;q=0.5");

        var (_, serbian) = await browser.GetAsync("/console/sign-in");
        var switched = await browser.PostFormAsync("/console/sign-in", "/console/language", new() { ["language"] = "en", ["returnUrl"] = "/console/sign-in" });
        var (_, english) = await browser.GetAsync("/console/sign-in");

        Assert.Contains("<html lang=\"sr\">", serbian, StringComparison.Ordinal);
        Assert.Contains("Prijava", serbian, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Redirect, switched.StatusCode);
        Assert.Contains("<html lang=\"en\">", english, StringComparison.Ordinal);
        Assert.Contains("Sign in", english, StringComparison.Ordinal);
    }
}

public sealed class ConsoleTestsOnSqlite(ConsoleSqliteFixture app) : ConsoleTests<ConsoleSqliteFixture>(app), IClassFixture<ConsoleSqliteFixture>;

public sealed class ConsoleTestsOnPostgres(ConsolePostgresFixture app) : ConsoleTests<ConsolePostgresFixture>(app), IClassFixture<ConsolePostgresFixture>;
