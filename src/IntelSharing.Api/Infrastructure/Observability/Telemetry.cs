using Npgsql;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace IntelSharing.Api.Infrastructure.Observability;

/// <summary>
/// OpenTelemetry traces and metrics, exported over OTLP when the standard <c>OTEL_EXPORTER_OTLP_*</c> variables name
/// an endpoint, and not set up at all otherwise: a tracer with nowhere to send would cost every request for nothing.
/// Trace ids exist either way (ASP.NET Core starts an activity per request), so logs, problem responses and the
/// <c>traceparent</c> sent to partners carry them whether or not anything is exported.
/// </summary>
public static class Telemetry
{
    public const string DefaultServiceName = "intelsharing-api";

    /// <summary>The standard variables that switch OTLP export on; any one of them is enough.</summary>
    public static readonly IReadOnlyList<string> EndpointVariables =
    [
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
    ];

    public static bool ExportConfigured(IConfiguration configuration) =>
        EndpointVariables.Any(name => !string.IsNullOrWhiteSpace(configuration[name]));

    public static IServiceCollection AddIntelSharingTelemetry(this IServiceCollection services, IConfiguration configuration)
    {
        if (!ExportConfigured(configuration))
        {
            return services;
        }

        services.AddOpenTelemetry()
            // A resource added here would override the SDK's reading of OTEL_SERVICE_NAME, so the variable is honoured here.
            .ConfigureResource(resource => resource.AddService(configuration["OTEL_SERVICE_NAME"] is { Length: > 0 } name ? name : DefaultServiceName))
            .WithTracing(tracing => tracing
                .AddSource(DeliveryTracing.SourceName)
                // Probes and scrapes every few seconds would drown the traces that matter.
                .AddAspNetCoreInstrumentation(options => options.Filter = context =>
                    !context.Request.Path.StartsWithSegments("/health") && !context.Request.Path.StartsWithSegments("/metrics"))
                .AddHttpClientInstrumentation()
                .AddNpgsql())
            .WithMetrics(metrics => metrics
                // Every meter the application owns (IntelSharing.Delivery, …): plumbing names no feature.
                .AddMeter("IntelSharing.*")
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation())
            .UseOtlpExporter();
        return services;
    }
}
