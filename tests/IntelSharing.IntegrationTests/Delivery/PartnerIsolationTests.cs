using System.Net;
using System.Text.Json.Nodes;
using IntelSharing.Api.Domain;
using IntelSharing.Api.Infrastructure.Security;
using IntelSharing.IntegrationTests.Infrastructure;

namespace IntelSharing.IntegrationTests.Delivery;

/// <summary>One dead or slow partner never delays delivery to the others (real clock, real listeners).</summary>
public sealed class PartnerIsolationTests(RealTimeDeliveryFixture app) : IClassFixture<RealTimeDeliveryFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task With_one_partner_hanging_and_one_refusing_the_healthy_partners_receive_every_alert_while_the_hung_attempts_are_still_open()
    {
        var originator = await app.CreateAgencyAsync("Border Police Directorate", "RS");
        await using var hanging = await PartnerReceiver.StartAsync();
        hanging.Behaviour = _ => new PartnerReceiver.Response(HttpStatusCode.OK, Hang: true);
        await using var healthyA = await PartnerReceiver.StartAsync();
        await using var healthyB = await PartnerReceiver.StartAsync();
        int closedPort;
        using (var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0))
        {
            listener.Start();
            closedPort = ((IPEndPoint)listener.LocalEndpoint).Port;
        }

        foreach (var (name, url) in new[]
                 {
                     ("Hanging partner", hanging.Url), ("Refusing partner", $"http://127.0.0.1:{closedPort}/hook"),
                     ("Hungarian Police", healthyA.Url), ("Europol", healthyB.Url),
                 })
        {
            var agency = await app.CreateAgencyAsync(name, "HU", AgencyKind.Police, Scopes.AlertsRead, Scopes.SubscriptionsManage);
            var created = await agency.Client.PostAsync("/api/v1/subscriptions", Samples.Json(new JsonObject { ["url"] = url }), Ct);
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        const int alerts = 30;
        for (var i = 0; i < alerts; i++)
        {
            Assert.Equal(HttpStatusCode.Created, (await originator.Client.PostAsync("/api/v1/alerts", Samples.Json(Samples.SmugglingAlert()), Ct)).StatusCode);
        }

        await healthyA.WaitForAsync(alerts, TimeSpan.FromSeconds(60));
        await healthyB.WaitForAsync(alerts, TimeSpan.FromSeconds(60));

        // The hung attempts have not timed out yet (10 s attempt timeout): the healthy partners did not wait for them.
        await using var connection = await app.Database.OpenAsync(Ct);
        var hungOpen = await Dapper.SqlMapper.ExecuteScalarAsync<long>(connection,
            "SELECT COUNT(*) FROM deliveries d JOIN subscriptions s ON s.id = d.subscription_id WHERE s.url = @url AND d.state = 'in_flight' AND d.attempts = 0",
            new { url = hanging.Url });
        Assert.InRange(hungOpen, 1, 4);
        Assert.Equal(alerts, healthyA.Received.Select(r => r.Id).Distinct().Count());
    }
}
