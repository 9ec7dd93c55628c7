
namespace IntelSharing.Api.Features.Deliveries.Dispatch;

/// <summary>The webhook event types partners receive (the <c>type</c> of the payload).</summary>
public static class EventTypes
{
    public const string AlertPublished = "alert.published";
    public const string AlertUpdated = "alert.updated";
    public const string AlertRevoked = "alert.revoked";
    public const string AlertExpired = "alert.expired";
    public const string AlertFeedback = "alert.feedback";
    public const string Ping = "ping";

    /// <summary>
    /// One of the receiving agency's alerts shares indicators with another active alert that the agency may see
    /// (docs/sharing.md, "Correlation"). The event's alert is the receiver's own; the other is its counterpart.
    /// </summary>
    public const string AlertCorrelated = "alert.correlated";

    /// <summary>
    /// Another agency holds an active alert sharing indicators with one of the receiving agency's alerts, but may not see
    /// that alert: the receiver (the owner of the restricted alert) decides whether to share it (hit/no-hit).
    /// </summary>
    public const string AlertCorrelationHidden = "alert.correlation_hidden";

    /// <summary>An operator issued an API key to the receiving agency (docs/decisions/0012): no alert content, only the key's public facts.</summary>
    public const string ApiKeyIssued = "api_key.issued";

    /// <summary>
    /// The types a subscription may choose (<c>eventTypes</c>). <see cref="AlertRevoked"/> and <see cref="AlertExpired"/>
    /// are not among them: "delete your copies" reaches every subscription that was sent the alert, whatever it chose;
    /// <see cref="Ping"/> is only ever sent on request.
    /// </summary>
    public static readonly IReadOnlyList<string> Choosable =
        [AlertPublished, AlertUpdated, AlertFeedback, AlertCorrelated, AlertCorrelationHidden, ApiKeyIssued];

    /// <summary>The types the change feed serves: what happens to an alert, not to keys or correlations.</summary>
    public static readonly IReadOnlyList<string> InFeed = [AlertPublished, AlertUpdated, AlertRevoked, AlertExpired, AlertFeedback];
}

/// <summary>Delivery states as stored and shown.</summary>
public static class DeliveryStates
{
    public const string Pending = "pending";
    public const string InFlight = "in_flight";
    public const string Delivered = "delivered";
    public const string Failed = "failed";
    public const string Dead = "dead";
    public const string Cancelled = "cancelled";

    public static readonly IReadOnlyList<string> All = [Pending, InFlight, Delivered, Failed, Dead, Cancelled];
}
