using System.Data.Common;
using Dapper;

namespace IntelSharing.Api.Infrastructure.Audit;

/// <summary>Inserts an unsealed audit record: one INSERT, no read of the chain, so concurrent requests never wait on each other here.</summary>
public static class AuditWriter
{
    public const int MaxPurposeLength = 500;

    public static Task InsertAsync(DbConnection connection, DbTransaction? transaction, AuditRecord record, CancellationToken cancellationToken) =>
        connection.ExecuteAsync(new CommandDefinition(
            """
            INSERT INTO audit_records (id, recorded_at, agency_id, key_prefix, action, resource_type, resource_id, outcome, purpose, client_ip, detail)
            VALUES (@Id, @RecordedAt, @AgencyId, @KeyPrefix, @Action, @ResourceType, @ResourceId, @Outcome, @Purpose, @ClientIp, @Detail)
            """,
            record, transaction, cancellationToken: cancellationToken));
}
