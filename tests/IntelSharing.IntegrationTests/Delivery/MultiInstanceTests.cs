using System.Collections.Concurrent;
using System.Net;
using System.Text.Json.Nodes;
using Dapper;
using IntelSharing.Api.Infrastructure.Security;
using IntelSharing.IntegrationTests.Infrastructure;

namespace IntelSharing.IntegrationTests.Delivery;

/// <summary>
/// Two real API processes on one PostgreSQL, one killed with SIGKILL mid-way: every delivery still arrives
/// at least once, and every duplicate carries the same webhook-id.
/// </summary>
public sealed class MultiInstanceTests
{
    private const int Alerts = 1000;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Killing_one_of_two_instances_under_load_loses_no_delivery_and_duplicates_share_their_webhook_id()
    {
        var receivers = new List<PartnerReceiver>();
        for (var i = 0; i < 3; i++)
        {
            receivers.Add(await PartnerReceiver.StartAsync());
        }

        await using var instances = await ApiInstances.StartAsync("multiinstance");
        var (first, second, database) = (instances.First, instances.Second, instances.Database);

        // Setup straight in the database: an originator and three partners with keys.
        var (_, originatorKey) = await ApiProcess.CreateAgencyAsync(database, "Border Police Directorate", [Scopes.AlertsWrite, Scopes.AlertsRead]);
        for (var i = 0; i < 3; i++)
        {
            var (_, partnerKey) = await ApiProcess.CreateAgencyAsync(database, $"Partner {i}", [Scopes.AlertsRead, Scopes.SubscriptionsManage]);
            using var partner = first.Client(partnerKey);
            var created = await partner.PostAsync("/api/v1/subscriptions", Samples.Json(new JsonObject { ["url"] = receivers[i].Url }), Ct);
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        using var toFirst = first.Client(originatorKey);
        using var toSecond = second.Client(originatorKey);
        var accepted = new ConcurrentBag<Guid>();
        var submitted = 0;
        await Parallel.ForEachAsync(Enumerable.Range(0, Alerts), new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = Ct }, async (i, token) =>
        {
            var client = i % 2 == 0 || second.HasExited ? toFirst : toSecond;
            if (Interlocked.Increment(ref submitted) == Alerts / 3)
            {
                second.Kill();
            }

            // A real client retries on the survivor with the same Idempotency-Key: an alert the killed instance
            // committed but never acknowledged is then answered, not duplicated.
            var key = $"multi-{i}";
            HttpResponseMessage response;
            try
            {
                response = await SubmitAsync(client, key, token);
            }
            catch (HttpRequestException) when (client == toSecond)
            {
                response = await SubmitAsync(toFirst, key, token);
            }

            if (response.StatusCode == HttpStatusCode.Created)
            {
                accepted.Add((await response.ReadJsonAsync()).GetProperty("id").GetGuid());
            }
        });

        Assert.True(second.HasExited);
        Assert.Equal(Alerts, accepted.Distinct().Count());

        foreach (var receiver in receivers)
        {
            await DeliveryTestSettings.EventuallyAsync(
                () => Task.FromResult(HasAll(receiver, accepted)),
                "every acknowledged alert at every partner", TimeSpan.FromSeconds(120));
        }

        foreach (var receiver in receivers)
        {
            var byAlert = receiver.Received.GroupBy(r => r.Json.GetProperty("data").GetProperty("id").GetGuid()).ToList();
            Assert.All(accepted, id => Assert.Contains(byAlert, g => g.Key == id));
            Assert.All(byAlert, g => Assert.Single(g.Select(r => r.Id).Distinct()));
        }

        // The killed instance may have sent a delivery and died before recording it: the partner has it, and the row
        // stays in flight until its 5 s lease ends; the survivor then takes it over, sends it again (same webhook-id)
        // and records it. So every row ends delivered, once those leases have run out.
        await using var connection = await database.OpenAsync(Ct);
        await DeliveryTestSettings.EventuallyAsync(
            async () => await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM deliveries WHERE state <> 'delivered'") == 0,
            "every delivery recorded delivered", TimeSpan.FromSeconds(60));
        foreach (var receiver in receivers)
        {
            await receiver.DisposeAsync();
        }
    }

    private static async Task<HttpResponseMessage> SubmitAsync(HttpClient client, string idempotencyKey, CancellationToken token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/alerts") { Content = Samples.Json(Samples.SmugglingAlert()) };
        request.Headers.Add("Idempotency-Key", idempotencyKey);
        return await client.SendAsync(request, token);
    }

    private static bool HasAll(PartnerReceiver receiver, ConcurrentBag<Guid> accepted)
    {
        var seen = receiver.Received.Select(r => r.Json.GetProperty("data").GetProperty("id").GetGuid()).ToHashSet();
        return accepted.All(seen.Contains);
    }
}
