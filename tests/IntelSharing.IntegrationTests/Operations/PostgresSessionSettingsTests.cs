using Dapper;
using IntelSharing.Api.Infrastructure.Persistence;
using IntelSharing.IntegrationTests.Infrastructure;
using Microsoft.Extensions.Options;
using Npgsql;

namespace IntelSharing.IntegrationTests.Operations;

/// <summary>
/// The service's PostgreSQL sessions run without JIT compilation (ADR 45): a statement of a few milliseconds whose
/// estimated cost passes jit_above_cost spent more compiling than running (the correlation match, 123 ms compiled
/// against 47 ms not). An operator's connection string that sets jit itself keeps its choice.
/// </summary>
public sealed class PostgresSessionSettingsTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("", "off")]
    [InlineData(";Options=-c jit=on", "on")]
    public async Task Sessions_run_without_JIT_unless_the_connection_string_sets_it(string extra, string expected)
    {
        var cluster = await PostgresCluster.Shared;
        if (cluster.AdminConnectionString is null)
        {
            Assert.True(!PostgresCluster.Required, cluster.UnavailableReason);
            Assert.Skip(cluster.UnavailableReason!);
        }

        var connectionString = new NpgsqlConnectionStringBuilder(cluster.AdminConnectionString) { Pooling = true } + extra;
        await using var database = new Database(Options.Create(new DatabaseOptions { Provider = DatabaseProvider.Postgres, ConnectionString = connectionString }));
        // Twice: a pooled connection handed out again keeps the setting (nothing resets it on return).
        for (var i = 0; i < 2; i++)
        {
            await using var connection = await database.OpenAsync(Ct);
            Assert.Equal(expected, await connection.ExecuteScalarAsync<string>("SHOW jit"));
        }
    }
}
