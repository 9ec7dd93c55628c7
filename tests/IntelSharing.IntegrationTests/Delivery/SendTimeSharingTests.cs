using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using IntelSharing.Api.Domain;
using IntelSharing.Api.Features.Alerts;
using IntelSharing.Api.Infrastructure.Security;
using IntelSharing.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace IntelSharing.IntegrationTests.Delivery;

/// <summary>How a replay is asked for (issue 8, item 1).</summary>
public enum ReplayPath
{
    SingleByTheAgency,
    SingleByAnOperator,
    BulkByTheAgency,
    BulkByAnOperator,
}

/// <summary>What happened to the alert or the recipient after the alert was delivered.</summary>
public enum AudienceChange
{
    NarrowedByPut,
    Revoked,
    PersonalDataExpired,
    AgencyDeactivated,
}

public static class ReplayMatrix
{
    public static TheoryData<ReplayPath, AudienceChange> EveryPathAndChange()
    {
        var data = new TheoryData<ReplayPath, AudienceChange>();
        foreach (var path in Enum.GetValues<ReplayPath>())
        {
            foreach (var change in Enum.GetValues<AudienceChange>())
            {
                data.Add(path, change);
            }
        }

        return data;
    }
}

/// <summary>
/// Every send — first, retried, replayed, resumed — is decided by the sharing rules as they are when it is sent
/// (ADR 0008), and paused subscriptions queue what they must be told. Real loopback receivers, a fake clock.
/// </summary>
public abstract class SendTimeSharingTests<TFixture>(TFixture app) : IAsyncLifetime
    where TFixture : ApiFixture, IFakeClockFixture
{
    private const string Person = "Dragan Petrović";
    private readonly PartnerRig _partners = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public ValueTask DisposeAsync() => _partners.DisposeAsync();

    [Theory]
    [MemberData(nameof(ReplayMatrix.EveryPathAndChange), MemberType = typeof(ReplayMatrix))]
    public async Task Replaying_a_delivered_alert_after_the_audience_changed_sends_no_content_and_leaves_the_ledger_saying_delivered(ReplayPath path, AudienceChange change)
    {
        var start = app.Clock.GetUtcNow();
        var originator = await AgencyAsync("Border Police Directorate", "RS");
        var recipient = await AgencyAsync("Hungarian Police");
        var staying = await AgencyAsync("Europol", "NL");
        var (receiver, subscriptionId) = await SubscribedReceiverAsync(recipient);
        var alert = RedAlertNamingAPerson(recipient.Id, staying.Id);
        var (alertId, _) = await SubmitAsync(originator, alert);
        await receiver.WaitForAsync(1);
        var contentId = await DeliveryIdAsync(originator, alertId, subscriptionId, "alert.published");
        await WaitForStateAsync(contentId, "delivered");

        var notices = await ChangeAsync(change, originator, recipient, staying, alertId, alert);
        await receiver.WaitForAsync(1 + notices);
        var afterChange = receiver.Received.Count;
        if (notices > 0)
        {
            await WaitForNoticesDeliveredAsync(originator, alertId, subscriptionId);
        }

        var response = await ReplayAsync(path, recipient, contentId, subscriptionId, start);

        var bulk = path is ReplayPath.BulkByTheAgency or ReplayPath.BulkByAnOperator;
        if (change == AudienceChange.AgencyDeactivated && path is ReplayPath.SingleByTheAgency or ReplayPath.BulkByTheAgency)
        {
            // A deactivated agency's keys are refused before anything else happens.
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }
        else if (bulk)
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var result = await response.ReadJsonAsync();
            Assert.Equal(1, result.GetProperty("refused").GetInt32());
            // The notice is no content: it replays like any other delivery.
            Assert.Equal(notices, result.GetProperty("replayed").GetInt32());
            await receiver.WaitForAsync(afterChange + notices);
        }
        else
        {
            Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
            var problem = await response.ReadJsonAsync();
            Assert.Equal("urn:intelsharing:problem:replay-refused", problem.GetProperty("type").GetString());
            Assert.Contains(ExpectedReason(change), problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }

        Assert.Equal(("delivered", 1), await app.DeliveryStateAsync(contentId));
        var sinceChange = receiver.Received.Skip(1).ToList();
        Assert.Equal(afterChange - 1 + (bulk && response.IsSuccessStatusCode ? notices : 0), sinceChange.Count);
        Assert.All(sinceChange, w => Assert.DoesNotContain(Person, w.Body, StringComparison.Ordinal));
        Assert.All(sinceChange, w => Assert.Contains(w.Type, new[] { "alert.revoked", "alert.expired" }));
    }

    [Fact]
    public async Task A_retry_that_comes_due_after_the_audience_was_narrowed_sends_nothing()
    {
        var originator = await AgencyAsync("Border Police Directorate", "RS");
        var recipient = await AgencyAsync("Hungarian Police");
        var staying = await AgencyAsync("Europol", "NL");
        var (receiver, subscriptionId) = await SubscribedReceiverAsync(recipient);
        receiver.Behaviour = n => new PartnerReceiver.Response(n == 1 ? HttpStatusCode.ServiceUnavailable : HttpStatusCode.NoContent);
        var alert = RedAlertNamingAPerson(recipient.Id, staying.Id);
        var (alertId, etag) = await SubmitAsync(originator, alert);
        var contentId = await DeliveryIdAsync(originator, alertId, subscriptionId, "alert.published");
        await WaitForStateAsync(contentId, "failed");

        alert["audience"] = new JsonObject { ["agencies"] = new JsonArray(staying.Id.ToString()) };
        Assert.Equal(HttpStatusCode.OK, (await PutAsync(originator, alertId, alert, etag)).StatusCode);
        app.Advance(TimeSpan.FromSeconds(6));
        await receiver.WaitForAsync(2);
        await WaitForNoticesDeliveredAsync(originator, alertId, subscriptionId);

        var content = await LedgerEntryAsync(originator, alertId, contentId);
        Assert.Equal("cancelled", content.GetProperty("state").GetString());
        Assert.Equal(1, content.GetProperty("attempts").GetInt32());
        Assert.Equal(2, receiver.Received.Count);
        Assert.Equal("alert.revoked", receiver.Received[1].Type);
        Assert.DoesNotContain(Person, receiver.Received[1].Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_retry_that_comes_due_after_the_agency_was_deactivated_sends_nothing_and_ends_cancelled_saying_why()
    {
        var originator = await AgencyAsync("Border Police Directorate", "RS");
        var recipient = await AgencyAsync("Hungarian Police");
        var (receiver, subscriptionId) = await SubscribedReceiverAsync(recipient);
        receiver.Behaviour = n => new PartnerReceiver.Response(n == 1 ? HttpStatusCode.ServiceUnavailable : HttpStatusCode.NoContent);
        var (alertId, _) = await SubmitAsync(originator, RedAlertNamingAPerson(recipient.Id));
        var contentId = await DeliveryIdAsync(originator, alertId, subscriptionId, "alert.published");
        await WaitForStateAsync(contentId, "failed");

        var operatorClient = (await app.CreateOperatorAsync()).Client;
        Assert.Equal(HttpStatusCode.OK, (await operatorClient.PostAsync($"/api/v1/agencies/{recipient.Id}/deactivate", null, Ct)).StatusCode);
        app.Advance(TimeSpan.FromSeconds(6));

        await WaitForStateAsync(contentId, "cancelled");
        var content = await LedgerEntryAsync(originator, alertId, contentId);
        Assert.Contains("deactivated", content.GetProperty("lastError").GetString(), StringComparison.Ordinal);
        Assert.Equal(1, content.GetProperty("attempts").GetInt32());
        Assert.Single(receiver.Received);
        var audit = await (await operatorClient.GetAsync($"/api/v1/audit?action=delivery.cancelled&resourceId={contentId}", Ct)).ReadJsonAsync();
        var record = Assert.Single(audit.GetProperty("items").EnumerateArray());
        Assert.Equal("agency_inactive", record.GetProperty("detail").GetProperty("reason").GetString());
    }

    [Fact]
    public async Task A_retry_of_a_version_naming_a_person_that_a_later_version_removed_never_sends_the_person()
    {
        var originator = await AgencyAsync("Border Police Directorate", "RS");
        var recipient = await AgencyAsync("Hungarian Police");
        var (receiver, subscriptionId) = await SubscribedReceiverAsync(recipient);
        receiver.Behaviour = n => new PartnerReceiver.Response(n == 1 ? HttpStatusCode.ServiceUnavailable : HttpStatusCode.NoContent);
        var alert = RedAlertNamingAPerson(recipient.Id);
        var (alertId, etag) = await SubmitAsync(originator, alert);
        var firstId = await DeliveryIdAsync(originator, alertId, subscriptionId, "alert.published");
        await WaitForStateAsync(firstId, "failed");

        alert.Remove("persons");
        alert["summary"] = "Update: the driver is no longer named; the truck was stopped at Horgoš.";
        Assert.Equal(HttpStatusCode.OK, (await PutAsync(originator, alertId, alert, etag)).StatusCode);
        await receiver.WaitForAsync(2);
        app.Advance(TimeSpan.FromSeconds(6));

        await WaitForStateAsync(firstId, "cancelled");
        var first = await LedgerEntryAsync(originator, alertId, firstId);
        Assert.Contains("superseded by version 2", first.GetProperty("lastError").GetString(), StringComparison.Ordinal);
        Assert.Equal(2, receiver.Received.Count);
        Assert.Equal("alert.updated", receiver.Received[1].Type);
        Assert.DoesNotContain(Person, receiver.Received[1].Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_replay_queued_while_paused_of_a_version_a_later_update_superseded_is_cancelled_when_resumed()
    {
        var originator = await AgencyAsync("Border Police Directorate", "RS");
        var recipient = await AgencyAsync("Hungarian Police");
        var (receiver, subscriptionId) = await SubscribedReceiverAsync(recipient);
        var alert = RedAlertNamingAPerson(recipient.Id);
        var (alertId, etag) = await SubmitAsync(originator, alert);
        await receiver.WaitForAsync(1);
        var firstId = await DeliveryIdAsync(originator, alertId, subscriptionId, "alert.published");
        await WaitForStateAsync(firstId, "delivered");

        await PauseAsync(recipient, subscriptionId);
        // Still the current version: the replay is accepted and waits for the resume.
        Assert.Equal(HttpStatusCode.OK, (await recipient.Client.PostAsync($"/api/v1/deliveries/{firstId}/replay", null, Ct)).StatusCode);
        alert.Remove("persons");
        Assert.Equal(HttpStatusCode.OK, (await PutAsync(originator, alertId, alert, etag)).StatusCode);
        Assert.Equal(("pending", 1), await app.DeliveryStateAsync(firstId));
        await ResumeAsync(recipient, subscriptionId);

        await receiver.WaitForAsync(2);
        await WaitForStateAsync(firstId, "cancelled");
        Assert.Equal(2, receiver.Received.Count);
        Assert.Equal("alert.updated", receiver.Received[1].Type);
        Assert.DoesNotContain(Person, receiver.Received[1].Body, StringComparison.Ordinal);
        var first = await LedgerEntryAsync(originator, alertId, firstId);
        Assert.Contains("superseded", first.GetProperty("lastError").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_alert_published_while_a_subscription_is_paused_waits_as_pending_and_is_sent_on_resume()
    {
        var originator = await AgencyAsync("Border Police Directorate", "RS");
        var paused = await AgencyAsync("Hungarian Police");
        var active = await AgencyAsync("Croatian Police", "HR");
        var (pausedReceiver, pausedSubscription) = await SubscribedReceiverAsync(paused);
        var (activeReceiver, _) = await SubscribedReceiverAsync(active);
        await PauseAsync(paused, pausedSubscription);

        var (alertId, _) = await SubmitAsync(originator, Samples.SmugglingAlert());
        await activeReceiver.WaitForAsync(1);

        var pending = await DeliveryIdAsync(originator, alertId, pausedSubscription, "alert.published");
        // It waits held out of the claims' way (ADR 48), and still shows as pending.
        await DeliveryTestSettings.EventuallyAsync(() => app.DeliveryHeldAsync(pending), "the paused subscription's delivery to be held");
        Assert.Equal("pending", (await LedgerEntryAsync(originator, alertId, pending)).GetProperty("state").GetString());
        Assert.Empty(pausedReceiver.Received);

        await ResumeAsync(paused, pausedSubscription);
        await pausedReceiver.WaitForAsync(1);
        Assert.Equal("alert.published", pausedReceiver.Received[0].Type);
        Assert.Equal(alertId, pausedReceiver.Received[0].Json.GetProperty("data").GetProperty("id").GetGuid());
        await WaitForStateAsync(pending, "delivered");
        Assert.False(await app.DeliveryHeldAsync(pending));
    }

    [Fact]
    public async Task A_notice_for_a_deactivated_agency_waits_held_and_is_sent_when_the_agency_is_reactivated()
    {
        var (originator, recipient, receiver, subscriptionId, alertId) = await RedAlertDeliveredAsync();
        var operatorClient = (await app.CreateOperatorAsync()).Client;
        Assert.Equal(HttpStatusCode.OK, (await operatorClient.PostAsync($"/api/v1/agencies/{recipient.Id}/deactivate", null, Ct)).StatusCode);

        await RevokeAsync(originator, alertId);
        var notice = await DeliveryIdAsync(originator, alertId, subscriptionId, "alert.revoked");
        await DeliveryTestSettings.EventuallyAsync(() => app.DeliveryHeldAsync(notice), "the deactivated agency's notice to be held");
        Assert.Equal(("pending", 0), await app.DeliveryStateAsync(notice));
        Assert.Single(receiver.Received);

        Assert.Equal(HttpStatusCode.OK, (await operatorClient.PostAsync($"/api/v1/agencies/{recipient.Id}/activate", null, Ct)).StatusCode);
        Assert.False(await app.DeliveryHeldAsync(notice));
        await receiver.WaitForAsync(2);
        Assert.Equal("alert.revoked", receiver.Received[1].Type);
        await WaitForStateAsync(notice, "delivered");
    }

    [Fact]
    public async Task An_alert_revoked_while_a_recipients_subscription_was_paused_reaches_it_as_the_revocation_notice_on_resume()
    {
        var (originator, recipient, receiver, subscriptionId, alertId) = await RedAlertDeliveredAsync();
        await PauseAsync(recipient, subscriptionId);

        await RevokeAsync(originator, alertId);
        var notice = await DeliveryIdAsync(originator, alertId, subscriptionId, "alert.revoked");
        Assert.Equal(("pending", 0), await app.DeliveryStateAsync(notice));
        await ResumeAsync(recipient, subscriptionId);

        await receiver.WaitForAsync(2);
        Assert.Equal("alert.revoked", receiver.Received[1].Type);
        Assert.Equal("The source withdrew the report.", receiver.Received[1].Json.GetProperty("data").GetProperty("reason").GetString());
        Assert.DoesNotContain(Person, receiver.Received[1].Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_alert_narrowed_while_a_subscription_was_paused_sends_no_content_on_resume_only_the_notice()
    {
        var originator = await AgencyAsync("Border Police Directorate", "RS");
        var recipient = await AgencyAsync("Hungarian Police");
        var staying = await AgencyAsync("Europol", "NL");
        var (receiver, subscriptionId) = await SubscribedReceiverAsync(recipient);
        await PauseAsync(recipient, subscriptionId);
        var alert = RedAlertNamingAPerson(recipient.Id, staying.Id);
        var (alertId, etag) = await SubmitAsync(originator, alert);
        var content = await DeliveryIdAsync(originator, alertId, subscriptionId, "alert.published");

        alert["audience"] = new JsonObject { ["agencies"] = new JsonArray(staying.Id.ToString()) };
        Assert.Equal(HttpStatusCode.OK, (await PutAsync(originator, alertId, alert, etag)).StatusCode);
        await ResumeAsync(recipient, subscriptionId);

        await receiver.WaitForAsync(1);
        await WaitForNoticesDeliveredAsync(originator, alertId, subscriptionId);
        var received = Assert.Single(receiver.Received);
        Assert.Equal("alert.revoked", received.Type);
        Assert.DoesNotContain(Person, received.Body, StringComparison.Ordinal);
        Assert.Equal("cancelled", (await LedgerEntryAsync(originator, alertId, content)).GetProperty("state").GetString());
    }

    [Fact]
    public async Task Feedback_given_while_the_originators_subscription_was_paused_reaches_it_on_resume()
    {
        var originator = await AgencyAsync("Border Police Directorate", "RS");
        var recipient = await AgencyAsync("Hungarian Police");
        var (receiver, subscriptionId) = await SubscribedReceiverAsync(originator);
        await PauseAsync(originator, subscriptionId);
        var (alertId, _) = await SubmitAsync(originator, Samples.SmugglingAlert());

        var feedback = await recipient.Client.PostAsync($"/api/v1/alerts/{alertId}/feedback", Samples.Json(new JsonObject { ["kind"] = "hit" }), Ct);
        Assert.Equal(HttpStatusCode.Created, feedback.StatusCode);
        var queued = await DeliveryIdAsync(originator, alertId, subscriptionId, "alert.feedback");
        Assert.Equal(("pending", 0), await app.DeliveryStateAsync(queued));
        await ResumeAsync(originator, subscriptionId);

        await receiver.WaitForAsync(1);
        Assert.Equal("alert.feedback", receiver.Received[0].Type);
        Assert.Equal("hit", receiver.Received[0].Json.GetProperty("data").GetProperty("kind").GetString());
    }

    /// <summary>Applies the change; returns how many notices it sends the recipient.</summary>
    private async Task<int> ChangeAsync(AudienceChange change, TestAgency originator, TestAgency recipient, TestAgency staying, Guid alertId, JsonObject alert)
    {
        switch (change)
        {
            case AudienceChange.NarrowedByPut:
                alert["audience"] = new JsonObject { ["agencies"] = new JsonArray(staying.Id.ToString()) };
                Assert.Equal(HttpStatusCode.OK, (await PutAsync(originator, alertId, alert, "\"1\"")).StatusCode);
                return 1;
            case AudienceChange.Revoked:
                var revoke = await originator.Client.PostAsync($"/api/v1/alerts/{alertId}/revoke", Samples.Json(new JsonObject { ["reason"] = "The source withdrew the report." }), Ct);
                Assert.Equal(HttpStatusCode.OK, revoke.StatusCode);
                return 1;
            case AudienceChange.PersonalDataExpired:
                app.Advance(TimeSpan.FromDays(61));
                Assert.True(await app.Services.GetRequiredService<ExpirePersonalData>().PurgeDueAsync(Ct) >= 1);
                return 1;
            default:
                var operatorClient = (await app.CreateOperatorAsync()).Client;
                Assert.Equal(HttpStatusCode.OK, (await operatorClient.PostAsync($"/api/v1/agencies/{recipient.Id}/deactivate", null, Ct)).StatusCode);
                return 0;
        }
    }

    private async Task<HttpResponseMessage> ReplayAsync(ReplayPath path, TestAgency recipient, Guid deliveryId, Guid subscriptionId, DateTimeOffset start)
    {
        var client = path is ReplayPath.SingleByTheAgency or ReplayPath.BulkByTheAgency ? recipient.Client : (await app.CreateOperatorAsync()).Client;
        if (path is ReplayPath.SingleByTheAgency or ReplayPath.SingleByAnOperator)
        {
            return await client.PostAsync($"/api/v1/deliveries/{deliveryId}/replay", null, Ct);
        }

        return await client.PostAsync("/api/v1/deliveries/replay", Samples.Json(new JsonObject
        {
            ["subscriptionId"] = subscriptionId.ToString(),
            ["from"] = start.AddMinutes(-1).ToString("O"),
            ["to"] = app.Clock.GetUtcNow().AddMinutes(1).ToString("O"),
            ["states"] = new JsonArray("delivered"),
        }), Ct);
    }

    private static string ExpectedReason(AudienceChange change) => change switch
    {
        AudienceChange.NarrowedByPut => "may no longer see this alert",
        AudienceChange.Revoked => "The alert was revoked",
        AudienceChange.PersonalDataExpired => "The alert expired",
        _ => "deactivated",
    };

    private JsonObject RedAlertNamingAPerson(params Guid[] audience)
    {
        var alert = Samples.SmugglingAlert();
        alert["tlp"] = "red";
        alert["audience"] = new JsonObject { ["agencies"] = new JsonArray(audience.Select(a => (JsonNode)a.ToString()).ToArray()) };
        alert["persons"] = new JsonArray(new JsonObject { ["fullName"] = Person, ["category"] = "suspect", ["nationality"] = "RS" });
        alert["reviewAt"] = app.Clock.GetUtcNow().AddDays(30).ToString("O");
        alert["expiresAt"] = app.Clock.GetUtcNow().AddDays(60).ToString("O");
        return alert;
    }

    /// <summary>An originator's red alert naming a person, delivered to a recipient's subscription.</summary>
    private async Task<(TestAgency Originator, TestAgency Recipient, PartnerReceiver Receiver, Guid SubscriptionId, Guid AlertId)> RedAlertDeliveredAsync()
    {
        var originator = await AgencyAsync("Border Police Directorate", "RS");
        var recipient = await AgencyAsync("Hungarian Police");
        var (receiver, subscriptionId) = await SubscribedReceiverAsync(recipient);
        var (alertId, _) = await SubmitAsync(originator, RedAlertNamingAPerson(recipient.Id));
        await receiver.WaitForAsync(1);
        await WaitForStateAsync(await DeliveryIdAsync(originator, alertId, subscriptionId, "alert.published"), "delivered");
        return (originator, recipient, receiver, subscriptionId, alertId);
    }

    private static async Task RevokeAsync(TestAgency originator, Guid alertId) =>
        Assert.Equal(HttpStatusCode.OK, (await originator.Client.PostAsync(
            $"/api/v1/alerts/{alertId}/revoke", Samples.Json(new JsonObject { ["reason"] = "The source withdrew the report." }), Ct)).StatusCode);

    private async Task<TestAgency> AgencyAsync(string name, string country = "HU")
    {
        var agency = await app.CreateAgencyAsync(name, country, AgencyKind.Police, Scopes.AlertsRead, Scopes.AlertsWrite, Scopes.SubscriptionsManage);
        agency.Client.DefaultRequestHeaders.Add("X-Purpose", "Investigation 2026/114 into the Kurdish-route network");
        return agency;
    }

    private Task<(PartnerReceiver Receiver, Guid SubscriptionId)> SubscribedReceiverAsync(TestAgency agency) =>
        _partners.SubscribedReceiverAsync(agency, body => body["includeOwnAlerts"] = false);

    private static async Task<(Guid Id, string ETag)> SubmitAsync(TestAgency originator, JsonObject alert)
    {
        var response = await originator.Client.PostAsync("/api/v1/alerts", Samples.Json(alert), Ct);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return ((await response.ReadJsonAsync()).GetProperty("id").GetGuid(), response.Headers.ETag!.Tag);
    }

    private static async Task<HttpResponseMessage> PutAsync(TestAgency originator, Guid id, JsonObject alert, string ifMatch)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, $"/api/v1/alerts/{id}") { Content = Samples.Json(alert) };
        request.Headers.TryAddWithoutValidation("If-Match", ifMatch);
        return await originator.Client.SendAsync(request, Ct);
    }

    private static async Task PauseAsync(TestAgency agency, Guid subscriptionId) =>
        Assert.Equal(HttpStatusCode.OK, (await agency.Client.PostAsync($"/api/v1/subscriptions/{subscriptionId}/pause", null, Ct)).StatusCode);

    private static async Task ResumeAsync(TestAgency agency, Guid subscriptionId) =>
        Assert.Equal(HttpStatusCode.OK, (await agency.Client.PostAsync($"/api/v1/subscriptions/{subscriptionId}/resume", null, Ct)).StatusCode);

    private static async Task<JsonElement[]> LedgerAsync(TestAgency originator, Guid alertId, Guid subscriptionId)
    {
        var ledger = await originator.Client.GetFromJsonAsync<JsonElement>($"/api/v1/alerts/{alertId}/deliveries?limit=200", Ct);
        return [.. ledger.GetProperty("items").EnumerateArray().Where(d => d.GetProperty("subscriptionId").GetGuid() == subscriptionId)];
    }

    private static async Task<Guid> DeliveryIdAsync(TestAgency originator, Guid alertId, Guid subscriptionId, string eventType) =>
        Assert.Single(await LedgerAsync(originator, alertId, subscriptionId), d => d.GetProperty("eventType").GetString() == eventType).GetProperty("id").GetGuid();

    private static async Task<JsonElement> LedgerEntryAsync(TestAgency originator, Guid alertId, Guid deliveryId)
    {
        var ledger = await originator.Client.GetFromJsonAsync<JsonElement>($"/api/v1/alerts/{alertId}/deliveries?limit=200", Ct);
        return ledger.GetProperty("items").EnumerateArray().Single(d => d.GetProperty("id").GetGuid() == deliveryId);
    }

    private Task WaitForStateAsync(Guid deliveryId, string state) =>
        DeliveryTestSettings.EventuallyAsync(async () => (await app.DeliveryStateAsync(deliveryId)).State == state, $"delivery {deliveryId} to be {state}");

    /// <summary>Waits until every notice to the subscription is recorded delivered, so that later steps see a settled ledger.</summary>
    private static Task WaitForNoticesDeliveredAsync(TestAgency originator, Guid alertId, Guid subscriptionId) =>
        DeliveryTestSettings.EventuallyAsync(
            async () => (await LedgerAsync(originator, alertId, subscriptionId))
                .Where(d => d.GetProperty("eventType").GetString() is "alert.revoked" or "alert.expired")
                .All(d => d.GetProperty("state").GetString() == "delivered"),
            "the notices to be recorded delivered");
}

public sealed class SendTimeSharingTestsOnSqlite(DeliverySqliteFixture app) : SendTimeSharingTests<DeliverySqliteFixture>(app), IClassFixture<DeliverySqliteFixture>;

public sealed class SendTimeSharingTestsOnPostgres(DeliveryPostgresFixture app) : SendTimeSharingTests<DeliveryPostgresFixture>(app), IClassFixture<DeliveryPostgresFixture>;
