using Dapper;
using IntelSharing.Api.Features.Deliveries.Dispatch;
using IntelSharing.Api.Infrastructure.Audit;
using IntelSharing.Api.Infrastructure.Persistence;
using IntelSharing.Api.Infrastructure.Problems;
using IntelSharing.Api.Infrastructure.Security;
using IntelSharing.Api.Infrastructure.Time;

namespace IntelSharing.Api.Features.Agencies;

/// <summary>Sets an agency active or inactive and audits it in the same transaction; shared by the activate and deactivate slices.</summary>
internal static class AgencyActivation
{
    public static async Task<Result<AgencyView>> SetAsync(
        Database database, TimeProvider time, AuditTrail audit, ApiKeyLookup keys, Guid id, bool active, string action, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var write = await Database.BeginWriteAsync(connection, cancellationToken);
        var transaction = write.Transaction;
        var changed = await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE agencies SET is_active = @active, updated_at = @now WHERE id = @id AND is_active <> @active",
            new { id, active, now = time.UtcNowMicros() }, transaction, cancellationToken: cancellationToken));
        if (active && changed > 0)
        {
            // Its notices waited held (ADR 48): back into the claim's index in the same transaction.
            await DeliveryHolds.ReleaseAgencyAsync(connection, transaction, database.Dialect, id, cancellationToken);
        }

        var row = await connection.QuerySingleOrDefaultAsync<AgencyRow>(new CommandDefinition(
            $"SELECT {AgencyRow.Columns} FROM agencies WHERE id = @id", new { id }, transaction, cancellationToken: cancellationToken));
        if (row is null)
        {
            return Failure.NotFound("agency");
        }

        await audit.RecordAsync(connection, transaction, new AuditEvent(action, StatusCodes.Status200OK)
        {
            ResourceType = AuditResources.Agency,
            ResourceId = id,
            Detail = new { changed = changed > 0 },
        }, cancellationToken);
        await write.CommitAsync(cancellationToken);

        // The agency's keys change answer at once here; other instances hear it from the trigger's NOTIFY (migration 0009).
        keys.Invalidate();
        return row.ToView();
    }
}
