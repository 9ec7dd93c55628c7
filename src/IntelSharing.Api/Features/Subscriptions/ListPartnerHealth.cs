using System.Globalization;
using System.Text;
using Dapper;
using FluentValidation;
using IntelSharing.Api.Features.Deliveries;
using IntelSharing.Api.Features.Deliveries.Dispatch;
using IntelSharing.Api.Infrastructure.Audit;
using IntelSharing.Api.Infrastructure.Persistence;
using IntelSharing.Api.Infrastructure.Problems;
using IntelSharing.Api.Infrastructure.Security;
using Mediator;
using Microsoft.AspNetCore.Mvc;

namespace IntelSharing.Api.Features.Subscriptions;

/// <summary>
/// GET /api/v1/subscriptions/health — "is the Hungarian police receiving our alerts?": per subscription, what its
/// attempts did in the last hour and day, how fast the partner answers, whether its circuit is open, its last error
/// and its next retry. The delivery ledger's rules decide whose subscriptions are listed: an agency its own, operators
/// (deliveries:manage) every one. Counted from the attempts ledger (docs/webhooks.md, "Partner health").
/// </summary>
public static class ListPartnerHealth
{
    public const int MaxLimit = 100;

    /// <summary>Latency percentiles are taken over at most this many of the latest attempts of the last day.</summary>
    public const int LatencySample = 1000;

    /// <summary>Clock hours in <see cref="PartnerHealth.Hours"/>: the current one and the 23 before it.</summary>
    public const int HoursPlotted = 24;

    /// <summary>How <see cref="SqlDialect.UtcHour"/> writes an hour on both databases.</summary>
    private const string HourFormat = "yyyy-MM-dd'T'HH";

    public sealed record Query(Caller Caller, string? Cursor, string? Limit) : IQuery<Result<PartnerHealthPage>>
    {
        public int Take => Limit is null ? 50 : int.Parse(Limit, CultureInfo.InvariantCulture);

        public const string Fingerprint = "partner-health";
    }

    public sealed class Validator : AbstractValidator<Query>
    {
        public Validator()
        {
            RuleFor(q => q.Limit)
                .Must(l => int.TryParse(l, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n is >= 1 and <= MaxLimit)
                .When(q => q.Limit is not null)
                .WithMessage($"limit must be a whole number from 1 to {MaxLimit}.");
            RuleFor(q => q.Cursor).MaximumLength(200);
        }
    }

    private sealed record SubscriptionRow
    {
        public Guid Id { get; init; }

        public Guid AgencyId { get; init; }

        public string AgencyName { get; init; } = string.Empty;


        public string Authority { get; init; } = string.Empty;

        public string Status { get; init; } = string.Empty;

        public DateTimeOffset CreatedAt { get; init; }
    }

    private sealed record CountRow
    {
        public Guid SubscriptionId { get; init; }

        public long DeliveredHour { get; init; }

        public long FailedHour { get; init; }

        public long DeadHour { get; init; }

        public long DeliveredDay { get; init; }

        public long FailedDay { get; init; }

        public long DeadDay { get; init; }
    }

    private sealed record DurationRow
    {
        public Guid SubscriptionId { get; init; }

        public int DurationMs { get; init; }
    }

    private sealed record ErrorRow
    {
        public Guid SubscriptionId { get; init; }

        public DateTimeOffset StartedAt { get; init; }

        public int? StatusCode { get; init; }

        public string? Error { get; init; }
    }

    private sealed record HourRow
    {
        public Guid SubscriptionId { get; init; }

        public string Hour { get; init; } = string.Empty;

        public long Delivered { get; init; }

        public long Failed { get; init; }

        public long Dead { get; init; }

        public long? MeanMs { get; init; }

        public int? MaxMs { get; init; }
    }

    private sealed record RetryRow
    {
        public Guid SubscriptionId { get; init; }

        public DateTimeOffset NextAttemptAt { get; init; }
    }

    public sealed class Handler(Database database, KeysetCursor cursors, PartnerBreakers breakers, TimeProvider time) : IQueryHandler<Query, Result<PartnerHealthPage>>
    {
        public async ValueTask<Result<PartnerHealthPage>> Handle(Query query, CancellationToken cancellationToken)
        {
            var where = new StringBuilder(" WHERE s.status <> 'deleted'");
            var parameters = new DynamicParameters();
            if (!query.Caller.Has(Scopes.DeliveriesManage))
            {
                where.Append(" AND s.agency_id = @callerAgency");
                parameters.Add("callerAgency", query.Caller.AgencyId);
            }

            if (query.Cursor is not null)
            {
                var error = cursors.TryDecode(query.Cursor, Query.Fingerprint, out var position);
                if (error is not null)
                {
                    return Failure.Invalid("cursor", error);
                }

                where.Append(" AND (s.created_at > @afterTime OR (s.created_at = @afterTime AND s.id > @afterId))");
                parameters.Add("afterTime", position.At);
                parameters.Add("afterId", position.Id);
            }

            parameters.Add("take", query.Take + 1);
            await using var connection = await database.OpenAsync(cancellationToken);
            var rows = (await connection.QueryAsync<SubscriptionRow>(new CommandDefinition(
                $"""
                SELECT s.id AS Id, s.agency_id AS AgencyId, g.name AS AgencyName, s.authority AS Authority,
                       s.status AS Status, s.created_at AS CreatedAt
                FROM subscriptions s JOIN agencies g ON g.id = s.agency_id
                {where} ORDER BY s.created_at, s.id LIMIT @take
                """, parameters, cancellationToken: cancellationToken))).AsList();
            var page = rows.Count > query.Take ? rows.GetRange(0, query.Take) : rows;
            var next = rows.Count > query.Take ? cursors.Encode(new KeysetCursor.Position(page[^1].CreatedAt, page[^1].Id), Query.Fingerprint) : null;
            if (page.Count == 0)
            {
                return new PartnerHealthPage([], null);
            }

            var now = time.GetUtcNow();
            var ledger = new DynamicParameters();
            var ids = SqlLists.In(ledger, "subscription", page.Select(r => r.Id).ToList());
            ledger.Add("hourAgo", now.AddHours(-1));
            ledger.Add("dayAgo", now.AddDays(-1));
            ledger.Add("sample", LatencySample);
            // The attempts of the last day, found by their start (index 0024), then tied to their subscription.
            const string Recent = "FROM delivery_attempts da JOIN deliveries d ON d.id = da.delivery_id WHERE da.started_at >= @dayAgo";
            const string Succeeded = "da.status_code BETWEEN 200 AND 299 AND da.error IS NULL";
            const string Died = "d.state = 'dead' AND da.attempt = d.attempts";
            var counts = (await connection.QueryAsync<CountRow>(new CommandDefinition(
                $"""
                SELECT d.subscription_id AS SubscriptionId,
                       SUM(CASE WHEN da.started_at >= @hourAgo AND {Succeeded} THEN 1 ELSE 0 END) AS DeliveredHour,
                       SUM(CASE WHEN da.started_at >= @hourAgo AND NOT ({Succeeded}) THEN 1 ELSE 0 END) AS FailedHour,
                       SUM(CASE WHEN da.started_at >= @hourAgo AND {Died} THEN 1 ELSE 0 END) AS DeadHour,
                       SUM(CASE WHEN {Succeeded} THEN 1 ELSE 0 END) AS DeliveredDay,
                       SUM(CASE WHEN NOT ({Succeeded}) THEN 1 ELSE 0 END) AS FailedDay,
                       SUM(CASE WHEN {Died} THEN 1 ELSE 0 END) AS DeadDay
                {Recent} AND d.subscription_id IN {ids}
                GROUP BY d.subscription_id
                """, ledger, cancellationToken: cancellationToken))).ToDictionary(c => c.SubscriptionId);
            var durations = (await connection.QueryAsync<DurationRow>(new CommandDefinition(
                $"""
                SELECT SubscriptionId, DurationMs FROM (
                    SELECT d.subscription_id AS SubscriptionId, da.duration_ms AS DurationMs,
                           ROW_NUMBER() OVER (PARTITION BY d.subscription_id ORDER BY da.started_at DESC) AS n
                    {Recent} AND d.subscription_id IN {ids}) recent
                WHERE n <= @sample
                """, ledger, cancellationToken: cancellationToken))).ToLookup(r => r.SubscriptionId, r => r.DurationMs);
            var errors = (await connection.QueryAsync<ErrorRow>(new CommandDefinition(
                $"""
                SELECT SubscriptionId, StartedAt, StatusCode, Error FROM (
                    SELECT d.subscription_id AS SubscriptionId, da.started_at AS StartedAt, da.status_code AS StatusCode, da.error AS Error,
                           ROW_NUMBER() OVER (PARTITION BY d.subscription_id ORDER BY da.started_at DESC) AS n
                    {Recent} AND d.subscription_id IN {ids} AND NOT ({Succeeded})) failures
                WHERE n = 1
                """, ledger, cancellationToken: cancellationToken))).ToDictionary(r => r.SubscriptionId);
            var firstHour = new DateTimeOffset(now.Year, now.Month, now.Day, now.Hour, 0, 0, TimeSpan.Zero).AddHours(1 - HoursPlotted);
            ledger.Add("firstHour", firstHour);
            var hour = database.Dialect.UtcHour("da.started_at");
            var hours = (await connection.QueryAsync<HourRow>(new CommandDefinition(
                $"""
                SELECT d.subscription_id AS SubscriptionId, {hour} AS Hour,
                       SUM(CASE WHEN {Succeeded} THEN 1 ELSE 0 END) AS Delivered,
                       SUM(CASE WHEN NOT ({Succeeded}) THEN 1 ELSE 0 END) AS Failed,
                       SUM(CASE WHEN {Died} THEN 1 ELSE 0 END) AS Dead,
                       CAST(ROUND(AVG(da.duration_ms)) AS BIGINT) AS MeanMs, MAX(da.duration_ms) AS MaxMs
                FROM delivery_attempts da JOIN deliveries d ON d.id = da.delivery_id
                WHERE da.started_at >= @firstHour AND d.subscription_id IN {ids}
                GROUP BY d.subscription_id, {hour}
                """, ledger, cancellationToken: cancellationToken))).ToDictionary(r => (r.SubscriptionId, r.Hour));
            var retries = (await connection.QueryAsync<RetryRow>(new CommandDefinition(
                $"""
                SELECT d.subscription_id AS SubscriptionId, MIN(d.next_attempt_at) AS NextAttemptAt
                FROM deliveries d WHERE d.state = '{DeliveryStates.Failed}' AND d.subscription_id IN {ids}
                GROUP BY d.subscription_id
                """, ledger, cancellationToken: cancellationToken))).ToDictionary(r => r.SubscriptionId);

            var items = page.Select(s =>
            {
                counts.TryGetValue(s.Id, out var c);
                var latencies = durations[s.Id].Order().ToList();
                var openUntil = breakers.OpenUntil(s.Authority);
                return new PartnerHealth
                {
                    SubscriptionId = s.Id,
                    AgencyId = s.AgencyId,
                    AgencyName = s.AgencyName,
                    Endpoint = s.Authority,
                    Status = s.Status,
                    LastHour = new DeliveryCounts(c?.DeliveredHour ?? 0, c?.FailedHour ?? 0, c?.DeadHour ?? 0),
                    LastDay = new DeliveryCounts(c?.DeliveredDay ?? 0, c?.FailedDay ?? 0, c?.DeadDay ?? 0),
                    LatencyP50Ms = Percentile(latencies, 0.50),
                    LatencyP99Ms = Percentile(latencies, 0.99),
                    LatencySampleSize = latencies.Count,
                    Circuit = openUntil is null ? CircuitStates.Closed : CircuitStates.Open,
                    CircuitOpenUntil = openUntil,
                    LastError = errors.TryGetValue(s.Id, out var e)
                        ? new LastError(e.StartedAt, e.StatusCode, e.Error ?? $"HTTP {e.StatusCode}")
                        : null,
                    NextRetryAt = retries.TryGetValue(s.Id, out var r) ? r.NextAttemptAt : null,
                    Hours = Enumerable.Range(0, HoursPlotted).Select(i =>
                    {
                        var start = firstHour.AddHours(i);
                        return hours.TryGetValue((s.Id, start.ToString(HourFormat, CultureInfo.InvariantCulture)), out var h)
                            ? new HealthHour(start, h.Delivered, h.Failed, h.Dead, h.MeanMs, h.MaxMs)
                            : new HealthHour(start, 0, 0, 0, null, null);
                    }).ToList(),
                };
            }).ToList();
            return new PartnerHealthPage(items, next);
        }

        /// <summary>Nearest-rank percentile: a duration some attempt actually took, never an interpolation between two.</summary>
        public static int? Percentile(IReadOnlyList<int> sorted, double p) =>
            sorted.Count == 0 ? null : sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Count) - 1, 0, sorted.Count - 1)];
    }

    public static RouteHandlerBuilder MapListPartnerHealth(this RouteGroupBuilder group) => group
        .MapGet("/health", async ([FromQuery] string? cursor, [FromQuery] string? limit, HttpContext context, IMediator mediator) =>
            (await mediator.Send(new Query(Caller.From(context.User), cursor, limit), context.RequestAborted)).Match(TypedResults.Ok).OrProblem())
        .RequireAuthorization(DeliveryPolicies.Ledger)
        .Audited(AuditActions.SubscriptionHealth, AuditResources.Subscription)
        .WithName("ListPartnerHealth")
        .WithSummary("How each partner endpoint is doing")
        .WithDescription("Per subscription, oldest first in keyset pages: attempts that delivered or failed and deliveries that died in the last hour " +
            $"and day, p50/p99 latency over the latest {LatencySample} attempts of the last day, this instance's circuit breaker for the endpoint, the " +
            "last failed attempt of the last day, when the next retry is due, and the same counts with mean and maximum latency for each of the " +
            $"last {HoursPlotted} UTC clock hours. An agency (subscriptions:manage) sees its own subscriptions; " +
            "operators (deliveries:manage) see every one.");
}
