using Dapper;
using IntelSharing.Api.Infrastructure.Persistence;

namespace IntelSharing.Api.Features.Deliveries.Dispatch;

/// <summary>Refreshes the backlog metrics (queued deliveries and the age of the oldest, per subscription) every 15 s.</summary>
public sealed class BacklogGauge(Database database, DeliveryMetrics metrics, TimeProvider time)
{
    private static readonly TimeSpan RefreshEvery = TimeSpan.FromSeconds(15);

    private DateTimeOffset _refreshedAt = DateTimeOffset.MinValue;

    public async Task RefreshAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (now - _refreshedAt < RefreshEvery)
        {
            return;
        }

        _refreshedAt = now;
        await using var connection = await database.OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<BacklogRow>(new CommandDefinition(
            """
            SELECT subscription_id AS SubscriptionId, COUNT(*) AS Pending, MIN(created_at) AS Oldest
            FROM deliveries WHERE state IN (@pending, @failed, @inFlight)
            GROUP BY subscription_id
            """,
            new { pending = DeliveryStates.Pending, failed = DeliveryStates.Failed, inFlight = DeliveryStates.InFlight },
            cancellationToken: cancellationToken));
        metrics.UpdateBacklog(rows.Select(r => new DeliveryMetrics.Backlog(r.SubscriptionId, r.Pending, (now - r.Oldest).TotalSeconds)).ToList());
    }

    private sealed record BacklogRow
    {
        public Guid SubscriptionId { get; init; }

        public long Pending { get; init; }

        public DateTimeOffset Oldest { get; init; }
    }
}
