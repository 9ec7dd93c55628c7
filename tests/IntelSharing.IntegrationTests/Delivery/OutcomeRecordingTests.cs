using System.Net;
using Dapper;
using IntelSharing.Api.Domain;
using IntelSharing.Api.Features.Deliveries.Dispatch;
using IntelSharing.Api.Infrastructure.Audit;
using IntelSharing.Api.Infrastructure.Security;
using IntelSharing.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace IntelSharing.IntegrationTests.Delivery;

/// <summary>
/// Group commit of outcomes (ADR 16): outcomes recorded together in one transaction still each count only where their
/// worker holds the claim. The dispatcher is off; the test claims and records as two workers would.
/// </summary>
public abstract class OutcomeRecordingTests<TFixture>(TFixture app) : IAsyncLifetime
    where TFixture : ApiFixture, IClockedFixture
{
    private readonly PartnerRig _partners = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private sealed record AttemptRow
    {
        public int Attempt { get; init; }

        public int? StatusCode { get; init; }
    }

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public ValueTask DisposeAsync() => _partners.DisposeAsync();

    [Fact]
    public async Task In_one_batch_the_outcome_of_a_worker_whose_lease_was_taken_over_is_dropped_and_the_new_holders_is_recorded()
    {
        app.RequireDatabase();
        var originator = await app.CreateAgencyAsync("Border Police Directorate", "RS", AgencyKind.Police, Scopes.AlertsWrite, Scopes.AlertsRead);
        var partner = await app.CreateAgencyAsync("Hungarian Police", "HU", AgencyKind.Police, Scopes.AlertsRead, Scopes.SubscriptionsManage);
        var (_, subscriptionId) = await _partners.SubscribedReceiverAsync(partner);
        await originator.PublishAsync(TestData.SmugglingAlert("green"));

        var options = app.Services.GetRequiredService<IOptions<DeliveryOptions>>().Value;
        var claims = new DeliveryClaims(app.Database, app.Services.GetRequiredService<DeliverySignal>(), app.Clock, options);
        var nothingExcluded = new WorkerShares.Exclusions([], [], false, [], []);
        var first = Assert.Single(await claims.ClaimAsync(100, nothingExcluded, Ct), d => d.SubscriptionId == subscriptionId);
        // The first worker stalls past its lease; a second takes the delivery over.
        app.Clock.Advance(options.Lease + TimeSpan.FromSeconds(1));
        var second = Assert.Single(await claims.ClaimAsync(100, nothingExcluded, Ct), d => d.SubscriptionId == subscriptionId);
        Assert.Equal(first.Id, second.Id);

        using var export = new MetricsExport();
        using var metrics = new DeliveryMetrics(export);
        var recorder = new OutcomeRecorder(app.Database, app.Services.GetRequiredService<RetrySchedule>(), metrics, app.Clock, NullLogger.Instance);
        // Both queued before the recorder runs: one transaction writes them.
        var stale = recorder.RecordAsync(first, new AttemptOutcome(false, (int)HttpStatusCode.InternalServerError, null, null, TimeSpan.FromSeconds(2), null));
        var current = recorder.RecordAsync(second, new AttemptOutcome(false, (int)HttpStatusCode.NoContent, null, null, TimeSpan.FromMilliseconds(40), null));
        recorder.Complete();
        await recorder.RunAsync();

        Assert.False(await stale);
        Assert.True(await current);
        Assert.Equal((DeliveryStates.Delivered, 1), await app.DeliveryStateAsync(first.Id));
        await using var connection = await app.Database.OpenAsync(Ct);
        var attempts = (await connection.QueryAsync<AttemptRow>(
            "SELECT attempt AS Attempt, status_code AS StatusCode FROM delivery_attempts WHERE delivery_id = @id", new { id = first.Id })).ToList();
        Assert.Equal(new AttemptRow { Attempt = 1, StatusCode = 204 }, Assert.Single(attempts));
        var audited = await app.AuditRecordsAsync("resource_id = @id", new { id = first.Id });
        Assert.Equal(AuditActions.DeliveryDelivered, Assert.Single(audited).Action);
    }
}

public sealed class RecordingSqliteFixture : ClockedSqliteApiFixture
{
    protected override IEnumerable<KeyValuePair<string, string>> Settings => [.. DeliveryTestSettings.Loopback, new("Delivery:Enabled", "false")];
}

public sealed class RecordingPostgresFixture : ClockedPostgresApiFixture
{
    protected override IEnumerable<KeyValuePair<string, string>> Settings => [.. DeliveryTestSettings.Loopback, new("Delivery:Enabled", "false")];
}

public sealed class OutcomeRecordingTestsOnSqlite(RecordingSqliteFixture app) : OutcomeRecordingTests<RecordingSqliteFixture>(app), IClassFixture<RecordingSqliteFixture>;

public sealed class OutcomeRecordingTestsOnPostgres(RecordingPostgresFixture app) : OutcomeRecordingTests<RecordingPostgresFixture>(app), IClassFixture<RecordingPostgresFixture>;
