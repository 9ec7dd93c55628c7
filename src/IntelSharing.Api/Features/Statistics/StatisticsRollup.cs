using System.Globalization;
using Dapper;
using IntelSharing.Api.Features.Sharing;
using IntelSharing.Api.Infrastructure.Persistence;
using Microsoft.Extensions.Options;

namespace IntelSharing.Api.Features.Statistics;

/// <summary>
/// Rolls closed UTC days up into <c>statistics_daily</c> (migration 0029, ADR 40), so that published results sum a few
/// rows per day instead of aggregating every alert, delivery and feedback of the range. A day is rolled up once it is
/// over, and again whenever something changed its counts since: the triggers of migration 0029 mark it stale in the
/// transaction of the change (a delivery finishing after midnight, an alert's new version), and until it is rolled up
/// again <see cref="ReadStatistics"/> counts it live. Runs in every instance; a day's roll-up takes the day's row in
/// <c>statistics_days</c> first, so two instances never roll the same day at once.
/// </summary>
public sealed class StatisticsRollup(Database database, IOptions<StatisticsOptions> options, TimeProvider time, ILogger<StatisticsRollup> logger)
    : BackgroundService
{
    /// <summary>At most this many days are rolled up per run (a first run after the upgrade may face years of history).</summary>
    public const int DaysPerRun = 400;

    private const string DayFormat = ReadStatistics.DateFormat;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(options.Value.RollupIntervalSeconds));
        do
        {
            try
            {
                await RollUpAsync(stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogWarning(ex, "Rolling up published results failed; reports count the days concerned live until the next run.");
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    /// <summary>Rolls up every closed day not rolled up yet or changed since, newest first; returns how many.</summary>
    public async Task<int> RollUpAsync(CancellationToken cancellationToken)
    {
        var today = DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime);
        var todayText = today.ToString(DayFormat, CultureInfo.InvariantCulture);
        List<string> due;
        await using (var connection = await database.OpenAsync(cancellationToken))
        {
            // Nothing is counted before the first alert: deliveries and feedback are about alerts (index 0029).
            var first = await connection.QuerySingleOrDefaultAsync<string?>(new CommandDefinition(
                $"SELECT {database.Dialect.UtcPeriod("created_at", monthly: false)} FROM alerts ORDER BY created_at LIMIT 1", cancellationToken: cancellationToken));
            var stale = (await connection.QueryAsync<string>(new CommandDefinition(
                "SELECT day FROM statistics_stale_days WHERE day < @today", new { today = todayText }, cancellationToken: cancellationToken))).ToHashSet(StringComparer.Ordinal);
            var rolled = (await connection.QueryAsync<string>(new CommandDefinition(
                "SELECT day FROM statistics_days WHERE day < @today", new { today = todayText }, cancellationToken: cancellationToken))).ToHashSet(StringComparer.Ordinal);
            var start = first is null ? today : DateOnly.ParseExact(first, DayFormat, CultureInfo.InvariantCulture);
            due = Days(start, today.AddDays(-1)).Reverse()
                .Select(d => d.ToString(DayFormat, CultureInfo.InvariantCulture))
                .Where(d => stale.Contains(d) || !rolled.Contains(d))
                .Take(DaysPerRun).ToList();
        }

        foreach (var day in due)
        {
            await RollUpDayAsync(DateOnly.ParseExact(day, DayFormat, CultureInfo.InvariantCulture), cancellationToken);
        }

        return due.Count;
    }

    private static IEnumerable<DateOnly> Days(DateOnly first, DateOnly last)
    {
        for (var day = first; day <= last; day = day.AddDays(1))
        {
            yield return day;
        }
    }

    /// <summary>
    /// One day in one transaction: its row in statistics_days first (the lock against another instance), then its stale
    /// mark is cleared and its counts replaced. A change committed after a count was taken marks the day stale again
    /// (its trigger's insert either follows the clearing or waits for this transaction), so nothing is lost between.
    /// </summary>
    private async Task RollUpDayAsync(DateOnly day, CancellationToken cancellationToken)
    {
        var parameters = new
        {
            day = day.ToString(DayFormat, CultureInfo.InvariantCulture),
            start = new DateTimeOffset(day.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero),
            end = new DateTimeOffset(day.AddDays(1).ToDateTime(TimeOnly.MinValue), TimeSpan.Zero),
            now = time.GetUtcNow(),
        };
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var write = await Database.BeginWriteAsync(connection, cancellationToken);
        foreach (var sql in DaySql)
        {
            await connection.ExecuteAsync(new CommandDefinition(sql, parameters, write.Transaction, cancellationToken: cancellationToken));
        }

        await write.CommitAsync(cancellationToken);
    }

    private const string Insert = "INSERT INTO statistics_daily (day, section, scope, scope_agency_id, category, country, agency_id, first, second)";

    /// <summary>
    /// Alerts first published on the day, per category (and country, <paramref name="byCountry"/>), in the three scopes of
    /// <see cref="SharingPolicy.VisibleSql"/>: visible to everyone; any other alert under its originator; and the same
    /// alerts under each agency of their audience other than the originator (who counts them already as originator).
    /// </summary>
    private static IEnumerable<string> AlertSql(string section, bool byCountry)
    {
        var country = byCountry ? "COALESCE(c.country, '')" : "''";
        var countries = byCountry ? " LEFT JOIN alert_countries c ON c.alert_id = a.id" : string.Empty;
        var byCountryToo = byCountry ? ", COALESCE(c.country, '')" : string.Empty;
        const string Day = "a.created_at >= @start AND a.created_at < @end";
        var everyone = SharingPolicy.VisibleToEveryoneSql("a");
        yield return $"""
            {Insert}
            SELECT @day, '{section}', '{RollupScopes.Everyone}', NULL, a.category, {country}, NULL, COUNT(*), 0
            FROM alerts a{countries} WHERE {Day} AND {everyone}
            GROUP BY a.category{byCountryToo}
            """;
        yield return $"""
            {Insert}
            SELECT @day, '{section}', '{RollupScopes.Originator}', a.originator_id, a.category, {country}, NULL, COUNT(*), 0
            FROM alerts a{countries} WHERE {Day} AND NOT {everyone}
            GROUP BY a.originator_id, a.category{byCountryToo}
            """;
        yield return $"""
            {Insert}
            SELECT @day, '{section}', '{RollupScopes.Audience}', aa.agency_id, a.category, {country}, NULL, COUNT(*), 0
            FROM alerts a JOIN alert_audience aa ON aa.alert_id = a.id{countries}
            WHERE {Day} AND NOT {everyone} AND a.tlp IN {SharingPolicy.AudienceMarkingsSql} AND aa.agency_id <> a.originator_id
            GROUP BY aa.agency_id, a.category{byCountryToo}
            """;
    }

    private static readonly IReadOnlyList<string> DaySql =
    [
        """
        INSERT INTO statistics_days (day, rolled_at) VALUES (@day, @now)
        ON CONFLICT (day) DO UPDATE SET rolled_at = excluded.rolled_at
        """,
        "DELETE FROM statistics_stale_days WHERE day = @day",
        "DELETE FROM statistics_daily WHERE day = @day",
        .. AlertSql(RollupSections.Alerts, byCountry: true),
        .. AlertSql(RollupSections.AlertTotals, byCountry: false),
        $"""
        {Insert}
        SELECT @day, '{RollupSections.Deliveries}', '{RollupScopes.Originator}', a.originator_id, '', '', d.agency_id,
               {ReadStatistics.DeliveredSql}, {ReadStatistics.FailedSql}
        FROM deliveries d JOIN alerts a ON a.id = d.alert_id
        WHERE d.created_at >= @start AND d.created_at < @end
        GROUP BY a.originator_id, d.agency_id
        """,
        $"""
        {Insert}
        SELECT @day, '{RollupSections.Feedback}', '{RollupScopes.Originator}', a.originator_id, '', '', f.agency_id,
               {ReadStatistics.HitsSql}, {ReadStatistics.ActionedSql}
        FROM alert_feedback f JOIN alerts a ON a.id = f.alert_id
        WHERE f.created_at >= @start AND f.created_at < @end AND {ReadStatistics.FeedbackKindsSql}
        GROUP BY a.originator_id, f.agency_id
        """,
    ];
}

/// <summary>What a row of <c>statistics_daily</c> counts.</summary>
public static class RollupSections
{
    public const string Alerts = "alerts";
    public const string AlertTotals = "alert_totals";
    public const string Deliveries = "deliveries";
    public const string Feedback = "feedback";
}

/// <summary>Who may count a row of <c>statistics_daily</c>: everyone, or the agency in <c>scope_agency_id</c> in that role.</summary>
public static class RollupScopes
{
    public const string Everyone = "everyone";
    public const string Originator = "originator";
    public const string Audience = "audience";
}
