using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using Dapper;
using IntelSharing.Api.Domain;
using IntelSharing.Api.Features.Deliveries.Dispatch;
using IntelSharing.Api.Infrastructure.Persistence;
using IntelSharing.Api.Infrastructure.Security;
using IntelSharing.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace IntelSharing.IntegrationTests.Delivery;

/// <summary>
/// A claim whose outcome waits for its commit keeps its lease (ADR 37): the renewal extends what this instance holds,
/// and nothing it no longer holds. The dispatcher is off; the test claims and renews as a worker would.
/// </summary>
public abstract class LeaseRenewalTests<TFixture>(TFixture app) : IAsyncLifetime
    where TFixture : ApiFixture, IClockedFixture
{
    private readonly PartnerRig _partners = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static readonly WorkerShares.Exclusions NothingExcluded = new([], [], false, [], []);

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public ValueTask DisposeAsync() => _partners.DisposeAsync();

    [Fact]
    public async Task A_held_claim_is_renewed_and_not_taken_over_when_its_first_lease_ends()
    {
        var (claims, options, subscriptionId) = await QueuedDeliveryAsync("Croatian Border Police", "HR");
        var held = Assert.Single(await claims.ClaimAsync(100, NothingExcluded, Ct), d => d.SubscriptionId == subscriptionId);
        var renewal = new LeaseRenewal(app.Database, app.Clock, options, NullLogger.Instance);
        // Claimed a whole lease ago by the machine's clock: due for renewal at once.
        renewal.Hold(held, Stopwatch.GetTimestamp() - (long)(options.Lease.TotalSeconds * Stopwatch.Frequency));

        app.Clock.Advance(options.Lease - TimeSpan.FromSeconds(1));
        Assert.Equal(1, await renewal.RenewDueAsync(Ct));
        app.Clock.Advance(TimeSpan.FromSeconds(2));

        Assert.DoesNotContain(await claims.ClaimAsync(100, NothingExcluded, Ct), d => d.Id == held.Id);
        Assert.Equal((DeliveryStates.InFlight, 0), await app.DeliveryStateAsync(held.Id));
    }

    [Fact]
    public async Task A_claim_another_worker_took_over_is_not_renewed()
    {
        var (claims, options, subscriptionId) = await QueuedDeliveryAsync("Bosnian Border Police", "BA");
        var stale = Assert.Single(await claims.ClaimAsync(100, NothingExcluded, Ct), d => d.SubscriptionId == subscriptionId);
        // The first worker renewed nothing (its process stalled) and its lease ran out: another worker holds it now.
        app.Clock.Advance(options.Lease + TimeSpan.FromSeconds(1));
        var current = Assert.Single(await claims.ClaimAsync(100, NothingExcluded, Ct), d => d.SubscriptionId == subscriptionId);
        var renewal = new LeaseRenewal(app.Database, app.Clock, options, NullLogger.Instance);
        renewal.Hold(stale, Stopwatch.GetTimestamp() - (long)(options.Lease.TotalSeconds * Stopwatch.Frequency));

        Assert.Equal(0, await renewal.RenewDueAsync(Ct));
        await using var connection = await app.Database.OpenAsync(Ct);
        var token = await connection.ExecuteScalarAsync<Guid>("SELECT claim_token FROM deliveries WHERE id = @id", new { id = current.Id });
        Assert.Equal(current.Token, token);
    }

    private async Task<(DeliveryClaims Claims, DeliveryOptions Options, Guid SubscriptionId)> QueuedDeliveryAsync(string partnerName, string country)
    {
        app.RequireDatabase();
        var originator = await app.CreateAgencyAsync("Border Police Directorate", "RS", AgencyKind.Police, Scopes.AlertsWrite, Scopes.AlertsRead);
        var partner = await app.CreateAgencyAsync(partnerName, country, AgencyKind.Police, Scopes.AlertsRead, Scopes.SubscriptionsManage);
        var (_, subscriptionId) = await _partners.SubscribedReceiverAsync(partner);
        await originator.PublishAsync(TestData.SmugglingAlert("green"));
        var options = app.Services.GetRequiredService<IOptions<DeliveryOptions>>().Value;
        return (new DeliveryClaims(app.Database, app.Services.GetRequiredService<DeliverySignal>(), app.Clock, options), options, subscriptionId);
    }
}

public sealed class LeaseRenewalTestsOnSqlite(RecordingSqliteFixture app) : LeaseRenewalTests<RecordingSqliteFixture>(app), IClassFixture<RecordingSqliteFixture>;

public sealed class LeaseRenewalTestsOnPostgres(RecordingPostgresFixture app) : LeaseRenewalTests<RecordingPostgresFixture>(app), IClassFixture<RecordingPostgresFixture>;

/// <summary>
/// Two real API processes on one PostgreSQL with a 2 s lease, and outcome commits held up far longer than that: the
/// partner still gets each delivery once. Before ADR 37 the second instance (or the first) claimed every delivery whose
/// outcome was waiting and sent it again. SQLite has no counterpart: one writer at a time, so a held-up commit holds up
/// every claim with it.
/// </summary>
public sealed class SlowOutcomeCommitTests
{
    private const int Alerts = 12;
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(2);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task With_outcome_commits_held_past_the_lease_two_instances_send_each_delivery_once()
    {
        var cluster = await PostgresCluster.Shared;
        if (cluster.AdminConnectionString is null)
        {
            Assert.True(!PostgresCluster.Required, cluster.UnavailableReason);
            Assert.Skip(cluster.UnavailableReason!);
        }

        var connectionString = await cluster.CreateDatabaseAsync("leaserenewal");
        await using var receiver = await PartnerReceiver.StartAsync();
        var settings = new Dictionary<string, string> { ["Delivery__Lease"] = "00:00:02", ["Delivery__AttemptTimeout"] = "00:00:01" };
        await using var first = ApiProcess.Start(connectionString, settings);
        await using var second = ApiProcess.Start(connectionString, settings);
        await first.WaitUntilReadyAsync();
        await second.WaitUntilReadyAsync();

        var database = new Database(Options.Create(new DatabaseOptions { Provider = DatabaseProvider.Postgres, ConnectionString = connectionString }));
        await using var _ = database;
        var (_, originatorKey) = await ApiProcess.CreateAgencyAsync(database, "Border Police Directorate", [Scopes.AlertsWrite, Scopes.AlertsRead]);
        var (_, partnerKey) = await ApiProcess.CreateAgencyAsync(database, "Hungarian Police", [Scopes.AlertsRead, Scopes.SubscriptionsManage], "HU");
        using (var partner = first.Client(partnerKey))
        {
            var created = await partner.PostAsync("/api/v1/subscriptions", Samples.Json(new JsonObject { ["url"] = receiver.Url }), Ct);
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        // A loaded database, made deterministic: no attempt can be inserted, so every outcome's commit waits on this lock.
        await using var blocker = await database.OpenAsync(Ct);
        await using var block = await blocker.BeginTransactionAsync(Ct);
        await blocker.ExecuteAsync("LOCK TABLE delivery_attempts IN EXCLUSIVE MODE", transaction: block);

        using var toFirst = first.Client(originatorKey);
        using var toSecond = second.Client(originatorKey);
        for (var i = 0; i < Alerts; i++)
        {
            var response = await (i % 2 == 0 ? toFirst : toSecond).PostAsync("/api/v1/alerts", Samples.Json(Samples.SmugglingAlert()), Ct);
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        }

        await DeliveryTestSettings.EventuallyAsync(
            () => Task.FromResult(receiver.Received.Select(r => r.Id).Distinct().Count() == Alerts), "every delivery sent once", TimeSpan.FromSeconds(60));
        // The commits stay held for three leases after the last send: long enough for every unrenewed lease to run out
        // and be claimed again by one of the two instances (they look every second, and at once when woken).
        var heldUntil = DateTime.UtcNow + 3 * Lease;
        await DeliveryTestSettings.EventuallyAsync(
            () => Task.FromResult(receiver.Requests > Alerts || DateTime.UtcNow >= heldUntil), "three leases to pass", 6 * Lease);
        await block.RollbackAsync(Ct);

        await DeliveryTestSettings.EventuallyAsync(
            async () => await database.OpenAsync(Ct) is var c && await UndeliveredAsync(c) == 0, "every outcome committed", TimeSpan.FromSeconds(60));
        var perWebhook = receiver.Received.GroupBy(r => r.Id).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(Alerts, perWebhook.Count);
        Assert.All(perWebhook, w => Assert.True(w.Value == 1, $"{w.Key} was sent {w.Value} times"));
    }

    private static async Task<long> UndeliveredAsync(System.Data.Common.DbConnection connection)
    {
        await using (connection)
        {
            return await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM deliveries WHERE state <> 'delivered'");
        }
    }
}
