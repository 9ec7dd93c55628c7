using System.Text;
using System.Text.Json.Serialization;
using Dapper;
using IntelSharing.Api.Features.Deliveries.Dispatch;
using IntelSharing.Api.Infrastructure.OpenApi;
using IntelSharing.Api.Infrastructure.Security;

namespace IntelSharing.Api.Features.Deliveries;

/// <summary>One (event, subscription) pair on its way. The alert's content is not here: read it through the alert endpoints.</summary>
public sealed record DeliveryView
{
    public required Guid Id { get; init; }

    /// <summary>The webhook-id header value; stable across retries and replays, for the partner to deduplicate.</summary>
    public required string WebhookId { get; init; }

    /// <summary>The webhook event type (the payload's <c>type</c>).</summary>
    [ClosedSet(typeof(EventTypes))]
    public required string EventType { get; init; }

    public Guid? AlertId { get; init; }

    public int? AlertVersion { get; init; }

    public required Guid SubscriptionId { get; init; }

    public required Guid AgencyId { get; init; }

    /// <summary>pending, in_flight, delivered, failed (will retry), dead (gave up) or cancelled.</summary>
    [ClosedSet(typeof(DeliveryStates), nameof(DeliveryStates.All))]
    public required string State { get; init; }

    public required int Attempts { get; init; }

    /// <summary>When the next attempt is due, for pending and failed deliveries.</summary>
    public DateTimeOffset? NextAttemptAt { get; init; }

    public int? LastStatus { get; init; }

    public string? LastError { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }

    public required DateTimeOffset UpdatedAt { get; init; }

    public DateTimeOffset? DeliveredAt { get; init; }
}

public sealed record DeliveryAttemptView(int Attempt, DateTimeOffset StartedAt, int DurationMs, int? StatusCode, string? Error, string? ResponseExcerpt);

public sealed record DeliveryDetail(DeliveryView Delivery, IReadOnlyList<DeliveryAttemptView> Attempts);

public sealed record DeliveryPage(IReadOnlyList<DeliveryView> Items, [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? NextCursor);

internal sealed record DeliveryRow
{
    public const string Select =
        """
        SELECT d.id AS Id, e.type AS EventType, e.alert_id AS AlertId, e.alert_version AS AlertVersion, d.subscription_id AS SubscriptionId,
               d.agency_id AS AgencyId, d.state AS State, d.attempts AS Attempts, d.next_attempt_at AS NextAttemptAt, d.last_status AS LastStatus,
               d.last_error AS LastError, d.created_at AS CreatedAt, d.updated_at AS UpdatedAt, d.delivered_at AS DeliveredAt
        FROM deliveries d JOIN events e ON e.id = d.event_id
        """;

    public Guid Id { get; init; }

    public string EventType { get; init; } = string.Empty;

    public Guid? AlertId { get; init; }

    public int? AlertVersion { get; init; }

    public Guid SubscriptionId { get; init; }

    public Guid AgencyId { get; init; }

    public string State { get; init; } = string.Empty;

    public int Attempts { get; init; }

    public DateTimeOffset NextAttemptAt { get; init; }

    public int? LastStatus { get; init; }

    public string? LastError { get; init; }

    public DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset UpdatedAt { get; init; }

    public DateTimeOffset? DeliveredAt { get; init; }

    public DeliveryView ToView() => new()
    {
        Id = Id,
        WebhookId = DeliveryDispatcher.MessageId(Id),
        EventType = EventType,
        AlertId = AlertId,
        AlertVersion = AlertVersion,
        SubscriptionId = SubscriptionId,
        AgencyId = AgencyId,
        State = State,
        Attempts = Attempts,
        NextAttemptAt = State is DeliveryStates.Pending or DeliveryStates.Failed ? NextAttemptAt : null,
        LastStatus = LastStatus,
        LastError = LastError,
        CreatedAt = CreatedAt,
        UpdatedAt = UpdatedAt,
        DeliveredAt = DeliveredAt,
    };

    /// <summary>
    /// Restricts a ledger query to what the caller may see: operators (deliveries:manage) see every delivery;
    /// an agency sees the deliveries to its own subscriptions.
    /// </summary>
    public static void Scope(StringBuilder where, DynamicParameters parameters, Caller caller)
    {
        if (!caller.Has(Scopes.DeliveriesManage))
        {
            where.Append(" AND d.agency_id = @callerAgency");
            parameters.Add("callerAgency", caller.AgencyId);
        }
    }
}

