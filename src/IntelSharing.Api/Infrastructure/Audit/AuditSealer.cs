using System.Globalization;
using Dapper;
using IntelSharing.Api.Infrastructure.Persistence;
using IntelSharing.Api.Infrastructure.Time;
using Microsoft.Extensions.Options;

namespace IntelSharing.Api.Infrastructure.Audit;

/// <summary>
/// Links unsealed audit records into the hash chain, oldest first. One sealer runs at a time across every
/// instance (a PostgreSQL advisory lock held for the transaction; on SQLite the write transaction itself),
/// so requests only ever INSERT and never contend for the chain head. A record that commits late (a long
/// transaction) simply gets the next seq when it becomes visible, unless it is older than the newest sealed
/// record by more than <see cref="AuditOptions.MaxRecordLagSeconds"/>: no request writes such a record, so it was
/// inserted directly and backdated, and the sealer refuses it (it stays unsealed, marked, and verify reports it).
/// </summary>
public sealed class AuditSealer(Database database, TimeProvider time, IOptions<AuditOptions> options, ILogger<AuditSealer> logger) : IDisposable
{
    // Any constant shared by every IntelSharing process; this one spells "AUDT".
    private const long ChainLockKey = 0x41554454;

    // At most this many rows per UPDATE: three parameters each, well under both databases' limits.
    private const int RowsPerStatement = 200;

    private readonly SemaphoreSlim _oneAtATime = new(1, 1);

    private sealed class Head
    {
        public long Seq { get; set; }

        public byte[] Hash { get; set; } = null!;
    }

    /// <summary>Seals every record committed before the call; returns how many it sealed (refused ones not counted). Tests call this instead of waiting for the background loop.</summary>
    public async Task<int> SealAsync(CancellationToken cancellationToken)
    {
        await _oneAtATime.WaitAsync(cancellationToken);
        try
        {
            var total = 0;
            int taken;
            do
            {
                (taken, var sealedNow) = await SealBatchAsync(cancellationToken);
                total += sealedNow;
            }
            while (taken == options.Value.SealBatchSize);

            return total;
        }
        finally
        {
            _oneAtATime.Release();
        }
    }

    public void Dispose() => _oneAtATime.Dispose();

    /// <summary>Takes one batch of unsealed records; returns how many it took (sealed or refused) and how many it sealed.</summary>
    private async Task<(int Taken, int Sealed)> SealBatchAsync(CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var write = await Database.BeginWriteAsync(connection, cancellationToken);
        var transaction = write.Transaction;
        await database.Dialect.LockForTransactionAsync(connection, transaction, ChainLockKey, cancellationToken);

        var pending = (await connection.QueryAsync<AuditRecord>(new CommandDefinition(
            $"SELECT {AuditRecord.Columns} FROM audit_records WHERE seq IS NULL AND seal_refused IS NULL ORDER BY recorded_at, id LIMIT @batch",
            new { batch = options.Value.SealBatchSize }, transaction, cancellationToken: cancellationToken))).AsList();
        if (pending.Count == 0)
        {
            return (0, 0);
        }

        var head = await connection.QuerySingleOrDefaultAsync<Head>(new CommandDefinition(
            "SELECT seq AS Seq, hash AS Hash FROM audit_chain_head WHERE id = 1", transaction: transaction, cancellationToken: cancellationToken));
        var seq = head?.Seq ?? 0;
        var hash = head?.Hash ?? AuditChain.Genesis.ToArray();
        var newest = head is null ? null : await connection.QuerySingleOrDefaultAsync<DateTimeOffset?>(new CommandDefinition(
            "SELECT recorded_at FROM audit_records WHERE seq = @seq", new { seq }, transaction, cancellationToken: cancellationToken));
        var maxLag = TimeSpan.FromSeconds(options.Value.MaxRecordLagSeconds);
        var linked = new List<AuditRecord>(pending.Count);
        foreach (var record in pending)
        {
            if (newest is { } floor && record.RecordedAt < floor - maxLag)
            {
                await RefuseAsync(connection, transaction, record, floor, seq, maxLag, cancellationToken);
                continue;
            }

            seq++;
            hash = AuditChain.Link(hash, record, seq);
            record.Seq = seq;
            record.Hash = hash;
            newest = newest is { } before && before > record.RecordedAt ? before : record.RecordedAt;
            linked.Add(record);
        }

        if (linked.Count == 0)
        {
            await write.CommitAsync(cancellationToken);
            return (pending.Count, 0);
        }

        foreach (var chunk in linked.Chunk(RowsPerStatement))
        {
            await LinkStatement(database.Dialect, chunk).ExecuteAsync(connection, transaction, cancellationToken);
        }

        await connection.ExecuteAsync(new CommandDefinition(
            """
            INSERT INTO audit_chain_head (id, seq, hash, sealed_at) VALUES (1, @seq, @hash, @now)
            ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, sealed_at = excluded.sealed_at
            """,
            new { seq, hash, now = time.UtcNowMicros() }, transaction, cancellationToken: cancellationToken));
        await write.CommitAsync(cancellationToken);
        return (pending.Count, linked.Count);
    }

    /// <summary>
    /// The UPDATE that writes the links of <paramref name="chunk"/>: one statement of one shape whatever its size
    /// (<see cref="SqlDialect.Rows"/>), each record found by primary key on both databases. A CASE with a branch per record
    /// had a shape per batch size, which PostgreSQL planned afresh (the costliest statement of the delivery drain), and
    /// tested every branch for every row; an <c>UPDATE … FROM (VALUES …)</c> without the WITH made SQLite scan the table
    /// once per chunk (sealing fell below a thousand records a second).
    /// </summary>
    internal static SqlBatch LinkStatement(SqlDialect dialect, IReadOnlyList<AuditRecord> chunk)
    {
        var update = new SqlBatch();
        var links = dialect.Rows(update,
        [
            ColumnValues.Of("id", chunk.Select(r => r.Id)),
            ColumnValues.Of("seq", chunk.Select(r => r.Seq)),
            ColumnValues.Of("hash", chunk.Select(r => r.Hash)),
        ]);
        return update.Add(
            $"""
            WITH link (id, seq, hash) AS ({links})
            UPDATE audit_records SET seq = link.seq, hash = link.hash FROM link WHERE audit_records.id = link.id AND audit_records.seq IS NULL
            """);
    }

    private async Task RefuseAsync(
        System.Data.Common.DbConnection connection, System.Data.Common.DbTransaction transaction, AuditRecord record, DateTimeOffset newest, long newestSeq,
        TimeSpan maxLag, CancellationToken cancellationToken)
    {
        var late = (newest - record.RecordedAt).TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture);
        var allowed = maxLag.TotalSeconds.ToString("0", CultureInfo.InvariantCulture);
        var reason = $"Recorded at {DapperTypeHandlers.ToSqliteText(record.RecordedAt)}, {late} s before the newest sealed record " +
            $"(seq {newestSeq.ToString(CultureInfo.InvariantCulture)}, {DapperTypeHandlers.ToSqliteText(newest)}); a request's record is never more than {allowed} s late, " +
            "so this one was inserted directly with a backdated time. Not sealed.";
        await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE audit_records SET seal_refused = @reason WHERE id = @Id AND seq IS NULL",
            new { reason, record.Id }, transaction, cancellationToken: cancellationToken));
        logger.LogError("Refused to seal audit record {RecordId} ({Action}): {Reason}", record.Id, record.Action, reason);
    }
}

/// <summary>Runs the sealer every <see cref="AuditOptions.SealIntervalSeconds"/>; a failed round is logged and retried on the next tick.</summary>
public sealed class AuditSealingService(AuditSealer sealer, TimeProvider time, IOptions<AuditOptions> options, ILogger<AuditSealingService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(options.Value.SealIntervalSeconds), time);
        do
        {
            try
            {
                await sealer.SealAsync(stoppingToken);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning(ex, "Sealing audit records failed; unsealed records stay in place and are retried on the next round.");
            }
        }
        while (await WaitAsync(timer, stoppingToken));
    }

    private static async Task<bool> WaitAsync(PeriodicTimer timer, CancellationToken stoppingToken)
    {
        try
        {
            return await timer.WaitForNextTickAsync(stoppingToken);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}
