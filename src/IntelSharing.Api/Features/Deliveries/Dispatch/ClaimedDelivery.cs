using System.Text;

namespace IntelSharing.Api.Features.Deliveries.Dispatch;

/// <summary>One delivery this instance claimed, with everything needed to sign and send it, read in the claim's transaction.</summary>
public sealed record ClaimedDelivery
{
    public Guid Id { get; init; }

    public Guid SubscriptionId { get; init; }

    /// <summary>The receiving agency, named in the attempt's audit record.</summary>
    public Guid AgencyId { get; init; }

    public string Url { get; init; } = string.Empty;

    public string Authority { get; init; } = string.Empty;

    public byte[] Secret { get; init; } = [];

    public byte[]? PreviousSecret { get; init; }

    public DateTimeOffset? PreviousSecretExpiresAt { get; init; }

    public string? OlderSecrets { get; init; }

    public int Attempts { get; init; }

    public Guid EventId { get; init; }

    /// <summary>
    /// events.payload: the body, or <see cref="Outbox.PayloadOfVersion"/> when the body is built around the version's
    /// document. Read on one row per event of a claim only (null on the others): the claim renders each event's body once.
    /// </summary>
    public string? StoredPayload { get; init; }

    public string EventType { get; init; } = string.Empty;

    public DateTimeOffset EventCreatedAt { get; init; }

    /// <summary>alert_versions.document of the event's version, read only when the event stores no body of its own.</summary>
    public string? VersionDocument { get; init; }

    /// <summary>
    /// The webhook body, the same bytes on every attempt: stored with the event, or built around its version's document.
    /// Every delivery of one event in a claim shares the one array (<see cref="WithBodies"/>); nothing may write to it.
    /// Null when the version the event names is not stored: that delivery alone fails, and its lease expires.
    /// </summary>
    public byte[]? Body { get; init; }

    /// <summary>Gives each delivery its event's body, rendered once per event from the row that carries it.</summary>
    public static List<ClaimedDelivery> WithBodies(IReadOnlyList<ClaimedDelivery> rows)
    {
        var bodies = new Dictionary<Guid, byte[]>();
        foreach (var row in rows.Where(r => r.StoredPayload is not null))
        {
            if (row.StoredPayload != Outbox.PayloadOfVersion)
            {
                bodies[row.EventId] = Encoding.UTF8.GetBytes(row.StoredPayload!);
            }
            else if (row.VersionDocument is not null)
            {
                bodies[row.EventId] = Encoding.UTF8.GetBytes(Outbox.Payload(row.EventType, row.EventCreatedAt, row.VersionDocument));
            }
        }

        return rows.Select(r => r with { Body = bodies.GetValueOrDefault(r.EventId) }).ToList();
    }

    /// <summary>Why <see cref="SendDecision"/> refuses to send it now; null when it may be sent.</summary>
    public string? Refusal { get; init; }

    public int? EventVersion { get; init; }

    /// <summary>events.trace_parent: the trace of whatever queued the event; every attempt continues it.</summary>
    public string? TraceParent { get; init; }

    public int? CurrentVersion { get; init; }

    /// <summary>The internal networks an operator allowed the receiving agency (agencies.allowed_private_networks), read with the claim.</summary>
    public string AllowedPrivateNetworks { get; init; } = string.Empty;

    /// <summary>The claim this instance holds; every write about the delivery is conditional on it still being ours.</summary>
    public Guid Token { get; init; }
}
