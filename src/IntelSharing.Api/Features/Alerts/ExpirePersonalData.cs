using System.Text.Json;
using Dapper;
using IntelSharing.Api.Domain;
using IntelSharing.Api.Features.Feed;
using IntelSharing.Api.Infrastructure.Audit;
using IntelSharing.Api.Features.Deliveries;
using IntelSharing.Api.Features.Deliveries.Dispatch;
using IntelSharing.Api.Infrastructure.Json;
using IntelSharing.Api.Infrastructure.Persistence;
using IntelSharing.Api.Infrastructure.Time;

namespace IntelSharing.Api.Features.Alerts;

/// <summary>
/// Purges alerts past their <c>expiresAt</c> (Directive 2016/680: personal data is kept no longer than needed).
/// The alert, every stored version and every stored webhook payload are replaced by a tombstone (id, category,
/// originator, dates, "expired"); undelivered copies are cancelled; every agency that was sent a version gets
/// <c>alert.expired</c>. Runs every minute in each instance; concurrent runs are harmless (each alert is claimed
/// by its version). Each purge is audited as <c>alert.expire</c> in its own transaction, as a system action.
/// </summary>
public sealed class ExpirePersonalData(Database database, Outbox outbox, DeliverySignal signal, FeedSignals feed, TimeProvider time, ILogger<ExpirePersonalData> logger)
    : BackgroundService
{
    public const string Reason = "The alert reached its expiry date; its personal data was purged. Delete the copies you hold.";

    private sealed record Due
    {
        public Guid Id { get; init; }

        public Guid OriginatorId { get; init; }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMinutes(1));
        do
        {
            try
            {
                await PurgeDueAsync(stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogWarning(ex, "Expiry run failed; it runs again in a minute.");
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    /// <summary>Purges every alert due now; returns how many.</summary>
    public async Task<int> PurgeDueAsync(CancellationToken cancellationToken)
    {
        var purged = 0;
        while (true)
        {
            List<Due> due;
            await using (var connection = await database.OpenAsync(cancellationToken))
            {
                due = (await connection.QueryAsync<Due>(new CommandDefinition(
                    "SELECT id AS Id, originator_id AS OriginatorId FROM alerts WHERE status = 'active' AND expires_at <= @now ORDER BY expires_at LIMIT 100",
                    new { now = time.GetUtcNow() }, cancellationToken: cancellationToken))).AsList();
            }

            foreach (var alert in due)
            {
                purged += await PurgeAsync(alert, cancellationToken) ? 1 : 0;
            }

            if (due.Count < 100)
            {
                return purged;
            }
        }
    }

    private async Task<bool> PurgeAsync(Due alert, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var write = await Database.BeginWriteAsync(connection, cancellationToken);
        var transaction = write.Transaction;
        var current = await AlertStore.LoadAsync(connection, transaction, alert.Id, alert.OriginatorId, cancellationToken);
        if (current is null || current.Status != "active" || !await AlertStore.ClaimVersionAsync(connection, transaction, alert.Id, current.Version, cancellationToken))
        {
            return false;
        }

        var now = time.UtcNowMicros();
        var published = JsonSerializer.Deserialize<AlertView>(current.Document, JsonDefaults.Options)!;
        AlertTombstone TombstoneOf(int version) => new()
        {
            Id = alert.Id,
            Version = version,
            Status = AlertStatus.Expired,
            Category = published.Category,
            Originator = published.Originator,
            Reason = Reason,
            CreatedAt = current.CreatedAt,
            UpdatedAt = now,
        };

        // History keeps its version numbers but loses its content.
        for (var version = 1; version <= current.Version; version++)
        {
            await connection.ExecuteAsync(new CommandDefinition(
                $"UPDATE alert_versions SET document = {database.Dialect.Json("@document")} WHERE alert_id = @id AND version = @version",
                new { id = alert.Id, version, document = JsonSerializer.Serialize(TombstoneOf(version), JsonDefaults.Options) },
                transaction, cancellationToken: cancellationToken));
        }

        var tombstone = JsonSerializer.Serialize(TombstoneOf(current.Version + 1), JsonDefaults.Options);
        var recipients = await Outbox.PastRecipientsAsync(connection, transaction, alert.Id, cancellationToken);
        await Outbox.CancelUndeliveredAsync(connection, transaction, alert.Id, null, "The alert expired before this copy was delivered.", now, cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            // Correlation events name the alert's indicators (on either side of the pair): they are purged with it.
            $"""
            UPDATE events SET payload = {database.Dialect.Json("@payload")}
            WHERE (alert_id = @id AND type IN (@published, @updated, @correlated, @hidden)) OR (counterpart_alert_id = @id AND type IN (@correlated, @hidden))
            """,
            new
            {
                id = alert.Id, payload = Outbox.Payload(WebhookEventsContract.AlertPurged, now, tombstone), published = EventTypes.AlertPublished, updated = EventTypes.AlertUpdated,
                correlated = EventTypes.AlertCorrelated, hidden = EventTypes.AlertCorrelationHidden,
            },
            transaction, cancellationToken: cancellationToken));
        await AlertStore.WriteTombstoneAsync(connection, transaction, database.Dialect, alert.Id, current.Version + 1, AlertStatus.Expired, tombstone, now, cancellationToken);
        var queued = await outbox.EnqueueAsync(connection, transaction, EventTypes.AlertExpired, alert.Id, current.Version + 1, tombstone, recipients, now, cancellationToken);
        await AuditWriter.RecordSystemAsync(connection, transaction, new AuditEvent(AuditActions.AlertExpire, StatusCodes.Status200OK)
        {
            ResourceType = AuditResources.Alert,
            ResourceId = alert.Id,
            Detail = new { version = current.Version + 1, purgedVersions = current.Version },
        }, time, cancellationToken);
        await write.CommitAsync(cancellationToken);
        feed.Written();
        if (queued > 0)
        {
            signal.Notify();
        }

        logger.LogInformation("Alert {AlertId} expired; personal data purged, {Recipients} past recipients told.", alert.Id, recipients.Count);
        return true;
    }
}
