using Dapper;
using IntelSharing.Api.Infrastructure.Persistence;
using Microsoft.Extensions.Options;

namespace IntelSharing.Api.Features.Feed;

/// <summary>
/// Gives committed feed changes their positions (docs/decisions/0019). Writers insert changes without a position
/// (migration 0013's triggers); this alone numbers them, one transaction at a time across every instance (a
/// transaction-scoped advisory lock on PostgreSQL, the write transaction itself on SQLite), continuing from the
/// highest position. A change is numbered only once its writer has committed, so a change that commits late gets a
/// later position instead of one a reader may already have passed; and every position of one round commits at once,
/// so a reader never sees position n+1 without n.
/// </summary>
public sealed class FeedSequencer(Database database, FeedSignals signals, IOptions<FeedOptions> options) : IDisposable
{
    // Any constant shared by every IntelSharing process; this one spells "FEED".
    private const long SequencerLockKey = 0x46454544;

    private readonly SemaphoreSlim _oneAtATime = new(1, 1);

    /// <summary>Positions every change committed before the call; returns how many it positioned. Tests call this instead of waiting for the background loop.</summary>
    public async Task<int> PositionAsync(CancellationToken cancellationToken)
    {
        await _oneAtATime.WaitAsync(cancellationToken);
        try
        {
            var total = 0;
            int positioned;
            do
            {
                positioned = await PositionBatchAsync(cancellationToken);
                total += positioned;
            }
            while (positioned == options.Value.SequencerBatchSize);

            if (total > 0)
            {
                signals.Positioned();
            }

            return total;
        }
        finally
        {
            _oneAtATime.Release();
        }
    }

    public void Dispose() => _oneAtATime.Dispose();

    private async Task<int> PositionBatchAsync(CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var write = await Database.BeginWriteAsync(connection, cancellationToken);
        var transaction = write.Transaction;
        await database.Dialect.LockForTransactionAsync(connection, transaction, SequencerLockKey, cancellationToken);

        // Read committed: this statement starts after the lock is held, so it sees every earlier round's positions and
        // numbers on from the highest. Within a round, insertion order keeps one alert's changes in the order its
        // writers took its row lock.
        var positioned = await connection.ExecuteAsync(new CommandDefinition(
            """
            WITH head AS (SELECT COALESCE(MAX(position), 0) AS top FROM feed_changes),
                 next AS (SELECT id, ROW_NUMBER() OVER (ORDER BY id) AS n FROM feed_changes WHERE position IS NULL ORDER BY id LIMIT @batch)
            UPDATE feed_changes SET position = (SELECT top FROM head) + next.n
            FROM next WHERE feed_changes.id = next.id
            """,
            new { batch = options.Value.SequencerBatchSize }, transaction, cancellationToken: cancellationToken));
        if (positioned > 0 && database.Dialect.Provider == DatabaseProvider.Postgres)
        {
            // Event streams on every instance wake when this commits (FeedListener).
            await connection.ExecuteAsync(new CommandDefinition(
                $"SELECT pg_notify('{FeedListener.Channel}', '{FeedListener.PositionedNotice}')", transaction: transaction, cancellationToken: cancellationToken));
        }

        await write.CommitAsync(cancellationToken);
        return positioned;
    }
}

/// <summary>
/// In-process wake-ups: <see cref="Written"/> tells the sequencer that a change committed here (the only notice on
/// SQLite), <see cref="Positioned"/> tells every open event stream that new positions are readable.
/// </summary>
public sealed class FeedSignals : IDisposable
{
    private readonly SemaphoreSlim _written = new(0, 1);
    private TaskCompletionSource _positioned = NewSource();

    public void Written()
    {
        try
        {
            if (_written.CurrentCount == 0)
            {
                _written.Release();
            }
        }
        catch (SemaphoreFullException)
        {
            // Already signalled; one wake-up is enough.
        }
    }

    public Task<bool> WaitForWriteAsync(TimeSpan timeout, CancellationToken cancellationToken) => _written.WaitAsync(timeout, cancellationToken);

    /// <summary>
    /// A task that completes at the next <see cref="Positioned"/>. Take it before reading the feed, then wait on it:
    /// positions that arrive between the read and the wait complete it, so none is slept through.
    /// </summary>
    public Task NextPositions => Volatile.Read(ref _positioned).Task;

    public void Positioned() => Interlocked.Exchange(ref _positioned, NewSource()).TrySetResult();

    public void Dispose() => _written.Dispose();

    private static TaskCompletionSource NewSource() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}

/// <summary>Runs the sequencer whenever a change commits here or anywhere (FeedListener), and every poll interval as a backstop.</summary>
public sealed class FeedSequencingService(FeedSequencer sequencer, FeedSignals signals, IOptions<FeedOptions> options, ILogger<FeedSequencingService> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var poll = TimeSpan.FromMilliseconds(options.Value.SequencerPollMilliseconds);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await sequencer.PositionAsync(stoppingToken);
                // Pacing the backstop is not business time: the real clock, also under a test's fake clock.
                await signals.WaitForWriteAsync(poll, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                logger.LogWarning(ex, "Positioning feed changes failed; they stay unpositioned (unseen by readers) and are retried.");
                try
                {
                    // Pacing retries against a failing database, not schedule time: the real clock.
                    await Task.Delay(poll, TimeProvider.System, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }
}

/// <summary>
/// PostgreSQL only: LISTENs on a dedicated connection for the notices of migration 0013's triggers (a change committed
/// in some instance: wake the sequencer) and of the sequencer (positions committed: wake this instance's event streams).
/// A missed notice costs latency only: the sequencer polls and streams re-read at every heartbeat.
/// </summary>
public sealed class FeedListener(Database database, FeedSignals signals, ILogger<FeedListener> logger) : BackgroundService
{
    public const string Channel = "intelsharing_feed";
    public const string WrittenNotice = "written";
    public const string PositionedNotice = "positioned";
    public const string ApplicationName = "intelsharing-feed-listener";
    private static readonly TimeSpan IdleCheck = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(2);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (database.Dialect.Provider != DatabaseProvider.Postgres)
        {
            return;
        }

        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var notifications = await PostgresNotifications.ListenAsync(database, ApplicationName, Channel, payload =>
                {
                    if (payload == PositionedNotice)
                    {
                        signals.Positioned();
                    }
                    else
                    {
                        signals.Written();
                    }
                }, stoppingToken);

                // Changes committed while nobody listened are picked up by the next round.
                signals.Written();
                await notifications.RunAsync(IdleCheck, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                logger.LogWarning(ex, "Listening for feed changes failed; the sequencer and event streams poll until it reconnects (next try in {Delay}).", RetryDelay);
            }

            try
            {
                // Pacing reconnection attempts, not schedule time: the real clock.
                await Task.Delay(RetryDelay, TimeProvider.System, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
