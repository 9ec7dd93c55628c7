using System.Net;
using System.Text.Json.Nodes;
using Dapper;
using IntelSharing.Api.Infrastructure.Security;
using IntelSharing.IntegrationTests.Infrastructure;

namespace IntelSharing.IntegrationTests.Delivery;

/// <summary>
/// Two real API processes on one PostgreSQL, each sweeping holds every second (ADR 48), and a partner that pauses and
/// resumes its subscription through alternate instances, now and then for long enough that the sweeps hold what queued
/// (measured while writing it: up to 14–28 deliveries held at once), while alerts keep coming through both. Once the
/// partner stays resumed, every alert must arrive and nothing may stay held. Whether a sweep commits its holds just
/// after a resume released is left to chance here; <c>ClaimPlanTests</c> releases such rows deterministically.
/// </summary>
public sealed class HoldsAcrossInstancesTests
{
    private const int Alerts = 120;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_partner_pausing_and_resuming_through_two_instances_while_alerts_flow_gets_every_alert_and_nothing_stays_held()
    {
        await using var receiver = await PartnerReceiver.StartAsync();
        await using var instances = await ApiInstances.StartAsync("holds");
        var (first, second, database) = (instances.First, instances.Second, instances.Database);
        var (_, originatorKey) = await ApiProcess.CreateAgencyAsync(database, "Border Police Directorate", [Scopes.AlertsWrite, Scopes.AlertsRead]);
        var (_, partnerKey) = await ApiProcess.CreateAgencyAsync(database, "Hungarian Police", [Scopes.AlertsRead, Scopes.SubscriptionsManage], "HU");
        using var partnerOnFirst = first.Client(partnerKey);
        using var partnerOnSecond = second.Client(partnerKey);
        var created = await partnerOnFirst.PostAsync("/api/v1/subscriptions", Samples.Json(new JsonObject { ["url"] = receiver.Url }), Ct);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var subscriptionId = (await created.ReadJsonAsync()).GetProperty("subscription").GetProperty("id").GetGuid();

        // The partner flips its subscription through alternate instances, as fast as they answer or, every fourth time, slower.
        using var stop = new CancellationTokenSource();
        var flips = 0;
        var flipping = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var (pauseOn, resumeOn) = flips % 2 == 0 ? (partnerOnFirst, partnerOnSecond) : (partnerOnSecond, partnerOnFirst);
                Assert.Equal(HttpStatusCode.OK, (await pauseOn.PostAsync($"/api/v1/subscriptions/{subscriptionId}/pause", null, Ct)).StatusCode);
                if (flips % 4 == 0)
                {
                    // Now and then a pause long enough for both instances' sweeps to hold what queues meanwhile.
                    await Task.Delay(TimeSpan.FromMilliseconds(1100), Ct);
                }

                Assert.Equal(HttpStatusCode.OK, (await resumeOn.PostAsync($"/api/v1/subscriptions/{subscriptionId}/resume", null, Ct)).StatusCode);
                flips++;
            }
        }, Ct);

        using var toFirst = first.Client(originatorKey);
        using var toSecond = second.Client(originatorKey);
        for (var i = 0; i < Alerts; i++)
        {
            var response = await (i % 2 == 0 ? toFirst : toSecond).PostAsync("/api/v1/alerts", Samples.Json(Samples.SmugglingAlert()), Ct);
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
            if (i % 10 == 9)
            {
                // Alerts keep coming across several pauses, not in one burst.
                await Task.Delay(TimeSpan.FromMilliseconds(300), Ct);
            }
        }

        await stop.CancelAsync();
        await flipping;
        Assert.True(flips > 3, $"only {flips} pause/resume flips happened while the alerts were submitted");
        Assert.Equal(HttpStatusCode.OK, (await partnerOnFirst.PostAsync($"/api/v1/subscriptions/{subscriptionId}/resume", null, Ct)).StatusCode);

        await DeliveryTestSettings.EventuallyAsync(
            () => Task.FromResult(receiver.Received.Select(r => r.Id).Distinct().Count() == Alerts), $"all {Alerts} alerts to arrive", TimeSpan.FromSeconds(60));
        await DeliveryTestSettings.EventuallyAsync(async () =>
        {
            await using var connection = await database.OpenAsync(Ct);
            return await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM deliveries WHERE state <> 'delivered' OR held") == 0;
        }, "every delivery recorded delivered and none held", TimeSpan.FromSeconds(30));
    }
}
