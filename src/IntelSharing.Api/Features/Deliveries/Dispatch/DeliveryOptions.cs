using System.Globalization;


namespace IntelSharing.Api.Features.Deliveries.Dispatch;

/// <summary>Bound from the <c>Delivery</c> configuration section (<c>Delivery__Workers</c>, …).</summary>
public sealed class DeliveryOptions
{
    public const string Section = "Delivery";

    /// <summary>Whether this instance sends webhooks. Switch off on instances that should only serve the API.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>How many deliveries this instance sends at once (across all partners).</summary>
    public int Workers { get; set; } = 32;

    /// <summary>How many due deliveries one claim takes.</summary>
    public int BatchSize { get; set; } = 64;

    /// <summary>How long a claim is held before another worker may take the delivery over.</summary>
    public TimeSpan Lease { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How often the dispatcher looks for due deliveries when nothing wakes it.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// On shutdown (SIGTERM), how long sends under way may still take. No new delivery is claimed once shutdown starts;
    /// a send still open after this is cut off, recorded as an attempt ("interrupted by shutdown") and released, due again
    /// at once. Keep it well below the orchestrator's grace (Kubernetes: terminationGracePeriodSeconds, 30 s by default).
    /// </summary>
    public int ShutdownGraceSeconds { get; set; } = 10;

    /// <summary>Timeout of one attempt (connect, send, and read the response).</summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// Most requests one partner endpoint (authority) may have open at once. A partner starts at one and earns more
    /// by answering (each success doubles it); a failure puts it back to one (<see cref="PartnerConcurrency"/>).
    /// </summary>
    public int PerPartnerConcurrency { get; set; } = 8;

    /// <summary>
    /// Most deliveries to one receiving agency (all its endpoints together) this instance sends at once. Unset: a
    /// quarter of <see cref="Workers"/>, so no agency, however many endpoints it registers, holds more than that share.
    /// </summary>
    public int? PerAgencyConcurrency { get; set; }

    /// <summary>Most subscriptions (not deleted) one agency may have; creating one more is refused with 409.</summary>
    public int MaxSubscriptionsPerAgency { get; set; } = 10;

    /// <summary>The per-agency share in effect: the configured one, or a quarter of the workers (at least one).</summary>
    public int AgencyShare => PerAgencyConcurrency ?? Math.Max(1, Workers / 4);

    /// <summary>Consecutive failures to one partner that open its circuit breaker.</summary>
    public int BreakerFailures { get; set; } = 5;

    /// <summary>How long an open breaker stays open before one trial request.</summary>
    public TimeSpan BreakerDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Delays before each attempt, the first included (0 = at once). The default spans about four days:
    /// at once, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h. Comma-separated TimeSpans in configuration.
    /// </summary>
    public string Schedule { get; set; } = "00:00:00,00:00:05,00:05:00,00:30:00,02:00:00,05:00:00,10:00:00,14:00:00,20:00:00,1.00:00:00";

    /// <summary>Random spread applied to each delay (0.1 = ±10 %), so partners recovering from an outage are not hit in lockstep.</summary>
    public double Jitter { get; set; } = 0.1;

    /// <summary>Longest delay a partner's Retry-After may impose.</summary>
    public TimeSpan MaxRetryAfter { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How long a rotated-out signing secret keeps signing, beside the new one.</summary>
    public TimeSpan SecretRotationOverlap { get; set; } = TimeSpan.FromHours(24);

    /// <summary>Allow plain http:// endpoints. Development only.</summary>
    public bool AllowHttp { get; set; }

    /// <summary>
    /// Destinations allowed for EVERY agency although they are loopback, private, link-local or otherwise internal, as
    /// CIDR ranges (e.g. "127.0.0.0/8"). Development and tests only: in production leave it empty and allow a network
    /// for the one agency whose endpoint sits there (PUT /api/v1/agencies/{id}/allowed-private-networks).
    /// </summary>
    public string[] AllowedPrivateNetworks { get; set; } = [];

    /// <summary>
    /// An egress proxy for partner traffic (e.g. "http://egress.internal:3128"). Unset: partners are dialled directly and
    /// environment proxies (HTTPS_PROXY, HTTP_PROXY) are ignored. Set: each destination is resolved and checked against
    /// the address policy before the request is handed to this proxy.
    /// </summary>
    public string? Proxy { get; set; }

    public IReadOnlyList<TimeSpan> ParsedSchedule() =>
        Schedule.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(s => TimeSpan.Parse(s, CultureInfo.InvariantCulture))
            .ToList();
}
