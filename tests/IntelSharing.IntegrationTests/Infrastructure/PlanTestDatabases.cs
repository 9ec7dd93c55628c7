using Dapper;
using System.Text.Json.Nodes;
using IntelSharing.Api.Infrastructure.Persistence;
using Microsoft.Extensions.Options;

namespace IntelSharing.IntegrationTests.Infrastructure;

/// <summary>
/// For tests that read the database's own account of a statement (EXPLAIN): a migrated, empty database of either kind
/// that the test writes its rows into directly, with no API in front, and the rows a PostgreSQL plan read.
/// </summary>
public static class PlanTestDatabases
{
    /// <summary>A new database in the shared cluster (skips, or fails under INTELSHARING_REQUIRE_POSTGRES, when there is none).</summary>
    public static async Task<Database> PostgresAsync(string purpose)
    {
        var cluster = await PostgresCluster.Shared;
        if (cluster.AdminConnectionString is null)
        {
            Assert.True(!PostgresCluster.Required, cluster.UnavailableReason);
            Assert.Skip(cluster.UnavailableReason!);
        }

        var connectionString = await MigratedTemplates.CopyPostgresAsync(cluster, purpose);
        return new Database(Options.Create(new DatabaseOptions { Provider = DatabaseProvider.Postgres, ConnectionString = connectionString }));
    }

    /// <summary>
    /// Rows the scans of <paramref name="relations"/> produced or discarded (filter, index recheck), over all their
    /// loops, in a node of <c>EXPLAIN (ANALYZE, FORMAT JSON)</c> and below it; <paramref name="within"/> says from which
    /// node on a scan counts (every node when null).
    /// </summary>
    public static double RowsRead(JsonNode node, IReadOnlyCollection<string> relations, Func<JsonNode, bool>? within = null, bool counting = false)
    {
        counting |= within is null || within(node);
        var read = 0.0;
        if (counting && relations.Contains((string?)node["Relation Name"]))
        {
            read += (double)node["Actual Loops"]! * ((double)node["Actual Rows"]!
                                                    + ((double?)node["Rows Removed by Filter"] ?? 0)
                                                    + ((double?)node["Rows Removed by Index Recheck"] ?? 0));
        }

        foreach (var child in node["Plans"]?.AsArray() ?? [])
        {
            read += RowsRead(child!, relations, within, counting);
        }

        return read;
    }
}

/// <summary>A migrated SQLite file of its own, deleted with the test class.</summary>
public sealed class SqlitePlanTestFile : IDisposable
{
    private readonly string _file = Path.Combine(Path.GetTempPath(), $"intelsharing-plan-{Guid.NewGuid():N}.db");

    public async Task<Database> MigratedAsync()
    {
        var connectionString = await MigratedTemplates.CopySqliteAsync(_file);
        return new Database(Options.Create(new DatabaseOptions { Provider = DatabaseProvider.Sqlite, ConnectionString = connectionString }));
    }

    /// <summary>
    /// SQLite's plan for <paramref name="sql"/> (the detail of each <c>EXPLAIN QUERY PLAN</c> row), first without and then
    /// with the statistics <c>ANALYZE</c> gathers: a plan test asserts the same of both.
    /// </summary>
    public static async Task<List<List<string>>> PlansWithAndWithoutStatisticsAsync(Database database, string sql, object parameters, CancellationToken cancellationToken)
    {
        var plans = new List<List<string>>();
        foreach (var analyse in new[] { "", "ANALYZE main" })
        {
            await using var connection = await database.OpenAsync(cancellationToken);
            if (analyse.Length > 0)
            {
                await connection.ExecuteAsync(analyse);
            }

            plans.Add([.. (await connection.QueryAsync<(long Id, long Parent, long NotUsed, string Detail)>(new CommandDefinition(
                "EXPLAIN QUERY PLAN " + sql, parameters, cancellationToken: cancellationToken))).Select(r => r.Detail)]);
        }

        return plans;
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        foreach (var suffix in new[] { "", "-wal", "-shm" })
        {
            File.Delete(_file + suffix);
        }
    }
}
