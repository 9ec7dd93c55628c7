using System.Data.Common;
using Dapper;
using IntelSharing.Api.Infrastructure.Persistence;
using IntelSharing.Api.Infrastructure.Time;
using Npgsql;
using NpgsqlTypes;

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

    private const string Columns = "id, recorded_at, agency_id, key_prefix, action, resource_type, resource_id, outcome, purpose, client_ip, detail, seq, hash";

    /// <summary>
    /// Inserts many records (a commit group's), with <see cref="AuditRecord.Seq"/> and <see cref="AuditRecord.Hash"/> as
    /// they are (null: the sealer links them), in one round trip: on PostgreSQL one statement over arrays, whatever their number (one plan, prepared once); on
    /// SQLite a few multi-row statements in one batch.
    /// </summary>
    public static async Task InsertManyAsync(DbConnection connection, DbTransaction transaction, IReadOnlyList<AuditRecord> records, CancellationToken cancellationToken)
    {
        if (connection is NpgsqlConnection postgres)
        {
            await using var command = new NpgsqlCommand(
                $"""
                INSERT INTO audit_records ({Columns})
                SELECT * FROM unnest(@ids, @ats, @agencies, @keys, @actions, @types, @resources, @outcomes, @purposes, @ips, @details, @seqs, @hashes)
                """,
                postgres, (NpgsqlTransaction)transaction);
            command.Parameters.Add(new NpgsqlParameter<Guid[]>("ids", records.Select(r => r.Id).ToArray()));
            command.Parameters.Add(new NpgsqlParameter<DateTimeOffset[]>("ats", records.Select(r => r.RecordedAt.ToUniversalTime()).ToArray()));
            command.Parameters.Add(new NpgsqlParameter<Guid?[]>("agencies", records.Select(r => r.AgencyId).ToArray()));
            command.Parameters.Add(Texts("keys", records.Select(r => r.KeyPrefix)));
            command.Parameters.Add(Texts("actions", records.Select(r => r.Action)));
            command.Parameters.Add(Texts("types", records.Select(r => r.ResourceType)));
            command.Parameters.Add(new NpgsqlParameter<Guid?[]>("resources", records.Select(r => r.ResourceId).ToArray()));
            command.Parameters.Add(new NpgsqlParameter<int[]>("outcomes", records.Select(r => r.Outcome).ToArray()));
            command.Parameters.Add(Texts("purposes", records.Select(r => r.Purpose)));
            command.Parameters.Add(Texts("ips", records.Select(r => r.ClientIp)));
            command.Parameters.Add(Texts("details", records.Select(r => r.Detail)));
            command.Parameters.Add(new NpgsqlParameter<long?[]>("seqs", records.Select(r => r.Seq).ToArray()));
            command.Parameters.Add(new NpgsqlParameter<byte[]?[]>("hashes", records.Select(r => r.Hash).ToArray()) { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bytea });
            await command.ExecuteNonQueryAsync(cancellationToken);
            return;
        }

        var batch = new SqlBatch();
        batch.AddRows(records.Count, $"INSERT INTO audit_records ({Columns})", i =>
        {
            var r = records[i];
            var p = batch.NextName("a");
            return $"({batch.Parameter(p + "id", r.Id)}, {batch.Parameter(p + "at", r.RecordedAt)}, {batch.Parameter(p + "agency", r.AgencyId)}, " +
                $"{batch.Parameter(p + "key", r.KeyPrefix)}, {batch.Parameter(p + "action", r.Action)}, {batch.Parameter(p + "type", r.ResourceType)}, " +
                $"{batch.Parameter(p + "resource", r.ResourceId)}, {batch.Parameter(p + "outcome", r.Outcome)}, {batch.Parameter(p + "purpose", r.Purpose)}, " +
                $"{batch.Parameter(p + "ip", r.ClientIp)}, {batch.Parameter(p + "detail", r.Detail)}, {batch.Parameter(p + "seq", r.Seq)}, {batch.Parameter(p + "hash", r.Hash)})";
        });
        await batch.ExecuteAsync(connection, transaction, cancellationToken);
    }

    private static NpgsqlParameter<string?[]> Texts(string name, IEnumerable<string?> values) =>
        new NpgsqlParameter<string?[]>(name, values.ToArray()) { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text };

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
