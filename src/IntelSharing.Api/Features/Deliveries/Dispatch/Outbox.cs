using System.Data.Common;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Dapper;
using IntelSharing.Api.Features.Alerts;
using IntelSharing.Api.Features.Sharing;
using IntelSharing.Api.Infrastructure.Json;
using IntelSharing.Api.Infrastructure.Observability;
using IntelSharing.Api.Infrastructure.Persistence;

namespace IntelSharing.Api.Features.Deliveries.Dispatch;

/// <summary>
/// The transactional outbox. Called inside the transaction that publishes an alert version: it writes the
/// event (payload serialised once) and one delivery per matching subscription of every agency the
/// <see cref="SharingPolicy"/> entitles, so a committed alert always has its deliveries and an aborted one has none.
/// After commit, <see cref="DeliverySignal"/> wakes the dispatcher.
/// </summary>
public sealed class Outbox(Database database)
{
    /// <summary>A subscription that queues deliveries, with what <see cref="Matches"/> filters on.</summary>
    public sealed record SubscriptionRow
    {
        public Guid Id { get; init; }

        public Guid AgencyId { get; init; }

        public string Categories { get; init; } = string.Empty;

        public int MinSeverityRank { get; init; }

        public string Countries { get; init; } = string.Empty;

        public bool IncludeOwnAlerts { get; init; }
    }

    /// <summary>
    /// Queues a newly published version: <c>alert.published</c> to entitled, matching subscriptions that never had
    /// this alert, <c>alert.updated</c> to those that had an earlier version, and <c>alert.revoked</c> (without
    /// content) to past recipients the new version no longer entitles — whose undelivered copies are cancelled.
    /// Returns how many deliveries were queued.
    /// </summary>
    public async Task<int> EnqueueVersionAsync(
        DbConnection connection, DbTransaction transaction, AlertView alert, string document, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var batch = new SqlBatch();
        var queued = await EnqueueVersionAsync(connection, transaction, batch, alert, document, now, cancellationToken);
        await batch.ExecuteAsync(connection, transaction, cancellationToken);
        return queued;
    }

    /// <summary>
    /// As <see cref="EnqueueVersionAsync(DbConnection, DbTransaction, AlertView, string, DateTimeOffset, CancellationToken)"/>,
    /// but the writes go into <paramref name="batch"/>, which the caller sends with the rest of its transaction; only
    /// the reads that decide the recipients run here, inside the transaction.
    /// </summary>
    public async Task<int> EnqueueVersionAsync(
        DbConnection connection, DbTransaction transaction, SqlBatch batch, AlertView alert, string document, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var subscriptions = await connection.QueryAsync<SubscriptionRow>(new CommandDefinition(
            QueuingSubscriptionsSql, transaction: transaction, cancellationToken: cancellationToken));
        if (alert.Version == 1)
        {
            return AddFirstVersion(batch, subscriptions, alert, document, now, DeliveryTracing.CurrentTraceParent());
        }

        var audience = alert.Audience.Select(a => a.Id).ToHashSet();
        var recipients = Recipients(subscriptions, alert, audience);

        var past = await PastRecipientsAsync(connection, transaction, alert.Id, cancellationToken);
        var pastSubscriptions = past.Select(p => p.SubscriptionId).ToHashSet();
        var losing = past.Where(p => !SharingPolicy.MaySee(
            p.AgencyId, new AlertAccess(alert.Originator.Id, alert.Tlp, audience.Count > 0, audience.Contains(p.AgencyId), AgencyActive: true))).ToList();

        var queued = AddEvent(batch, EventTypes.AlertPublished, alert.Id, alert.Version, document,
            recipients.Where(r => !pastSubscriptions.Contains(r.Id)).ToList(), now, storedInVersion: true);
        queued += AddEvent(batch, EventTypes.AlertUpdated, alert.Id, alert.Version, document,
            recipients.Where(r => pastSubscriptions.Contains(r.Id)).ToList(), now, storedInVersion: true);
        if (losing.Count > 0)
        {
            var losingAgencies = losing.Select(l => l.AgencyId).Distinct().ToArray();
            await CancelUndeliveredAsync(connection, transaction, alert.Id, losingAgencies,
                "The agency is no longer in the alert's audience; the undelivered copy was cancelled.", now, cancellationToken);
            var notice = JsonSerializer.Serialize(new AudienceNarrowedNotice(alert.Id, alert.Version, AudienceNarrowedNotice.DeleteYourCopies), JsonDefaults.Options);
            queued += AddEvent(batch, EventTypes.AlertRevoked, alert.Id, alert.Version, notice,
                losing.Select(l => (l.SubscriptionId, l.AgencyId)).ToList(), now);
        }

        return queued;
    }

    /// <summary>The subscriptions of active agencies that queue deliveries: read inside the publishing transaction.</summary>
    public const string QueuingSubscriptionsSql = $"""
        SELECT s.id AS Id, s.agency_id AS AgencyId, s.categories AS Categories, s.min_severity_rank AS MinSeverityRank,
               s.countries AS Countries, s.include_own_alerts AS IncludeOwnAlerts
        FROM subscriptions s JOIN agencies a ON a.id = s.agency_id
        WHERE s.status IN {QueuingStatuses} AND a.is_active
        """;

    /// <summary>
    /// Queues the first version of a new alert (<c>alert.published</c>) to the entitled, matching subscriptions among
    /// <paramref name="subscriptions"/> (<see cref="QueuingSubscriptionsSql"/>, read once for a whole commit group).
    /// </summary>
    /// <remarks>
    /// <paramref name="traceParent"/> is the submitting request's trace, taken by the caller: a commit group writes many
    /// requests' events on its own loop, where the ambient activity belongs to none of them.
    /// </remarks>
    public int AddFirstVersion(SqlBatch batch, IEnumerable<SubscriptionRow> subscriptions, AlertView alert, string document, DateTimeOffset now, string? traceParent) =>
        AddEvent(batch, EventTypes.AlertPublished, alert.Id, alert.Version, document,
            Recipients(subscriptions, alert, alert.Audience.Select(a => a.Id).ToHashSet()), now, storedInVersion: true, traceParent: traceParent);

    private static List<(Guid Id, Guid AgencyId)> Recipients(IEnumerable<SubscriptionRow> subscriptions, AlertView alert, HashSet<Guid> audience)
    {
        var category = WireNames.Of(alert.Category);
        return subscriptions
            .Where(s => s.AgencyId != alert.Originator.Id || s.IncludeOwnAlerts)
            // The query returns only active agencies' subscriptions.
            .Where(s => SharingPolicy.MaySee(s.AgencyId, new AlertAccess(alert.Originator.Id, alert.Tlp, audience.Count > 0, audience.Contains(s.AgencyId), AgencyActive: true)))
            .Where(s => Matches(s, category, alert))
            .Select(s => (s.Id, s.AgencyId))
            .ToList();
    }

    /// <summary>
    /// Subscription states that still queue deliveries. A paused subscription queues too (claims skip it until it is
    /// resumed, and what it receives then is decided at send time): pausing must never make an agency miss an alert,
    /// a recall, an expiry or a narrowed audience silently.
    /// </summary>
    public const string QueuingStatuses = "('active', 'paused')";

    /// <summary>
    /// The active or paused subscriptions that were queued any version of the alert: who must be told of a recall,
    /// an expiry, or a narrowed audience.
    /// </summary>
    public static async Task<IReadOnlyList<(Guid SubscriptionId, Guid AgencyId)>> PastRecipientsAsync(
        DbConnection connection, DbTransaction transaction, Guid alertId, CancellationToken cancellationToken)
    {
        var rows = await connection.QueryAsync<PastRecipient>(new CommandDefinition(
            $"""
            SELECT DISTINCT d.subscription_id AS SubscriptionId, d.agency_id AS AgencyId
            FROM deliveries d JOIN subscriptions s ON s.id = d.subscription_id JOIN events e ON e.id = d.event_id
            WHERE d.alert_id = @alertId AND s.status IN {QueuingStatuses} AND e.type IN (@published, @updated)
            """,
            new { alertId, published = EventTypes.AlertPublished, updated = EventTypes.AlertUpdated },
            transaction, cancellationToken: cancellationToken));
        return rows.Select(r => (r.SubscriptionId, r.AgencyId)).ToList();
    }

    /// <summary>Cancels the alert's deliveries that have not gone out yet (all agencies, or the given ones), visibly.</summary>
    public static async Task CancelUndeliveredAsync(
        DbConnection connection, DbTransaction transaction, Guid alertId, IReadOnlyCollection<Guid>? agencies, string reason, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var parameters = new DynamicParameters(new
        {
            alertId, reason, now,
            cancelled = DeliveryStates.Cancelled, pending = DeliveryStates.Pending, failed = DeliveryStates.Failed, inFlight = DeliveryStates.InFlight,
        });
        var only = agencies is null ? string.Empty : $" AND agency_id IN {SqlLists.In(parameters, "ag", agencies)}";
        await connection.ExecuteAsync(new CommandDefinition(
            $"""
            UPDATE deliveries SET state = @cancelled, last_error = @reason, updated_at = @now, claim_token = NULL, lease_until = NULL
            WHERE alert_id = @alertId AND state IN (@pending, @failed, @inFlight){only}
            """,
            parameters, transaction, cancellationToken: cancellationToken));
    }

    /// <summary>Writes one event (its payload built once around <paramref name="dataJson"/>) and its deliveries.</summary>
    public async Task<int> EnqueueAsync(
        DbConnection connection, DbTransaction transaction, string eventType, Guid? alertId, int? version, string dataJson,
        IReadOnlyList<(Guid SubscriptionId, Guid AgencyId)> recipients, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var batch = new SqlBatch();
        var queued = AddEvent(batch, eventType, alertId, version, dataJson, recipients, now);
        await batch.ExecuteAsync(connection, transaction, cancellationToken);
        return queued;
    }

    /// <summary>
    /// The payload stored for an event whose data is the document of the alert version it names (<c>alert.published</c>,
    /// <c>alert.updated</c>): that document is already in <c>alert_versions</c>, so the event does not hold a third copy;
    /// the dispatcher builds the same body from it with <see cref="Payload"/>. A JSON <c>null</c>, valid in a json column
    /// on both databases; expiry overwrites it with the purged payload like any other.
    /// </summary>
    public const string PayloadOfVersion = "null";

    /// <summary>
    /// Adds one event and its deliveries to <paramref name="batch"/>; nothing when there is no recipient. With
    /// <paramref name="storedInVersion"/>, <paramref name="dataJson"/> is the document of <paramref name="version"/> as
    /// stored in <c>alert_versions</c>, and the event stores <see cref="PayloadOfVersion"/> instead of a copy.
    /// <paramref name="counterpartAlertId"/> is the other alert of a correlation event (see <see cref="SendDecision"/>).
    /// </summary>
    public int AddEvent(
        SqlBatch batch, string eventType, Guid? alertId, int? version, string dataJson,
        IReadOnlyList<(Guid SubscriptionId, Guid AgencyId)> recipients, DateTimeOffset now, bool storedInVersion = false, Guid? counterpartAlertId = null,
        string? traceParent = null)
    {
        if (recipients.Count == 0)
        {
            return 0;
        }

        // Parameters are named after the event, so that several events can share one batch.
        var e = batch.NextName("e");
        var eventId = batch.Parameter($"{e}id", Guid.CreateVersion7(now));
        var at = batch.Parameter($"{e}at", now);
        batch.Add(
            $"""
            INSERT INTO events (id, type, alert_id, alert_version, payload, created_at, trace_parent, counterpart_alert_id)
            VALUES ({eventId}, {batch.Parameter($"{e}type", eventType)}, {batch.Parameter($"{e}alert", alertId)}, {batch.Parameter($"{e}version", version)},
                    {database.Dialect.Json(batch.Parameter($"{e}payload", storedInVersion ? PayloadOfVersion : Payload(eventType, now, dataJson)))}, {at},
                    {batch.Parameter($"{e}trace", traceParent ?? DeliveryTracing.CurrentTraceParent())}, {batch.Parameter($"{e}counterpart", counterpartAlertId)})
            """);

        var alert = batch.Parameter($"{e}alert", alertId);
        var pending = batch.Parameter("pending", DeliveryStates.Pending);
        var rows = new StringBuilder();
        var deliveryIds = new List<string>(recipients.Count);
        for (var i = 0; i < recipients.Count; i++)
        {
            deliveryIds.Add(batch.Parameter($"{e}d{i}", Guid.CreateVersion7(now)));
            rows.Append(i == 0 ? string.Empty : ", ")
                .Append(CultureInfo.InvariantCulture, $"({deliveryIds[i]}, {eventId}, ")
                .Append(CultureInfo.InvariantCulture, $"{batch.Parameter($"{e}s{i}", recipients[i].SubscriptionId)}, {batch.Parameter($"{e}a{i}", recipients[i].AgencyId)}, ")
                .Append(CultureInfo.InvariantCulture, $"{alert}, {pending}, 0, {at}, {at}, {at})");
        }

        batch.Add(
            $"""
            INSERT INTO deliveries (id, event_id, subscription_id, agency_id, alert_id, state, attempts, next_attempt_at, created_at, updated_at)
            VALUES {rows}
            """);
        if (EventTypes.Choosable.Contains(eventType))
        {
            // Every caller picks recipients its own way; the subscription's filters are applied here, once, for all: its
            // choice of types for every event, and for correlation events also its categories, minimum severity and
            // countries, judged on the event's alert (the receiver's own), as publications are judged on theirs (issue 13).
            // By the primary keys just written: deliveries has no index on event_id, and a scan per event cost 3.7 ms of
            // PostgreSQL time per alert once there were 100,000 of them (bench/run.sh, 6 December).
            var unwanted = IsCorrelation(eventType) ? $" OR {AlertFilterMisses(alert)}" : string.Empty;
            batch.Add(
                $"""
                DELETE FROM deliveries WHERE id IN ({string.Join(", ", deliveryIds)}) AND subscription_id IN (
                    SELECT s.id FROM subscriptions s
                    WHERE (s.event_types <> '' AND (' ' || s.event_types || ' ') NOT LIKE {batch.Parameter($"{e}typeLike", $"% {eventType} %")}){unwanted})
                """);
        }

        return recipients.Count;
    }

    private static bool IsCorrelation(string eventType) => eventType is EventTypes.AlertCorrelated or EventTypes.AlertCorrelationHidden;

    /// <summary>
    /// True (in SQL) when subscription <c>s</c>'s filters leave out the alert whose id is the parameter <paramref name="alert"/>:
    /// the same rules as <see cref="Matches"/>, on the alert's current row.
    /// </summary>
    private static string AlertFilterMisses(string alert) =>
        $"""
        EXISTS (SELECT 1 FROM alerts x WHERE x.id = {alert} AND (
            x.severity_rank < s.min_severity_rank
            OR (s.categories <> '' AND (' ' || s.categories || ' ') NOT LIKE ('% ' || x.category || ' %'))
            OR (s.countries <> '' AND NOT EXISTS (
                SELECT 1 FROM alert_countries c WHERE c.alert_id = x.id AND (' ' || s.countries || ' ') LIKE ('% ' || c.country || ' %')))))
        """;

    private sealed record PastRecipient
    {
        public Guid SubscriptionId { get; init; }

        public Guid AgencyId { get; init; }
    }

    /// <summary>The webhook body: <c>{"type", "timestamp", "data"}</c> as Standard Webhooks recommends, built around the stored document without re-serialising it.</summary>
    public static string Payload(string eventType, DateTimeOffset timestamp, string dataJson)
    {
        var builder = new StringBuilder(dataJson.Length + 96);
        builder.Append("{\"type\":\"").Append(eventType).Append("\",\"timestamp\":\"")
            .Append(timestamp.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture))
            .Append("\",\"data\":").Append(dataJson).Append('}');
        return builder.ToString();
    }

    private static bool Matches(SubscriptionRow subscription, string category, AlertView alert)
    {
        if (subscription.Categories.Length > 0 && !subscription.Categories.Split(' ').Contains(category, StringComparer.Ordinal))
        {
            return false;
        }

        if ((int)alert.Severity < subscription.MinSeverityRank)
        {
            return false;
        }

        return subscription.Countries.Length == 0
            || subscription.Countries.Split(' ').Intersect(alert.Countries, StringComparer.Ordinal).Any();
    }
}
