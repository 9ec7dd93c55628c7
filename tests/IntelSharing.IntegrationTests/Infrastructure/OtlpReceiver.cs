using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace IntelSharing.IntegrationTests.Infrastructure;

/// <summary>One OTLP/HTTP export request as a collector received it.</summary>
public sealed record OtlpExport(string Path, string? ContentType, byte[] Body);

/// <summary>A span as OTLP carries it, read from the protobuf body; ids in lower-case hex, as in <c>traceparent</c>.</summary>
public sealed record OtlpSpan(string TraceId, string SpanId, string ParentSpanId, string Name, IReadOnlyDictionary<string, string> Attributes);

/// <summary>
/// A real OTLP/HTTP collector endpoint on loopback: accepts <c>POST /v1/traces</c> and <c>POST /v1/metrics</c> (protobuf),
/// keeps every body and answers 200 with an empty <c>Export…ServiceResponse</c>, as a collector does.
/// </summary>
public sealed class OtlpReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<OtlpExport> _received = new();

    private OtlpReceiver(WebApplication app) => _app = app;

    /// <summary>What <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set to: the SDK appends <c>/v1/traces</c> and <c>/v1/metrics</c>.</summary>
    public string Endpoint { get; private set; } = string.Empty;

    public IReadOnlyList<OtlpExport> Received => _received.ToArray();

    public static async Task<OtlpReceiver> StartAsync()
    {
        var app = LoopbackListener.Create();
        var receiver = new OtlpReceiver(app);
        app.MapPost("/v1/{signal}", async (HttpContext context) =>
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body);
            receiver._received.Enqueue(new OtlpExport(context.Request.Path, context.Request.ContentType, body.ToArray()));
            return Results.Bytes([], "application/x-protobuf");
        });
        receiver.Endpoint = await LoopbackListener.StartAsync(app);
        return receiver;
    }

    /// <summary>Every span of every <c>/v1/traces</c> export received so far.</summary>
    public IReadOnlyList<OtlpSpan> Spans() =>
        Received.Where(e => e.Path == "/v1/traces").SelectMany(e => OtlpProtobuf.Spans(e.Body)).ToList();

    /// <summary>The names of the metrics of every <c>/v1/metrics</c> export received so far.</summary>
    public IReadOnlySet<string> MetricNames() =>
        Received.Where(e => e.Path == "/v1/metrics").SelectMany(e => OtlpProtobuf.MetricNames(e.Body)).ToHashSet(StringComparer.Ordinal);

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>
/// Just enough of the protobuf wire format to read OTLP requests (opentelemetry-proto, trace/v1 and metrics/v1), so a test
/// checks what a collector would store without a generated client: the exporter's bytes, not the SDK's objects.
/// </summary>
public static class OtlpProtobuf
{
    // ExportTraceServiceRequest.resource_spans = 1 → ResourceSpans.scope_spans = 2 → ScopeSpans.spans = 2
    // Span: trace_id = 1, span_id = 2, parent_span_id = 4, name = 5, attributes = 9 (KeyValue: key = 1, value = 2;
    // AnyValue.string_value = 1: only string attributes are kept).
    public static IEnumerable<OtlpSpan> Spans(byte[] request) =>
        from resource in Fields(request, 1)
        from scope in Fields(resource, 2)
        from span in Fields(scope, 2)
        select new OtlpSpan(
            Convert.ToHexStringLower(Fields(span, 1).FirstOrDefault() ?? []),
            Convert.ToHexStringLower(Fields(span, 2).FirstOrDefault() ?? []),
            Convert.ToHexStringLower(Fields(span, 4).FirstOrDefault() ?? []),
            Text(Fields(span, 5).FirstOrDefault()),
            Fields(span, 9)
                .Select(attribute => (Key: Text(Fields(attribute, 1).FirstOrDefault()), Value: Fields(attribute, 2).FirstOrDefault()))
                .Where(attribute => attribute.Value is not null && Fields(attribute.Value, 1).Count > 0)
                .GroupBy(attribute => attribute.Key)
                .ToDictionary(byKey => byKey.Key, byKey => Text(Fields(byKey.First().Value!, 1)[0])));

    private static string Text(byte[]? bytes) => System.Text.Encoding.UTF8.GetString(bytes ?? []);

    // ExportMetricsServiceRequest.resource_metrics = 1 → ResourceMetrics.scope_metrics = 2 → ScopeMetrics.metrics = 2; Metric.name = 1.
    public static IEnumerable<string> MetricNames(byte[] request) =>
        from resource in Fields(request, 1)
        from scope in Fields(resource, 2)
        from metric in Fields(scope, 2)
        select System.Text.Encoding.UTF8.GetString(Fields(metric, 1).FirstOrDefault() ?? []);

    /// <summary>The payloads of the length-delimited fields numbered <paramref name="number"/> of one message; other fields are skipped.</summary>
    public static List<byte[]> Fields(byte[] message, int number)
    {
        var found = new List<byte[]>();
        var at = 0;
        while (at < message.Length)
        {
            var key = Varint(message, ref at);
            var wireType = (int)(key & 7);
            switch (wireType)
            {
                case 0:
                    Varint(message, ref at);
                    break;
                case 1:
                    at += 8;
                    break;
                case 2:
                    var length = (int)Varint(message, ref at);
                    if ((int)(key >> 3) == number)
                    {
                        found.Add(message[at..(at + length)]);
                    }

                    at += length;
                    break;
                case 5:
                    at += 4;
                    break;
                default:
                    throw new FormatException($"Wire type {wireType} at byte {at}: not a protobuf message this reader knows.");
            }
        }

        return found;
    }

    private static ulong Varint(byte[] message, ref int at)
    {
        ulong value = 0;
        for (var shift = 0; ; shift += 7)
        {
            var b = message[at++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return value;
            }
        }
    }
}
