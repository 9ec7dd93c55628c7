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
using IntelSharing.Api.Infrastructure.Time;
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

    /// <summary>Partner health's rule for an attempt that succeeded, on <c>delivery_attempts da</c>.</summary>
    internal const string SucceededSql = "da.status_code BETWEEN 200 AND 299 AND da.error IS NULL";

    /// <summary>
    /// The latest failed attempt of the last day (<c>@dayAgo</c>) of the subscription in <paramref name="subscription"/>: the
    /// first entry of its range in the partial index of failed attempts (migration 0036), however many attempts succeeded
    /// since. Its condition is the index's, written the same way, so that both databases see the index applies.
    /// </summary>
    internal static string LatestFailureSql(string subscription, string alias) =>
        $"""
        SELECT * FROM (SELECT da.subscription_id AS SubscriptionId, 1 AS Failure, da.started_at AS StartedAt, da.duration_ms AS DurationMs,
            da.status_code AS StatusCode, da.error AS Error FROM delivery_attempts da
            WHERE da.subscription_id = {subscription} AND da.started_at >= @dayAgo AND NOT ({SucceededSql})
            ORDER BY da.started_at DESC LIMIT 1) {alias}
        """;

    /// <summary>Clock hours in <see cref="PartnerHealth.Hours"/>: the current one and the 23 before it.</summary>
    public const int HoursPlotted = 24;

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

    /// <summary>One subscription's attempts in one UTC clock hour (<c>attempt_hours</c>).</summary>
    private sealed record HourRow
    {
        public Guid SubscriptionId { get; init; }

        public string Hour { get; init; } = string.Empty;

        public long Delivered { get; init; }

        public long Failed { get; init; }

        public long Dead { get; init; }

        public long DurationMsSum { get; init; }

        public int? MaxMs { get; init; }

        /// <summary>The hour's mean latency, rounded half away from zero as the database's ROUND(AVG(…)) did.</summary>
        public long? MeanMs => Delivered + Failed == 0 ? null : (long)Math.Round((decimal)DurationMsSum / (Delivered + Failed), MidpointRounding.AwayFromZero);
    }

    /// <summary>One subscription's attempts in the last 60 minutes and in the part of the day before the first plotted hour.</summary>
    private sealed record WindowRow
    {
        public Guid SubscriptionId { get; init; }

        public long DeliveredLastHour { get; init; }

        public long FailedLastHour { get; init; }

        public long DeadLastHour { get; init; }

        public long DeliveredBefore { get; init; }

        public long FailedBefore { get; init; }

        public long DeadBefore { get; init; }
    }

    /// <summary>One of a subscription's latest attempts (the latency sample), or its latest failed one (the last error).</summary>
    private sealed record AttemptRow
    {
        public Guid SubscriptionId { get; init; }

        public int Failure { get; init; }

        public DateTimeOffset StartedAt { get; init; }

        public int DurationMs { get; init; }

        public int? StatusCode { get; init; }

        public string? Error { get; init; }
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
            var firstHour = new DateTimeOffset(now.Year, now.Month, now.Day, now.Hour, 0, 0, TimeSpan.Zero).AddHours(1 - HoursPlotted);
            // The three reads below are independent: each runs on a connection of its own, at the same time, so the page
            // waits for the slowest of them rather than for their sum. Each has its own parameters (Dapper's are not shared
            // safely between commands running at once).
            string ids = string.Empty;
            DynamicParameters Ledger()
            {
                var ledger = new DynamicParameters();
                ids = SqlLists.In(ledger, "subscription", page.Select(r => r.Id).ToList());
                ledger.Add("hourAgo", now.AddHours(-1));
                ledger.Add("dayAgo", now.AddDays(-1));
                ledger.Add("sample", LatencySample);
                return ledger;
            }

            // Every read without parallel workers (SqlDialect.WithoutParallelWorkers: SET LOCAL around the statement, in a
            // transaction of its own): each reads at most a few thousand rows, and a worker's start cost more than the read
            // (the live windows: 74 ms a view; the latency sample's tail: p99 133 ms at a 16 ms mean, 7 December).
            async Task<List<T>> ReadAsync<T>(string sql, DynamicParameters parameters)
            {
                var statement = database.Dialect.WithoutParallelWorkers(sql);
                await using var own = await database.OpenAsync(cancellationToken);
                if (statement == sql)
                {
                    return (await own.QueryAsync<T>(new CommandDefinition(sql, parameters, cancellationToken: cancellationToken))).AsList();
                }

                await using var transaction = await own.BeginTransactionAsync(cancellationToken);
                var rows = (await own.QueryAsync<T>(new CommandDefinition(statement, parameters, transaction, cancellationToken: cancellationToken))).AsList();
                await transaction.CommitAsync(cancellationToken);
                return rows;
            }

            // The 24 clock hours from attempt_hours, which the outcome recorder adds each attempt to as it records it (migration
            // 34, ADR 50): 24 rows a subscription, where aggregating the day's attempts read every one of them. The two
            // windows that are not whole clock hours — the last 60 minutes, and the part of the day before the first plotted
            // hour — are counted from the attempts themselves, at most an hour's each, one index range per subscription.
            const string Succeeded = SucceededSql;
            var hoursParameters = Ledger();
            hoursParameters.Add("firstHour", ClockExtensions.UtcHourKey(firstHour));
            var hoursRead = ReadAsync<HourRow>(
                $"""
                SELECT h.subscription_id AS SubscriptionId, h.hour AS Hour, h.delivered AS Delivered, h.failed AS Failed, h.dead AS Dead,
                       h.duration_ms_sum AS DurationMsSum, h.duration_ms_max AS MaxMs
                FROM attempt_hours h
                WHERE h.subscription_id IN {ids} AND h.hour >= @firstHour
                """, hoursParameters);
            var windowsParameters = Ledger();
            windowsParameters.Add("firstHourStart", firstHour);
            // An upper bound that excludes nothing real (an attempt started a day from now): with an open range, PostgreSQL's
            // generic plan for the prepared statement guessed a third of the table and scanned all of it (187 ms against 1 ms
            // over a million attempts); a closed range it reads through the index. Without parallel workers: its rows are
            // scattered over the table's pages, and the planner, pricing those reads, had two workers start for them (97 ms
            // on this machine against 4 ms in the backend alone).
            windowsParameters.Add("later", now.AddDays(1));
            var windowsRead = ReadAsync<WindowRow>(
                $"""
                SELECT w.SubscriptionId,
                       SUM(CASE WHEN w.LastHour = 1 AND w.Delivered = 1 THEN 1 ELSE 0 END) AS DeliveredLastHour,
                       SUM(CASE WHEN w.LastHour = 1 AND w.Delivered = 0 THEN 1 ELSE 0 END) AS FailedLastHour,
                       SUM(CASE WHEN w.LastHour = 1 AND w.Dead = 1 THEN 1 ELSE 0 END) AS DeadLastHour,
                       SUM(CASE WHEN w.LastHour = 0 AND w.Delivered = 1 THEN 1 ELSE 0 END) AS DeliveredBefore,
                       SUM(CASE WHEN w.LastHour = 0 AND w.Delivered = 0 THEN 1 ELSE 0 END) AS FailedBefore,
                       SUM(CASE WHEN w.LastHour = 0 AND w.Dead = 1 THEN 1 ELSE 0 END) AS DeadBefore
                FROM (
                    SELECT da.subscription_id AS SubscriptionId, 1 AS LastHour, CASE WHEN {Succeeded} THEN 1 ELSE 0 END AS Delivered,
                           CASE WHEN da.gave_up THEN 1 ELSE 0 END AS Dead
                    FROM delivery_attempts da WHERE da.subscription_id IN {ids} AND da.started_at >= @hourAgo AND da.started_at < @later
                    UNION ALL
                    SELECT da.subscription_id, 0, CASE WHEN {Succeeded} THEN 1 ELSE 0 END, CASE WHEN da.gave_up THEN 1 ELSE 0 END
                    FROM delivery_attempts da WHERE da.subscription_id IN {ids} AND da.started_at >= @dayAgo AND da.started_at < @firstHourStart
                ) w
                GROUP BY w.SubscriptionId
                """, windowsParameters);

            // Per subscription, its latest attempts (the latency sample) and its latest failure: a backward walk of its index
            // range that stops at the sample's size, not a sort of the whole day.
            var latest = string.Join("\nUNION ALL\n", page.Select((_, i) =>
                $"""
                SELECT * FROM (SELECT da.subscription_id AS SubscriptionId, 0 AS Failure, da.started_at AS StartedAt, da.duration_ms AS DurationMs,
                    da.status_code AS StatusCode, da.error AS Error FROM delivery_attempts da
                    WHERE da.subscription_id = @subscription{i} AND da.started_at >= @dayAgo ORDER BY da.started_at DESC LIMIT @sample) sample{i}
                UNION ALL
                {LatestFailureSql($"@subscription{i}", $"failure{i}")}
                """));
            var attemptsRead = ReadAsync<AttemptRow>(latest, Ledger());

            // The earliest waiting retry per subscription: the first entry of its range in the index of waiting retries
            // (migration 0029), not every failed delivery of the page's subscriptions.
            var earliest = string.Join("\nUNION ALL\n", page.Select((_, i) =>
                $"""
                SELECT * FROM (SELECT d.subscription_id AS SubscriptionId, d.next_attempt_at AS NextAttemptAt FROM deliveries d
                    WHERE d.subscription_id = @subscription{i} AND d.state = '{DeliveryStates.Failed}' ORDER BY d.next_attempt_at LIMIT 1) retry{i}
                """));
            var retriesRead = ReadAsync<RetryRow>(earliest, Ledger());

            await Task.WhenAll(hoursRead, windowsRead, attemptsRead, retriesRead);
            var hours = (await hoursRead).ToLookup(r => r.SubscriptionId);
            var windows = (await windowsRead).ToDictionary(w => w.SubscriptionId);
            var attempts = await attemptsRead;
            var durations = attempts.Where(a => a.Failure == 0).ToLookup(a => a.SubscriptionId, a => a.DurationMs);
            var errors = attempts.Where(a => a.Failure == 1).ToDictionary(a => a.SubscriptionId);
            var retries = (await retriesRead).ToDictionary(r => r.SubscriptionId);

            var items = page.Select(s =>
            {
                var byHour = hours[s.Id].ToDictionary(h => h.Hour, StringComparer.Ordinal);
                var window = windows.TryGetValue(s.Id, out var w) ? w : new WindowRow { SubscriptionId = s.Id };
                var latencies = durations[s.Id].Order().ToList();
                var openUntil = breakers.OpenUntil(s.Authority);
                return new PartnerHealth
                {
                    SubscriptionId = s.Id,
                    AgencyId = s.AgencyId,
                    AgencyName = s.AgencyName,
                    Endpoint = s.Authority,
                    Status = s.Status,
                    LastHour = new DeliveryCounts(window.DeliveredLastHour, window.FailedLastHour, window.DeadLastHour),
                    LastDay = new DeliveryCounts(
                        window.DeliveredBefore + byHour.Values.Sum(h => h.Delivered), window.FailedBefore + byHour.Values.Sum(h => h.Failed),
                        window.DeadBefore + byHour.Values.Sum(h => h.Dead)),
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
                        return byHour.TryGetValue(ClockExtensions.UtcHourKey(start), out var h)
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
