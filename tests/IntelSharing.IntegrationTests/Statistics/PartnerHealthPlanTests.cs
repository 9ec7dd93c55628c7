using System.Text.Json.Nodes;
using Dapper;
using IntelSharing.Api.Features.Subscriptions;
using IntelSharing.Api.Infrastructure.Persistence;
using IntelSharing.IntegrationTests.Infrastructure;

namespace IntelSharing.IntegrationTests.Statistics;

/// <summary>
/// Partner health shows each subscription's last failed attempt of the day. Found by walking the subscription's attempts
/// backwards until one failed, a partner that had not failed since morning cost a view every attempt it had received
/// since: the cost grew with its traffic. The failed attempts have a partial index of their own (migration 0036); the
/// look-up must read the one row it returns, however many attempts succeeded after it.
/// </summary>
public abstract class PartnerHealthPlanTests
{
    /// <summary>Successful attempts after the failure, in the last day.</summary>
    protected const int Succeeded = 3_000;

    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    protected abstract Task<Database> MigratedDatabaseAsync();

    /// <summary>Asserts from the database's own account of <paramref name="sql"/> that it reads only the row it returns.</summary>
    protected abstract Task AssertReadsOnlyTheFailureAsync(Database database, string sql, object parameters);

    [Fact]
    public async Task The_last_failed_attempt_is_read_from_its_index_however_many_attempts_succeeded_after_it()
    {
        await using var database = await MigratedDatabaseAsync();
        var subscription = Guid.NewGuid();
        var now = DateTimeOffset.UtcNow;
        await using (var connection = await database.OpenAsync(Ct))
        {
            if (database.Dialect.MigrationSuffix == "sqlite")
            {
                // SQLite keeps the deliveries' foreign keys (ADR 15 dropped PostgreSQL's): this test writes attempts, not their events.
                await connection.ExecuteAsync("PRAGMA foreign_keys = OFF");
            }

            await using var transaction = await connection.BeginTransactionAsync(Ct);
            var delivery = Guid.NewGuid();
            await connection.ExecuteAsync(new CommandDefinition(
                """
                INSERT INTO deliveries (id, event_id, subscription_id, agency_id, state, attempts, next_attempt_at, created_at, updated_at)
                VALUES (@delivery, @delivery, @subscription, @delivery, 'delivered', 0, @at, @at, @at)
                """, new { delivery, subscription, at = now.AddHours(-20) }, transaction, cancellationToken: Ct));
            const string Insert = """
                INSERT INTO delivery_attempts (delivery_id, attempt, started_at, duration_ms, status_code, error, subscription_id)
                VALUES (@delivery, @attempt, @at, @ms, @status, @error, @subscription)
                """;
            // A failure two days ago (outside the day), the failure to find (a timeout: no status), then only successes.
            await connection.ExecuteAsync(new CommandDefinition(Insert, new[]
            {
                new { delivery, attempt = 1, at = now.AddDays(-2), ms = 10, status = (int?)500, error = (string?)"HTTP 500", subscription },
                new { delivery, attempt = 2, at = now.AddHours(-20), ms = 30_000, status = (int?)null, error = (string?)"timeout", subscription },
            }, transaction, cancellationToken: Ct));
            await connection.ExecuteAsync(new CommandDefinition(Insert, Enumerable.Range(0, Succeeded).Select(i => new
            {
                delivery, attempt = 3 + i, at = now.AddHours(-19).AddSeconds(i * 20), ms = 12, status = (int?)204, error = (string?)null, subscription,
            }), transaction, cancellationToken: Ct));
            await transaction.CommitAsync(Ct);
        }

        var sql = ListPartnerHealth.LatestFailureSql("@subscription", "failure");
        var parameters = new { subscription, dayAgo = now.AddDays(-1) };
        await using (var connection = await database.OpenAsync(Ct))
        {
            var found = Assert.Single(await connection.QueryAsync<(Guid SubscriptionId, int Failure, DateTimeOffset StartedAt, int DurationMs, int? StatusCode, string? Error)>(
                new CommandDefinition(sql, parameters, cancellationToken: Ct)));
            Assert.Equal((subscription, 30_000, (int?)null, "timeout"), (found.SubscriptionId, found.DurationMs, found.StatusCode, found.Error));
        }

        await AssertReadsOnlyTheFailureAsync(database, sql, parameters);
    }
}

public sealed class PartnerHealthPlanTestsOnPostgres : PartnerHealthPlanTests
{
    protected override Task<Database> MigratedDatabaseAsync() => PlanTestDatabases.PostgresAsync("healthplan");

    protected override async Task AssertReadsOnlyTheFailureAsync(Database database, string sql, object parameters)
    {
        await using var connection = await database.OpenAsync(Ct);
        await connection.ExecuteAsync("ANALYZE delivery_attempts");
        var json = await connection.ExecuteScalarAsync<string>(new CommandDefinition("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, parameters, cancellationToken: Ct));
        var read = PlanTestDatabases.RowsRead(JsonNode.Parse(json!)![0]!["Plan"]!, ["delivery_attempts"]);
        Assert.True(read <= 1, $"The last failure read {read} attempts of {Succeeded + 2}. Plan:\n{json}");
    }
}

public sealed class PartnerHealthPlanTestsOnSqlite : PartnerHealthPlanTests, IDisposable
{
    private readonly SqlitePlanTestFile _file = new();

    public void Dispose() => _file.Dispose();

    protected override Task<Database> MigratedDatabaseAsync() => _file.MigratedAsync();

    protected override async Task AssertReadsOnlyTheFailureAsync(Database database, string sql, object parameters)
    {
        // With and without the statistics ANALYZE gathers: the look-up searches the index of failed attempts.
        foreach (var plan in await SqlitePlanTestFile.PlansWithAndWithoutStatisticsAsync(database, sql, parameters, Ct))
        {
            Assert.Contains(plan, d => d.StartsWith("SEARCH da USING INDEX ix_delivery_attempts_failed (subscription_id=? AND started_at>?)", StringComparison.Ordinal));
        }
    }
}
