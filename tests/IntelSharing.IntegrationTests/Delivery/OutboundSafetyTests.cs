using System.Net;
using System.Text.Json.Nodes;
using IntelSharing.Api.Domain;
using IntelSharing.Api.Features.Deliveries.Dispatch;
using IntelSharing.Api.Infrastructure.Security;
using IntelSharing.IntegrationTests.Infrastructure;

namespace IntelSharing.IntegrationTests.Delivery;

/// <summary>Without an operator's allow-list, webhooks never reach internal addresses — checked when dialling, not only at registration.</summary>
public sealed class OutboundSafetyTests(StrictOutboundFixture app) : IClassFixture<StrictOutboundFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_host_name_that_resolves_to_loopback_is_accepted_at_registration_but_never_reached()
    {
        var originator = await app.CreateAgencyAsync("Border Police Directorate", "RS");
        var partner = await app.CreateAgencyAsync("Partner", "HU", AgencyKind.Police, Scopes.AlertsRead, Scopes.SubscriptionsManage);
        var operatorClient = (await app.CreateOperatorAsync()).Client;
        await using var receiver = await PartnerReceiver.StartAsync();
        var url = receiver.Url.Replace("127.0.0.1", "localhost", StringComparison.Ordinal);

        var created = await partner.Client.PostAsync("/api/v1/subscriptions", Samples.Json(new JsonObject { ["url"] = url }), Ct);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var alert = await (await originator.Client.PostAsync("/api/v1/alerts", Samples.Json(Samples.SmugglingAlert()), Ct)).ReadJsonAsync();
        var alertId = alert.GetProperty("id").GetGuid();

        string? error = null;
        await DeliveryTestSettings.EventuallyAsync(async () =>
        {
            var ledger = await (await operatorClient.GetAsync($"/api/v1/alerts/{alertId}/deliveries", Ct)).ReadJsonAsync();
            var delivery = ledger.GetProperty("items").EnumerateArray().FirstOrDefault();
            error = delivery.ValueKind == System.Text.Json.JsonValueKind.Object && delivery.TryGetProperty("lastError", out var e) ? e.GetString() : null;
            return error is not null;
        }, "the attempt to be refused");

        Assert.Equal(WebhookSender.NotReachable, error);
        Assert.Empty(receiver.Received);
    }

    [Fact]
    public async Task Registering_a_loopback_or_metadata_ip_endpoint_returns_400_and_stores_nothing()
    {
        var partner = await app.CreateAgencyAsync("Partner", "HU", AgencyKind.Police, Scopes.AlertsRead, Scopes.SubscriptionsManage);
        var before = await app.CountRowsAsync();

        foreach (var url in new[] { "http://127.0.0.1:8080/hook", "http://169.254.169.254/latest/meta-data/", "http://[::1]/hook", "http://10.0.0.8/hook" })
        {
            var response = await partner.Client.PostAsync("/api/v1/subscriptions", Samples.Json(new JsonObject { ["url"] = url }), Ct);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Contains("loopback", (await response.ReadJsonAsync()).GetProperty("errors").GetProperty("url")[0].GetString());
        }

        Assert.Equal(before, await app.CountRowsAsync());
    }
}
