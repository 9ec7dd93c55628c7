using System.Globalization;
using System.Text;
using Dapper;
using FluentValidation;
using IntelSharing.Api.Features.Sharing;
using IntelSharing.Api.Infrastructure.Audit;
using IntelSharing.Api.Infrastructure.Persistence;
using IntelSharing.Api.Infrastructure.Security;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

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

    public sealed class Handler(Database database, IOptions<StatisticsOptions> options) : IQueryHandler<Query, StatisticsReport>
    {
        public async ValueTask<StatisticsReport> Handle(Query query, CancellationToken cancellationToken)
        {
            var all = query.Caller.Has(Scopes.AgenciesAdmin);
            var threshold = options.Value.MinimumCellCount;
            var parameters = new
            {
                from = new DateTimeOffset(query.CountedFrom.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero),
                until = new DateTimeOffset(query.CountedTo.AddDays(1).ToDateTime(TimeOnly.MinValue), TimeSpan.Zero),
                agencyId = query.Caller.AgencyId,
            };
            await using var connection = await database.OpenAsync(cancellationToken);
            var period = database.Dialect.UtcPeriod("a.created_at", query.Monthly);
            var visible = all ? string.Empty : " AND " + SharingPolicy.VisibleSql("a", "@agencyId");
            var own = all ? string.Empty : " AND a.originator_id = @agencyId";

            var cells = (await connection.QueryAsync<Cell>(new CommandDefinition(
                $"""
                SELECT {period} AS Period, a.category AS Category, COALESCE(c.country, '') AS Country, COUNT(*) AS Count
                FROM alerts a LEFT JOIN alert_countries c ON c.alert_id = a.id
                WHERE a.created_at >= @from AND a.created_at < @until{visible}
                GROUP BY {period}, a.category, COALESCE(c.country, '')
                """, parameters, cancellationToken: cancellationToken))).ToList();
            var totals = (await connection.QueryAsync<Total>(new CommandDefinition(
                $"""
                SELECT {period} AS Period, a.category AS Category, COUNT(*) AS Count
                FROM alerts a
                WHERE a.created_at >= @from AND a.created_at < @until{visible}
                GROUP BY {period}, a.category
                """, parameters, cancellationToken: cancellationToken))).ToList();
            var deliveries = (await connection.QueryAsync<PartnerRow>(new CommandDefinition(
                $"""
                SELECT d.agency_id AS AgencyId, g.name AS AgencyName, g.country AS Country,
                       SUM(CASE WHEN d.state = 'delivered' THEN 1 ELSE 0 END) AS First,
                       SUM(CASE WHEN d.state IN ('failed', 'dead') THEN 1 ELSE 0 END) AS Second
                FROM deliveries d JOIN alerts a ON a.id = d.alert_id JOIN agencies g ON g.id = d.agency_id
                WHERE d.created_at >= @from AND d.created_at < @until{own}
                GROUP BY d.agency_id, g.name, g.country
                """, parameters, cancellationToken: cancellationToken))).ToList();
            var feedback = (await connection.QueryAsync<PartnerRow>(new CommandDefinition(
                $"""
                SELECT f.agency_id AS AgencyId, g.name AS AgencyName, g.country AS Country,
                       SUM(CASE WHEN f.kind = 'hit' THEN 1 ELSE 0 END) AS First,
                       SUM(CASE WHEN f.kind = 'actioned' THEN 1 ELSE 0 END) AS Second
                FROM alert_feedback f JOIN alerts a ON a.id = f.alert_id JOIN agencies g ON g.id = f.agency_id
                WHERE f.created_at >= @from AND f.created_at < @until AND f.kind IN ('hit', 'actioned'){own}
                GROUP BY f.agency_id, g.name, g.country
                """, parameters, cancellationToken: cancellationToken))).ToList();

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

        private static (long?[] Cells, long? Total) Suppress(List<PartnerRow> rows, Func<PartnerRow, long> measure, int threshold) =>
            SmallCountSuppression.Apply(rows.Select(measure).ToList(), rows.Sum(measure), threshold);
    }

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
        .WithSummary("Published results: counts without content, small counts suppressed")
        .WithDescription("Alerts first published per day or month (from..to, UTC, inclusive; at most 92 days by day or 36 months by month; by month, " +
            "from and to are widened to whole months, as the response's from and to say) by " +
            "category and country, deliveries delivered/failed per receiving agency and feedback (hit, actioned) per agency. A count from 1 to " +
            "minimumCellCount − 1, or one a total would give away, is null (\"<n\" in CSV). An agency counts the alerts it may see and the " +
            "deliveries and feedback of its own alerts; agencies:admin counts everything. Accept: text/csv for CSV.")
        // Declared by hand: a text result declares no media type of its own; the CSV is the report's second representation.
        .Produces<string>(StatusCodes.Status200OK, StatisticsCsv.MediaType);
}
