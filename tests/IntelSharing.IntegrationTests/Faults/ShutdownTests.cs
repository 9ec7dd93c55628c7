using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using Dapper;
using IntelSharing.Api.Features.Deliveries.Dispatch;
using IntelSharing.Api.Infrastructure.Persistence;
using IntelSharing.Api.Infrastructure.Security;
using IntelSharing.IntegrationTests.Infrastructure;
using Microsoft.Extensions.Options;

namespace IntelSharing.IntegrationTests.Faults;

/// <summary>
/// The API as a separate process on PostgreSQL, stopped with SIGTERM (as Kubernetes stops a pod) while two partners hold
/// a delivery each: one answers within the shutdown grace, the other never answers. Issue 11, item 3.
/// </summary>
[Collection(nameof(FaultCollection))]
public sealed class ShutdownTests
{
    private const int GraceSeconds = 3;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private sealed record DeliveryRow
    {
        public Guid Id { get; init; }

        public string State { get; init; } = string.Empty;

        public int Attempts { get; init; }

        public Guid? ClaimToken { get; init; }

        public string Url { get; init; } = string.Empty;
    }

    [Fact]
    public async Task SIGTERM_mid_send_records_the_finished_send_as_delivered_and_the_cut_off_one_as_an_attempt_sent_again_at_once_after_restart()
    {
        var cluster = await PostgresCluster.Shared;
        if (cluster.AdminConnectionString is null)
        {
            Assert.True(!PostgresCluster.Required, cluster.UnavailableReason);
            Assert.Skip(cluster.UnavailableReason!);
        }

        var connectionString = await cluster.CreateDatabaseAsync("shutdown");
        await using var slow = await PartnerReceiver.StartAsync();
        await using var hanging = await PartnerReceiver.StartAsync();
        slow.Behaviour = _ => new PartnerReceiver.Response(HttpStatusCode.NoContent, Delay: TimeSpan.FromSeconds(1));
        hanging.Behaviour = _ => new PartnerReceiver.Response(HttpStatusCode.NoContent, Hang: true);

        // The production lease (60 s) and an attempt timeout far beyond the grace: only the shutdown path can explain what follows.
        var settings = new Dictionary<string, string>
        {
            ["Delivery__ShutdownGraceSeconds"] = GraceSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Delivery__Lease"] = "00:01:00",
            ["Delivery__AttemptTimeout"] = "00:00:30",
        };
        var api = ApiProcess.Start(connectionString, settings);
        try
        {
            await api.WaitUntilReadyAsync();
            var database = new Database(Options.Create(new DatabaseOptions { Provider = DatabaseProvider.Postgres, ConnectionString = connectionString }));
            await using var _ = database;
            var (_, originatorKey) = await ApiProcess.CreateAgencyAsync(database, "Border Police Directorate", [Scopes.AlertsWrite, Scopes.AlertsRead]);
            foreach (var (receiver, i) in new[] { slow, hanging }.Select((r, i) => (r, i)))
            {
                var (_, partnerKey) = await ApiProcess.CreateAgencyAsync(database, $"Partner police {i}", [Scopes.AlertsRead, Scopes.SubscriptionsManage], "HU");
                using var partner = api.Client(partnerKey);
                var created = await partner.PostAsync("/api/v1/subscriptions", Samples.Json(new JsonObject { ["url"] = receiver.Url }), Ct);
                Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            }

            using (var originator = api.Client(originatorKey))
            {
                var submitted = await originator.PostAsync("/api/v1/alerts", Samples.Json(Samples.SmugglingAlert()), Ct);
                Assert.Equal(HttpStatusCode.Created, submitted.StatusCode);
            }

            // Both sends are under way: the slow partner is taking its time, the other is holding the connection open.
            await DeliveryTestSettings.EventuallyAsync(() => Task.FromResult(slow.Requests == 1 && hanging.Requests == 1), "both partners to be sent to");
            var stopping = Stopwatch.StartNew();
            var exitCode = await api.TerminateAsync(TimeSpan.FromSeconds(GraceSeconds + 20));
            Assert.True(exitCode == 0, $"The API exited with {exitCode} on SIGTERM: {api.RecentOutput}");
            Assert.True(stopping.Elapsed < TimeSpan.FromSeconds(GraceSeconds + 10), $"Shutdown took {stopping.Elapsed}, beyond the grace of {GraceSeconds} s.");

            await using var connection = await database.OpenAsync(Ct);
            var rows = (await connection.QueryAsync<DeliveryRow>(
                "SELECT d.id AS Id, d.state AS State, d.attempts AS Attempts, d.claim_token AS ClaimToken, s.url AS Url FROM deliveries d JOIN subscriptions s ON s.id = d.subscription_id")).ToList();
            var finished = Assert.Single(rows, r => r.Url == slow.Url);
            var cutOff = Assert.Single(rows, r => r.Url == hanging.Url);
            Assert.Equal((DeliveryStates.Delivered, 1), (finished.State, finished.Attempts));
            // Recorded and released: the attempt is in the ledger, the lease is gone, and it is due again now.
            Assert.Equal((DeliveryStates.Failed, 1, (Guid?)null), (cutOff.State, cutOff.Attempts, cutOff.ClaimToken));
            var error = await connection.ExecuteScalarAsync<string>(
                "SELECT error FROM delivery_attempts WHERE delivery_id = @id AND attempt = 1", new { id = cutOff.Id });
            Assert.Equal(OutcomeRecorder.Interrupted, error);

            // The partner is back; a new process sends the cut-off delivery at once, not after the 60 s lease.
            hanging.Behaviour = _ => new PartnerReceiver.Response(HttpStatusCode.NoContent);
            await api.DisposeAsync();
            var restarted = Stopwatch.StartNew();
            api = ApiProcess.Start(connectionString, settings);
            await api.WaitUntilReadyAsync();
            await hanging.WaitForAsync(1, TimeSpan.FromSeconds(30));
            Assert.True(restarted.Elapsed < TimeSpan.FromSeconds(45), $"The cut-off delivery was sent again {restarted.Elapsed} after the restart.");
            await DeliveryTestSettings.EventuallyAsync(
                async () => await connection.ExecuteScalarAsync<string>("SELECT state FROM deliveries WHERE id = @id", new { id = cutOff.Id }) == DeliveryStates.Delivered,
                "the cut-off delivery to be recorded delivered after the restart");
            Assert.Equal(2, await connection.ExecuteScalarAsync<int>("SELECT attempts FROM deliveries WHERE id = @id", new { id = cutOff.Id }));
            // The finished send was not repeated.
            Assert.Single(slow.Received);
        }
        finally
        {
            await api.DisposeAsync();
        }
    }
}
