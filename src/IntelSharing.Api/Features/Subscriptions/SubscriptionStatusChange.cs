using System.Data.Common;
using Dapper;
using IntelSharing.Api.Infrastructure.Audit;
using IntelSharing.Api.Infrastructure.Persistence;
using IntelSharing.Api.Infrastructure.Security;

namespace IntelSharing.Api.Features.Subscriptions;

/// <summary>
/// What pausing, resuming and deleting a subscription share: the agency's own subscription (not deleted) gets its
/// new status, with whatever else the change writes and its audit record, in one transaction.
/// </summary>
internal static class SubscriptionStatusChange
{
    /// <summary>False when the caller has no such subscription (or it is deleted): the caller answers 404.</summary>
    public static async Task<bool> ApplyAsync(
        DbConnection connection,
        AuditTrail audit,
        Caller caller,
        Guid id,
        (string Status, string? Reason, string AuditAction, int Outcome) change,
        DateTimeOffset now,
        Func<DbTransaction, Task>? alsoWrite,
        CancellationToken cancellationToken)
    {
        await using var write = await Database.BeginWriteAsync(connection, cancellationToken);
        var transaction = write.Transaction;
        var updated = await connection.ExecuteAsync(new CommandDefinition(
            """
            UPDATE subscriptions SET status = @status, status_reason = @reason, updated_at = @now
            WHERE id = @id AND agency_id = @agencyId AND status <> 'deleted'
            """,
            new { id, agencyId = caller.AgencyId, status = change.Status, reason = change.Reason, now }, transaction, cancellationToken: cancellationToken));
        if (updated == 0)
        {
            return false;
        }

        if (alsoWrite is not null)
        {
            await alsoWrite(transaction);
        }

        await audit.RecordAsync(connection, transaction, new AuditEvent(change.AuditAction, change.Outcome) { ResourceType = AuditResources.Subscription, ResourceId = id }, cancellationToken);
        await write.CommitAsync(cancellationToken);
        return true;
    }
}
