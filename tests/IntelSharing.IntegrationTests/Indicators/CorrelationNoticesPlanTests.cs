using System.Text.Json.Nodes;
using Dapper;
using IntelSharing.Api.Features.Indicators;
using IntelSharing.Api.Infrastructure.Persistence;
using IntelSharing.IntegrationTests.Infrastructure;

namespace IntelSharing.IntegrationTests.Indicators;

/// <summary>
/// What the correlation worker reads of what it already told (ADR 46). A run reads the notices of its up to 64 subjects,
/// as alert or as counterpart, from tables that hold every correlation ever told. Written as one
/// <c>alert_id IN (…) OR counterpart_alert_id IN (…)</c>, PostgreSQL read all of <c>correlation_told</c> whenever its
/// statistics put many rows on each alert (87,689 rows for 221 in the benchmark): a run's cost grew with the store's age.
/// </summary>
public abstract class CorrelationNoticesPlanTests
{
    /// <summary>Told rows that concern none of the subjects, in each table.</summary>
    protected const int History = 6_000;

    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    protected abstract Task<Database> MigratedDatabaseAsync();

    /// <summary>Asserts from the database's own account of <paramref name="sql"/> that it reads about what it returns.</summary>
    protected abstract Task AssertReadsOnlyWhatItReturnsAsync(Database database, string sql, DynamicParameters parameters, int returned);

    [Fact]
    public async Task The_notices_of_a_run_are_each_read_once_and_found_through_the_indexes_however_large_the_history()
    {
        await using var database = await MigratedDatabaseAsync();
        var subjects = Enumerable.Range(0, 5).Select(_ => Guid.NewGuid()).ToList();
        var expected = await SeedAsync(database, subjects);

        var (sql, parameters) = CorrelateAlerts.NoticesStatement(database.Dialect, subjects);
        await using (var connection = await database.OpenAsync(Ct))
        {
            await using var transaction = await connection.BeginTransactionAsync(Ct);
            var read = (await connection.QueryAsync<(Guid AlertId, Guid CounterpartId, byte[] ValueKeys, string Kind, bool PerPair)>(
                new CommandDefinition(sql, parameters, transaction, cancellationToken: Ct))).ToList();
            await transaction.CommitAsync(Ct);

            // Every row that names a subject at either end, from both tables, once: a pair of two subjects is not read twice
            // (the worker keys the pairs it holds by (kind, alert, counterpart) and would fail on a duplicate).
            Assert.Equal(
                expected.Select(r => $"{r.Table}:{r.AlertId}:{r.CounterpartId}").Order(),
                read.Select(r => $"{(r.PerPair ? "correlation_told" : "correlation_notices")}:{r.AlertId}:{r.CounterpartId}").Order());
        }

        await AssertReadsOnlyWhatItReturnsAsync(database, sql, parameters, expected.Count);
    }

    /// <summary>
    /// <see cref="History"/> rows in each table between alerts that are not subjects, then for each subject a row as alert,
    /// a row as counterpart, and a row with the next subject: <c>5 × 3</c> rows per table, each to be read once.
    /// </summary>
    private static async Task<List<(string Table, Guid AlertId, Guid CounterpartId)>> SeedAsync(Database database, List<Guid> subjects)
    {
        var expected = new List<(string Table, Guid AlertId, Guid CounterpartId)>();
        var history = new List<(string Table, Guid AlertId, Guid CounterpartId)>();
        foreach (var table in new[] { "correlation_notices", "correlation_told" })
        {
            history.AddRange(Enumerable.Range(0, History).Select(_ => (table, Guid.NewGuid(), Guid.NewGuid())));
            for (var i = 0; i < subjects.Count; i++)
            {
                expected.Add((table, subjects[i], Guid.NewGuid()));
                expected.Add((table, Guid.NewGuid(), subjects[i]));
                expected.Add((table, subjects[i], subjects[(i + 1) % subjects.Count]));
            }
        }

        await using var connection = await database.OpenAsync(Ct);
        await using var transaction = await connection.BeginTransactionAsync(Ct);
        var at = DateTimeOffset.UtcNow;
        var key = new byte[32];
        foreach (var (table, alertId, counterpartId) in history.Concat(expected))
        {
            var sql = table == "correlation_told"
                ? "INSERT INTO correlation_told (alert_id, counterpart_alert_id, kind, value_keys, notified_at) VALUES (@alertId, @counterpartId, 'alert.correlated', @key, @at)"
                : "INSERT INTO correlation_notices (alert_id, counterpart_alert_id, value_key, kind, notified_at) VALUES (@alertId, @counterpartId, @key, 'alert.correlated', @at)";
            await connection.ExecuteAsync(new CommandDefinition(sql, new { alertId, counterpartId, key, at }, transaction, cancellationToken: Ct));
        }

        await transaction.CommitAsync(Ct);
        return expected;
    }

    /// <summary>The statement without the dialect's settings around it, and those settings.</summary>
    protected static (string Before, string Statement, string After) Unwrapped(SqlDialect dialect, string sql)
    {
        var parts = dialect.WithoutTableScans("\u0000").Split('\u0000');
        Assert.StartsWith(parts[0], sql, StringComparison.Ordinal);
        Assert.EndsWith(parts[1], sql, StringComparison.Ordinal);
        return (parts[0], sql[parts[0].Length..^parts[1].Length], parts[1]);
    }
}

public sealed class CorrelationNoticesPlanTestsOnPostgres : CorrelationNoticesPlanTests
{
    protected override Task<Database> MigratedDatabaseAsync() => PlanTestDatabases.PostgresAsync("noticeplan");

    protected override async Task AssertReadsOnlyWhatItReturnsAsync(Database database, string sql, DynamicParameters parameters, int returned)
    {
        var (before, statement, _) = Unwrapped(database.Dialect, sql);
        await using (var connection = await database.OpenAsync(Ct))
        {
            await connection.ExecuteAsync("ANALYZE correlation_told; ANALYZE correlation_notices");
        }

        // With this database's own statistics; then with statistics that say each alert is in the whole table (the
        // benchmark's were a milder case: every key a large share of the table), alone, with index reads priced a
        // hundred times dearer, without plain index scans, and without bitmaps. Each time the statement reads about what
        // it returns, never the history. As one OR per table it read the whole table with those statistics (a sequential
        // scan); with sequential scans off as well, it still read it without bitmaps (every index entry, filtered).
        await AssertPlanAsync(database, before, statement, parameters, returned, "");
        await using (var connection = await database.OpenAsync(Ct))
        {
            await connection.ExecuteAsync(
                """
                ALTER TABLE correlation_told ALTER COLUMN alert_id SET (n_distinct = 1), ALTER COLUMN counterpart_alert_id SET (n_distinct = 1);
                ALTER TABLE correlation_notices ALTER COLUMN alert_id SET (n_distinct = 1), ALTER COLUMN counterpart_alert_id SET (n_distinct = 1);
                ANALYZE correlation_told; ANALYZE correlation_notices
                """);
        }

        foreach (var adverse in new[] { "", "SET LOCAL random_page_cost = 400; SET LOCAL seq_page_cost = 0.01;", "SET LOCAL enable_indexscan = off;", "SET LOCAL enable_bitmapscan = off;" })
        {
            await AssertPlanAsync(database, before, statement, parameters, returned, adverse);
        }
    }

    private static async Task AssertPlanAsync(Database database, string before, string statement, DynamicParameters parameters, int returned, string adverse)
    {
        await using var connection = await database.OpenAsync(Ct);
        await using var transaction = await connection.BeginTransactionAsync(Ct);
        await connection.ExecuteAsync(new CommandDefinition(adverse + before, transaction: transaction, cancellationToken: Ct));
        var json = await connection.ExecuteScalarAsync<string>(new CommandDefinition(
            "EXPLAIN (ANALYZE, FORMAT JSON) " + statement, parameters, transaction, cancellationToken: Ct));
        await transaction.RollbackAsync(Ct);

        var plan = JsonNode.Parse(json!)![0]!["Plan"]!;
        Assert.Equal(returned, (int)plan["Actual Rows"]!);
        // Each table returns half the rows; each of its rows between two subjects is found from both ends, once kept.
        var read = PlanTestDatabases.RowsRead(plan, ["correlation_told", "correlation_notices"]);
        Assert.True(read <= returned * 2, $"Under \"{adverse}\" the read of {returned} notices read {read} rows of {2 * History} told. Plan:\n{json}");
    }
}

public sealed class CorrelationNoticesPlanTestsOnSqlite : CorrelationNoticesPlanTests, IDisposable
{
    private readonly SqlitePlanTestFile _file = new();

    public void Dispose() => _file.Dispose();

    protected override Task<Database> MigratedDatabaseAsync() => _file.MigratedAsync();

    protected override async Task AssertReadsOnlyWhatItReturnsAsync(Database database, string sql, DynamicParameters parameters, int returned)
    {
        // With and without the statistics ANALYZE gathers: each of the four branches searches its table's index by key.
        foreach (var plan in await SqlitePlanTestFile.PlansWithAndWithoutStatisticsAsync(database, sql, parameters, Ct))
        {
            var text = string.Join("\n", plan);
            var reads = plan.Where(d => d.Contains("correlation_", StringComparison.Ordinal) || d.StartsWith("SCAN t", StringComparison.Ordinal) || d.StartsWith("SEARCH t", StringComparison.Ordinal)).ToList();
            Assert.Equal(4, reads.Count(d => d.StartsWith("SEARCH ", StringComparison.Ordinal) && d.Contains(" USING ", StringComparison.Ordinal)));
            Assert.DoesNotContain(reads, d => d.StartsWith("SCAN ", StringComparison.Ordinal));
            Assert.True(reads.Count == 4, text);
        }
    }
}
