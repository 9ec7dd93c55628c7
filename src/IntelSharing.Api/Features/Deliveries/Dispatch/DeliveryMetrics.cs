using System.Diagnostics.Metrics;
using Prometheus;


namespace IntelSharing.Api.Features.Deliveries.Dispatch;

/// <summary>
/// Delivery metrics, recorded twice on purpose: into this host's Prometheus registry under the names, types and units
/// docs/webhooks.md promises for <c>/metrics</c>, and into the System.Diagnostics.Metrics meter <c>IntelSharing.Delivery</c>
/// that OpenTelemetry exports over OTLP. prometheus-net's bridge from meters prefixed the meter's name and served
/// counters as gauges (<c>intelsharing_delivery_intelsharing_deliveries_delivered</c>), so the scrape no longer goes
/// through it (ADR 22).
/// </summary>
public sealed class DeliveryMetrics : IDisposable
{
    public const string MeterName = "IntelSharing.Delivery";

    public const string DeliveredTotal = "intelsharing_deliveries_delivered_total";
    public const string FailedTotal = "intelsharing_deliveries_failed_total";
    public const string DeadTotal = "intelsharing_deliveries_dead_total";
    public const string AttemptDurationSeconds = "intelsharing_delivery_attempt_duration_seconds";
    public const string Pending = "intelsharing_deliveries_pending";
    public const string OldestPendingAgeSeconds = "intelsharing_deliveries_oldest_pending_age_seconds";

    private readonly Meter _meter;
    private readonly Counter<long> _delivered;
    private readonly Counter<long> _failed;
    private readonly Counter<long> _dead;
    private readonly Histogram<double> _latency;
    private readonly Prometheus.Counter _deliveredScraped;
    private readonly Prometheus.Counter _failedScraped;
    private readonly Prometheus.Counter _deadScraped;
    private readonly Prometheus.Histogram _latencyScraped;
    private readonly Gauge _pendingScraped;
    private readonly Gauge _oldestScraped;
    private readonly Lock _backlogLock = new();
    private volatile IReadOnlyList<Backlog> _backlog = [];

    public sealed record Backlog(Guid SubscriptionId, long Pending, double OldestAgeSeconds);

    public DeliveryMetrics(MetricsExport export)
    {
        // A plain Meter rather than IMeterFactory's, as before: one instance per host.
        _meter = new Meter(MeterName, "1.0");
        _delivered = _meter.CreateCounter<long>("intelsharing.deliveries.delivered", unit: "{delivery}", description: "Deliveries acknowledged with 2xx.");
        _failed = _meter.CreateCounter<long>("intelsharing.deliveries.failed", unit: "{attempt}", description: "Attempts that failed and will be retried.");
        _dead = _meter.CreateCounter<long>("intelsharing.deliveries.dead", unit: "{delivery}", description: "Deliveries that exhausted the retry schedule.");
        _latency = _meter.CreateHistogram<double>("intelsharing.delivery.attempt.duration", unit: "s", description: "Duration of one delivery attempt.");
        _meter.CreateObservableGauge("intelsharing.deliveries.pending", () =>
            _backlog.Select(b => new Measurement<long>(b.Pending, new KeyValuePair<string, object?>("subscription", b.SubscriptionId.ToString()))),
            unit: "{delivery}", description: "Deliveries not yet delivered, dead or cancelled, per subscription.");
        _meter.CreateObservableGauge("intelsharing.deliveries.oldest_pending_age", () =>
            _backlog.Select(b => new Measurement<double>(b.OldestAgeSeconds, new KeyValuePair<string, object?>("subscription", b.SubscriptionId.ToString()))),
            unit: "s", description: "Age of the oldest undelivered delivery, per subscription.");

        var scraped = Metrics.WithCustomRegistry(export.Registry);
        _deliveredScraped = scraped.CreateCounter(DeliveredTotal, "Deliveries acknowledged with 2xx.");
        _failedScraped = scraped.CreateCounter(FailedTotal, "Attempts that failed and will be retried.");
        _deadScraped = scraped.CreateCounter(DeadTotal, "Deliveries that exhausted the retry schedule.");
        _latencyScraped = scraped.CreateHistogram(AttemptDurationSeconds, "Duration of one delivery attempt, in seconds.", new HistogramConfiguration
        {
            Buckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
        });
        _pendingScraped = scraped.CreateGauge(Pending, "Deliveries not yet delivered, dead or cancelled, per subscription.", "subscription");
        _oldestScraped = scraped.CreateGauge(OldestPendingAgeSeconds, "Age of the oldest undelivered delivery, per subscription, in seconds.", "subscription");
    }

    public void Delivered(TimeSpan duration)
    {
        _delivered.Add(1);
        _deliveredScraped.Inc();
        Attempted(duration);
    }

    public void Failed(TimeSpan duration)
    {
        _failed.Add(1);
        _failedScraped.Inc();
        Attempted(duration);
    }

    public void Dead()
    {
        _dead.Add(1);
        _deadScraped.Inc();
    }

    private void Attempted(TimeSpan duration)
    {
        _latency.Record(duration.TotalSeconds);
        _latencyScraped.Observe(duration.TotalSeconds);
    }

    public void UpdateBacklog(IReadOnlyList<Backlog> backlog)
    {
        lock (_backlogLock)
        {
            _backlog = backlog;
            var current = backlog.Select(b => b.SubscriptionId.ToString()).ToHashSet(StringComparer.Ordinal);
            // A subscription whose backlog emptied leaves the series rather than staying at its last value.
            foreach (var labels in _pendingScraped.GetAllLabelValues().Where(l => !current.Contains(l[0])).ToList())
            {
                _pendingScraped.RemoveLabelled(labels);
                _oldestScraped.RemoveLabelled(labels);
            }

            foreach (var b in backlog)
            {
                var subscription = b.SubscriptionId.ToString();
                _pendingScraped.WithLabels(subscription).Set(b.Pending);
                _oldestScraped.WithLabels(subscription).Set(b.OldestAgeSeconds);
            }
        }
    }

    public void Dispose() => _meter.Dispose();
}
