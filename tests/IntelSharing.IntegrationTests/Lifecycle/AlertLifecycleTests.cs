using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Dapper;
using IntelSharing.Api.Domain;
using IntelSharing.Api.Features.Alerts;
using IntelSharing.Api.Infrastructure.Security;
using IntelSharing.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace IntelSharing.IntegrationTests.Lifecycle;

/// <summary>Versions, narrowing and widening, recall, feedback and expiry — and what partners receive for each.</summary>
public abstract class AlertLifecycleTests<TFixture>(TFixture app) : IAsyncLifetime
    where TFixture : ApiFixture, IFakeClockFixture
{
    private const string Purpose = "Investigation 2026/114 into the Kurdish-route network";
    private readonly PartnerRig _partners = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public ValueTask DisposeAsync() => _partners.DisposeAsync();

    private Task<TestAgency> AgencyAsync(string name, string country = "HU")
    {
        return CreateAsync();

        async Task<TestAgency> CreateAsync()
        {
            var agency = await app.CreateAgencyAsync(name, country, AgencyKind.Police, Scopes.AlertsRead, Scopes.AlertsWrite, Scopes.SubscriptionsManage);
            agency.Client.DefaultRequestHeaders.Add("X-Purpose", Purpose);
            return agency;
        }
    }

    private async Task<PartnerReceiver> SubscribedReceiverAsync(TestAgency agency) => (await _partners.SubscribedReceiverAsync(agency)).Receiver;

    private static async Task<(Guid Id, string ETag)> SubmitAsync(TestAgency originator, JsonObject alert)
    {
        var response = await originator.Client.PostAsync("/api/v1/alerts", Samples.Json(alert), Ct);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return ((await response.ReadJsonAsync()).GetProperty("id").GetGuid(), response.Headers.ETag!.Tag);
    }

    private static async Task<HttpResponseMessage> PutAsync(TestAgency caller, Guid id, JsonObject alert, string? ifMatch)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, $"/api/v1/alerts/{id}") { Content = Samples.Json(alert) };
        if (ifMatch is not null)
        {
            request.Headers.TryAddWithoutValidation("If-Match", ifMatch);
        }

        return await caller.Client.SendAsync(request, Ct);
    }

    private JsonObject AlertNamingAPerson()
    {
        var alert = Samples.SmugglingAlert();
        alert["persons"] = new JsonArray(new JsonObject { ["fullName"] = "Dragan Petrović", ["category"] = "suspect", ["nationality"] = "RS" });
        alert["reviewAt"] = app.Clock.GetUtcNow().AddDays(30).ToString("O");
        alert["expiresAt"] = app.Clock.GetUtcNow().AddDays(60).ToString("O");
        return alert;
    }

    [Fact]
    public async Task Updating_without_if_match_is_428_with_a_stale_etag_412_and_neither_changes_anything()
    {
        var originator = await AgencyAsync("Border Police Directorate", "RS");
        var (id, etag) = await SubmitAsync(originator, Samples.SmugglingAlert());
        var changed = Samples.SmugglingAlert();
        changed["severity"] = "critical";
        Assert.Equal(HttpStatusCode.OK, (await PutAsync(originator, id, changed, etag)).StatusCode);
        var before = await app.CountRowsAsync();

        var missing = await PutAsync(originator, id, changed, null);
        var stale = await PutAsync(originator, id, changed, etag);

        Assert.Equal(HttpStatusCode.PreconditionRequired, missing.StatusCode);
        Assert.Equal(HttpStatusCode.PreconditionFailed, stale.StatusCode);
        Assert.Contains("\"2\"", (await stale.ReadJsonAsync()).GetProperty("detail").GetString());
        Assert.Equal(before, await app.CountRowsAsync());
        var current = await originator.Client.GetAsync($"/api/v1/alerts/{id}", Ct);
        Assert.Equal("\"2\"", current.Headers.ETag!.Tag);
        Assert.Equal("critical", (await current.ReadJsonAsync()).GetProperty("severity").GetString());
    }

    [Fact]
    public async Task Updating_with_a_weak_etag_is_412_even_when_it_names_the_current_version_and_changes_nothing()
    {
        var originator = await AgencyAsync("Border Police Directorate", "RS");
        var (id, etag) = await SubmitAsync(originator, Samples.SmugglingAlert());
        var changed = Samples.SmugglingAlert();
        changed["severity"] = "critical";
        var before = await app.CountRowsAsync();

        var weak = await PutAsync(originator, id, changed, "W/" + etag);

        Assert.Equal(HttpStatusCode.PreconditionFailed, weak.StatusCode);
        var problem = await weak.ReadJsonAsync();
        Assert.Equal("urn:intelsharing:problem:precondition-failed", problem.GetProperty("type").GetString());
        Assert.Contains("weak ETag never matches If-Match", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(before, await app.CountRowsAsync());
        var current = await originator.Client.GetAsync($"/api/v1/alerts/{id}", Ct);
        Assert.Equal(etag, current.Headers.ETag!.Tag);
        Assert.Equal("high", (await current.ReadJsonAsync()).GetProperty("severity").GetString());
        // The strong tag still works: the refusal was the comparison, not the version.
        Assert.Equal(HttpStatusCode.OK, (await PutAsync(originator, id, changed, etag)).StatusCode);
    }

    [Fact]
    public async Task Only_the_originator_may_update_a_recipient_gets_403_and_an_outsider_404()
    {
        var originator = await AgencyAsync("Border Police Directorate", "RS");
        var recipient = await AgencyAsync("Hungarian Police");
        var outsider = await AgencyAsync("Croatian Police", "HR");
        var alert = Samples.SmugglingAlert();
        alert["tlp"] = "amber+strict";
        alert["audience"] = new JsonObject { ["agencies"] = new JsonArray(recipient.Id.ToString()) };
        var (id, etag) = await SubmitAsync(originator, alert);

        Assert.Equal(HttpStatusCode.Forbidden, (await PutAsync(recipient, id, alert, etag)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await PutAsync(outsider, id, alert, etag)).StatusCode);
    }

    [Fact]
    public async Task An_update_reaches_previous_recipients_as_alert_updated_and_narrowing_sends_alert_revoked_without_content()
    {
        var originator = await AgencyAsync("Border Police Directorate", "RS");
        var staying = await AgencyAsync("Hungarian Police");
        var leaving = await AgencyAsync("Austrian Police", "AT");
        var stayingReceiver = await SubscribedReceiverAsync(staying);
        var leavingReceiver = await SubscribedReceiverAsync(leaving);
        var alert = Samples.SmugglingAlert();
        alert["audience"] = new JsonObject { ["agencies"] = new JsonArray(staying.Id.ToString(), leaving.Id.ToString()) };
        var (id, etag) = await SubmitAsync(originator, alert);
        await stayingReceiver.WaitForAsync(1);
        await leavingReceiver.WaitForAsync(1);

        alert["audience"] = new JsonObject { ["agencies"] = new JsonArray(staying.Id.ToString()) };
        alert["summary"] = "Update: the truck left Preševo at 21:40; crossing expected near Horgoš after midnight.";
        Assert.Equal(HttpStatusCode.OK, (await PutAsync(originator, id, alert, etag)).StatusCode);
        await stayingReceiver.WaitForAsync(2);
        await leavingReceiver.WaitForAsync(2);

        var update = stayingReceiver.Received[1];
        Assert.Equal("alert.updated", update.Type);
        Assert.Equal(2, update.Json.GetProperty("data").GetProperty("version").GetInt32());
        Assert.Contains("21:40", update.Json.GetProperty("data").GetProperty("summary").GetString());
        var revoked = leavingReceiver.Received[1];
        Assert.Equal("alert.revoked", revoked.Type);
        Assert.False(revoked.Json.GetProperty("data").TryGetProperty("summary", out _), "a revocation carries no content");
        Assert.DoesNotContain("21:40", revoked.Body);
        Assert.Equal(HttpStatusCode.NotFound, (await leaving.Client.GetAsync($"/api/v1/alerts/{id}", Ct)).StatusCode);
    }

    [Fact]
    public async Task A_recipient_cannot_pass_on_an_h2_alert_and_the_originator_widening_it_publishes_to_the_new_agency()
    {
        var originator = await AgencyAsync("Border Police Directorate", "RS");
        var recipient = await AgencyAsync("Hungarian Police");
        var added = await AgencyAsync("Europol", "NL");
        var addedReceiver = await SubscribedReceiverAsync(added);
        var alert = Samples.SmugglingAlert();
        alert["tlp"] = "red";
        alert["handling"] = new JsonObject { ["code"] = "H2" };
        alert["audience"] = new JsonObject { ["agencies"] = new JsonArray(recipient.Id.ToString()) };
        var (id, _) = await SubmitAsync(originator, alert);
        var share = new JsonObject { ["agencies"] = new JsonArray(added.Id.ToString()) };
        var before = await app.CountRowsAsync();

        var refused = await recipient.Client.PostAsync($"/api/v1/alerts/{id}/share", Samples.Json(share), Ct);

        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Contains("H2", (await refused.ReadJsonAsync()).GetProperty("detail").GetString());
        Assert.Equal(before, await app.CountRowsAsync());
        Assert.Equal(HttpStatusCode.NotFound, (await added.Client.GetAsync($"/api/v1/alerts/{id}", Ct)).StatusCode);

        var shared = await originator.Client.PostAsync($"/api/v1/alerts/{id}/share", Samples.Json(share), Ct);
        Assert.Equal(HttpStatusCode.OK, shared.StatusCode);
        await addedReceiver.WaitForAsync(1);
        Assert.Equal("alert.published", addedReceiver.Received[0].Type);
        Assert.Equal(HttpStatusCode.OK, (await added.Client.GetAsync($"/api/v1/alerts/{id}", Ct)).StatusCode);
    }

    [Fact]
    public async Task Revoking_tells_every_agency_that_received_any_version_and_leaves_a_tombstone()
    {
        var originator = await AgencyAsync("Border Police Directorate", "RS");
        var partner = await AgencyAsync("Hungarian Police");
        var receiver = await SubscribedReceiverAsync(partner);
        var (id, etag) = await SubmitAsync(originator, Samples.CyberAlert());
        await receiver.WaitForAsync(1);

        var revoke = await originator.Client.PostAsync($"/api/v1/alerts/{id}/revoke", Samples.Json(new JsonObject { ["reason"] = "Source withdrew the report." }), Ct);
        Assert.Equal(HttpStatusCode.OK, revoke.StatusCode);
        await receiver.WaitForAsync(2);

        var notice = receiver.Received[1];
        Assert.Equal("alert.revoked", notice.Type);
        Assert.Equal("Source withdrew the report.", notice.Json.GetProperty("data").GetProperty("reason").GetString());
        var tombstone = await (await partner.Client.GetAsync($"/api/v1/alerts/{id}", Ct)).ReadJsonAsync();
        Assert.Equal("revoked", tombstone.GetProperty("status").GetString());
        Assert.False(tombstone.TryGetProperty("indicators", out _));
        Assert.Equal(HttpStatusCode.Conflict, (await PutAsync(originator, id, Samples.CyberAlert(), "\"2\"")).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await originator.Client.PostAsync($"/api/v1/alerts/{id}/revoke", Samples.Json(new JsonObject { ["reason"] = "again" }), Ct)).StatusCode);
    }

    [Fact]
    public async Task Feedback_reaches_the_originators_endpoint_and_each_recipient_sees_only_its_own()
    {
        var originator = await AgencyAsync("Border Police Directorate", "RS");
        var hungary = await AgencyAsync("Hungarian Police");
        var croatia = await AgencyAsync("Croatian Police", "HR");
        var originatorReceiver = await SubscribedReceiverAsync(originator);
        var (id, _) = await SubmitAsync(originator, Samples.SmugglingAlert());

        var hit = await hungary.Client.PostAsync($"/api/v1/alerts/{id}/feedback", Samples.Json(new JsonObject { ["kind"] = "hit", ["note"] = "Same plate seen at Röszke on 27 Nov." }), Ct);
        var falsePositive = await croatia.Client.PostAsync($"/api/v1/alerts/{id}/feedback", Samples.Json(new JsonObject { ["kind"] = "false_positive" }), Ct);
        Assert.Equal(HttpStatusCode.Created, hit.StatusCode);
        Assert.Equal(HttpStatusCode.Created, falsePositive.StatusCode);
        await originatorReceiver.WaitForAsync(2);

        Assert.All(originatorReceiver.Received, r => Assert.Equal("alert.feedback", r.Type));
        Assert.Contains(originatorReceiver.Received, r => r.Json.GetProperty("data").GetProperty("kind").GetString() == "hit"
            && r.Json.GetProperty("data").GetProperty("agency").GetProperty("id").GetGuid() == hungary.Id);
        Assert.Equal(2, (await originator.Client.GetFromJsonAsync<JsonElement>($"/api/v1/alerts/{id}/feedback", Ct)).GetProperty("items").GetArrayLength());
        var own = await hungary.Client.GetFromJsonAsync<JsonElement>($"/api/v1/alerts/{id}/feedback", Ct);
        Assert.Equal("hit", Assert.Single(own.GetProperty("items").EnumerateArray()).GetProperty("kind").GetString());
        Assert.Equal(HttpStatusCode.Forbidden, (await originator.Client.PostAsync($"/api/v1/alerts/{id}/feedback", Samples.Json(new JsonObject { ["kind"] = "hit" }), Ct)).StatusCode);
    }

    [Fact]
    public async Task Feedback_on_a_revoked_alert_is_409_and_nothing_is_stored_or_sent()
    {
        var originator = await AgencyAsync("Border Police Directorate", "RS");
        var hungary = await AgencyAsync("Hungarian Police");
        var originatorReceiver = await SubscribedReceiverAsync(originator);
        var (id, _) = await SubmitAsync(originator, Samples.SmugglingAlert());
        Assert.Equal(HttpStatusCode.OK, (await originator.Client.PostAsync($"/api/v1/alerts/{id}/revoke", Samples.Json(new JsonObject { ["reason"] = "Source withdrew the report." }), Ct)).StatusCode);
        var before = await app.CountRowsAsync();

        var response = await hungary.Client.PostAsync($"/api/v1/alerts/{id}/feedback", Samples.Json(new JsonObject { ["kind"] = "hit", ["note"] = "Same plate seen at Röszke." }), Ct);

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        var problem = await response.ReadJsonAsync();
        Assert.Equal("urn:intelsharing:problem:conflict", problem.GetProperty("type").GetString());
        Assert.Contains("revoked", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(before, await app.CountRowsAsync());
        Assert.Equal(0, (await hungary.Client.GetFromJsonAsync<JsonElement>($"/api/v1/alerts/{id}/feedback", Ct)).GetProperty("items").GetArrayLength());
        Assert.DoesNotContain(originatorReceiver.Received, r => r.Type == "alert.feedback");
    }

    [Fact]
    public async Task An_expired_alert_is_purged_everywhere_to_a_tombstone_and_its_recipients_are_told()
    {
        var originator = await AgencyAsync("Border Police Directorate", "RS");
        var partner = await AgencyAsync("Hungarian Police");
        var receiver = await SubscribedReceiverAsync(partner);
        var (id, etag) = await SubmitAsync(originator, AlertNamingAPerson());
        await receiver.WaitForAsync(1);
        Assert.Contains("Petrović", receiver.Received[0].Body);
        var updated = AlertNamingAPerson();
        updated["summary"] = "Second sighting near Subotica.";
        Assert.Equal(HttpStatusCode.OK, (await PutAsync(originator, id, updated, etag)).StatusCode);
        await receiver.WaitForAsync(2);
        // Let the update's outcome be recorded first: jumping 61 days ahead would expire its lease and resend it.
        await DeliveryTestSettings.EventuallyAsync(async () =>
        {
            await using var db = await app.Database.OpenAsync(Ct);
            return await db.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM deliveries WHERE alert_id = @id AND state <> 'delivered'", new { id }) == 0;
        }, "the update to be recorded as delivered");

        app.Advance(TimeSpan.FromDays(61));
        var purged = await app.Services.GetRequiredService<ExpirePersonalData>().PurgeDueAsync(Ct);
        Assert.True(purged >= 1);
        await receiver.WaitForAsync(3);

        Assert.Equal("alert.expired", receiver.Received[2].Type);
        Assert.DoesNotContain("Petrović", receiver.Received[2].Body);
        var tombstone = await (await partner.Client.GetAsync($"/api/v1/alerts/{id}", Ct)).ReadJsonAsync();
        Assert.Equal("expired", tombstone.GetProperty("status").GetString());
        await using var connection = await app.Database.OpenAsync(Ct);
        foreach (var sql in new[]
                 {
                     "SELECT document FROM alerts WHERE id = @id",
                     "SELECT document FROM alert_versions WHERE alert_id = @id",
                     "SELECT payload FROM events WHERE alert_id = @id",
                     "SELECT objects FROM stix_renderings WHERE alert_id = @id",
                 })
        {
            var texts = await connection.QueryAsync<string>(sql, new { id });
            Assert.All(texts, t => Assert.DoesNotContain("Petrović", t, StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task Due_for_review_lists_the_originators_own_alerts_past_review_at()
    {
        var originator = await AgencyAsync("Border Police Directorate", "RS");
        var other = await AgencyAsync("Hungarian Police");
        var (due, _) = await SubmitAsync(originator, AlertNamingAPerson());
        var (notPersonal, _) = await SubmitAsync(originator, Samples.SmugglingAlert());

        app.Advance(TimeSpan.FromDays(31));
        var mine = await (await originator.Client.GetAsync("/api/v1/alerts?dueForReview=true&limit=200", Ct)).ReadJsonAsync();
        var theirs = await (await other.Client.GetAsync("/api/v1/alerts?dueForReview=true&limit=200", Ct)).ReadJsonAsync();

        var ids = mine.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("id").GetGuid()).ToList();
        Assert.Contains(due, ids);
        Assert.DoesNotContain(notPersonal, ids);
        Assert.DoesNotContain(theirs.GetProperty("items").EnumerateArray(), i => i.GetProperty("id").GetGuid() == due);
    }
}

public sealed class AlertLifecycleTestsOnSqlite(DeliverySqliteFixture app) : AlertLifecycleTests<DeliverySqliteFixture>(app), IClassFixture<DeliverySqliteFixture>;

public sealed class AlertLifecycleTestsOnPostgres(DeliveryPostgresFixture app) : AlertLifecycleTests<DeliveryPostgresFixture>(app), IClassFixture<DeliveryPostgresFixture>;
