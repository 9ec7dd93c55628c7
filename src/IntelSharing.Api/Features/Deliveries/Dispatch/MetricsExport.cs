using Prometheus;


namespace IntelSharing.Api.Features.Deliveries.Dispatch;

/// <summary>
/// What <c>/metrics</c> exports: this host's own Prometheus registry, listening from start-up. prometheus-net's
/// default registry starts listening to meters only when it is first scraped, so every delivery counted before
/// the first scrape was lost; and it is one per process, so hosts sharing a process (the test suite) mixed their
/// counts. The registry holds the process statistics, the delivery metrics under their documented names
/// (<see cref="DeliveryMetrics"/> writes them itself), and the framework's meters through prometheus-net's bridge.
/// </summary>
public sealed class MetricsExport : IDisposable
{
    private readonly IDisposable _adapter;

    public MetricsExport()
    {
        DotNetStats.Register(Registry);
        _adapter = MeterAdapter.StartListening(new MeterAdapterOptions
        {
            Registry = Registry,
            MetricFactory = Metrics.WithCustomRegistry(Registry),
            InstrumentFilterPredicate = instrument => instrument.Meter.Name != DeliveryMetrics.MeterName,
        });
    }

    public CollectorRegistry Registry { get; } = Metrics.NewCustomRegistry();

    public void Dispose() => _adapter.Dispose();
}
