using Dapper;
using IntelSharing.Api.Infrastructure.Audit;
using IntelSharing.IntegrationTests.Infrastructure;

namespace IntelSharing.IntegrationTests.Audit;

/// <summary>
/// The sealer writes each chunk's links with one UPDATE from a row source (ADR 46). SQLite once scanned the whole of
/// <c>audit_records</c> for each chunk written as <c>UPDATE … FROM (VALUES …)</c>; the statement must find each record by
/// its primary key, with and without the statistics ANALYZE gathers, and link exactly the records it names.
/// </summary>
public sealed class AuditSealerPlanTests : IDisposable
{
    private readonly SqlitePlanTestFile _file = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => _file.Dispose();

    [Fact]
    public async Task A_chunk_of_links_is_written_by_primary_key_to_exactly_the_records_it_names()
    {
        await using var database = await _file.MigratedAsync();
        var at = DateTimeOffset.UtcNow;
        var records = Enumerable.Range(0, 2_000).Select(i => new AuditRecord
        {
            Id = Guid.CreateVersion7(at.AddMilliseconds(i)), RecordedAt = at.AddMilliseconds(i), Action = "alert.read", Outcome = 200,
        }).ToList();
        await using var connection = await database.OpenAsync(Ct);
        await using (var transaction = await connection.BeginTransactionAsync(Ct))
        {
            await AuditWriter.InsertManyAsync(connection, transaction, records, Ct);
            await transaction.CommitAsync(Ct);
        }

        var chunk = records.Skip(100).Take(200).Select((r, i) => new AuditRecord { Id = r.Id, Seq = i + 1, Hash = [(byte)i] }).ToList();
        var link = AuditSealer.LinkStatement(database.Dialect, chunk);
        var (sql, values) = link.Contents;
        var parameters = new DynamicParameters();
        foreach (var (name, value) in values)
        {
            parameters.Add(name, value);
        }

        foreach (var analyse in new[] { "", "ANALYZE main" })
        {
            if (analyse.Length > 0)
            {
                await connection.ExecuteAsync(analyse);
            }

            var plan = (await connection.QueryAsync<(long Id, long Parent, long NotUsed, string Detail)>(
                new CommandDefinition("EXPLAIN QUERY PLAN " + sql.TrimEnd(';', '\n'), parameters, cancellationToken: Ct))).Select(r => r.Detail).ToList();
            var text = string.Join("\n", plan);
            Assert.True(plan.Any(d => d.StartsWith("SEARCH audit_records USING INDEX sqlite_autoindex_audit_records_1 (id=?)", StringComparison.Ordinal)), text);
            Assert.False(plan.Any(d => d.StartsWith("SCAN audit_records", StringComparison.Ordinal)), text);
        }

        await using (var transaction = await connection.BeginTransactionAsync(Ct))
        {
            await link.ExecuteAsync(connection, transaction, Ct);
            await transaction.CommitAsync(Ct);
        }

        var linked = (await connection.QueryAsync<(Guid Id, long Seq, byte[] Hash)>("SELECT id, seq, hash FROM audit_records WHERE seq IS NOT NULL")).ToList();
        Assert.Equal(chunk.Select(r => (r.Id, r.Seq!.Value, r.Hash![0])).Order(), linked.Select(r => (r.Id, r.Seq, r.Hash[0])).Order());
    }
}
