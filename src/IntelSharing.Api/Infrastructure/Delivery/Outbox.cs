using System.Data.Common;
using System.Globalization;
using System.Text;
using Dapper;
using IntelSharing.Api.Features.Alerts;
using IntelSharing.Api.Features.Sharing;
using IntelSharing.Api.Infrastructure.Json;
using IntelSharing.Api.Infrastructure.Persistence;

namespace IntelSharing.Api.Infrastructure.Delivery;

/// <summary>
/// The transactional outbox. Called inside the transaction that publishes an alert version: it writes the
/// event (payload serialised once) and one delivery per matching subscription of every agency the
/// <see cref="SharingPolicy"/> entitles, so a committed alert always has its deliveries and an aborted one has none.
/// After commit, <see cref="DeliverySignal"/> wakes the dispatcher.
/// </summary>
public sealed class Outbox(Database database)
{
    private sealed record SubscriptionRow
    {
        public Guid Id { get; init; }

        public Guid AgencyId { get; init; }

        public string Categories { get; init; } = string.Empty;

        public int MinSeverityRank { get; init; }

        public string Countries { get; init; } = string.Empty;

        public bool IncludeOwnAlerts { get; init; }
    }

    /// <summary>Writes the event for an alert version and its deliveries; returns how many deliveries were queued.</summary>
    public async Task<int> EnqueueAlertAsync(
        DbConnection connection, DbTransaction transaction, string eventType, AlertView alert, string document,
        DateTimeOffset now, CancellationToken cancellationToken)
    {
        var subscriptions = await connection.QueryAsync<SubscriptionRow>(new CommandDefinition(
            """
            SELECT s.id AS Id, s.agency_id AS AgencyId, s.categories AS Categories, s.min_severity_rank AS MinSeverityRank,
                   s.countries AS Countries, s.include_own_alerts AS IncludeOwnAlerts
            FROM subscriptions s JOIN agencies a ON a.id = s.agency_id
            WHERE s.status = 'active' AND a.is_active
            """,
            transaction: transaction, cancellationToken: cancellationToken));

        var audience = alert.Audience.Select(a => a.Id).ToHashSet();
        var category = WireNames.Of(alert.Category);
        var recipients = subscriptions
            .Where(s => s.AgencyId != alert.Originator.Id || s.IncludeOwnAlerts)
            .Where(s => SharingPolicy.MaySee(s.AgencyId, new AlertAccess(alert.Originator.Id, alert.Tlp, audience.Count > 0, audience.Contains(s.AgencyId))))
            .Where(s => Matches(s, category, alert))
            .ToList();

        var eventId = Guid.CreateVersion7(now);
        var payload = Payload(eventType, now, document);
        await connection.ExecuteAsync(new CommandDefinition(
            $"""
            INSERT INTO events (id, type, alert_id, alert_version, payload, created_at)
            VALUES (@eventId, @eventType, @alertId, @version, {database.Dialect.Json("@payload")}, @now)
            """,
            new { eventId, eventType, alertId = alert.Id, version = alert.Version, payload, now },
            transaction, cancellationToken: cancellationToken));

        await InsertDeliveriesAsync(connection, transaction, eventId, alert.Id, recipients.Select(r => (r.Id, r.AgencyId)).ToList(), now, cancellationToken);
        return recipients.Count;
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

    /// <summary>One multi-row INSERT for all of an event's deliveries.</summary>
    public static async Task InsertDeliveriesAsync(
        DbConnection connection, DbTransaction? transaction, Guid eventId, Guid? alertId, IReadOnlyList<(Guid SubscriptionId, Guid AgencyId)> recipients,
        DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (recipients.Count == 0)
        {
            return;
        }

        var parameters = new DynamicParameters();
        parameters.Add("eventId", eventId);
        parameters.Add("alertId", alertId);
        parameters.Add("now", now);
        parameters.Add("pending", DeliveryStates.Pending);
        var rows = new StringBuilder();
        for (var i = 0; i < recipients.Count; i++)
        {
            parameters.Add($"d{i}", Guid.CreateVersion7(now));
            parameters.Add($"s{i}", recipients[i].SubscriptionId);
            parameters.Add($"a{i}", recipients[i].AgencyId);
            rows.Append(i == 0 ? string.Empty : ", ")
                .Append(CultureInfo.InvariantCulture, $"(@d{i}, @eventId, @s{i}, @a{i}, @alertId, @pending, 0, @now, @now, @now)");
        }

        await connection.ExecuteAsync(new CommandDefinition(
            $"""
            INSERT INTO deliveries (id, event_id, subscription_id, agency_id, alert_id, state, attempts, next_attempt_at, created_at, updated_at)
            VALUES {rows}
            """,
            parameters, transaction, cancellationToken: cancellationToken));
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

/// <summary>Wakes the dispatcher in this process as soon as deliveries are committed; polling is only the backstop.</summary>
public sealed class DeliverySignal : IDisposable
{
    private readonly SemaphoreSlim _signal = new(0, 1);

    public void Notify()
    {
        try
        {
            if (_signal.CurrentCount == 0)
            {
                _signal.Release();
            }
        }
        catch (SemaphoreFullException)
        {
            // Already signalled; one wake-up is enough.
        }
    }

    public Task<bool> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken) => _signal.WaitAsync(timeout, cancellationToken);

    public void Dispose() => _signal.Dispose();
}
