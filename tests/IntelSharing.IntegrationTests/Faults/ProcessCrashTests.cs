using System.Collections.Concurrent;
using System.Net;
using System.Text.Json.Nodes;
using Dapper;
using IntelSharing.Api.Infrastructure.Persistence;
using IntelSharing.Api.Infrastructure.Security;
using IntelSharing.IntegrationTests.Infrastructure;
using Microsoft.Extensions.Options;

namespace IntelSharing.IntegrationTests.Faults;

/// <summary>
/// The only API process, on PostgreSQL, killed with SIGKILL while clients submit alerts, then started again on
/// the same database: every alert acknowledged with 201 is still there, clients that got no answer retry with
/// their Idempotency-Key and get one alert each, and every partner receives every alert at least once, with
/// duplicates carrying the same webhook-id. Reduced: one kill of 240 submissions; full: three kills of 1,500.
/// </summary>
[Collection(nameof(FaultCollection))]
public sealed class ProcessCrashTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Killing_the_only_instance_under_load_and_restarting_it_keeps_every_acknowledged_alert_and_delivers_each_at_least_once()
    {
        var cluster = await PostgresCluster.Shared;
        if (cluster.AdminConnectionString is null)
        {
            Assert.True(!PostgresCluster.Required, cluster.UnavailableReason);
            Assert.Skip(cluster.UnavailableReason!);
        }

        var kills = FaultRuns.Size(1, 3);
        var perRound = FaultRuns.Size(240, 1_500);
        var partners = FaultRuns.Size(2, 3);
        var connectionString = await cluster.CreateDatabaseAsync("crashrestart");
        var receivers = new List<PartnerReceiver>();
        for (var i = 0; i < partners; i++)
        {
            receivers.Add(await PartnerReceiver.StartAsync());
        }

        var api = ApiProcess.Start(connectionString);
        try
        {
            await api.WaitUntilReadyAsync();
            var database = new Database(Options.Create(new DatabaseOptions { Provider = DatabaseProvider.Postgres, ConnectionString = connectionString }));
            await using var _ = database;
            var (_, originatorKey) = await ApiProcess.CreateAgencyAsync(database, "Border Police Directorate", [Scopes.AlertsWrite, Scopes.AlertsRead]);
            for (var i = 0; i < partners; i++)
            {
                var (_, partnerKey) = await ApiProcess.CreateAgencyAsync(database, $"Partner police {i}", [Scopes.AlertsRead, Scopes.SubscriptionsManage], "HU");
                using var partner = api.Client(partnerKey);
                var created = await partner.PostAsync("/api/v1/subscriptions", Samples.Json(new JsonObject { ["url"] = receivers[i].Url }), Ct);
                Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            }

            var acknowledged = new ConcurrentDictionary<string, Guid>();
            for (var round = 0; round < kills; round++)
            {
                var unanswered = await SubmitAndKillAsync(api, originatorKey, round, perRound, acknowledged);
                Assert.True(api.HasExited);
                await api.DisposeAsync();

                // A new process on the same database: nothing else is done to it.
                api = ApiProcess.Start(connectionString);
                await api.WaitUntilReadyAsync();
                using var client = api.Client(originatorKey);
                foreach (var key in unanswered)
                {
                    var retried = await SubmitAsync(client, key, Ct);
                    Assert.Equal(HttpStatusCode.Created, retried.StatusCode);
                    acknowledged[key] = (await retried.ReadJsonAsync()).GetProperty("id").GetGuid();
                }

                FaultRuns.Report($"Kill {round + 1}: {perRound - unanswered.Count} of {perRound} submissions acknowledged before and during the kill, {unanswered.Count} unanswered and retried after the restart.");
            }

            Assert.Equal(kills * perRound, acknowledged.Count);
            using (var reader = api.Client(originatorKey))
            {
                foreach (var (key, id) in acknowledged)
                {
                    var read = await reader.GetAsync($"/api/v1/alerts/{id}", Ct);
                    Assert.True(read.StatusCode == HttpStatusCode.OK, $"Alert {id} (Idempotency-Key {key}) was acknowledged but reads {(int)read.StatusCode}.");
                }
            }

            await using (var connection = await database.OpenAsync(Ct))
            {
                // One alert per key: a retry of a submission the killed process had committed was answered, not repeated.
                Assert.Equal(acknowledged.Count, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM alerts"));
            }

            var ids = acknowledged.Values.ToHashSet();
            foreach (var receiver in receivers)
            {
                await DeliveryTestSettings.EventuallyAsync(
                    () => Task.FromResult(ids.IsSubsetOf(receiver.Received.Select(AlertId))),
                    $"every acknowledged alert at {receiver.Url}", TimeSpan.FromSeconds(FaultRuns.Size(180, 600)));
                var byAlert = receiver.Received.GroupBy(AlertId).ToList();
                Assert.All(byAlert, g => Assert.Single(g.Select(r => r.Id).Distinct()));
                FaultRuns.Report($"{receiver.Url}: {ids.Count} alerts received, {receiver.Received.Count - byAlert.Count} duplicate requests (same webhook-id).");
            }

            await using (var connection = await database.OpenAsync(Ct))
            {
                await DeliveryTestSettings.EventuallyAsync(
                    async () => await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM deliveries WHERE state <> 'delivered'") == 0,
                    "every delivery recorded as delivered", TimeSpan.FromSeconds(60));
            }
        }
        finally
        {
            await api.DisposeAsync();
            foreach (var receiver in receivers)
            {
                await receiver.DisposeAsync();
            }
        }
    }

    /// <summary>
    /// Eight clients submit <paramref name="count"/> alerts; when half are acknowledged the process is killed.
    /// Returns the keys that got no answer (cut mid-request, or refused after the kill).
    /// </summary>
    private static async Task<List<string>> SubmitAndKillAsync(ApiProcess api, string key, int round, int count, ConcurrentDictionary<string, Guid> acknowledged)
    {
        using var client = api.Client(key);
        var unanswered = new ConcurrentBag<string>();
        var answeredThisRound = 0;
        var killed = 0;
        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = Ct }, async (i, token) =>
        {
            var idempotencyKey = $"crash-{round}-{i}";
            try
            {
                var response = await SubmitAsync(client, idempotencyKey, token);
                Assert.Equal(HttpStatusCode.Created, response.StatusCode);
                acknowledged[idempotencyKey] = (await response.ReadJsonAsync()).GetProperty("id").GetGuid();
                if (Interlocked.Increment(ref answeredThisRound) == count / 2 && Interlocked.Exchange(ref killed, 1) == 0)
                {
                    api.Kill();
                }
            }
            catch (HttpRequestException)
            {
                unanswered.Add(idempotencyKey);
            }
        });

        return [.. unanswered];
    }

    private static async Task<HttpResponseMessage> SubmitAsync(HttpClient client, string idempotencyKey, CancellationToken token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/alerts") { Content = Samples.Json(Samples.SmugglingAlert()) };
        request.Headers.Add("Idempotency-Key", idempotencyKey);
        return await client.SendAsync(request, token);
    }

    private static Guid AlertId(ReceivedWebhook webhook) => webhook.Json.GetProperty("data").GetProperty("id").GetGuid();
}
