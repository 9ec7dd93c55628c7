using IntelSharing.Api.Infrastructure.OpenApi;

namespace IntelSharing.Api.Features.Subscriptions;

/// <param name="Delivered">Attempts the partner answered with a 2xx.</param>
/// <param name="Failed">Attempts that failed: an error status, a timeout or a refused connection.</param>
/// <param name="Dead">Deliveries whose last attempt fell in the window and that then gave up.</param>
public sealed record DeliveryCounts(long Delivered, long Failed, long Dead);

/// <param name="At">When the failed attempt started.</param>
/// <param name="StatusCode">The partner's status, when it answered.</param>
/// <param name="Error">What went wrong, as the delivery ledger records it.</param>
public sealed record LastError(DateTimeOffset At, int? StatusCode, string Error);

/// <param name="Hour">The start of the UTC clock hour.</param>
/// <param name="Delivered">Attempts started in the hour that the partner answered with a 2xx.</param>
/// <param name="Failed">Attempts started in the hour that failed.</param>
/// <param name="Dead">Deliveries whose last attempt started in the hour and that then gave up.</param>
/// <param name="LatencyMeanMs">Mean attempt duration in the hour, in milliseconds; null without attempts.</param>
/// <param name="LatencyMaxMs">The slowest attempt of the hour, in milliseconds; null without attempts.</param>
public sealed record HealthHour(DateTimeOffset Hour, long Delivered, long Failed, long Dead, long? LatencyMeanMs, int? LatencyMaxMs);

public sealed record PartnerHealth
{
    public required Guid SubscriptionId { get; init; }

    public required Guid AgencyId { get; init; }

    /// <summary>The name of the agency the subscription belongs to.</summary>
    public required string AgencyName { get; init; }

    /// <summary>
    /// scheme://host[:port] of the subscription's URL. The path and query are left out: they may carry a partner's own
    /// token, and operators see every agency's endpoints here.
    /// </summary>
    public required string Endpoint { get; init; }

    /// <summary>active, paused or disabled.</summary>
    [ClosedSet(typeof(SubscriptionStatuses))]
    public required string Status { get; init; }

    /// <summary>Attempts of the last hour by outcome: delivered, failed (to be retried) and dead (given up).</summary>
    public required DeliveryCounts LastHour { get; init; }

    /// <summary>Attempts of the last 24 hours by outcome, counted as for <c>lastHour</c>.</summary>
    public required DeliveryCounts LastDay { get; init; }

    /// <summary>Median attempt duration in milliseconds; null without attempts in the last day.</summary>
    public int? LatencyP50Ms { get; init; }

    /// <summary>99th-percentile attempt duration in milliseconds, over the same attempts as the median; null without attempts.</summary>
    public int? LatencyP99Ms { get; init; }

    /// <summary>How many attempts the percentiles were taken over.</summary>
    public required int LatencySampleSize { get; init; }

    /// <summary>closed or open, as the instance that answered sees the endpoint's breaker (each instance keeps its own).</summary>
    [ClosedSet(typeof(CircuitStates))]
    public required string Circuit { get; init; }

    /// <summary>When an open breaker lets the next attempt through; null when the circuit is closed.</summary>
    public DateTimeOffset? CircuitOpenUntil { get; init; }

    /// <summary>The latest failed attempt of the last day, if any.</summary>
    public LastError? LastError { get; init; }

    /// <summary>When the earliest waiting retry of this subscription is due.</summary>
    public DateTimeOffset? NextRetryAt { get; init; }

    /// <summary>
    /// The last 24 UTC clock hours, oldest first, up to and including the current one: every hour is listed, an hour
    /// without attempts with zero counts and null latency. What the console plots.
    /// </summary>
    public required IReadOnlyList<HealthHour> Hours { get; init; }
}

/// <summary>The states <see cref="PartnerHealth.Circuit"/> takes.</summary>
public static class CircuitStates
{
    public const string Closed = "closed";

    public const string Open = "open";
}

public sealed record PartnerHealthPage(IReadOnlyList<PartnerHealth> Items, string? NextCursor);
