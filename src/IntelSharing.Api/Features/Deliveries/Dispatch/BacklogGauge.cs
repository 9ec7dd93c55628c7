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
        metrics.UpdateBacklog(await DeliveryBacklog.ReadAsync(connection, now, cancellationToken));
    }
}
