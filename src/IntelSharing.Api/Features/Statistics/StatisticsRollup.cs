using System.Globalization;
using Dapper;
using IntelSharing.Api.Features.Sharing;
using IntelSharing.Api.Infrastructure.Persistence;
using IntelSharing.Api.Infrastructure.Time;
using Microsoft.Extensions.Options;

namespace IntelSharing.Api.Features.Statistics;

/// <summary>
/// Rolls closed UTC days up into <c>statistics_daily</c> (migration 0029, ADR 40), and today's closed hours into
/// <c>statistics_hourly</c> (migration 0035, ADR 51), so that published results sum a few rows per day or hour instead of
/// aggregating every alert, delivery and feedback of the range. A day or hour is rolled up once it is over, and again
/// whenever something changed its counts since: the triggers mark its hour stale in the transaction of the change (a
/// delivery finishing after midnight, an alert's new version), and until it is rolled up again <see cref="ReadStatistics"/>
/// counts it live. Runs in every instance. A day's roll-up takes the day's row in <c>statistics_days</c> and the rows of
/// all its hours in <c>statistics_hours</c> first, an hour's roll-up its hour's row: two instances never roll the same
/// day or hour at once, nor an hour while its day.
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
                logger.LogWarning(ex, "Rolling up published results failed; reports count the days and hours concerned live until the next run.");
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    /// <summary>
    /// Rolls up every closed day not rolled up yet or changed since, newest first, then today's closed hours likewise;
    /// returns how many days and hours.
    /// </summary>
    public async Task<(int Days, int Hours)> RollUpAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var today = DateOnly.FromDateTime(now.UtcDateTime);
        var todayText = today.ToString(DayFormat, CultureInfo.InvariantCulture);
        var hour = new DateTimeOffset(now.UtcDateTime.Date.AddHours(now.UtcDateTime.Hour), TimeSpan.Zero);
        List<string> dueDays;
        List<DateTimeOffset> dueHours;
        await using (var connection = await database.OpenAsync(cancellationToken))
        {
            // Nothing is counted before the first alert: deliveries and feedback are about alerts (index 0029).
            var first = await connection.QuerySingleOrDefaultAsync<string?>(new CommandDefinition(
                $"SELECT {database.Dialect.UtcPeriod("created_at", monthly: false)} FROM alerts ORDER BY created_at LIMIT 1", cancellationToken: cancellationToken));
            var stale = (await connection.QueryAsync<string>(new CommandDefinition(
                "SELECT hour FROM statistics_stale_hours", cancellationToken: cancellationToken))).ToHashSet(StringComparer.Ordinal);
            var rolled = (await connection.QueryAsync<string>(new CommandDefinition(
                "SELECT day FROM statistics_days WHERE day < @today", new { today = todayText }, cancellationToken: cancellationToken))).ToHashSet(StringComparer.Ordinal);
            var rolledHours = (await connection.QueryAsync<string>(new CommandDefinition(
                "SELECT hour FROM statistics_hours WHERE hour >= @today", new { today = todayText }, cancellationToken: cancellationToken))).ToHashSet(StringComparer.Ordinal);
            var staleDays = stale.Select(h => h[..DayFormat.Length]).ToHashSet(StringComparer.Ordinal);
            var start = first is null ? today : DateOnly.ParseExact(first, DayFormat, CultureInfo.InvariantCulture);
            dueDays = Days(start, today.AddDays(-1)).Reverse()
                .Select(d => d.ToString(DayFormat, CultureInfo.InvariantCulture))
                .Where(d => staleDays.Contains(d) || !rolled.Contains(d))
                .Take(DaysPerRun).ToList();
            var midnight = new DateTimeOffset(today.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
            dueHours = first is null ? [] : [.. Enumerable.Range(0, (int)(hour - midnight).TotalHours).Select(h => midnight.AddHours(h))
                .Where(h => stale.Contains(ClockExtensions.UtcHourKey(h)) || !rolledHours.Contains(ClockExtensions.UtcHourKey(h)))];
        }

        foreach (var day in dueDays)
        {
            await RollUpDayAsync(DateOnly.ParseExact(day, DayFormat, CultureInfo.InvariantCulture), cancellationToken);
        }

        var hours = 0;
        foreach (var due in dueHours)
        {
            hours += await RollUpHourAsync(due, cancellationToken) ? 1 : 0;
        }

        return (dueDays.Count, hours);
    }

    private static IEnumerable<DateOnly> Days(DateOnly first, DateOnly last)
    {
        for (var day = first; day <= last; day = day.AddDays(1))
        {
            yield return day;
        }
    }

    /// <summary>
    /// One day in one transaction: its row in statistics_days and its hours' rows in statistics_hours first (the locks
    /// against another instance and against an hour's roll-up), then its stale marks are cleared and its counts replaced;
    /// its hours' rows, which the day's now cover, go. A change committed after a count was taken marks its hour stale
    /// again (its trigger's insert either follows the clearing or waits for this transaction), so nothing is lost between.
    /// </summary>
    private async Task RollUpDayAsync(DateOnly day, CancellationToken cancellationToken)
    {
        var start = new DateTimeOffset(day.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
        var parameters = new DynamicParameters(new
        {
            key = day.ToString(DayFormat, CultureInfo.InvariantCulture),
            next = day.AddDays(1).ToString(DayFormat, CultureInfo.InvariantCulture),
            start,
            end = start.AddDays(1),
            now = time.GetUtcNow(),
        });
        for (var h = 0; h < 24; h++)
        {
            parameters.Add($"hour{h}", ClockExtensions.UtcHourKey(start.AddHours(h)));
        }

        await using var connection = await database.OpenAsync(cancellationToken);
        await using var write = await Database.BeginWriteAsync(connection, cancellationToken);
        foreach (var sql in DaySql)
        {
            await connection.ExecuteAsync(new CommandDefinition(sql, parameters, write.Transaction, cancellationToken: cancellationToken));
        }

        await write.CommitAsync(cancellationToken);
    }

    /// <summary>
    /// One hour of a day not rolled up, in one transaction: its row in statistics_hours first, then, unless its day was
    /// rolled up meanwhile (an instance whose clock is behind midnight), its stale mark is cleared and its counts replaced.
    /// Returns whether it was rolled up.
    /// </summary>
    private async Task<bool> RollUpHourAsync(DateTimeOffset hour, CancellationToken cancellationToken)
    {
        var parameters = new { key = ClockExtensions.UtcHourKey(hour), day = hour.UtcDateTime.ToString(DayFormat, CultureInfo.InvariantCulture), start = hour, end = hour.AddHours(1), now = time.GetUtcNow() };
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var write = await Database.BeginWriteAsync(connection, cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            """
            INSERT INTO statistics_hours (hour, rolled_at) VALUES (@key, @now)
            ON CONFLICT (hour) DO UPDATE SET rolled_at = excluded.rolled_at
            """, parameters, write.Transaction, cancellationToken: cancellationToken));
        if (await connection.ExecuteScalarAsync<long>(new CommandDefinition(
                "SELECT COUNT(*) FROM statistics_days WHERE day = @day", parameters, write.Transaction, cancellationToken: cancellationToken)) > 0)
        {
            return false;
        }

        foreach (var sql in HourSql)
        {
            await connection.ExecuteAsync(new CommandDefinition(sql, parameters, write.Transaction, cancellationToken: cancellationToken));
        }

        await write.CommitAsync(cancellationToken);
        return true;
    }

    private static string Insert(string table, string key) => $"INSERT INTO {table} ({key}, section, scope, scope_agency_id, category, country, agency_id, first, second)";

    /// <summary>
    /// Alerts first published on the day, per category (and country, <paramref name="byCountry"/>), in the three scopes of
    /// <see cref="SharingPolicy.VisibleSql"/>: visible to everyone; any other alert under its originator; and the same
    /// alerts under each agency of their audience other than the originator (who counts them already as originator).
    /// </summary>
    private static IEnumerable<string> AlertSql(string insert, string section, bool byCountry)
    {
        var country = byCountry ? "COALESCE(c.country, '')" : "''";
        var countries = byCountry ? " LEFT JOIN alert_countries c ON c.alert_id = a.id" : string.Empty;
        var byCountryToo = byCountry ? ", COALESCE(c.country, '')" : string.Empty;
        const string Day = "a.created_at >= @start AND a.created_at < @end";
        var everyone = SharingPolicy.VisibleToEveryoneSql("a");
        yield return $"""
            {insert}
            SELECT @key, '{section}', '{RollupScopes.Everyone}', NULL, a.category, {country}, NULL, COUNT(*), 0
            FROM alerts a{countries} WHERE {Day} AND {everyone}
            GROUP BY a.category{byCountryToo}
            """;
        yield return $"""
            {insert}
            SELECT @key, '{section}', '{RollupScopes.Originator}', a.originator_id, a.category, {country}, NULL, COUNT(*), 0
            FROM alerts a{countries} WHERE {Day} AND NOT {everyone}
            GROUP BY a.originator_id, a.category{byCountryToo}
            """;
        yield return $"""
            {insert}
            SELECT @key, '{section}', '{RollupScopes.Audience}', aa.agency_id, a.category, {country}, NULL, COUNT(*), 0
            FROM alerts a JOIN alert_audience aa ON aa.alert_id = a.id{countries}
            WHERE {Day} AND NOT {everyone} AND a.tlp IN {SharingPolicy.AudienceMarkingsSql} AND aa.agency_id <> a.originator_id
            GROUP BY aa.agency_id, a.category{byCountryToo}
            """;
    }

    /// <summary>The counts of [@start, @end) into <paramref name="table"/> under <c>@key</c>: every section of the report.</summary>
    private static IEnumerable<string> CountSql(string table, string key)
    {
        var insert = Insert(table, key);
        foreach (var sql in AlertSql(insert, RollupSections.Alerts, byCountry: true).Concat(AlertSql(insert, RollupSections.AlertTotals, byCountry: false)))
        {
            yield return sql;
        }

        yield return $"""
            {insert}
            SELECT @key, '{RollupSections.Deliveries}', '{RollupScopes.Originator}', a.originator_id, '', '', d.agency_id,
                   {ReadStatistics.DeliveredSql}, {ReadStatistics.FailedSql}
            FROM deliveries d JOIN alerts a ON a.id = d.alert_id
            WHERE d.created_at >= @start AND d.created_at < @end
            GROUP BY a.originator_id, d.agency_id
            """;
        yield return $"""
            {insert}
            SELECT @key, '{RollupSections.Feedback}', '{RollupScopes.Originator}', a.originator_id, '', '', f.agency_id,
                   {ReadStatistics.HitsSql}, {ReadStatistics.ActionedSql}
            FROM alert_feedback f JOIN alerts a ON a.id = f.alert_id
            WHERE f.created_at >= @start AND f.created_at < @end AND {ReadStatistics.FeedbackKindsSql}
            GROUP BY a.originator_id, f.agency_id
            """;
    }

    // statistics_stale_days is the previous release's mark (every change writes it too, migration 0037): cleared with the day's.
    private static readonly IReadOnlyList<string> DaySql =
    [
        """
        INSERT INTO statistics_days (day, rolled_at) VALUES (@key, @now)
        ON CONFLICT (day) DO UPDATE SET rolled_at = excluded.rolled_at
        """,
        $"""
        INSERT INTO statistics_hours (hour, rolled_at)
        VALUES {string.Join(", ", Enumerable.Range(0, 24).Select(h => $"(@hour{h}, @now)"))}
        ON CONFLICT (hour) DO UPDATE SET rolled_at = excluded.rolled_at
        """,
        "DELETE FROM statistics_stale_hours WHERE hour >= @key AND hour < @next",
        "DELETE FROM statistics_stale_days WHERE day = @key",
        "DELETE FROM statistics_daily WHERE day = @key",
        .. CountSql("statistics_daily", "day"),
        "DELETE FROM statistics_hourly WHERE hour >= @key AND hour < @next",
        "DELETE FROM statistics_hours WHERE hour >= @key AND hour < @next",
    ];

    private static readonly IReadOnlyList<string> HourSql =
    [
        "DELETE FROM statistics_stale_hours WHERE hour = @key",
        "DELETE FROM statistics_hourly WHERE hour = @key",
        .. CountSql("statistics_hourly", "hour"),
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
