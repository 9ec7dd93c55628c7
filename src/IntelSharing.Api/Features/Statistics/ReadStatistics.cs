using System.Text.Json.Nodes;
using System.Globalization;
using System.Text;
using Dapper;
using FluentValidation;
using IntelSharing.Api.Features.Sharing;
using IntelSharing.Api.Infrastructure.Audit;
using IntelSharing.Api.Infrastructure.Persistence;
using IntelSharing.Api.Infrastructure.Security;
using IntelSharing.Api.Infrastructure.Time;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using IntelSharing.Api.Infrastructure.OpenApi;

namespace IntelSharing.Api.Features.Statistics;

/// <summary>
/// GET /api/v1/statistics?from=&amp;to=&amp;period= — the published results (docs/statistics.md): alerts published per
/// period by category and country, deliveries and feedback per partner agency, with small counts suppressed. JSON, or
/// CSV for <c>Accept: text/csv</c>. Which alerts count is the sharing policy's decision: an agency counts what it may
/// see (and the deliveries and feedback of its own alerts, the ledger it may read); agencies:admin counts everything.
/// </summary>
public static class ReadStatistics
{
    public const string DateFormat = "yyyy-MM-dd";
    public const int MaxDays = 92;
    public const int MaxMonths = 36;

    public static readonly IReadOnlyList<string> Periods = ["day", "month"];

    public sealed record Query(Caller Caller, string? From, string? To, string? Period) : IQuery<StatisticsReport>
    {
        public bool Monthly => Period is null or "month";

        public DateOnly FromDate => DateOnly.ParseExact(From!, DateFormat, CultureInfo.InvariantCulture);

        public DateOnly ToDate => DateOnly.ParseExact(To!, DateFormat, CultureInfo.InvariantCulture);

        /// <summary>
        /// The first day counted: by month, the first of <see cref="FromDate"/>'s month. A monthly cell always counts its
        /// whole month, whatever days the range names; otherwise two ranges a day apart would give, by their difference,
        /// the count of that one day, which a daily report suppresses when it is small.
        /// </summary>
        public DateOnly CountedFrom => Monthly ? new DateOnly(FromDate.Year, FromDate.Month, 1) : FromDate;

        /// <summary>The last day counted: by month, the last of <see cref="ToDate"/>'s month (see <see cref="CountedFrom"/>).</summary>
        public DateOnly CountedTo => Monthly ? new DateOnly(ToDate.Year, ToDate.Month, 1).AddMonths(1).AddDays(-1) : ToDate;
    }

    public sealed class Validator : AbstractValidator<Query>
    {
        public Validator()
        {
            RuleFor(q => q.From).NotEmpty().WithMessage($"from is required: the first day counted, {DateFormat}.")
                .Must(BeADate).WithMessage($"from must be a date from 2000 to 2099, {DateFormat}.");
            RuleFor(q => q.To).NotEmpty().WithMessage($"to is required: the last day counted, {DateFormat}.")
                .Must(BeADate).WithMessage($"to must be a date from 2000 to 2099, {DateFormat}.");
            RuleFor(q => q.Period).Must(p => Periods.Contains(p)).When(q => q.Period is not null)
                .WithMessage($"period must be one of {string.Join(", ", Periods)}.");
            RuleFor(q => q.To)
                .Must((q, _) => q.ToDate >= q.FromDate).WithMessage("to must not be before from.")
                .Must((q, _) => !q.Monthly || q.ToDate < q.FromDate.AddMonths(MaxMonths))
                .WithMessage($"to is too far from from: period=month covers at most {MaxMonths} months.")
                .Must((q, _) => q.Monthly || q.ToDate.DayNumber - q.FromDate.DayNumber < MaxDays)
                .WithMessage($"to is too far from from: period=day covers at most {MaxDays} days.")
                .When(q => BeADate(q.From) && BeADate(q.To) && (q.Period is null || Periods.Contains(q.Period)));
        }

        // Years are held to 2000–2099: nothing was published before, and the end of the calendar is not a range to add to.
        private static bool BeADate(string? value) =>
            value is { Length: 10 } && DateOnly.TryParseExact(value, DateFormat, CultureInfo.InvariantCulture, DateTimeStyles.None, out var date)
            && date.Year is >= 2000 and <= 2099;
    }

    /// <summary>How deliveries and feedback are counted, live and in the roll-up alike.</summary>
    public const string DeliveredSql = "SUM(CASE WHEN d.state = 'delivered' THEN 1 ELSE 0 END)";

    public const string FailedSql = "SUM(CASE WHEN d.state IN ('failed', 'dead') THEN 1 ELSE 0 END)";

    public const string HitsSql = "SUM(CASE WHEN f.kind = 'hit' THEN 1 ELSE 0 END)";

    public const string ActionedSql = "SUM(CASE WHEN f.kind = 'actioned' THEN 1 ELSE 0 END)";

    public const string FeedbackKindsSql = "f.kind IN ('hit', 'actioned')";

    private sealed record Cell
    {
        public string Period { get; init; } = string.Empty;

        public string Category { get; init; } = string.Empty;

        public string Country { get; init; } = string.Empty;

        public long Count { get; init; }
    }

    private sealed record Total
    {
        public string Period { get; init; } = string.Empty;

        public string Category { get; init; } = string.Empty;

        public long Count { get; init; }
    }

    private sealed record PartnerRow
    {
        public Guid AgencyId { get; init; }

        public string AgencyName { get; init; } = string.Empty;

        public string Country { get; init; } = string.Empty;

        public long First { get; init; }

        public long Second { get; init; }
    }

    /// <summary>One group of the roll-up's rows over the report's rolled-up days (<see cref="StatisticsRollup"/>).</summary>
    private sealed record RolledRow
    {
        public string Section { get; init; } = string.Empty;

        public string Period { get; init; } = string.Empty;

        public string Category { get; init; } = string.Empty;

        public string Country { get; init; } = string.Empty;

        public Guid? AgencyId { get; init; }

        public string? AgencyName { get; init; }

        public string? AgencyCountry { get; init; }

        public long First { get; init; }

        public long Second { get; init; }
    }

    /// <summary>
    /// Counts closed days from the roll-up (<see cref="StatisticsRollup"/>) and the others live — today, a day not rolled
    /// up yet, a day changed since its roll-up — and adds the two: the same figures as counting every day live (ADR 40).
    /// </summary>
    public sealed class Handler(Database database, IOptions<StatisticsOptions> options, TimeProvider time) : IQueryHandler<Query, StatisticsReport>
    {
        public async ValueTask<StatisticsReport> Handle(Query query, CancellationToken cancellationToken)
        {
            var all = query.Caller.Has(Scopes.AgenciesAdmin);
            var threshold = options.Value.MinimumCellCount;
            await using var connection = await database.OpenAsync(cancellationToken);
            // One snapshot for every statement: a day's roll-up replaces its hours' rows, and a report that found the hours
            // rolled up must still find their rows.
            await using var snapshot = await database.Dialect.BeginSnapshotReadAsync(connection, cancellationToken);
            var today = DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime);
            var range = new { from = Text(query.CountedFrom), next = Text(query.CountedTo.AddDays(1)), today = Text(today) };
            // A day or hour is taken from the roll-up when it was rolled up and no hour of it changed since.
            var rolledDays = (await connection.QueryAsync<string>(new CommandDefinition(
                """
                SELECT r.day FROM statistics_days r
                WHERE r.day >= @from AND r.day < @next AND r.day < @today
                  AND NOT EXISTS (SELECT 1 FROM statistics_stale_hours s WHERE substr(s.hour, 1, 10) = r.day)
                """,
                range, snapshot, cancellationToken: cancellationToken)))
                .Select(d => DateOnly.ParseExact(d, DateFormat, CultureInfo.InvariantCulture)).ToHashSet();
            var rolledHours = (await connection.QueryAsync<string>(new CommandDefinition(
                """
                SELECT r.hour FROM statistics_hours r
                WHERE r.hour >= @from AND r.hour < @next
                  AND NOT EXISTS (SELECT 1 FROM statistics_stale_hours s WHERE s.hour = r.hour)
                """,
                range, snapshot, cancellationToken: cancellationToken))).ToHashSet(StringComparer.Ordinal);
            var spans = Spans(query.CountedFrom, query.CountedTo, rolledDays.Contains, h => rolledHours.Contains(ClockExtensions.UtcHourKey(h)));

            var cells = new List<Cell>();
            var totals = new List<Total>();
            var deliveries = new List<PartnerRow>();
            var feedback = new List<PartnerRow>();
            foreach (var (source, table, key, length) in new[]
                     {
                         (SpanSource.Days, "statistics_daily", "day", TimeSpan.FromDays(1)),
                         (SpanSource.Hours, "statistics_hourly", "hour", TimeSpan.FromHours(1)),
                     })
            {
                var keys = spans.Where(s => s.Source == source)
                    .Select(s => (First: Key(s.From, source), Last: Key(s.Until - length, source))).ToList();
                if (keys.Count == 0)
                {
                    continue;
                }

                var rows = await RolledUpAsync(connection, snapshot, query, all, table, key, keys, cancellationToken);
                cells.AddRange(rows.Where(r => r.Section == RollupSections.Alerts).Select(r => new Cell { Period = r.Period, Category = r.Category, Country = r.Country, Count = r.First }));
                totals.AddRange(rows.Where(r => r.Section == RollupSections.AlertTotals).Select(r => new Total { Period = r.Period, Category = r.Category, Count = r.First }));
                deliveries.AddRange(Partners(rows, RollupSections.Deliveries));
                feedback.AddRange(Partners(rows, RollupSections.Feedback));
            }

            var live = spans.Where(s => s.Source == SpanSource.Live).Select(s => (s.From, s.Until)).ToList();
            if (live.Count > 0)
            {
                await CountLiveAsync(connection, snapshot, query, all, live, cells, totals, deliveries, feedback, cancellationToken);
            }

            cells = [.. cells.GroupBy(c => (c.Period, c.Category, c.Country)).Select(g => g.First() with { Count = g.Sum(c => c.Count) })];
            totals = [.. totals.GroupBy(t => (t.Period, t.Category)).Select(g => g.First() with { Count = g.Sum(t => t.Count) })];
            deliveries = Merge(deliveries);
            feedback = Merge(feedback);

            var alerts = new List<AlertCount>();
            var alertTotals = new List<AlertTotal>();
            foreach (var total in totals.OrderBy(t => t.Period, StringComparer.Ordinal).ThenBy(t => t.Category, StringComparer.Ordinal))
            {
                var group = cells.Where(c => c.Period == total.Period && c.Category == total.Category)
                    .OrderBy(c => c.Country, StringComparer.Ordinal).ToList();
                var (shown, shownTotal) = SmallCountSuppression.Apply(group.Select(c => c.Count).ToList(), total.Count, threshold);
                alerts.AddRange(group.Select((c, i) => new AlertCount(c.Period, c.Category, c.Country, shown[i])));
                alertTotals.Add(new AlertTotal(total.Period, total.Category, shownTotal));
            }

            deliveries = [.. deliveries.OrderBy(r => r.AgencyName, StringComparer.Ordinal)];
            feedback = [.. feedback.OrderBy(r => r.AgencyName, StringComparer.Ordinal)];
            var (delivered, deliveredTotal) = Suppress(deliveries, r => r.First, threshold);
            var (failed, failedTotal) = Suppress(deliveries, r => r.Second, threshold);
            var (hits, hitsTotal) = Suppress(feedback, r => r.First, threshold);
            var (actioned, actionedTotal) = Suppress(feedback, r => r.Second, threshold);

            return new StatisticsReport
            {
                From = query.CountedFrom.ToString(DateFormat, CultureInfo.InvariantCulture),
                To = query.CountedTo.ToString(DateFormat, CultureInfo.InvariantCulture),
                Period = query.Monthly ? "month" : "day",
                MinimumCellCount = threshold,
                Coverage = all ? "all" : "visible",
                Alerts = alerts,
                AlertTotals = alertTotals,
                Deliveries = deliveries.Select((r, i) => new PartnerDeliveries(r.AgencyId, r.AgencyName, r.Country, delivered[i], failed[i])).ToList(),
                DeliveryTotals = new DeliveryTotals(deliveredTotal, failedTotal),
                Feedback = feedback.Select((r, i) => new PartnerFeedback(r.AgencyId, r.AgencyName, r.Country, hits[i], actioned[i])).ToList(),
                FeedbackTotals = new FeedbackTotals(hitsTotal, actionedTotal),
            };
        }

        /// <summary>
        /// Every section's rolled-up counts in one pass over the roll-up's rows of those days or hours (<paramref name="table"/>
        /// keyed by <paramref name="key"/>, runs of keys from first to last): the alerts in the scopes the caller may count
        /// (<see cref="SharingPolicy.VisibleSql"/>'s cases, for an active agency), the deliveries and feedback of its own
        /// alerts; agencies:admin everything, each alert once (everyone's, and the rest under their originators).
        /// </summary>
        private static async Task<List<RolledRow>> RolledUpAsync(
            System.Data.Common.DbConnection connection, System.Data.Common.DbTransaction snapshot, Query query, bool all, string table, string key,
            IReadOnlyList<(string First, string Last)> runs, CancellationToken cancellationToken)
        {
            var parameters = new DynamicParameters(new { agencyId = query.Caller.AgencyId });
            var days = string.Join(" OR ", runs.Select((run, i) =>
            {
                parameters.Add($"first{i}", run.First);
                parameters.Add($"last{i}", run.Last);
                return $"(r.{key} >= @first{i} AND r.{key} <= @last{i})";
            }));
            const string AlertSections = $"r.section IN ('{RollupSections.Alerts}', '{RollupSections.AlertTotals}')";
            const string PartnerSections = $"r.section IN ('{RollupSections.Deliveries}', '{RollupSections.Feedback}')";
            var may = all
                ? $"({PartnerSections} OR r.scope IN ('{RollupScopes.Everyone}', '{RollupScopes.Originator}'))"
                : $"""
                  (({AlertSections} AND EXISTS (SELECT 1 FROM agencies viewer WHERE viewer.id = @agencyId AND viewer.is_active)
                    AND (r.scope = '{RollupScopes.Everyone}' OR r.scope_agency_id = @agencyId))
                   OR ({PartnerSections} AND r.scope_agency_id = @agencyId))
                  """;
            var period = $"CASE WHEN {AlertSections} THEN substr(r.{key}, 1, {(query.Monthly ? 7 : 10)}) ELSE '' END";
            return (await connection.QueryAsync<RolledRow>(new CommandDefinition(
                $"""
                SELECT r.section AS Section, {period} AS Period, r.category AS Category, r.country AS Country,
                       r.agency_id AS AgencyId, g.name AS AgencyName, g.country AS AgencyCountry, SUM(r.first) AS First, SUM(r.second) AS Second
                FROM {table} r LEFT JOIN agencies g ON g.id = r.agency_id
                WHERE ({days}) AND {may}
                GROUP BY r.section, {period}, r.category, r.country, r.agency_id, g.name, g.country
                """, parameters, snapshot, cancellationToken: cancellationToken))).ToList();
        }

        /// <summary>The spans not rolled up, [From, Until) each, counted from the tables as every day was before the roll-up.</summary>
        private async Task CountLiveAsync(
            System.Data.Common.DbConnection connection, System.Data.Common.DbTransaction snapshot, Query query, bool all, IReadOnlyList<(DateTimeOffset From, DateTimeOffset Until)> runs,
            List<Cell> cells, List<Total> totals, List<PartnerRow> deliveries, List<PartnerRow> feedback, CancellationToken cancellationToken)
        {
            var parameters = new DynamicParameters(new { agencyId = query.Caller.AgencyId });
            string During(string column) => "(" + string.Join(" OR ", runs.Select((run, i) =>
            {
                parameters.Add($"from{i}", run.From);
                parameters.Add($"until{i}", run.Until);
                return $"({column} >= @from{i} AND {column} < @until{i})";
            })) + ")";
            var period = database.Dialect.UtcPeriod("a.created_at", query.Monthly);
            var visible = all ? string.Empty : " AND " + SharingPolicy.VisibleSql("a", "@agencyId");
            var own = all ? string.Empty : " AND a.originator_id = @agencyId";
            var alertDays = During("a.created_at");
            var deliveryDays = During("d.created_at");
            var feedbackDays = During("f.created_at");

            cells.AddRange(await connection.QueryAsync<Cell>(new CommandDefinition(
                $"""
                SELECT {period} AS Period, a.category AS Category, COALESCE(c.country, '') AS Country, COUNT(*) AS Count
                FROM alerts a LEFT JOIN alert_countries c ON c.alert_id = a.id
                WHERE {alertDays}{visible}
                GROUP BY {period}, a.category, COALESCE(c.country, '')
                """, parameters, snapshot, cancellationToken: cancellationToken)));
            totals.AddRange(await connection.QueryAsync<Total>(new CommandDefinition(
                $"""
                SELECT {period} AS Period, a.category AS Category, COUNT(*) AS Count
                FROM alerts a
                WHERE {alertDays}{visible}
                GROUP BY {period}, a.category
                """, parameters, snapshot, cancellationToken: cancellationToken)));
            deliveries.AddRange(await connection.QueryAsync<PartnerRow>(new CommandDefinition(
                $"""
                SELECT d.agency_id AS AgencyId, g.name AS AgencyName, g.country AS Country, {DeliveredSql} AS First, {FailedSql} AS Second
                FROM deliveries d JOIN alerts a ON a.id = d.alert_id JOIN agencies g ON g.id = d.agency_id
                WHERE {deliveryDays}{own}
                GROUP BY d.agency_id, g.name, g.country
                """, parameters, snapshot, cancellationToken: cancellationToken)));
            feedback.AddRange(await connection.QueryAsync<PartnerRow>(new CommandDefinition(
                $"""
                SELECT f.agency_id AS AgencyId, g.name AS AgencyName, g.country AS Country, {HitsSql} AS First, {ActionedSql} AS Second
                FROM alert_feedback f JOIN alerts a ON a.id = f.alert_id JOIN agencies g ON g.id = f.agency_id
                WHERE {feedbackDays} AND {FeedbackKindsSql}{own}
                GROUP BY f.agency_id, g.name, g.country
                """, parameters, snapshot, cancellationToken: cancellationToken)));
        }

        private static IEnumerable<PartnerRow> Partners(IEnumerable<RolledRow> rows, string section) =>
            rows.Where(r => r.Section == section && r.AgencyName is not null).Select(r => new PartnerRow
            {
                AgencyId = r.AgencyId!.Value, AgencyName = r.AgencyName!, Country = r.AgencyCountry ?? string.Empty, First = r.First, Second = r.Second,
            });

        private static List<PartnerRow> Merge(List<PartnerRow> rows) =>
            [.. rows.GroupBy(r => r.AgencyId).Select(g => g.First() with { First = g.Sum(r => r.First), Second = g.Sum(r => r.Second) })];

        private static (long?[] Cells, long? Total) Suppress(List<PartnerRow> rows, Func<PartnerRow, long> measure, int threshold) =>
            SmallCountSuppression.Apply(rows.Select(measure).ToList(), rows.Sum(measure), threshold);
    }

    /// <summary>Where a span of a report is counted from.</summary>
    public enum SpanSource
    {
        /// <summary>statistics_daily: whole days rolled up and unchanged since.</summary>
        Days,

        /// <summary>statistics_hourly: hours of a day not rolled up, each rolled up and unchanged since.</summary>
        Hours,

        /// <summary>The tables themselves.</summary>
        Live,
    }

    /// <summary>
    /// The report's days from <paramref name="from"/> to <paramref name="to"/> split into spans [From, Until) of one
    /// source each, consecutive units of a source joined: whole days <paramref name="dayRolledUp"/>, and the hours of the
    /// other days, <paramref name="hourRolledUp"/> or live (in the usual case three spans: the closed days, today's closed
    /// hours, and the current hour onwards).
    /// </summary>
    public static List<(SpanSource Source, DateTimeOffset From, DateTimeOffset Until)> Spans(
        DateOnly from, DateOnly to, Func<DateOnly, bool> dayRolledUp, Func<DateTimeOffset, bool> hourRolledUp)
    {
        var spans = new List<(SpanSource Source, DateTimeOffset From, DateTimeOffset Until)>();
        void Add(SpanSource source, DateTimeOffset start, DateTimeOffset until)
        {
            if (spans.Count > 0 && spans[^1].Source == source && spans[^1].Until == start)
            {
                spans[^1] = spans[^1] with { Until = until };
            }
            else
            {
                spans.Add((source, start, until));
            }
        }

        for (var day = from; day <= to; day = day.AddDays(1))
        {
            var start = Start(day);
            if (dayRolledUp(day))
            {
                Add(SpanSource.Days, start, start.AddDays(1));
                continue;
            }

            for (var hour = start; hour < start.AddDays(1); hour = hour.AddHours(1))
            {
                Add(hourRolledUp(hour) ? SpanSource.Hours : SpanSource.Live, hour, hour.AddHours(1));
            }
        }

        return spans;
    }

    private static string Key(DateTimeOffset at, SpanSource source) =>
        source == SpanSource.Days ? at.UtcDateTime.ToString(DateFormat, CultureInfo.InvariantCulture) : ClockExtensions.UtcHourKey(at);

    private static string Text(DateOnly day) => day.ToString(DateFormat, CultureInfo.InvariantCulture);

    private static DateTimeOffset Start(DateOnly day) => new(day.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);

    /// <summary>CSV when the client asks for it by Accept (a reporting tool or spreadsheet), else JSON.</summary>
    public static bool WantsCsv(HttpRequest request)
    {
        var accept = request.GetTypedHeaders().Accept;
        var csv = accept.Where(a => a.MediaType.Equals(StatisticsCsv.MediaType, StringComparison.OrdinalIgnoreCase)).Select(a => a.Quality ?? 1).DefaultIfEmpty(0).Max();
        var json = accept.Where(a => a.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)).Select(a => a.Quality ?? 1).DefaultIfEmpty(0).Max();
        return csv > 0 && csv >= json;
    }

    public static RouteHandlerBuilder MapReadStatistics(this RouteGroupBuilder group) => group
        .MapGet("/", async Task<Results<Ok<StatisticsReport>, ContentHttpResult>> (
            [FromQuery] string? from, [FromQuery] string? to, [FromQuery] string? period, HttpContext context, IMediator mediator) =>
        {
            var report = await mediator.Send(new Query(Caller.From(context.User), from, to, period), context.RequestAborted);
            if (!WantsCsv(context.Request))
            {
                return TypedResults.Ok(report);
            }

            context.Response.Headers.ContentDisposition = new ContentDispositionHeaderValue("attachment") { FileName = StatisticsCsv.FileName(report) }.ToString();
            return TypedResults.Text(StatisticsCsv.Write(report), StatisticsCsv.MediaType + "; charset=utf-8", Encoding.UTF8);
        })
        .RequireAuthorization(Scopes.StatisticsRead)
        .Audited(AuditActions.StatisticsRead, AuditResources.Statistics)
        .WithName("ReadStatistics")
        // Long form, one count per row; a count under the minimum cell count is written "<5" (docs/statistics.md).
        .WithMetadata(DocumentedExample.Response(StatusCodes.Status200OK, "published", "A month by category and country: HU under 5, HR suppressed with it so the total cannot give HU away",
            () => JsonValue.Create(
                "section,period,category,country,agency,measure,value\r\n" +
                "alerts,2026-10,migrant_smuggling,RS,,published,42\r\n" +
                "alerts,2026-10,migrant_smuggling,HU,,published,<5\r\n" +
                "alerts,2026-10,migrant_smuggling,HR,,published,<5\r\n" +
                "alerts,2026-10,migrant_smuggling,,,published_total,51\r\n"), "text/csv"))
        .WithSummary("Published results: counts without content, small counts suppressed")
        .WithDescription("Alerts first published per day or month (from..to, UTC, inclusive; at most 92 days by day or 36 months by month; by month, " +
            "from and to are widened to whole months, as the response's from and to say) by " +
            "category and country, deliveries delivered/failed per receiving agency and feedback (hit, actioned) per agency. A count from 1 to " +
            "minimumCellCount − 1, or one a total would give away, is null (\"<n\" in CSV). An agency counts the alerts it may see and the " +
            "deliveries and feedback of its own alerts; agencies:admin counts everything. Accept: text/csv for CSV.")
        // Declared by hand: a text result declares no media type of its own; the CSV is the report's second representation.
        .Produces<string>(StatusCodes.Status200OK, StatisticsCsv.MediaType);
}
