using System.Diagnostics;

namespace IntelSharing.Api.Infrastructure.Observability;

/// <summary>
/// Carries a trace through the outbox. The context of whatever queues an event (the submitting request, a
/// revocation, feedback) is stored with the event; every attempt to deliver it, hours later or after a restart,
/// starts an activity whose parent is that context, and the partner client sends it as <c>traceparent</c>. One trace
/// then links a submission to each of its deliveries, and a partner can quote the trace id back.
/// </summary>
public static class DeliveryTracing
{
    public const string SourceName = "IntelSharing.Delivery";

    public const string AttemptActivityName = "webhook.deliver";

    private static readonly ActivitySource Source = new(SourceName);

    /// <summary>The current W3C <c>traceparent</c>, stored with a queued event; null outside a trace.</summary>
    public static string? CurrentTraceParent() =>
        Activity.Current is { IdFormat: ActivityIdFormat.W3C } current ? current.Id : null;

    /// <summary>
    /// Starts the activity of one attempt as a child of the stored context (a new trace when none was stored). When no
    /// tracer listens (OTLP export is off), a plain activity is started instead: nothing is exported, but the partner
    /// still gets a <c>traceparent</c> in the submission's trace on every attempt.
    /// </summary>
    public static Activity StartAttempt(string? traceParent, Guid deliveryId, string eventType, int attempt)
    {
        var parent = ActivityContext.TryParse(traceParent, null, out var stored) ? stored : default;
        var activity = Source.StartActivity(AttemptActivityName, ActivityKind.Internal, parent)
            ?? StartUnlistened(parent);
        activity.SetTag("intelsharing.delivery.id", deliveryId.ToString());
        activity.SetTag("intelsharing.event.type", eventType);
        activity.SetTag("intelsharing.delivery.attempt", attempt);
        return activity;
    }

    private static Activity StartUnlistened(ActivityContext parent)
    {
        var activity = new Activity(AttemptActivityName);
        if (parent != default)
        {
            activity.SetParentId(parent.TraceId, parent.SpanId, parent.TraceFlags);
        }

        activity.SetIdFormat(ActivityIdFormat.W3C);
        return activity.Start();
    }
}
