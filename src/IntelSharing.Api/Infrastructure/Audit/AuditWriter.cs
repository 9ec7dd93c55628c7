using System.Data.Common;
using Dapper;
using IntelSharing.Api.Infrastructure.Persistence;
using IntelSharing.Api.Infrastructure.Time;

namespace IntelSharing.Api.Infrastructure.Audit;

/// <summary>Inserts audit records: a write's unsealed, inside its own transaction (one INSERT, no read of the chain); a commit group's many at once.</summary>
public static class AuditWriter
{
    public const int MaxPurposeLength = 500;

    // Parameter names say whose they are: a batch shares one parameter namespace between the statements it carries.
    private const string Insert = """
        INSERT INTO audit_records (id, recorded_at, agency_id, key_prefix, action, resource_type, resource_id, outcome, purpose, client_ip, detail)
        VALUES (@AuditId, @AuditRecordedAt, @AuditAgencyId, @AuditKeyPrefix, @AuditAction, @AuditResourceType, @AuditResourceId, @AuditOutcome,
                @AuditPurpose, @AuditClientIp, @AuditDetail)
        """;

    public static Task InsertAsync(DbConnection connection, DbTransaction? transaction, AuditRecord record, CancellationToken cancellationToken) =>
        connection.ExecuteAsync(new CommandDefinition(Insert, Parameters(record), transaction, cancellationToken: cancellationToken));

    /// <summary>Adds the record's INSERT to the batch of the transaction whose change it records.</summary>
    public static void AddTo(SqlBatch batch, AuditRecord record) => batch.Add(Insert, Parameters(record));

    /// <summary>
    /// Adds the INSERT of many records (a commit group's, a batch of delivery outcomes') as one statement of one shape
    /// whatever their number (<see cref="SqlDialect.Rows"/>), with <see cref="AuditRecord.Seq"/> and
    /// <see cref="AuditRecord.Hash"/> as they are (null: the sealer links them). Nothing when there are none (a commit
    /// group whose every submission replayed an answer).
    /// </summary>
    public static void AddAll(SqlDialect dialect, SqlBatch batch, IReadOnlyList<AuditRecord> records)
    {
        if (records.Count == 0)
        {
            return;
        }

        batch.Add(
            "INSERT INTO audit_records (id, recorded_at, agency_id, key_prefix, action, resource_type, resource_id, outcome, purpose, client_ip, detail, seq, hash) " +
            dialect.Rows(batch,
            [
                ColumnValues.Of("id", records.Select(r => r.Id)),
                ColumnValues.Of("recorded_at", records.Select(r => r.RecordedAt)),
                ColumnValues.Of("agency_id", records.Select(r => r.AgencyId)),
                ColumnValues.Of("key_prefix", records.Select(r => r.KeyPrefix)),
                ColumnValues.Of("action", records.Select(r => r.Action)),
                ColumnValues.Of("resource_type", records.Select(r => r.ResourceType)),
                ColumnValues.Of("resource_id", records.Select(r => r.ResourceId)),
                ColumnValues.Of("outcome", records.Select(r => r.Outcome)),
                ColumnValues.Of("purpose", records.Select(r => r.Purpose)),
                ColumnValues.Of("client_ip", records.Select(r => r.ClientIp)),
                ColumnValues.Of("detail", records.Select(r => r.Detail)),
                ColumnValues.Of("seq", records.Select(r => r.Seq)),
                ColumnValues.Of("hash", records.Select(r => r.Hash)),
            ]));
    }

    /// <summary>Inserts many records inside <paramref name="transaction"/> in one round trip (<see cref="AddAll"/>).</summary>
    public static Task InsertManyAsync(DbConnection connection, DbTransaction transaction, IReadOnlyList<AuditRecord> records, CancellationToken cancellationToken)
    {
        var batch = new SqlBatch();
        AddAll(SqlDialect.Of(connection), batch, records);
        return batch.ExecuteAsync(connection, transaction, cancellationToken);
    }

    private static object Parameters(AuditRecord record) => new
    {
        AuditId = record.Id,
        AuditRecordedAt = record.RecordedAt,
        AuditAgencyId = record.AgencyId,
        AuditKeyPrefix = record.KeyPrefix,
        AuditAction = record.Action,
        AuditResourceType = record.ResourceType,
        AuditResourceId = record.ResourceId,
        AuditOutcome = record.Outcome,
        AuditPurpose = record.Purpose,
        AuditClientIp = record.ClientIp,
        AuditDetail = record.Detail,
    };

    /// <summary>
    /// Records what the service did on its own, with no request behind it (the expiry job's purge, the dispatcher's
    /// delivery outcomes): no key, purpose or address; the agency is the one the event names, if any. Called inside
    /// the transaction of the change it records, like a request's write.
    /// </summary>
    public static Task RecordSystemAsync(DbConnection connection, DbTransaction transaction, AuditEvent audit, TimeProvider time, CancellationToken cancellationToken) =>
        InsertAsync(connection, transaction, Build(audit, RequestOrigin.System, time.UtcNowMicros()), cancellationToken);

    /// <summary>The record of <paramref name="audit"/>: who and from where come from <paramref name="origin"/>, else from the event.</summary>
    public static AuditRecord Build(AuditEvent audit, RequestOrigin origin, DateTimeOffset now) => new()
    {
        Id = Guid.CreateVersion7(now),
        RecordedAt = now,
        AgencyId = origin.AgencyId ?? audit.AgencyId,
        KeyPrefix = origin.KeyPrefix ?? audit.KeyPrefix,
        Action = audit.Action,
        ResourceType = audit.ResourceType,
        ResourceId = audit.ResourceId,
        Outcome = audit.Outcome,
        Purpose = origin.Purpose ?? audit.Purpose,
        ClientIp = origin.ClientIp,
        Detail = AuditDetail.Serialize(audit.Detail),
    };
}
