using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using IntelSharing.Api.Domain;
using IntelSharing.Api.Infrastructure.Security;
using IntelSharing.IntegrationTests.Infrastructure;

namespace IntelSharing.IntegrationTests.Audit;

/// <summary>
/// What the audit trail records of delivery: each attempt's outcome (a system action naming the receiving agency),
/// and the ping and replays that partners ask for. Real loopback receivers, a fake clock walking the retry schedule.
/// </summary>
public abstract class DeliveryAuditTests<TFixture>(TFixture app) : IAsyncLifetime
    where TFixture : ApiFixture, IFakeClockFixture
{
    private readonly PartnerRig _partners = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public ValueTask DisposeAsync() => _partners.DisposeAsync();

    private Task<PartnerReceiver> ReceiverAsync(Func<int, PartnerReceiver.Response> behaviour) => _partners.ReceiverAsync(behaviour);

    private Task<TestAgency> AuditorAsync() =>
        app.CreateAgencyAsync("Data Protection Office", "RS", AgencyKind.Operator, Scopes.AuditRead);

    private Task<TestAgency> PartnerAsync(string name, string country = "HU") =>
        app.CreateAgencyAsync(name, country, AgencyKind.Police, Scopes.AlertsRead, Scopes.AlertsWrite, Scopes.SubscriptionsManage);

    private async Task<Guid> SubscribeAsync(TestAgency agency, string url) => (await _partners.SubscribeAsync(agency, url)).Id;

    /// <summary>The one delivery to the subscription (each test publishes one alert to a fresh one).</summary>
    private static async Task<Guid> DeliveryToAsync(TestAgency subscriber, Guid subscriptionId)
    {
        var id = Guid.Empty;
        await DeliveryTestSettings.EventuallyAsync(async () =>
        {
            var page = await subscriber.Client.GetFromJsonAsync<JsonElement>($"/api/v1/deliveries?subscription={subscriptionId}", Ct);
            var items = page.GetProperty("items");
            id = items.GetArrayLength() == 1 ? items[0].GetProperty("id").GetGuid() : Guid.Empty;
            return id != Guid.Empty;
        }, $"the delivery to subscription {subscriptionId}");
        return id;
    }

    private Task WaitForAsync(Guid deliveryId, int attempts, string state) =>
        DeliveryTestSettings.EventuallyAsync(
            async () => await app.DeliveryStateAsync(deliveryId) is var (s, a) && a >= attempts && s == state,
            $"delivery {deliveryId} to be {state} after {attempts} attempts");

    private static Task<List<JsonElement>> ReadTrailAsync(TestAgency auditor, string query) =>
        auditor.Client.ReadAllItemsAsync($"/api/v1/audit?{query}", Ct);

    private async Task AssertChainIntactAsync(TestAgency auditor)
    {
        await app.SealAuditAsync();
        var verification = await (await auditor.Client.GetAsync("/api/v1/audit/verify", Ct)).ReadJsonAsync();
        Assert.True(verification.GetProperty("ok").GetBoolean(), verification.GetRawText());
        Assert.True(verification.GetProperty("verified").GetInt64() > 0);
    }

    private static void AssertSystemRecord(JsonElement record, Guid agencyId, Guid deliveryId)
    {
        Assert.Equal(agencyId, record.GetProperty("agencyId").GetGuid());
        Assert.Equal("delivery", record.GetProperty("resourceType").GetString());
        Assert.Equal(deliveryId, record.GetProperty("resourceId").GetGuid());
        Assert.False(record.TryGetProperty("keyPrefix", out _));
        Assert.False(record.TryGetProperty("clientIp", out _));
        Assert.False(record.TryGetProperty("purpose", out _));
    }

    [Fact]
    public async Task A_failed_and_then_delivered_attempt_are_each_recorded_with_the_receiving_agency_the_delivery_and_the_partner_status()
    {
        var auditor = await AuditorAsync();
        var originator = await PartnerAsync("Border Police Directorate", "RS");
        var partner = await PartnerAsync("Hungarian National Police");
        var receiver = await ReceiverAsync(n => new PartnerReceiver.Response(n == 1 ? HttpStatusCode.ServiceUnavailable : HttpStatusCode.OK));
        var subscriptionId = await SubscribeAsync(partner, receiver.Url);

        await originator.PublishAsync(Samples.CyberAlert());
        var deliveryId = await DeliveryToAsync(partner, subscriptionId);
        await WaitForAsync(deliveryId, 1, "failed");
        app.Advance(TimeSpan.FromMinutes(1));
        await WaitForAsync(deliveryId, 2, "delivered");

        var trail = await ReadTrailAsync(auditor, $"resourceId={deliveryId}");
        Assert.Equal(["delivery.failed", "delivery.delivered"], trail.Select(r => r.GetProperty("action").GetString()));
        Assert.Equal([503, 200], trail.Select(r => r.GetProperty("outcome").GetInt32()));
        Assert.Equal([1, 2], trail.Select(r => r.GetProperty("detail").GetProperty("attempt").GetInt32()));
        Assert.All(trail, r => AssertSystemRecord(r, partner.Id, deliveryId));
        Assert.All(trail, r => Assert.Equal(subscriptionId, r.GetProperty("detail").GetProperty("subscriptionId").GetGuid()));
        await AssertChainIntactAsync(auditor);
    }

    [Fact]
    public async Task A_410_is_recorded_as_a_cancelled_delivery_that_disabled_the_subscription()
    {
        var auditor = await AuditorAsync();
        var originator = await PartnerAsync("Border Police Directorate", "RS");
        var partner = await PartnerAsync("Slovenian Police", "SI");
        var receiver = await ReceiverAsync(_ => new PartnerReceiver.Response(HttpStatusCode.Gone));
        var subscriptionId = await SubscribeAsync(partner, receiver.Url);

        await originator.PublishAsync(Samples.CyberAlert());
        var deliveryId = await DeliveryToAsync(partner, subscriptionId);
        await WaitForAsync(deliveryId, 1, "cancelled");

        var record = Assert.Single(await ReadTrailAsync(auditor, $"resourceId={deliveryId}"));
        Assert.Equal("delivery.cancelled", record.GetProperty("action").GetString());
        Assert.Equal(410, record.GetProperty("outcome").GetInt32());
        Assert.True(record.GetProperty("detail").GetProperty("subscriptionDisabled").GetBoolean());
        AssertSystemRecord(record, partner.Id, deliveryId);
        var subscription = await partner.Client.GetFromJsonAsync<JsonElement>($"/api/v1/subscriptions/{subscriptionId}", Ct);
        Assert.Equal("disabled", subscription.GetProperty("status").GetString());
        await AssertChainIntactAsync(auditor);
    }

    [Fact]
    public async Task A_delivery_that_runs_out_of_attempts_is_recorded_dead_after_its_failed_attempts()
    {
        var auditor = await AuditorAsync();
        var originator = await PartnerAsync("Border Police Directorate", "RS");
        var partner = await PartnerAsync("Bulgarian Border Police", "BG");
        var receiver = await ReceiverAsync(_ => new PartnerReceiver.Response(HttpStatusCode.InternalServerError));
        var subscriptionId = await SubscribeAsync(partner, receiver.Url);

        await originator.PublishAsync(Samples.CyberAlert());
        var deliveryId = await DeliveryToAsync(partner, subscriptionId);
        for (var attempt = 1; (await app.DeliveryStateAsync(deliveryId)).State != "dead"; attempt++)
        {
            Assert.True(attempt <= 20, "The delivery never went dead.");
            await DeliveryTestSettings.EventuallyAsync(
                async () => (await app.DeliveryStateAsync(deliveryId)) is var (s, a) && a >= attempt && s is "failed" or "dead",
                $"attempt {attempt} of {deliveryId}");
            // The longest gap in the schedule is a day (plus jitter); two days always reach the next attempt.
            app.Advance(TimeSpan.FromDays(2));
        }

        var trail = await ReadTrailAsync(auditor, $"resourceId={deliveryId}");
        var attempts = (await app.DeliveryStateAsync(deliveryId)).Attempts;
        Assert.Equal(attempts, trail.Count);
        Assert.Equal(Enumerable.Repeat("delivery.failed", attempts - 1).Append("delivery.dead"), trail.Select(r => r.GetProperty("action").GetString()));
        Assert.All(trail, r => Assert.Equal(500, r.GetProperty("outcome").GetInt32()));
        Assert.All(trail, r => AssertSystemRecord(r, partner.Id, deliveryId));
        await AssertChainIntactAsync(auditor);
    }

    [Fact]
    public async Task A_ping_and_single_and_bulk_replays_are_recorded_for_the_asking_agency_and_each_resend_for_the_receiving_one()
    {
        var auditor = await AuditorAsync();
        var originator = await PartnerAsync("Border Police Directorate", "RS");
        var partner = await PartnerAsync("Croatian Border Police", "HR");
        var receiver = await ReceiverAsync(_ => new PartnerReceiver.Response(HttpStatusCode.OK));
        var subscriptionId = await SubscribeAsync(partner, receiver.Url);
        var from = app.Clock.GetUtcNow().AddMinutes(-1);
        await originator.PublishAsync(Samples.CyberAlert());
        var deliveryId = await DeliveryToAsync(partner, subscriptionId);
        await WaitForAsync(deliveryId, 1, "delivered");

        // Records made at the same instant have no defined order; let the fake clock move between requests.
        var ping = await partner.Client.PostAsync($"/api/v1/subscriptions/{subscriptionId}/ping", null, Ct);
        app.Advance(TimeSpan.FromSeconds(1));
        var replay = await partner.Client.PostAsync($"/api/v1/deliveries/{deliveryId}/replay", null, Ct);
        await WaitForAsync(deliveryId, 2, "delivered");
        app.Advance(TimeSpan.FromSeconds(1));
        var bulk = await partner.Client.PostAsync("/api/v1/deliveries/replay", Samples.Json(new JsonObject
        {
            ["subscriptionId"] = subscriptionId.ToString(),
            ["from"] = from.ToString("O"),
            ["to"] = app.Clock.GetUtcNow().AddMinutes(1).ToString("O"),
            ["states"] = new JsonArray("delivered"),
        }), Ct);
        await WaitForAsync(deliveryId, 3, "delivered");

        Assert.Equal(HttpStatusCode.OK, ping.StatusCode);
        Assert.Equal(HttpStatusCode.OK, replay.StatusCode);
        Assert.Equal(HttpStatusCode.OK, bulk.StatusCode);
        Assert.Equal(1, (await bulk.ReadJsonAsync()).GetProperty("replayed").GetInt32());
        var asked = await ReadTrailAsync(auditor, $"agency={partner.Id}&action=subscription.ping,delivery.replay,delivery.replay.bulk");
        Assert.Equal(["subscription.ping", "delivery.replay", "delivery.replay.bulk"], asked.Select(r => r.GetProperty("action").GetString()));
        Assert.Equal([subscriptionId, deliveryId, subscriptionId], asked.Select(r => r.GetProperty("resourceId").GetGuid()));
        Assert.All(asked, r => Assert.Equal(200, r.GetProperty("outcome").GetInt32()));
        Assert.All(asked, r => Assert.Equal(TestData.KeyPrefixOf(partner.Key), r.GetProperty("keyPrefix").GetString()));
        Assert.Equal(200, asked[0].GetProperty("detail").GetProperty("partnerStatus").GetInt32());
        Assert.Equal("delivered", asked[1].GetProperty("detail").GetProperty("from").GetString());
        Assert.Equal(1, asked[2].GetProperty("detail").GetProperty("replayed").GetInt32());
        var sent = await ReadTrailAsync(auditor, $"resourceId={deliveryId}&action=delivery.delivered");
        Assert.Equal([1, 2, 3], sent.Select(r => r.GetProperty("detail").GetProperty("attempt").GetInt32()));
        await AssertChainIntactAsync(auditor);
    }
}

public sealed class DeliveryAuditTestsOnSqlite(DeliverySqliteFixture app) : DeliveryAuditTests<DeliverySqliteFixture>(app), IClassFixture<DeliverySqliteFixture>;

public sealed class DeliveryAuditTestsOnPostgres(DeliveryPostgresFixture app) : DeliveryAuditTests<DeliveryPostgresFixture>(app), IClassFixture<DeliveryPostgresFixture>;
