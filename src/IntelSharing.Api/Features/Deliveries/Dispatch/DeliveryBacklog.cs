using System.Data.Common;
using Dapper;
using IntelSharing.Api.Infrastructure.Persistence;

namespace IntelSharing.Api.Features.Deliveries.Dispatch;

/// <summary>
/// The undelivered backlog per subscription, read for the backlog gauges: before every scrape of <c>/metrics</c>, so a
/// scrape shows the backlog as it is, and every 15 s by the dispatcher (for OTLP, which reads the gauges on its own
/// schedule). It is the gauges' only writer, and each read and its write happen under one lock: with two writers a read
/// begun before a delivery was recorded could land after a newer one and show the delivery as still queued.
/// </summary>
public sealed class DeliveryBacklog : IDisposable
{
    /// <summary>How often the dispatcher refreshes the gauges between scrapes.</summary>
    public static readonly TimeSpan RefreshEvery = TimeSpan.FromSeconds(15);

    private readonly Reader _read;
    private readonly DeliveryMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger<DeliveryBacklog> _logger;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private DateTimeOffset _refreshedAt = DateTimeOffset.MinValue;

    /// <summary>One read of the backlog, as it is at <c>now</c>.</summary>
    internal delegate Task<IReadOnlyList<DeliveryMetrics.Backlog>> Reader(DateTimeOffset now, CancellationToken cancellationToken);

    public DeliveryBacklog(Database database, DeliveryMetrics metrics, TimeProvider time, ILogger<DeliveryBacklog> logger)
        : this(
            async (now, cancellationToken) =>
            {
                await using var connection = await database.OpenAsync(cancellationToken);
                return await ReadAsync(connection, now, cancellationToken);
            },
            metrics, time, logger)
    {
    }

    /// <summary>With the read given, so that a test can hold one read back while another runs (the race the lock prevents).</summary>
    internal DeliveryBacklog(Reader read, DeliveryMetrics metrics, TimeProvider time, ILogger<DeliveryBacklog> logger)
    {
        _read = read;
        _metrics = metrics;
        _time = time;
        _logger = logger;
    }

    private sealed record BacklogRow
    {
        public Guid SubscriptionId { get; init; }

        public long Pending { get; init; }

        public DateTimeOffset Oldest { get; init; }
    }

    /// <summary>
    /// Reads the backlog and sets the gauges. When the database does not answer, the last values stay: the counters are what
    /// an operator needs most during an outage, and a failed scrape would hide them.
    /// </summary>
    public async Task RefreshAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var now = _time.GetUtcNow();
            _metrics.UpdateBacklog(await _read(now, cancellationToken));
            _refreshedAt = now;
        }
        catch (Exception ex) when (ex is DbException or TimeoutException or InvalidOperationException && !cancellationToken.IsCancellationRequested)
        {
            _logger.LogWarning("The delivery backlog could not be read; the gauges keep their last values. {Reason}", ex.Message);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>The dispatcher's refresh: only when the last one (by either caller) is <see cref="RefreshEvery"/> old.</summary>
    public Task RefreshWhenDueAsync(CancellationToken cancellationToken) =>
        _time.GetUtcNow() - _refreshedAt < RefreshEvery ? Task.CompletedTask : RefreshAsync(cancellationToken);

    public void Dispose() => _gate.Dispose();

    /// <summary>One aggregate over the undelivered rows (the state index); the backlog is what operators watch, so it stays small.</summary>
    public static async Task<IReadOnlyList<DeliveryMetrics.Backlog>> ReadAsync(DbConnection connection, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var rows = await connection.QueryAsync<BacklogRow>(new CommandDefinition(
            """
            SELECT subscription_id AS SubscriptionId, COUNT(*) AS Pending, MIN(created_at) AS Oldest
            FROM deliveries WHERE state IN (@pending, @failed, @inFlight)
            GROUP BY subscription_id
            """,
            new { pending = DeliveryStates.Pending, failed = DeliveryStates.Failed, inFlight = DeliveryStates.InFlight },
            cancellationToken: cancellationToken));
        return rows.Select(r => new DeliveryMetrics.Backlog(r.SubscriptionId, r.Pending, (now - r.Oldest).TotalSeconds)).ToList();
    }
}
