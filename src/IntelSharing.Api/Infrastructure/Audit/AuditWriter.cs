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

    /// <summary>Adds the INSERTs of many records (a commit group's) as a few multi-row statements.</summary>
    public static void AddAll(SqlBatch batch, IReadOnlyList<AuditRecord> records) => batch.AddRows(
        records.Count,
        "INSERT INTO audit_records (id, recorded_at, agency_id, key_prefix, action, resource_type, resource_id, outcome, purpose, client_ip, detail)",
        i =>
        {
            var r = records[i];
            var p = batch.NextName("a");
            return $"({batch.Parameter(p + "id", r.Id)}, {batch.Parameter(p + "at", r.RecordedAt)}, {batch.Parameter(p + "agency", r.AgencyId)}, " +
                $"{batch.Parameter(p + "key", r.KeyPrefix)}, {batch.Parameter(p + "action", r.Action)}, {batch.Parameter(p + "type", r.ResourceType)}, " +
                $"{batch.Parameter(p + "resource", r.ResourceId)}, {batch.Parameter(p + "outcome", r.Outcome)}, {batch.Parameter(p + "purpose", r.Purpose)}, " +
                $"{batch.Parameter(p + "ip", r.ClientIp)}, {batch.Parameter(p + "detail", r.Detail)})";
        });

    /// <summary>
    /// Inserts many records (a commit group's), with <see cref="AuditRecord.Seq"/> and <see cref="AuditRecord.Hash"/> as
    /// they are (null: the sealer links them), in one round trip (<see cref="SqlDialect.InsertRowsAsync"/>).
    /// </summary>
    public static Task InsertManyAsync(DbConnection connection, DbTransaction transaction, IReadOnlyList<AuditRecord> records, CancellationToken cancellationToken) =>
        SqlDialect.Of(connection).InsertRowsAsync(connection, transaction, "audit_records",
        [
            InsertColumn.Of("id", records.Select(r => r.Id)),
            InsertColumn.Of("recorded_at", records.Select(r => r.RecordedAt.ToUniversalTime())),
            InsertColumn.Of("agency_id", records.Select(r => r.AgencyId)),
            InsertColumn.Of("key_prefix", records.Select(r => r.KeyPrefix)),
            InsertColumn.Of("action", records.Select(r => r.Action)),
            InsertColumn.Of("resource_type", records.Select(r => r.ResourceType)),
            InsertColumn.Of("resource_id", records.Select(r => r.ResourceId)),
            InsertColumn.Of("outcome", records.Select(r => r.Outcome)),
            InsertColumn.Of("purpose", records.Select(r => r.Purpose)),
            InsertColumn.Of("client_ip", records.Select(r => r.ClientIp)),
            InsertColumn.Of("detail", records.Select(r => r.Detail)),
            InsertColumn.Of("seq", records.Select(r => r.Seq)),
            InsertColumn.Of("hash", records.Select(r => r.Hash)),
        ],
        cancellationToken);

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
