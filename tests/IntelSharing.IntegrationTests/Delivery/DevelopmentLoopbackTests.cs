using System.Net;
using System.Text.Json.Nodes;
using IntelSharing.Api.Domain;
using IntelSharing.Api.Infrastructure.Security;
using IntelSharing.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Hosting;

namespace IntelSharing.IntegrationTests.Delivery;

/// <summary>
/// Webhooks on a laptop: under <c>dotnet run</c> (the Development environment) a receiver on localhost works without
/// any Delivery setting; the same settings in Production still refuse it. The rule is the outbound address policy's,
/// not the database's, so these run on SQLite only.
/// </summary>
public sealed class DevelopmentLoopbackTests(DevelopmentLoopbackTests.DevelopmentFixture development, DevelopmentLoopbackTests.ProductionFixture production)
    : IClassFixture<DevelopmentLoopbackTests.DevelopmentFixture>, IClassFixture<DevelopmentLoopbackTests.ProductionFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>What both hosts get: no Delivery__AllowHttp, no Delivery__AllowedPrivateNetworks — only the environment differs.</summary>
    private static readonly KeyValuePair<string, string>[] SameSettings =
    [
        new("Secrets:EncryptionKey", Convert.ToBase64String(new byte[32].Select((_, i) => (byte)(i * 11)).ToArray())),
        new("RateLimits:PerAgencyPermits", "1000000"),
    ];

    [Fact]
    public async Task In_Development_a_receiver_on_localhost_gets_the_webhook_without_any_delivery_setting()
    {
        var originator = await development.CreateAgencyAsync("Border Police Directorate", "RS");
        var partner = await development.CreateAgencyAsync("Hungarian Police", "HU", AgencyKind.Police, Scopes.AlertsRead, Scopes.SubscriptionsManage);
        await using var receiver = await PartnerReceiver.StartAsync();
        var byName = receiver.Url.Replace("127.0.0.1", "localhost", StringComparison.Ordinal);

        var created = await partner.Client.PostAsync("/api/v1/subscriptions", Samples.Json(new JsonObject { ["url"] = byName }), Ct);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var alertId = await originator.PublishAsync(Samples.SmugglingAlert());

        await receiver.WaitForAsync(1);
        var webhook = Assert.Single(receiver.Received);
        Assert.Equal("alert.published", webhook.Type);
        Assert.Equal(alertId, webhook.Json.GetProperty("data").GetProperty("id").GetGuid());
    }

    [Fact]
    public async Task In_Development_plain_http_is_still_refused_for_a_receiver_that_is_not_on_this_machine()
    {
        var partner = await development.CreateAgencyAsync("Hungarian Police", "HU", AgencyKind.Police, Scopes.AlertsRead, Scopes.SubscriptionsManage);

        var response = await partner.Client.PostAsync("/api/v1/subscriptions", Samples.Json(new JsonObject { ["url"] = "http://webhooks.police.hu/intelsharing" }), Ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("The endpoint must use https (http only to localhost in Development).",
            (await response.ReadJsonAsync()).GetProperty("errors").GetProperty("url")[0].GetString());
    }

    [Theory]
    [InlineData("http://localhost:8080/webhooks", "The endpoint must use https.")]
    [InlineData("http://127.0.0.1:8080/webhooks", "The endpoint must use https.")]
    [InlineData("https://127.0.0.1:8443/webhooks", "The endpoint's address is loopback, private, link-local or reserved; an operator must allow that network for your agency.")]
    [InlineData("https://[::1]:8443/webhooks", "The endpoint's address is loopback, private, link-local or reserved; an operator must allow that network for your agency.")]
    public async Task In_Production_the_same_settings_refuse_a_loopback_receiver(string url, string error)
    {
        var partner = await production.CreateAgencyAsync("Hungarian Police", "HU", AgencyKind.Police, Scopes.AlertsRead, Scopes.SubscriptionsManage);
        var before = await production.CountRowsAsync();

        var response = await partner.Client.PostAsync("/api/v1/subscriptions", Samples.Json(new JsonObject { ["url"] = url }), Ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(error, (await response.ReadJsonAsync()).GetProperty("errors").GetProperty("url")[0].GetString());
        Assert.Equal(before, await production.CountRowsAsync());
    }

    [Fact]
    public async Task In_Production_a_host_name_for_loopback_is_never_dialled()
    {
        var originator = await production.CreateAgencyAsync("Border Police Directorate", "RS");
        var partner = await production.CreateAgencyAsync("Hungarian Police", "HU", AgencyKind.Police, Scopes.AlertsRead, Scopes.SubscriptionsManage);
        await using var receiver = await PartnerReceiver.StartAsync();
        // https to "localhost" passes the form check (a name is judged when dialled); the dial must then refuse it.
        var url = receiver.Url.Replace("http://127.0.0.1", "https://localhost", StringComparison.Ordinal);

        var created = await partner.Client.PostAsync("/api/v1/subscriptions", Samples.Json(new JsonObject { ["url"] = url }), Ct);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var subscriptionId = (await created.ReadJsonAsync()).GetProperty("subscription").GetProperty("id").GetGuid();
        await originator.PublishAsync(Samples.SmugglingAlert());

        string? error = null;
        await DeliveryTestSettings.EventuallyAsync(async () =>
        {
            var page = await (await partner.Client.GetAsync($"/api/v1/deliveries?subscription={subscriptionId}", Ct)).ReadJsonAsync();
            var delivery = page.GetProperty("items").EnumerateArray().FirstOrDefault();
            error = delivery.ValueKind == System.Text.Json.JsonValueKind.Object && delivery.TryGetProperty("lastError", out var e) ? e.GetString() : null;
            return error is not null;
        }, "the attempt to be refused");
        Assert.Equal(0, receiver.Requests);
    }

    public sealed class DevelopmentFixture : SqliteApiFixture
    {
        protected override IEnumerable<KeyValuePair<string, string>> Settings => SameSettings;

        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.UseEnvironment("Development");
        }
    }

    public sealed class ProductionFixture : SqliteApiFixture
    {
        protected override IEnumerable<KeyValuePair<string, string>> Settings => SameSettings;

        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.UseEnvironment("Production");
        }
    }
}
