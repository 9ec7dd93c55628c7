using System.Data.Common;
using Dapper;
using IntelSharing.Api.Infrastructure.Persistence;

namespace IntelSharing.Api.Features.Deliveries.Dispatch;

/// <summary>
/// The undelivered backlog per subscription, read for the backlog gauges: by the dispatcher now and then (for OTLP,
/// which reads the gauges on its own schedule), and before every scrape of <c>/metrics</c>, so a scrape shows the
/// backlog as it is, not as it was up to fifteen seconds ago.
/// </summary>
public sealed class DeliveryBacklog(Database database, DeliveryMetrics metrics, TimeProvider time, ILogger<DeliveryBacklog> logger)
{
    private sealed record BacklogRow
    {
        public Guid SubscriptionId { get; init; }

        public long Pending { get; init; }

        public DateTimeOffset Oldest { get; init; }
    }

    /// <summary>
    /// Before a scrape. When the database does not answer, the scrape still succeeds with the last backlog read: the
    /// counters are what an operator needs most during an outage, and a failed scrape would hide them.
    /// </summary>
    public async Task RefreshAsync(CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = await database.OpenAsync(cancellationToken);
            metrics.UpdateBacklog(await ReadAsync(connection, time.GetUtcNow(), cancellationToken));
        }
        catch (Exception ex) when (ex is DbException or TimeoutException or InvalidOperationException && !cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning("The delivery backlog could not be read for /metrics; the last values are served. {Reason}", ex.Message);
        }
    }

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
