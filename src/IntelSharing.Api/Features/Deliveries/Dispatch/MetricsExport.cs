using Prometheus;

namespace IntelSharing.Api.Features.Deliveries.Dispatch;

/// <summary>
/// What <c>/metrics</c> exports: this host's own Prometheus registry, listening from start-up. prometheus-net's
/// default registry starts listening to meters only when it is first scraped, so every delivery counted before
/// the first scrape was lost; and it is one per process, so hosts sharing a process (the test suite) mixed their
/// counts. The registry holds the process statistics, the delivery metrics under their documented names
/// (<see cref="DeliveryMetrics"/> writes them itself), and through prometheus-net's bridge the meters of ASP.NET Core
/// and of the runtime (docs/webhooks.md, "Metrics"). Not the HTTP client's, Npgsql's or Polly's: they record several
/// measurements for every partner request and every command, each taken through the bridge's labels and locks — 6 % of
/// the API's CPU in the delivery drain (docs/benchmarks.md) — where the delivery metrics already count each attempt and
/// its duration. With OTLP export on, the collector gets the HTTP client's as well (<c>Telemetry</c>).
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
            InstrumentFilterPredicate = instrument => IsBridged(instrument.Meter.Name),
        });
    }

    public CollectorRegistry Registry { get; } = Metrics.NewCustomRegistry();

    internal static bool IsBridged(string meter) =>
        meter.StartsWith("Microsoft.AspNetCore.", StringComparison.Ordinal) || meter == "System.Runtime";

    public void Dispose() => _adapter.Dispose();
}
