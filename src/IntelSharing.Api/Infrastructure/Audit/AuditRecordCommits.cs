using System.Data.Common;
using IntelSharing.Api.Infrastructure.Persistence;

namespace IntelSharing.Api.Infrastructure.Audit;

/// <summary>
/// The commit group of audit records that stand alone — a read's, a refused request's — (ADR 17): concurrent requests'
/// records go into one transaction and one WAL flush, and each request answers only once its record is durable.
/// Records of writes do not come here; they commit inside the transaction of the change they record.
/// </summary>
public sealed class AuditRecordCommits : ICommitGroupWriter<AuditRecord, bool>
{
    public static string Name => "AuditRecords";

    public async Task<IReadOnlyList<bool>> WriteAsync(DbConnection connection, DbTransaction transaction, IReadOnlyList<AuditRecord> items, CancellationToken cancellationToken)
    {
        var batch = new SqlBatch();
        AuditWriter.AddAll(batch, items);
        await batch.ExecuteAsync(connection, transaction, cancellationToken);
        return Enumerable.Repeat(true, items.Count).ToArray();
    }
}
