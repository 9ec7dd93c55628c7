using System.Collections.Concurrent;
using System.Diagnostics;
using Dapper;
using IntelSharing.Api.Infrastructure.Persistence;
using IntelSharing.Api.Infrastructure.Time;

namespace IntelSharing.Api.Features.Deliveries.Dispatch;

/// <summary>
/// Keeps this instance's claims alive until their outcomes are committed (ADR 37). A worker is freed when the partner
/// answers and its outcome waits for a group commit (ADR 27); on a loaded database that commit can take longer than what
/// is left of the lease, and another worker would then claim the delivery and send it again. Every tick, one UPDATE
/// extends the leases of the claims held longest, and only of rows this instance still holds (their claim token). Rows
/// another transaction has locked are skipped, not waited for: that is the outcome being written, and a locked row is
/// skipped by every claim too. A killed process renews nothing, so its leases still run out and its deliveries are
/// taken over as before.
/// </summary>
public sealed class LeaseRenewal(Database database, TimeProvider time, DeliveryOptions options, ILogger logger)
{
    private readonly ConcurrentDictionary<(Guid Id, Guid Token), Held> _held = new();

    // Renewed once a third of the lease has gone by, checked six times a lease: a held claim always has half its lease left.
    private TimeSpan RenewAfter => options.Lease / 3;

    private TimeSpan Tick => TimeSpan.FromTicks(Math.Max(options.Lease.Ticks / 6, TimeSpan.FromMilliseconds(10).Ticks));

    /// <summary>How many claims this instance holds now (sending, or waiting for their outcome's commit).</summary>
    public int Count => _held.Count;

    /// <summary>
    /// The claim is this instance's until <see cref="Release"/>. <paramref name="claimStarted"/> is a
    /// <see cref="Stopwatch"/> timestamp from before the claim ran: its lease is counted from no later than that.
    /// </summary>
    public void Hold(ClaimedDelivery work, long claimStarted) => _held[(work.Id, work.Token)] = new Held(claimStarted);

    /// <summary>The outcome is committed (or the delivery was put back): nothing more to keep alive.</summary>
    public void Release(ClaimedDelivery work) => _held.TryRemove((work.Id, work.Token), out _);

    /// <summary>Renews until <paramref name="stop"/>; keep it running until every outcome is recorded.</summary>
    public async Task RunAsync(CancellationToken stop)
    {
        // The machine's clock paces the renewals, as it paces the sends they cover; the lease itself is written in the
        // TimeProvider's time, which is what claims compare it with.
        using var timer = new PeriodicTimer(Tick);
        try
        {
            while (await timer.WaitForNextTickAsync(stop))
            {
                try
                {
                    await RenewDueAsync(stop);
                }
                catch (Exception ex) when (!stop.IsCancellationRequested)
                {
                    logger.LogWarning(ex, "Could not renew the leases of {Count} held deliveries; retrying at the next tick.", _held.Count);
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }

    /// <summary>One UPDATE extending every held claim renewed (or claimed) more than a third of a lease ago.</summary>
    public async Task<int> RenewDueAsync(CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var due = _held.Where(h => Stopwatch.GetElapsedTime(h.Value.RenewedAt, started) >= RenewAfter).ToList();
        if (due.Count == 0)
        {
            return 0;
        }

        var now = time.UtcNowMicros();
        var parameters = new DynamicParameters(new { leaseUntil = now + options.Lease, inFlight = DeliveryStates.InFlight });
        var ids = SqlLists.In(parameters, "id", due.Select(h => h.Key.Id).Distinct().ToList());
        // A claim's token is its own (a new Guid per claim), so a row with one of ours is held by this instance.
        var tokens = SqlLists.In(parameters, "token", due.Select(h => h.Key.Token).Distinct().ToList());
        await using var connection = await database.OpenAsync(cancellationToken);
        // A write transaction like every other: on SQLite it takes this process's write turn (ADR 39) instead of
        // blocking a thread in the busy handler while a commit group holds the lock.
        await using var write = await Database.BeginWriteAsync(connection, cancellationToken);
        var renewed = (await connection.QueryAsync<RenewedRow>(new CommandDefinition(
            $"""
            UPDATE deliveries SET lease_until = @leaseUntil
            WHERE id IN (
                SELECT d.id FROM deliveries d
                WHERE d.id IN {ids} AND d.claim_token IN {tokens} AND d.state = @inFlight
                {database.Dialect.ForUpdateSkipLocked("d")})
            RETURNING id AS Id, claim_token AS Token
            """,
            parameters, write.Transaction, cancellationToken: cancellationToken))).ToList();
        await write.CommitAsync(cancellationToken);
        foreach (var row in renewed)
        {
            if (_held.TryGetValue((row.Id, row.Token), out var held))
            {
                held.RenewedAt = started;
            }
        }

        return renewed.Count;
    }

    private sealed class Held(long claimStarted)
    {
        public long RenewedAt { get; set; } = claimStarted;
    }

    private sealed record RenewedRow
    {
        public Guid Id { get; init; }

        public Guid Token { get; init; }
    }
}
