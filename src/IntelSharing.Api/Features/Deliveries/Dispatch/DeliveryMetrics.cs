using System.Diagnostics.Metrics;


namespace IntelSharing.Api.Features.Deliveries.Dispatch;

/// <summary>Delivery metrics (System.Diagnostics.Metrics, meter <c>IntelSharing.Delivery</c>), exported at /metrics.</summary>
public sealed class DeliveryMetrics : IDisposable
{
    public const string MeterName = "IntelSharing.Delivery";

    private readonly Meter _meter;
    private readonly Counter<long> _delivered;
    private readonly Counter<long> _failed;
    private readonly Counter<long> _dead;
    private readonly Histogram<double> _latency;
    private volatile IReadOnlyList<Backlog> _backlog = [];

    public sealed record Backlog(Guid SubscriptionId, long Pending, double OldestAgeSeconds);

    public DeliveryMetrics()
    {
        // A plain Meter rather than IMeterFactory's: prometheus-net's adapter does not export factory-scoped meters.
        _meter = new Meter(MeterName, "1.0");
        _delivered = _meter.CreateCounter<long>("intelsharing.deliveries.delivered", description: "Deliveries acknowledged with 2xx.");
        _failed = _meter.CreateCounter<long>("intelsharing.deliveries.failed", description: "Attempts that failed and will be retried.");
        _dead = _meter.CreateCounter<long>("intelsharing.deliveries.dead", description: "Deliveries that exhausted the retry schedule.");
        _latency = _meter.CreateHistogram<double>("intelsharing.delivery.attempt.duration", unit: "s", description: "Duration of one delivery attempt.");
        _meter.CreateObservableGauge("intelsharing.deliveries.pending", () =>
            _backlog.Select(b => new Measurement<long>(b.Pending, new KeyValuePair<string, object?>("subscription", b.SubscriptionId.ToString()))),
            description: "Deliveries not yet delivered, dead or cancelled, per subscription.");
        _meter.CreateObservableGauge("intelsharing.deliveries.oldest_pending_age", () =>
            _backlog.Select(b => new Measurement<double>(b.OldestAgeSeconds, new KeyValuePair<string, object?>("subscription", b.SubscriptionId.ToString()))),
            unit: "s", description: "Age of the oldest undelivered delivery, per subscription.");
    }

    public void Delivered(TimeSpan duration)
    {
        _delivered.Add(1);
        _latency.Record(duration.TotalSeconds);
    }

    public void Failed(TimeSpan duration)
    {
        _failed.Add(1);
        _latency.Record(duration.TotalSeconds);
    }

    public void Dead() => _dead.Add(1);

    public void UpdateBacklog(IReadOnlyList<Backlog> backlog) => _backlog = backlog;

    /// <summary>Whether <paramref name="meter"/> is this instance's (one per host; a process may run several).</summary>
    public bool Owns(Meter meter) => ReferenceEquals(meter, _meter);

    public void Dispose() => _meter.Dispose();
}
