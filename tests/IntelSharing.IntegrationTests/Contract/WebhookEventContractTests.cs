using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Dapper;
using IntelSharing.Api.Domain;
using IntelSharing.Api.Features.Alerts;
using IntelSharing.Api.Features.Indicators;
using IntelSharing.Api.Infrastructure.Security;
using IntelSharing.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace IntelSharing.IntegrationTests.Contract;

/// <summary>
/// Events as a contract (docs/webhooks.md, "Event types"): every webhook the dispatcher sends to a real loopback
/// receiver validates against the schema of its type in the served OpenAPI document, and every documented type is sent.
/// </summary>
public abstract class WebhookEventContractTests<TFixture>(TFixture app) : IAsyncLifetime
    where TFixture : ApiFixture, IFakeClockFixture
{
    private const string Purpose = "Investigation 2026/114 into the Kurdish-route network";

    /// <summary>
    /// Documented types no test can make a partner receive, and why. <c>alert.purged</c> is the payload expiry writes over
    /// the stored events of the alert; the dispatcher refuses every event of an expired alert (SendDecision "expired"),
    /// replays included, so today it is never sent: it is documented for what a partner could see if that ever changes.
    /// </summary>
    private static readonly Dictionary<string, string> Gaps = new(StringComparer.Ordinal)
    {
        ["alert.purged"] = "refused at send time for an expired alert, so never delivered",
    };

    private readonly PartnerRig _partners = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public ValueTask DisposeAsync() => _partners.DisposeAsync();

    private async Task<TestAgency> AgencyAsync(string name, string country)
    {
        var agency = await app.CreateAgencyAsync(name, country, AgencyKind.Police, Scopes.AlertsRead, Scopes.AlertsWrite, Scopes.SubscriptionsManage);
        agency.Client.DefaultRequestHeaders.Add("X-Purpose", Purpose);
        return agency;
    }

    private static JsonObject AlertCarrying(string phone, string tlp, DateTimeOffset now, params TestAgency[] audience)
    {
        var alert = TestData.SmugglingAlert(tlp, audience.Length == 0 ? null : audience.Select(a => a.Id));
        alert["indicators"] = new JsonArray(new JsonObject { ["type"] = "phone", ["value"] = phone, ["description"] = "Driver's phone" });
        alert["reviewAt"] = now.AddDays(30).ToString("O");
        alert["expiresAt"] = now.AddDays(60).ToString("O");
        return alert;
    }

    private static async Task WaitForAsync(PartnerReceiver receiver, string type, int count = 1) =>
        await DeliveryTestSettings.EventuallyAsync(
            () => Task.FromResult(receiver.Received.Count(r => r.Type == type) >= count), $"{count} × {type} at {receiver.Url}");

    private async Task<WebhookEventSchemas> SchemasAsync() =>
        WebhookEventSchemas.From(JsonNode.Parse(await app.ClientWithKey(null).GetStringAsync(OpenApiFile.ServedPath, Ct))!);

    [Fact]
    public async Task Every_event_type_a_partner_receives_validates_against_its_documented_schema()
    {
        var operations = await app.CreateOperatorAsync();
        var serbia = await AgencyAsync("Border Police Directorate", "RS");
        var hungary = await AgencyAsync("Hungarian Police", "HU");
        var austria = await AgencyAsync("Austrian Police", "AT");
        var (serbiaReceiver, _) = await _partners.SubscribedReceiverAsync(serbia);
        var (hungaryReceiver, hungarySubscription) = await _partners.SubscribedReceiverAsync(hungary);
        var (austriaReceiver, _) = await _partners.SubscribedReceiverAsync(austria);
        var phone = $"+38164{Random.Shared.Next(1_000_000, 9_999_999)}";
        var now = app.Clock.GetUtcNow();

        // ping
        Assert.Equal(HttpStatusCode.OK, (await hungary.Client.PostAsync($"/api/v1/subscriptions/{hungarySubscription}/ping", null, Ct)).StatusCode);
        // api_key.issued
        var issue = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/agencies/{hungary.Id}/keys")
        {
            Content = Samples.Json(new JsonObject { ["name"] = "Operations console", ["scopes"] = new JsonArray("alerts:read") }),
        }.WithPurpose("Support ticket 4711: partner's gateway cannot read alerts");
        Assert.Equal(HttpStatusCode.Created, (await operations.Client.SendAsync(issue, Ct)).StatusCode);

        // alert.published, then alert.updated to Hungary and the narrowed-audience alert.revoked to Austria
        var alert = AlertCarrying(phone, "amber", now, hungary, austria);
        var published = await serbia.Client.PostAsync("/api/v1/alerts", Samples.Json(alert), Ct);
        Assert.Equal(HttpStatusCode.Created, published.StatusCode);
        var alertId = (await published.ReadJsonAsync()).GetProperty("id").GetGuid();
        await WaitForAsync(austriaReceiver, "alert.published");
        alert["audience"] = new JsonObject { ["agencies"] = new JsonArray(hungary.Id.ToString()) };
        using (var update = new HttpRequestMessage(HttpMethod.Put, $"/api/v1/alerts/{alertId}") { Content = Samples.Json(alert) })
        {
            update.Headers.TryAddWithoutValidation("If-Match", published.Headers.ETag!.Tag);
            Assert.Equal(HttpStatusCode.OK, (await serbia.Client.SendAsync(update, Ct)).StatusCode);
        }

        // alert.correlated (Hungary's alert and Serbia's share the phone, both visible to both) and
        // alert.correlation_hidden (Austria's alert shares it too, but Austria may no longer see Serbia's)
        await hungary.PublishAsync(AlertCarrying(phone, "green", now));
        await austria.PublishAsync(AlertCarrying(phone, "green", now));
        var correlate = app.Services.GetServices<IHostedService>().OfType<CorrelateAlerts>().Single();
        await correlate.RunOnceAsync(Ct);

        // alert.feedback to the originator
        var feedback = await hungary.Client.PostAsync($"/api/v1/alerts/{alertId}/feedback", Samples.Json(new JsonObject { ["kind"] = "hit", ["note"] = "Same phone seized at Röszke." }), Ct);
        Assert.Equal(HttpStatusCode.Created, feedback.StatusCode);

        // alert.revoked as a tombstone: a second alert, recalled
        var recalled = await serbia.PublishAsync(AlertCarrying($"+38165{Random.Shared.Next(1_000_000, 9_999_999)}", "green", now));
        await WaitForAsync(hungaryReceiver, "alert.published", 2);
        Assert.Equal(HttpStatusCode.OK, (await serbia.Client.PostAsync($"/api/v1/alerts/{recalled}/revoke",
            Samples.Json(new JsonObject { ["reason"] = "Entered in error: the phone belongs to a witness." }), Ct)).StatusCode);

        await WaitForAsync(hungaryReceiver, "ping");
        await WaitForAsync(hungaryReceiver, "api_key.issued");
        await WaitForAsync(hungaryReceiver, "alert.updated");
        await WaitForAsync(austriaReceiver, "alert.revoked");
        await WaitForAsync(hungaryReceiver, "alert.correlated");
        await WaitForAsync(serbiaReceiver, "alert.correlation_hidden");
        await WaitForAsync(serbiaReceiver, "alert.feedback");
        await WaitForAsync(hungaryReceiver, "alert.revoked");

        // alert.expired: once everything above is recorded (a 61-day jump would otherwise expire in-flight leases and resend)
        await DeliveryTestSettings.EventuallyAsync(async () =>
        {
            await using var db = await app.Database.OpenAsync(Ct);
            return await db.ExecuteScalarAsync<long>(
                "SELECT COUNT(*) FROM deliveries WHERE state IN ('pending', 'in_flight', 'failed') AND agency_id IN (@serbia, @hungary, @austria)",
                new { serbia = serbia.Id, hungary = hungary.Id, austria = austria.Id }) == 0;
        }, "every delivery so far to be recorded");
        app.Advance(TimeSpan.FromDays(61));
        Assert.True(await app.Services.GetRequiredService<ExpirePersonalData>().PurgeDueAsync(Ct) >= 1);
        await WaitForAsync(hungaryReceiver, "alert.expired");

        var schemas = await SchemasAsync();
        var received = serbiaReceiver.Received.Concat(hungaryReceiver.Received).Concat(austriaReceiver.Received).ToList();
        Assert.Empty(received.SelectMany(r => schemas.ProblemsWith(r.Json)));
        Assert.Equal(
            schemas.EventTypes.Where(t => !Gaps.ContainsKey(t)).Order(StringComparer.Ordinal),
            received.Select(r => r.Type).Distinct().Order(StringComparer.Ordinal));
        var revocations = received.Where(r => r.Type == "alert.revoked").Select(r => r.Json.GetProperty("data")).ToList();
        Assert.Contains(revocations, d => d.TryGetProperty("status", out _));
        Assert.Contains(revocations, d => !d.TryGetProperty("status", out _));
    }

    /// <summary>
    /// Publishes a green alert, updates it and revokes it, calling <paramref name="sent"/> with each step's event type
    /// before the next step: a delivery still queued when the alert is revoked would be refused at send time.
    /// </summary>
    private async Task<Guid> PublishUpdateAndRevokeAsync(TestAgency originator, Func<string, Task> sent)
    {
        var alert = AlertCarrying($"+38166{Random.Shared.Next(1_000_000, 9_999_999)}", "green", app.Clock.GetUtcNow());
        var published = await originator.Client.PostAsync("/api/v1/alerts", Samples.Json(alert), Ct);
        Assert.Equal(HttpStatusCode.Created, published.StatusCode);
        var alertId = (await published.ReadJsonAsync()).GetProperty("id").GetGuid();
        await sent("alert.published");
        alert["summary"] = "Update: the truck left Preševo at 21:40.";
        using (var update = new HttpRequestMessage(HttpMethod.Put, $"/api/v1/alerts/{alertId}") { Content = Samples.Json(alert) })
        {
            update.Headers.TryAddWithoutValidation("If-Match", published.Headers.ETag!.Tag);
            Assert.Equal(HttpStatusCode.OK, (await originator.Client.SendAsync(update, Ct)).StatusCode);
        }

        await sent("alert.updated");
        Assert.Equal(HttpStatusCode.OK, (await originator.Client.PostAsync($"/api/v1/alerts/{alertId}/revoke",
            Samples.Json(new JsonObject { ["reason"] = "Entered in error." }), Ct)).StatusCode);
        await sent("alert.revoked");
        return alertId;
    }

    [Fact]
    public async Task A_subscription_that_chose_event_types_receives_only_those_but_always_the_revocation()
    {
        var serbia = await AgencyAsync("Border Police Directorate", "RS");
        var hungary = await AgencyAsync("Hungarian Police", "HU");
        var (choosy, choosyId) = await _partners.SubscribedReceiverAsync(hungary, s => s["eventTypes"] = new JsonArray("alert.published"));
        var (everything, everythingId) = await _partners.SubscribedReceiverAsync(hungary);
        await PublishUpdateAndRevokeAsync(serbia, async step =>
        {
            await WaitForAsync(step == "alert.published" ? choosy : everything, step);
            if (step == "alert.revoked")
            {
                await WaitForAsync(choosy, step);
            }
        });

        Assert.Equal(["alert.published", "alert.updated", "alert.revoked"], everything.Received.Select(r => r.Type));
        Assert.Equal(["alert.published", "alert.revoked"], choosy.Received.Select(r => r.Type));
        var shown = await (await hungary.Client.GetAsync($"/api/v1/subscriptions/{choosyId}", Ct)).ReadJsonAsync();
        Assert.Equal(["alert.published"], shown.GetProperty("eventTypes").EnumerateArray().Select(t => t.GetString()));
        var all = await (await hungary.Client.GetAsync($"/api/v1/subscriptions/{everythingId}", Ct)).ReadJsonAsync();
        Assert.Equal(0, all.GetProperty("eventTypes").GetArrayLength());
    }

    [Fact]
    public async Task A_subscription_that_chose_alert_updated_without_alert_published_is_sent_nothing_about_an_alert_not_even_its_revocation()
    {
        var serbia = await AgencyAsync("Border Police Directorate", "RS");
        var hungary = await AgencyAsync("Hungarian Police", "HU");
        var (updatesOnly, updatesOnlyId) = await _partners.SubscribedReceiverAsync(hungary, s => s["eventTypes"] = new JsonArray("alert.updated"));
        var (everything, everythingId) = await _partners.SubscribedReceiverAsync(hungary);
        var alertId = await PublishUpdateAndRevokeAsync(serbia, step => WaitForAsync(everything, step));

        // Updates go to the subscriptions that were sent an earlier version; this one never was (it did not take
        // alert.published), so every version is alert.published to it, which it declined, and the revocation goes
        // only to those that were sent the alert. The ledger is written in the publishing transactions.
        var ledger = await (await serbia.Client.GetAsync($"/api/v1/alerts/{alertId}/deliveries", Ct)).Content.ReadAsStringAsync(Ct);
        Assert.Equal(["alert.published", "alert.updated", "alert.revoked"], everything.Received.Select(r => r.Type));
        Assert.Contains(everythingId.ToString(), ledger, StringComparison.Ordinal);
        Assert.DoesNotContain(updatesOnlyId.ToString(), ledger, StringComparison.Ordinal);
        Assert.Empty(updatesOnly.Received);
    }

    [Theory]
    [InlineData("alert.deleted")]
    [InlineData("alert.revoked")]
    [InlineData("ping")]
    public async Task Choosing_an_event_type_that_cannot_be_chosen_is_400_naming_it(string type)
    {
        var hungary = await AgencyAsync("Hungarian Police", "HU");
        var (_, id) = await _partners.SubscribedReceiverAsync(hungary);
        var body = new JsonObject { ["url"] = "http://127.0.0.1:9/hook", ["eventTypes"] = new JsonArray("alert.published", type) };

        var created = await hungary.Client.PostAsync("/api/v1/subscriptions", Samples.Json(body), Ct);
        var updated = await hungary.Client.PutAsync($"/api/v1/subscriptions/{id}", Samples.Json(body.DeepClone()), Ct);

        foreach (var response in new[] { created, updated })
        {
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            var errors = (await response.ReadJsonAsync()).GetProperty("errors");
            Assert.Equal(["eventTypes[1]"], errors.EnumerateObject().Select(e => e.Name));
            Assert.Contains(type, errors.GetProperty("eventTypes[1]")[0].GetString(), StringComparison.Ordinal);
        }

        var unchanged = await (await hungary.Client.GetAsync($"/api/v1/subscriptions/{id}", Ct)).ReadJsonAsync();
        Assert.Equal(0, unchanged.GetProperty("eventTypes").GetArrayLength());
    }

    [Fact]
    public async Task Every_documented_event_example_validates_against_its_own_schema()
    {
        var document = JsonNode.Parse(await app.ClientWithKey(null).GetStringAsync(OpenApiFile.ServedPath, Ct))!;
        var schemas = WebhookEventSchemas.From(document);
        var examples = schemas.EventTypes
            .Select(t => document["components"]!["schemas"]![$"WebhookEnvelope_{t}"]!["example"])
            .ToList();

        Assert.Equal(10, examples.Count);
        Assert.All(examples, e => Assert.NotNull(e));
        Assert.Empty(examples.SelectMany(e => schemas.ProblemsWith(JsonSerializer.SerializeToElement(e))));
        Assert.Contains("x-webhooks", document.AsObject().Select(p => p.Key));
        Assert.Equal(schemas.EventTypes.Order(StringComparer.Ordinal), document["x-webhooks"]!.AsObject().Select(w => w.Key).Order(StringComparer.Ordinal));
    }
}

public sealed class WebhookEventContractTestsOnSqlite(DeliverySqliteFixture app) : WebhookEventContractTests<DeliverySqliteFixture>(app), IClassFixture<DeliverySqliteFixture>;

public sealed class WebhookEventContractTestsOnPostgres(DeliveryPostgresFixture app) : WebhookEventContractTests<DeliveryPostgresFixture>(app), IClassFixture<DeliveryPostgresFixture>;
