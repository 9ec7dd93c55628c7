using Prometheus;

namespace IntelSharing.Api.Features.Deliveries.Dispatch;

/// <summary>
/// What <c>/metrics</c> exports: this host's own Prometheus registry, listening from start-up. prometheus-net's
/// default registry starts listening to meters only when it is first scraped, so every delivery counted before
/// the first scrape was lost; and it is one per process, so hosts sharing a process (the test suite) mixed their
/// counts. The registry holds the process statistics, the delivery metrics under their documented names
/// (<see cref="DeliveryMetrics"/> writes them itself), and through prometheus-net's bridge the meters of ASP.NET Core's
/// hosting (request duration by route and status, active requests), Kestrel (connections), its exception handler and
/// the runtime (docs/webhooks.md, "Metrics"). Not the meters that measure every request or every command again: the HTTP
/// client's, Npgsql's and Polly's (6 % of the API's CPU in the delivery drain, where the delivery metrics already count
/// each attempt and its duration), nor ASP.NET Core's routing, rate-limiting, authentication and authorization meters
/// (3.5 % of the API's CPU under read load, docs/benchmarks.md): a 404, a 429, a 401 or a 403 is already counted by
/// its status code on the hosting meter's request duration (<c>microsoft_aspnetcore_hosting_http_server_request_duration…</c>).
/// Each measurement goes through the bridge's labels and locks. With OTLP export on, the collector gets the HTTP
/// client's as well (<c>Telemetry</c>).
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
        meter is "Microsoft.AspNetCore.Hosting" or "Microsoft.AspNetCore.Server.Kestrel" or "Microsoft.AspNetCore.Diagnostics" or "System.Runtime";

    public void Dispose() => _adapter.Dispose();
}
