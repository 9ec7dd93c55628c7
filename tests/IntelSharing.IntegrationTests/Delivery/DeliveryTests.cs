using System.Net;
using System.Net.Http.Json;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using Dapper;
using IntelSharing.Api.Domain;
using IntelSharing.Api.Features.Deliveries.Dispatch;
using IntelSharing.Api.Infrastructure.Security;
using IntelSharing.IntegrationTests.Infrastructure;

namespace IntelSharing.IntegrationTests.Delivery;

/// <summary>Publishing to partners end to end: real loopback receivers, a fake clock walking the durable schedule.</summary>
public abstract class DeliveryTests<TFixture>(TFixture app) : IAsyncLifetime
    where TFixture : ApiFixture, IFakeClockFixture
{
    private readonly PartnerRig _partners = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public ValueTask DisposeAsync() => _partners.DisposeAsync();

    private Task<PartnerReceiver> ReceiverAsync() => _partners.ReceiverAsync();

    private Task<TestAgency> PartnerAsync(string name, string country = "HU") =>
        app.CreateAgencyAsync(name, country, AgencyKind.Police, Scopes.AlertsRead, Scopes.AlertsWrite, Scopes.SubscriptionsManage);

    private Task<(Guid Id, string Secret)> SubscribeAsync(TestAgency agency, string url, Action<JsonObject>? filter = null) =>
        _partners.SubscribeAsync(agency, url, filter);

    private static async Task<Guid> SubmitAsync(TestAgency originator, JsonObject alert)
    {
        var response = await originator.Client.PostAsync("/api/v1/alerts", Samples.Json(alert), Ct);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.ReadJsonAsync()).GetProperty("id").GetGuid();
    }

    /// <summary>The alert's deliveries to the subscriptions this test created (the class shares one database).</summary>
    private async Task<JsonElement[]> LedgerAsync(TestAgency originator, Guid alertId)
    {
        var response = await originator.Client.GetAsync($"/api/v1/alerts/{alertId}/deliveries?limit=200", Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var mine = _partners.SubscriptionIds;
        return [.. (await response.ReadJsonAsync()).GetProperty("items").EnumerateArray().Where(d => mine.Contains(d.GetProperty("subscriptionId").GetGuid()))];
    }

    /// <summary>An originator, and a partner subscribed to everything whose endpoint answers 503 while <c>Down</c> is true.</summary>
    private async Task<(TestAgency Originator, PartnerReceiver Receiver, StrongBox<bool> Down)> OriginatorAndDownPartnerAsync()
    {
        var originator = await PartnerAsync("Border Police Directorate", "RS");
        var partner = await PartnerAsync("Hungarian Police");
        var receiver = await ReceiverAsync();
        var down = new StrongBox<bool>(true);
        receiver.Behaviour = _ => down.Value ? new PartnerReceiver.Response(HttpStatusCode.ServiceUnavailable) : new PartnerReceiver.Response(HttpStatusCode.OK);
        await SubscribeAsync(partner, receiver.Url);
        return (originator, receiver, down);
    }

    private async Task WaitForAttemptsAsync(Guid deliveryId, int attempts) =>
        await DeliveryTestSettings.EventuallyAsync(
            async () => (await app.DeliveryStateAsync(deliveryId)).Attempts >= attempts, $"delivery {deliveryId} to reach {attempts} attempts");

    [Fact]
    public async Task A_published_alert_reaches_every_matching_entitled_endpoint_signed_per_standard_webhooks()
    {
        var originator = await PartnerAsync("Border Police Directorate", "RS");
        var hungary = await PartnerAsync("Hungarian Police");
        var receiver = await ReceiverAsync();
        var (_, secret) = await SubscribeAsync(hungary, receiver.Url);

        var alertId = await SubmitAsync(originator, Samples.SmugglingAlert());
        await receiver.WaitForAsync(1);

        var webhook = Assert.Single(receiver.Received);
        Assert.True(webhook.VerifiesWith(secret), "the signature must verify with the subscription's secret");
        Assert.Equal("alert.published", webhook.Type);
        Assert.Equal(alertId, webhook.Json.GetProperty("data").GetProperty("id").GetGuid());
        Assert.Equal("H1", webhook.Json.GetProperty("data").GetProperty("handling").GetProperty("code").GetString());
        Assert.True(Math.Abs(long.Parse(webhook.Timestamp, System.Globalization.CultureInfo.InvariantCulture) - app.Clock.GetUtcNow().ToUnixTimeSeconds()) < 5);

        var ledger = Assert.Single(await LedgerAsync(originator, alertId));
        Assert.Equal(webhook.Id, ledger.GetProperty("webhookId").GetString());
        await DeliveryTestSettings.EventuallyAsync(async () => (await app.DeliveryStateAsync(ledger.GetProperty("id").GetGuid())).State == "delivered", "delivered");
    }

    [Fact]
    public async Task Only_endpoints_of_agencies_in_an_amber_strict_audience_and_matching_the_filter_receive_the_alert()
    {
        var originator = await PartnerAsync("Border Police Directorate", "RS");
        var named = await PartnerAsync("Hungarian Police");
        var outsider = await PartnerAsync("Croatian Police", "HR");
        var namedButFiltered = await PartnerAsync("Frontex", "PL");
        var namedReceiver = await ReceiverAsync();
        var outsiderReceiver = await ReceiverAsync();
        var filteredReceiver = await ReceiverAsync();
        await SubscribeAsync(named, namedReceiver.Url);
        await SubscribeAsync(outsider, outsiderReceiver.Url);
        await SubscribeAsync(namedButFiltered, filteredReceiver.Url, s => s["categories"] = new JsonArray("cyber_incident"));

        var alert = Samples.SmugglingAlert();
        alert["tlp"] = "amber+strict";
        alert["audience"] = new JsonObject { ["agencies"] = new JsonArray(named.Id.ToString(), namedButFiltered.Id.ToString()) };
        var alertId = await SubmitAsync(originator, alert);
        await namedReceiver.WaitForAsync(1);

        var ledger = await LedgerAsync(originator, alertId);
        Assert.Equal([named.Id], ledger.Select(d => d.GetProperty("agencyId").GetGuid()));
        Assert.Empty(outsiderReceiver.Received);
        Assert.Empty(filteredReceiver.Received);
    }

    [Fact]
    public async Task A_partner_whose_breaker_is_open_has_its_due_deliveries_deferred_to_the_trial_and_receives_them_when_back()
    {
        var (originator, receiver, down) = await OriginatorAndDownPartnerAsync();

        // Five deliveries fail in a row: the partner's breaker opens for 30 s.
        var failed = new List<Guid>();
        for (var i = 0; i < 5; i++)
        {
            var failing = await SubmitAsync(originator, Samples.SmugglingAlert());
            failed.Add(Assert.Single(await LedgerAsync(originator, failing)).GetProperty("id").GetGuid());
            await WaitForAttemptsAsync(failed[^1], 1);
        }

        // A new alert while it is open: not attempted, and not left due in front of every other partner's deliveries,
        // but due again when the breaker lets a trial through (ADR 48). The ledger says so.
        var opened = app.Clock.GetUtcNow();
        var alertId = await SubmitAsync(originator, Samples.SmugglingAlert());
        var deferred = Assert.Single(await LedgerAsync(originator, alertId)).GetProperty("id").GetGuid();
        await DeliveryTestSettings.EventuallyAsync(
            async () => Assert.Single(await LedgerAsync(originator, alertId)).GetProperty("nextAttemptAt").GetDateTimeOffset() >= opened.AddSeconds(25),
            "the delivery to be deferred to the end of the break");
        Assert.Equal(("pending", 0), await app.DeliveryStateAsync(deferred));
        Assert.Equal(5, receiver.Received.Count);

        // Back: once the break is over, the trial goes and everything queued for it arrives. (Deliveries claimed beside
        // the half-open breaker's one trial are put back a second later: time goes on while we wait.)
        down.Value = false;
        app.Advance(TimeSpan.FromSeconds(31));
        await DeliveryTestSettings.EventuallyAsync(async () =>
        {
            app.Advance(TimeSpan.FromSeconds(2));
            var states = await Task.WhenAll(failed.Append(deferred).Select(app.DeliveryStateAsync));
            return states.All(s => s.State == "delivered");
        }, "every delivery queued for the partner to be delivered");

        Assert.Equal(6, receiver.Received.Select(r => r.Id).Distinct().Count());
    }

    [Fact]
    public async Task A_partner_that_is_down_for_an_hour_receives_the_alert_once_it_is_back_on_the_durable_schedule()
    {
        var (originator, receiver, down) = await OriginatorAndDownPartnerAsync();

        var alertId = await SubmitAsync(originator, Samples.SmugglingAlert());
        var deliveryId = Assert.Single(await LedgerAsync(originator, alertId)).GetProperty("id").GetGuid();
        await WaitForAttemptsAsync(deliveryId, 1);

        // Default schedule: at once, 5 s, 5 min, 30 min, 2 h (±10 % jitter). Walk it with the clock.
        app.Advance(TimeSpan.FromSeconds(6));
        await WaitForAttemptsAsync(deliveryId, 2);
        app.Advance(TimeSpan.FromMinutes(6));
        await WaitForAttemptsAsync(deliveryId, 3);
        app.Advance(TimeSpan.FromMinutes(34));
        await WaitForAttemptsAsync(deliveryId, 4);
        Assert.Equal(("failed", 4), await app.DeliveryStateAsync(deliveryId));

        down.Value = false; // back after an hour
        app.Advance(TimeSpan.FromMinutes(20));
        Assert.Equal(("failed", 4), await app.DeliveryStateAsync(deliveryId));
        app.Advance(TimeSpan.FromHours(2.2));
        await WaitForAttemptsAsync(deliveryId, 5);
        await DeliveryTestSettings.EventuallyAsync(async () => (await app.DeliveryStateAsync(deliveryId)).State == "delivered", "delivered");

        Assert.Equal(5, receiver.Received.Count);
        Assert.Single(receiver.Received.Select(r => r.Id).Distinct());
        var detail = await (await (await AsOperatorAsync()).GetAsync($"/api/v1/deliveries/{deliveryId}", Ct)).ReadJsonAsync();
        Assert.Equal([503, 503, 503, 503, 200], detail.GetProperty("attempts").EnumerateArray().Select(a => a.GetProperty("statusCode").GetInt32()));
    }

    [Fact]
    public async Task Every_attempt_of_a_publication_sends_the_same_body_around_the_document_the_submit_returned()
    {
        // The event stores no copy of the document (Outbox.PayloadOfVersion): each attempt rebuilds the body from the
        // stored version, and it must be the same bytes every time, holding exactly the document the originator got.
        var (originator, receiver, down) = await OriginatorAndDownPartnerAsync();

        var created = await originator.Client.PostAsync("/api/v1/alerts", Samples.Json(Samples.SmugglingAlert()), Ct);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var document = await created.Content.ReadAsStringAsync(Ct);
        var alertId = JsonDocument.Parse(document).RootElement.GetProperty("id").GetGuid();
        var deliveryId = Assert.Single(await LedgerAsync(originator, alertId)).GetProperty("id").GetGuid();
        await WaitForAttemptsAsync(deliveryId, 1);
        down.Value = false;
        app.Advance(TimeSpan.FromSeconds(6));
        await DeliveryTestSettings.EventuallyAsync(async () => (await app.DeliveryStateAsync(deliveryId)).State == "delivered", "delivered");

        Assert.Equal(2, receiver.Received.Count);
        Assert.Equal(receiver.Received[0].Body, receiver.Received[1].Body);
        var body = receiver.Received[1].Json;
        Assert.Equal("alert.published", body.GetProperty("type").GetString());
        Assert.Equal(document, body.GetProperty("data").GetRawText());
        Assert.Equal(
            DateTimeOffset.Parse(body.GetProperty("data").GetProperty("createdAt").GetString()!, System.Globalization.CultureInfo.InvariantCulture),
            DateTimeOffset.Parse(body.GetProperty("timestamp").GetString()!, System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task Retry_after_on_429_defers_the_next_attempt_beyond_the_schedule()
    {
        var originator = await PartnerAsync("Border Police Directorate", "RS");
        var partner = await PartnerAsync("Hungarian Police");
        var receiver = await ReceiverAsync();
        receiver.Behaviour = n => n == 1 ? new PartnerReceiver.Response(HttpStatusCode.TooManyRequests, RetryAfter: "600") : new PartnerReceiver.Response(HttpStatusCode.OK);
        await SubscribeAsync(partner, receiver.Url);

        var alertId = await SubmitAsync(originator, Samples.SmugglingAlert());
        var delivery = Assert.Single(await LedgerAsync(originator, alertId));
        var deliveryId = delivery.GetProperty("id").GetGuid();
        await WaitForAttemptsAsync(deliveryId, 1);

        var failed = Assert.Single(await LedgerAsync(originator, alertId));
        var next = failed.GetProperty("nextAttemptAt").GetDateTimeOffset();
        Assert.InRange(next - app.Clock.GetUtcNow(), TimeSpan.FromMinutes(9), TimeSpan.FromMinutes(11));

        app.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(("failed", 1), await app.DeliveryStateAsync(deliveryId));
        app.Advance(TimeSpan.FromMinutes(10));
        await WaitForAttemptsAsync(deliveryId, 2);
        await DeliveryTestSettings.EventuallyAsync(async () => (await app.DeliveryStateAsync(deliveryId)).State == "delivered", "delivered");
    }

    [Fact]
    public async Task A_410_gone_disables_the_subscription_and_cancels_its_pending_deliveries_visibly()
    {
        var originator = await PartnerAsync("Border Police Directorate", "RS");
        var partner = await PartnerAsync("Hungarian Police");
        var receiver = await ReceiverAsync();
        receiver.Behaviour = _ => new PartnerReceiver.Response(HttpStatusCode.Gone);
        var (subscriptionId, _) = await SubscribeAsync(partner, receiver.Url);

        var first = await SubmitAsync(originator, Samples.SmugglingAlert());
        var second = await SubmitAsync(originator, Samples.CyberAlert());
        await DeliveryTestSettings.EventuallyAsync(async () =>
            (await partner.Client.GetFromJsonAsync<JsonElement>($"/api/v1/subscriptions/{subscriptionId}", Ct)).GetProperty("status").GetString() == "disabled",
            "subscription disabled");

        var subscription = await partner.Client.GetFromJsonAsync<JsonElement>($"/api/v1/subscriptions/{subscriptionId}", Ct);
        Assert.Contains("410", subscription.GetProperty("statusReason").GetString());
        // A delivery already in flight when the first 410 arrived records its own 410 a moment later.
        var states = new List<string?>();
        await DeliveryTestSettings.EventuallyAsync(
            async () =>
            {
                states = [.. (await LedgerAsync(originator, first)).Concat(await LedgerAsync(originator, second)).Select(d => d.GetProperty("state").GetString())];
                return states.All(s => s == "cancelled");
            },
            "every delivery to the gone endpoint to be cancelled", TimeSpan.FromSeconds(20)).ContinueWith(
            t => t.IsFaulted ? throw new TimeoutException($"States: {string.Join(", ", states)}", t.Exception) : t, TaskScheduler.Default).Unwrap();

        // Nothing new is queued for a disabled subscription.
        var third = await SubmitAsync(originator, Samples.SmugglingAlert());
        Assert.Empty(await LedgerAsync(originator, third));
    }

    [Fact]
    public async Task A_delivery_queued_just_after_its_subscription_ended_is_cancelled_not_stranded()
    {
        var originator = await PartnerAsync("Border Police Directorate", "RS");
        var partner = await PartnerAsync("Hungarian Police");
        var receiver = await ReceiverAsync();
        receiver.Behaviour = _ => new PartnerReceiver.Response(HttpStatusCode.Gone);
        await SubscribeAsync(partner, receiver.Url);
        var alertId = await SubmitAsync(originator, Samples.SmugglingAlert());
        var deliveryId = Assert.Single(await LedgerAsync(originator, alertId)).GetProperty("id").GetGuid();
        await DeliveryTestSettings.EventuallyAsync(async () => (await app.DeliveryStateAsync(deliveryId)).State == "cancelled", "the 410 to cancel the delivery");

        // What a publication that read the subscription as active a moment before the 410 committed leaves behind:
        // a delivery queued after the 410's cancelling UPDATE ran. Claims skip ended subscriptions, so only the
        // dispatcher's sweep can end it.
        await using (var connection = await app.Database.OpenAsync(Ct))
        {
            await connection.ExecuteAsync(
                "UPDATE deliveries SET state = 'pending', last_error = NULL, next_attempt_at = updated_at WHERE id = @deliveryId", new { deliveryId });
        }

        await DeliveryTestSettings.EventuallyAsync(async () => (await app.DeliveryStateAsync(deliveryId)).State == "cancelled", "the sweep to cancel the stranded delivery");
        Assert.Single(receiver.Received);
        var audit = await (await (await AsOperatorAsync()).GetAsync($"/api/v1/audit?action=delivery.cancelled&resourceId={deliveryId}", Ct)).ReadJsonAsync();
        var records = audit.GetProperty("items").EnumerateArray().Select(r => r.GetProperty("detail")).ToList();
        Assert.Equal(2, records.Count);
        Assert.Contains(records, detail => detail.TryGetProperty("subscriptionDisabled", out var disabled) && disabled.GetBoolean());
        Assert.Contains(records, detail => detail.TryGetProperty("reason", out var reason) && reason.GetString() == "subscription ended");
    }

    [Fact]
    public async Task A_delivery_cancelled_while_it_waited_held_is_sent_when_replayed_one_by_one_or_in_bulk()
    {
        var originator = await PartnerAsync("Border Police Directorate", "RS");
        var partner = await PartnerAsync("Hungarian Police");
        var receiver = await ReceiverAsync();
        var (subscriptionId, _) = await SubscribeAsync(partner, receiver.Url);
        var start = app.Clock.GetUtcNow();
        var alerts = new[] { await SubmitAsync(originator, Samples.SmugglingAlert()), await SubmitAsync(originator, Samples.SmugglingAlert()) };
        await receiver.WaitForAsync(2);
        var ids = new List<Guid>();
        foreach (var alertId in alerts)
        {
            ids.Add(Assert.Single(await LedgerAsync(originator, alertId)).GetProperty("id").GetGuid());
            await DeliveryTestSettings.EventuallyAsync(async () => (await app.DeliveryStateAsync(ids[^1])).State == "delivered", "delivered");
        }

        // As a cancellation leaves a delivery that waited held (a paused partner's, cancelled when its alert was narrowed
        // or its subscription ended): cancelled, still marked held (ADR 48).
        await using (var connection = await app.Database.OpenAsync(Ct))
        {
            await connection.ExecuteAsync("UPDATE deliveries SET state = 'cancelled', held = TRUE WHERE id = @id", ids.Select(id => new { id }));
            // Long after the subscription and agency last changed: the sweep's release of lately changed ones does not apply.
            var longAgo = app.Clock.GetUtcNow().AddHours(-2);
            await connection.ExecuteAsync("UPDATE subscriptions SET updated_at = @longAgo WHERE id = @subscriptionId", new { longAgo, subscriptionId });
            await connection.ExecuteAsync("UPDATE agencies SET updated_at = @longAgo WHERE id = @Id", new { longAgo, partner.Id });
        }

        var operatorClient = await AsOperatorAsync();
        Assert.Equal(HttpStatusCode.OK, (await operatorClient.PostAsync($"/api/v1/deliveries/{ids[0]}/replay", null, Ct)).StatusCode);
        var bulk = await operatorClient.PostAsync("/api/v1/deliveries/replay", Samples.Json(new JsonObject
        {
            ["subscriptionId"] = subscriptionId.ToString(),
            ["from"] = start.AddMinutes(-1).ToString("O"),
            ["to"] = app.Clock.GetUtcNow().AddMinutes(1).ToString("O"),
            ["states"] = new JsonArray("cancelled"),
        }), Ct);
        Assert.Equal(1, (await bulk.ReadJsonAsync()).GetProperty("replayed").GetInt32());

        await receiver.WaitForAsync(4);
        foreach (var id in ids)
        {
            await DeliveryTestSettings.EventuallyAsync(async () => (await app.DeliveryStateAsync(id)).State == "delivered", $"replayed delivery {id} to be delivered");
            Assert.False(await app.DeliveryHeldAsync(id));
        }
    }

    [Fact]
    public async Task A_delivery_that_exhausts_the_schedule_is_dead_and_a_replay_delivers_it_with_the_same_webhook_id()
    {
        var originator = await PartnerAsync("Border Police Directorate", "RS");
        var partner = await PartnerAsync("Hungarian Police");
        var receiver = await ReceiverAsync();
        var healthy = false;
        receiver.Behaviour = _ => healthy ? new PartnerReceiver.Response(HttpStatusCode.OK) : new PartnerReceiver.Response(HttpStatusCode.InternalServerError);
        var (subscriptionId, _) = await SubscribeAsync(partner, receiver.Url);
        var start = app.Clock.GetUtcNow();

        var alertId = await SubmitAsync(originator, Samples.SmugglingAlert());
        var deliveryId = Assert.Single(await LedgerAsync(originator, alertId)).GetProperty("id").GetGuid();
        for (var attempt = 1; attempt <= 10; attempt++)
        {
            await WaitForAttemptsAsync(deliveryId, attempt);
            app.Advance(TimeSpan.FromHours(27));
        }

        Assert.Equal(("dead", 10), await app.DeliveryStateAsync(deliveryId));
        var operatorClient = await AsOperatorAsync();
        var dead = await (await operatorClient.GetAsync($"/api/v1/deliveries?state=dead&subscription={subscriptionId}", Ct)).ReadJsonAsync();
        Assert.Equal(deliveryId, Assert.Single(dead.GetProperty("items").EnumerateArray()).GetProperty("id").GetGuid());

        healthy = true;
        var replay = await operatorClient.PostAsync($"/api/v1/deliveries/{deliveryId}/replay", null, Ct);
        Assert.Equal(HttpStatusCode.OK, replay.StatusCode);
        await WaitForAttemptsAsync(deliveryId, 11);
        await DeliveryTestSettings.EventuallyAsync(async () => (await app.DeliveryStateAsync(deliveryId)).State == "delivered", "delivered after replay");
        Assert.Single(receiver.Received.Select(r => r.Id).Distinct());

        // Bulk replay by subscription and time range: the delivered one is sent once more, same webhook-id.
        var bulk = await operatorClient.PostAsync("/api/v1/deliveries/replay", Samples.Json(new JsonObject
        {
            ["subscriptionId"] = subscriptionId.ToString(),
            ["from"] = start.AddMinutes(-1).ToString("O"),
            ["to"] = app.Clock.GetUtcNow().AddMinutes(1).ToString("O"),
            ["states"] = new JsonArray("delivered"),
        }), Ct);
        Assert.Equal(1, (await bulk.ReadJsonAsync()).GetProperty("replayed").GetInt32());
        await receiver.WaitForAsync(12);
        Assert.Single(receiver.Received.Select(r => r.Id).Distinct());
    }

    [Fact]
    public async Task After_rotating_the_secret_requests_carry_signatures_for_both_the_old_and_the_new_secret()
    {
        var originator = await PartnerAsync("Border Police Directorate", "RS");
        var partner = await PartnerAsync("Hungarian Police");
        var receiver = await ReceiverAsync();
        var (subscriptionId, oldSecret) = await SubscribeAsync(partner, receiver.Url);

        var rotated = await (await partner.Client.PostAsync($"/api/v1/subscriptions/{subscriptionId}/rotate-secret", null, Ct)).ReadJsonAsync();
        var newSecret = rotated.GetProperty("secret").GetString()!;
        Assert.NotEqual(oldSecret, newSecret);
        Assert.StartsWith("whsec_", newSecret);
        await SubmitAsync(originator, Samples.SmugglingAlert());
        await receiver.WaitForAsync(1);

        var webhook = Assert.Single(receiver.Received);
        Assert.Equal(2, webhook.Signature.Split(' ').Length);
        Assert.True(webhook.VerifiesWith(oldSecret));
        Assert.True(webhook.VerifiesWith(newSecret));

        // After the overlap only the new secret signs.
        app.Advance(TimeSpan.FromHours(25));
        await SubmitAsync(originator, Samples.CyberAlert());
        await receiver.WaitForAsync(2);
        var later = receiver.Received[1];
        Assert.True(later.VerifiesWith(newSecret));
        Assert.False(later.VerifiesWith(oldSecret));
    }

    [Fact]
    public async Task A_second_rotation_inside_the_overlap_keeps_the_first_secret_verifying_until_its_own_overlap_ends()
    {
        var originator = await PartnerAsync("Border Police Directorate", "RS");
        var partner = await PartnerAsync("Hungarian Police");
        var receiver = await ReceiverAsync();
        var (subscriptionId, first) = await SubscribeAsync(partner, receiver.Url);
        var second = await RotateAsync(partner, subscriptionId);
        app.Advance(TimeSpan.FromHours(2));
        var third = await RotateAsync(partner, subscriptionId);

        // Both rotations inside the first one's 24 h overlap: the partner still on the first secret keeps verifying.
        await SubmitAsync(originator, Samples.SmugglingAlert());
        await receiver.WaitForAsync(1);
        var during = receiver.Received[0];
        Assert.Equal(3, during.Signature.Split(' ').Length);
        Assert.True(during.VerifiesWith(first));
        Assert.True(during.VerifiesWith(second));
        Assert.True(during.VerifiesWith(third));

        // 25 h after the first rotation its overlap has ended; the second secret's (from the later rotation) has not.
        app.Advance(TimeSpan.FromHours(23));
        await SubmitAsync(originator, Samples.CyberAlert());
        await receiver.WaitForAsync(2);
        var afterFirst = receiver.Received[1];
        Assert.False(afterFirst.VerifiesWith(first));
        Assert.True(afterFirst.VerifiesWith(second));
        Assert.True(afterFirst.VerifiesWith(third));

        app.Advance(TimeSpan.FromHours(2));
        await SubmitAsync(originator, Samples.SmugglingAlert());
        await receiver.WaitForAsync(3);
        var afterBoth = receiver.Received[2];
        Assert.Single(afterBoth.Signature.Split(' '));
        Assert.True(afterBoth.VerifiesWith(third));
    }

    [Fact]
    public async Task A_rotation_while_four_rotated_out_secrets_still_sign_is_409_and_keeps_the_current_secret()
    {
        var partner = await PartnerAsync("Hungarian Police");
        var receiver = await ReceiverAsync();
        var (subscriptionId, _) = await SubscribeAsync(partner, receiver.Url);
        string current = string.Empty;
        for (var i = 0; i < 4; i++)
        {
            current = await RotateAsync(partner, subscriptionId);
        }

        var refused = await partner.Client.PostAsync($"/api/v1/subscriptions/{subscriptionId}/rotate-secret", null, Ct);

        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        Assert.Contains("overlap", (await refused.ReadJsonAsync()).GetProperty("detail").GetString(), StringComparison.Ordinal);
        var ping = await (await partner.Client.PostAsync($"/api/v1/subscriptions/{subscriptionId}/ping", null, Ct)).ReadJsonAsync();
        Assert.True(ping.GetProperty("succeeded").GetBoolean());
        var signed = Assert.Single(receiver.Received);
        Assert.Equal(5, signed.Signature.Split(' ').Length);
        Assert.True(signed.VerifiesWith(current));

        // Once the oldest overlap ends, rotating works again.
        app.Advance(TimeSpan.FromHours(25));
        await RotateAsync(partner, subscriptionId);
    }

    private static async Task<string> RotateAsync(TestAgency agency, Guid subscriptionId)
    {
        var response = await agency.Client.PostAsync($"/api/v1/subscriptions/{subscriptionId}/rotate-secret", null, Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.ReadJsonAsync()).GetProperty("secret").GetString()!;
    }

    [Fact]
    public async Task Ping_sends_a_signed_test_event_and_reports_what_the_endpoint_answered()
    {
        var partner = await PartnerAsync("Hungarian Police");
        var receiver = await ReceiverAsync();
        receiver.Behaviour = _ => new PartnerReceiver.Response(HttpStatusCode.Accepted);
        var (subscriptionId, secret) = await SubscribeAsync(partner, receiver.Url);

        var ping = await (await partner.Client.PostAsync($"/api/v1/subscriptions/{subscriptionId}/ping", null, Ct)).ReadJsonAsync();

        Assert.Equal(202, ping.GetProperty("statusCode").GetInt32());
        Assert.True(ping.GetProperty("succeeded").GetBoolean());
        var webhook = Assert.Single(receiver.Received);
        Assert.Equal("ping", webhook.Type);
        Assert.True(webhook.VerifiesWith(secret));
    }

    [Fact]
    public async Task A_refused_connection_is_recorded_as_a_failed_attempt_that_says_only_not_reachable()
    {
        var originator = await PartnerAsync("Border Police Directorate", "RS");
        var partner = await PartnerAsync("Hungarian Police");
        int closedPort;
        using (var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0))
        {
            listener.Start();
            closedPort = ((IPEndPoint)listener.LocalEndpoint).Port;
        }

        await SubscribeAsync(partner, $"http://127.0.0.1:{closedPort}/hook");
        var alertId = await SubmitAsync(originator, Samples.SmugglingAlert());
        var deliveryId = Assert.Single(await LedgerAsync(originator, alertId)).GetProperty("id").GetGuid();
        await WaitForAttemptsAsync(deliveryId, 1);

        var detail = await (await (await AsOperatorAsync()).GetAsync($"/api/v1/deliveries/{deliveryId}", Ct)).ReadJsonAsync();
        Assert.Equal("failed", detail.GetProperty("delivery").GetProperty("state").GetString());
        var attempt = Assert.Single(detail.GetProperty("attempts").EnumerateArray());
        Assert.False(attempt.TryGetProperty("statusCode", out _), "no HTTP status: the connection was refused");
        // Why it was not reachable (refused port, unknown name, address policy, timeout) stays in the server log: the
        // ledger must not tell a caller which ports are open or which internal names exist.
        Assert.Equal(WebhookSender.NotReachable, attempt.GetProperty("error").GetString());
    }

    [Fact]
    public async Task Another_agency_cannot_read_manage_or_replay_a_subscription_or_delivery_it_does_not_own()
    {
        var originator = await PartnerAsync("Border Police Directorate", "RS");
        var owner = await PartnerAsync("Hungarian Police");
        var stranger = await PartnerAsync("Croatian Police", "HR");
        var receiver = await ReceiverAsync();
        var (subscriptionId, _) = await SubscribeAsync(owner, receiver.Url);
        var alertId = await SubmitAsync(originator, Samples.SmugglingAlert());
        var deliveryId = Assert.Single(await LedgerAsync(originator, alertId)).GetProperty("id").GetGuid();

        Assert.Equal(HttpStatusCode.NotFound, (await stranger.Client.GetAsync($"/api/v1/subscriptions/{subscriptionId}", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.Client.PostAsync($"/api/v1/subscriptions/{subscriptionId}/pause", null, Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.Client.DeleteAsync($"/api/v1/subscriptions/{subscriptionId}", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.Client.GetAsync($"/api/v1/deliveries/{deliveryId}", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.Client.PostAsync($"/api/v1/deliveries/{deliveryId}/replay", null, Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.Client.GetAsync($"/api/v1/alerts/{alertId}/deliveries", Ct)).StatusCode);
        var strangerLedger = await (await stranger.Client.GetAsync("/api/v1/deliveries", Ct)).ReadJsonAsync();
        Assert.DoesNotContain(strangerLedger.GetProperty("items").EnumerateArray(), d => d.GetProperty("id").GetGuid() == deliveryId);
        Assert.Equal(HttpStatusCode.OK, (await owner.Client.GetAsync($"/api/v1/deliveries/{deliveryId}", Ct)).StatusCode);
    }

    [Fact]
    public async Task Registering_an_endpoint_that_is_not_an_absolute_url_or_carries_credentials_returns_400_naming_url()
    {
        var partner = await PartnerAsync("Hungarian Police");
        var before = await app.CountRowsAsync();

        foreach (var url in new[] { "not a url", "ftp://partner.example/hook", "https://user:pass@partner.example/hook" })
        {
            var response = await partner.Client.PostAsync("/api/v1/subscriptions", Samples.Json(new JsonObject { ["url"] = url }), Ct);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.True((await response.ReadJsonAsync()).GetProperty("errors").TryGetProperty("url", out _), url);
        }

        Assert.Equal(before, await app.CountRowsAsync());
    }

    private async Task<HttpClient> AsOperatorAsync() => (await app.CreateOperatorAsync()).Client;
}

public sealed class DeliveryTestsOnSqlite(DeliverySqliteFixture app) : DeliveryTests<DeliverySqliteFixture>(app), IClassFixture<DeliverySqliteFixture>;

public sealed class DeliveryTestsOnPostgres(DeliveryPostgresFixture app) : DeliveryTests<DeliveryPostgresFixture>(app), IClassFixture<DeliveryPostgresFixture>;
