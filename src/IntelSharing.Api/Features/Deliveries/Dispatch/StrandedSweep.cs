using Dapper;
using IntelSharing.Api.Infrastructure.Audit;
using IntelSharing.Api.Infrastructure.Persistence;
using IntelSharing.Api.Infrastructure.Time;

namespace IntelSharing.Api.Features.Deliveries.Dispatch;

/// <summary>
/// Cancels deliveries still queued for a subscription that ended (a 410 disabled it, or its owner deleted it).
/// Ending a subscription cancels what is queued when it commits, but a transaction that read the subscription as
/// active a moment earlier can still queue after that: an alert published at the same time (the outbox does not
/// lock subscriptions, which every publication would then contend on), or an attempt put back or recorded as
/// failed. Claims never pick them; this sweep, in every instance's loop, ends them visibly and audits each.
/// </summary>
public sealed class StrandedSweep(Database database, TimeProvider time, ILogger logger)
{
    // How long after a subscription ended its queue is still swept, and how often.
    private static readonly TimeSpan StrandedWindow = TimeSpan.FromHours(1);
    private readonly Cadence _sweeps = new(TimeSpan.FromSeconds(1));

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        if (!_sweeps.Due())
        {
            return;
        }

        var now = time.UtcNowMicros();
        await using var connection = await database.OpenAsync(cancellationToken);
        var anyEnded = await connection.ExecuteScalarAsync<int?>(new CommandDefinition(
            "SELECT 1 FROM subscriptions WHERE status IN ('disabled', 'deleted') AND updated_at >= @since LIMIT 1",
            new { since = now - StrandedWindow }, cancellationToken: cancellationToken));
        if (anyEnded is null)
        {
            return;
        }

        await using var write = await Database.BeginWriteAsync(connection, cancellationToken);

        var transaction = write.Transaction;
        var stranded = (await connection.QueryAsync<StrandedRow>(new CommandDefinition(
            """
            UPDATE deliveries SET state = @cancelled, last_error = @reason, updated_at = @now, claim_token = NULL, lease_until = NULL
            WHERE state IN (@pending, @failed)
              AND subscription_id IN (SELECT id FROM subscriptions WHERE status IN ('disabled', 'deleted') AND updated_at >= @since)
            RETURNING id AS Id, subscription_id AS SubscriptionId, agency_id AS AgencyId
            """,
            new
            {
                now,
                since = now - StrandedWindow,
                reason = "The subscription ended (410 Gone or deleted) while this delivery was being queued or attempted; it was cancelled.",
                cancelled = DeliveryStates.Cancelled,
                pending = DeliveryStates.Pending,
                failed = DeliveryStates.Failed,
            },
            transaction, cancellationToken: cancellationToken))).ToList();
        foreach (var row in stranded)
        {
            await AuditWriter.RecordSystemAsync(connection, transaction, new AuditEvent(AuditActions.DeliveryCancelled, 0)
            {
                ResourceType = AuditResources.Delivery,
                ResourceId = row.Id,
                AgencyId = row.AgencyId,
                Detail = new { subscriptionId = row.SubscriptionId, reason = "subscription ended" },
            }, time, CancellationToken.None);
        }

        await write.CommitAsync(CancellationToken.None);
        if (stranded.Count > 0)
        {
            logger.LogInformation("Cancelled {Count} deliveries queued for subscriptions that had ended.", stranded.Count);
        }
    }

    private sealed record StrandedRow
    {
        public Guid Id { get; init; }

        public Guid SubscriptionId { get; init; }

        public Guid AgencyId { get; init; }
    }
}
