using System.Data.Common;
using System.Globalization;
using Dapper;
using IntelSharing.Api.Features.Sharing;
using IntelSharing.Api.Infrastructure.Audit;
using IntelSharing.Api.Infrastructure.Time;


namespace IntelSharing.Api.Features.Deliveries.Dispatch;

/// <summary>
/// Whether a queued delivery may be sent now: the one decision every send goes through — first attempt, retry,
/// replay (one, bulk, by an operator) and resume — taken when the dispatcher claims the delivery, milliseconds before
/// the request, against the alert's current version and state (ADR 0008). Entitlement itself is
/// <see cref="SharingPolicy.VisibleSql"/>; this adds what the alert's lifecycle rules out. Content events
/// (<c>alert.published</c>, <c>alert.updated</c>) are refused when:
/// the receiving agency is deactivated; the sharing policy no longer lets it see the alert's current version
/// (narrowed audience, stricter marking); the alert was revoked or expired (its notice is a delivery of its own);
/// or the event carries a version that is no longer current (a later version may have removed persons or
/// indicators, and it reaches the subscription as its own delivery). Correlation events (<c>alert.correlated</c>,
/// <c>alert.correlation_hidden</c>) are about the receiver's own alert and are refused on the same grounds, and also
/// when the two alerts no longer share an indicator (either was revoked, expired or changed) or, for
/// <c>alert.correlated</c>, when the receiver may no longer see the counterpart alert. Notices (<c>alert.revoked</c>,
/// <c>alert.expired</c>) and feedback carry no alert content and are never refused here.
/// </summary>
public static class SendDecision
{
    public const string AgencyInactive = "agency_inactive";
    public const string NotEntitled = "not_entitled";
    public const string Revoked = "revoked";
    public const string Expired = "expired";
    public const string Superseded = "superseded";
    public const string Withdrawn = "withdrawn";

    /// <summary>
    /// A SQL expression that is NULL when the delivery may be sent and otherwise one of the refusal codes above.
    /// <paramref name="event"/>, <paramref name="subscription"/> and <paramref name="alert"/> are aliases of
    /// <c>events</c>, <c>subscriptions</c> and <c>alerts</c> (LEFT JOINed on the event's alert) in the caller's query.
    /// </summary>
    public static string RefusalSql(string @event, string subscription, string alert) =>
        $"""
        (CASE
            WHEN {@event}.type NOT IN ('{EventTypes.AlertPublished}', '{EventTypes.AlertUpdated}', '{EventTypes.AlertCorrelated}', '{EventTypes.AlertCorrelationHidden}') THEN NULL
            WHEN NOT EXISTS (SELECT 1 FROM agencies recipient WHERE recipient.id = {subscription}.agency_id AND recipient.is_active) THEN '{AgencyInactive}'
            WHEN {alert}.id IS NULL OR NOT {SharingPolicy.VisibleSql(alert, $"{subscription}.agency_id")} THEN '{NotEntitled}'
            WHEN {alert}.status = 'revoked' THEN '{Revoked}'
            WHEN {alert}.status = 'expired' THEN '{Expired}'
            WHEN {@event}.type = '{EventTypes.AlertCorrelated}' AND NOT EXISTS (
                SELECT 1 FROM alerts counterpart WHERE counterpart.id = {@event}.counterpart_alert_id
                AND {SharingPolicy.VisibleSql("counterpart", $"{subscription}.agency_id")}) THEN '{NotEntitled}'
            WHEN {@event}.type IN ('{EventTypes.AlertCorrelated}', '{EventTypes.AlertCorrelationHidden}') AND NOT EXISTS (
                SELECT 1 FROM alert_indicators mine JOIN alert_indicators theirs ON theirs.value_key = mine.value_key
                WHERE mine.alert_id = {alert}.id AND theirs.alert_id = {@event}.counterpart_alert_id) THEN '{Withdrawn}'
            WHEN {@event}.type IN ('{EventTypes.AlertPublished}', '{EventTypes.AlertUpdated}') AND {@event}.alert_version < {alert}.version THEN '{Superseded}'
        END)
        """;

    /// <summary>What the ledger (<c>lastError</c>) and a refused replay say, for a refusal code.</summary>
    public static string Explain(string refusal, int? eventVersion, int? currentVersion) => refusal switch
    {
        AgencyInactive => "The receiving agency is deactivated: it receives no alert content until it is activated again. Nothing was sent.",
        NotEntitled => "The receiving agency may no longer see this alert: the current version's marking or audience leaves it out. Nothing was sent.",
        Revoked => "The alert was revoked: its content is never sent again. The revocation notice (alert.revoked) is a delivery of its own. Nothing was sent.",
        Expired => "The alert expired and its personal data was purged: its content is never sent again. The expiry notice (alert.expired) is a delivery of its own. Nothing was sent.",
        Superseded => string.Create(CultureInfo.InvariantCulture,
            $"Version {eventVersion} was superseded by version {currentVersion}: only the current version is sent, as a delivery of its own. Nothing was sent."),
        Withdrawn => "The correlation was withdrawn: one of the two alerts was revoked or expired, or no longer carries the shared indicator. Nothing was sent.",
        _ => $"Refused: {refusal}. Nothing was sent.",
    };

    /// <summary>One delivery the decision refused, as the dispatcher read it while claiming.</summary>
    public sealed record Refused(Guid Id, Guid SubscriptionId, Guid AgencyId, string Refusal, int? EventVersion, int? CurrentVersion);

    /// <summary>
    /// Ends refused deliveries as <c>cancelled</c> with the reason, and audits each as <c>delivery.cancelled</c>, in the
    /// caller's transaction (the claim's). Only rows still held by <paramref name="token"/> are touched.
    /// </summary>
    public static async Task CancelAsync(
        DbConnection connection, DbTransaction transaction, IReadOnlyList<Refused> refused, Guid token, TimeProvider time, CancellationToken cancellationToken)
    {
        var now = time.UtcNowMicros();
        foreach (var delivery in refused)
        {
            var reason = Explain(delivery.Refusal, delivery.EventVersion, delivery.CurrentVersion);
            var cancelled = await connection.ExecuteAsync(new CommandDefinition(
                """
                UPDATE deliveries SET state = @cancelled, last_error = @reason, updated_at = @now, claim_token = NULL, lease_until = NULL
                WHERE id = @id AND claim_token = @token
                """,
                new { id = delivery.Id, token, reason, now, cancelled = DeliveryStates.Cancelled },
                transaction, cancellationToken: cancellationToken));
            if (cancelled == 0)
            {
                continue;
            }

            await AuditWriter.RecordSystemAsync(connection, transaction, new AuditEvent(AuditActions.DeliveryCancelled, 0)
            {
                ResourceType = AuditResources.Delivery,
                ResourceId = delivery.Id,
                AgencyId = delivery.AgencyId,
                Detail = new { subscriptionId = delivery.SubscriptionId, reason = delivery.Refusal, error = reason },
            }, time, cancellationToken);
        }
    }
}
