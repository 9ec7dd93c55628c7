using System.Diagnostics;
using System.Net;
using Dapper;
using IntelSharing.Api.Infrastructure.Persistence;
using IntelSharing.Api.Infrastructure.Security;
using IntelSharing.IntegrationTests.Infrastructure;
using Microsoft.Extensions.Options;

namespace IntelSharing.IntegrationTests.Security;

/// <summary>
/// Two real API processes on one PostgreSQL, each caching key rows (docs/decisions/0014): a change made through one
/// must be honoured by the other within one second, although the other has the key's row in its cache.
/// </summary>
public sealed class ApiKeyRevocationAcrossInstancesTests
{
    private static readonly TimeSpan Within = TimeSpan.FromSeconds(1);
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_key_revoked_on_one_instance_is_refused_by_the_other_within_one_second()
    {
        await using var cluster = await TwoInstances.StartAsync("keyrevoke");
        if (cluster is null)
        {
            return;
        }

        var (partnerId, partnerKey) = await ApiProcess.CreateAgencyAsync(cluster.Database, "Croatian Border Police", [Scopes.AlertsRead], "HR");
        using var onSecond = cluster.Second.Client(partnerKey);
        await cluster.AssertCachedOnBothAsync(partnerKey);
        var keyId = await cluster.KeyIdAsync(partnerKey);

        var revoked = await cluster.OperatorOnFirst.DeleteAsync($"/api/v1/agencies/{partnerId}/keys/{keyId}", Ct);

        Assert.Equal(HttpStatusCode.NoContent, revoked.StatusCode);
        await RefusedWithinAsync(onSecond);
    }

    [Fact]
    public async Task A_key_of_an_agency_deactivated_on_one_instance_is_refused_by_the_other_within_one_second()
    {
        await using var cluster = await TwoInstances.StartAsync("keydeactivate");
        if (cluster is null)
        {
            return;
        }

        var (partnerId, partnerKey) = await ApiProcess.CreateAgencyAsync(cluster.Database, "Hungarian Police", [Scopes.AlertsRead], "HU");
        using var onSecond = cluster.Second.Client(partnerKey);
        await cluster.AssertCachedOnBothAsync(partnerKey);

        var deactivated = await cluster.OperatorOnFirst.PostAsync($"/api/v1/agencies/{partnerId}/deactivate", null, Ct);

        Assert.Equal(HttpStatusCode.OK, deactivated.StatusCode);
        await RefusedWithinAsync(onSecond);
    }

    [Fact]
    public async Task A_key_revoked_while_the_other_instances_listener_was_disconnected_is_refused_by_it_within_one_second_and_the_listener_reconnects()
    {
        await using var cluster = await TwoInstances.StartAsync("keylistenerlost");
        if (cluster is null)
        {
            return;
        }

        var (_, partnerKey) = await ApiProcess.CreateAgencyAsync(cluster.Database, "Frontex Situation Centre", [Scopes.AlertsRead], "PL");
        using var onSecond = cluster.Second.Client(partnerKey);
        await cluster.AssertCachedOnBothAsync(partnerKey);
        var keyId = await cluster.KeyIdAsync(partnerKey);

        // The listeners' sessions are cut and the key revoked in the same statement batch, before any listener can
        // reconnect: nobody is LISTENing when the revocation commits, so its notice reaches no instance.
        await using (var connection = await cluster.Database.OpenAsync(Ct))
        {
            await connection.ExecuteAsync(new CommandDefinition(
                """
                SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = @listener AND datname = current_database();
                UPDATE api_keys SET revoked_at = now() WHERE id = @keyId;
                """,
                new { listener = ApiKeyChangeListener.ApplicationName, keyId }, cancellationToken: Ct));
        }

        await RefusedWithinAsync(onSecond);

        // And the listeners come back by themselves: a key used again on both is cached, and its revocation heard.
        var (partnerId, otherKey) = await ApiProcess.CreateAgencyAsync(cluster.Database, "Frontex Risk Analysis Unit", [Scopes.AlertsRead], "PL");
        using var otherOnSecond = cluster.Second.Client(otherKey);
        await cluster.AssertCachedOnBothAsync(otherKey);
        var otherKeyId = await cluster.KeyIdAsync(otherKey);
        Assert.Equal(HttpStatusCode.NoContent, (await cluster.OperatorOnFirst.DeleteAsync($"/api/v1/agencies/{partnerId}/keys/{otherKeyId}", Ct)).StatusCode);
        await RefusedWithinAsync(otherOnSecond);
    }

    /// <summary>Polls (bounded) until the instance answers 401; fails if it takes longer than <see cref="Within"/>.</summary>
    private static async Task RefusedWithinAsync(HttpClient client)
    {
        var clock = Stopwatch.StartNew();
        var last = HttpStatusCode.OK;
        while (clock.Elapsed < Within)
        {
            last = (await client.GetAsync("/api/v1/alerts", Ct)).StatusCode;
            if (last == HttpStatusCode.Unauthorized)
            {
                return;
            }

            await Task.Delay(20, Ct);
        }

        Assert.Fail($"The other instance still answered {(int)last} {Within.TotalSeconds:0.#} s after the change.");
    }

    /// <summary>Two API processes on one fresh PostgreSQL database, and an operator key.</summary>
    private sealed class TwoInstances : IAsyncDisposable
    {
        private TwoInstances(Database database, ApiProcess first, ApiProcess second, HttpClient operatorOnFirst)
        {
            Database = database;
            First = first;
            Second = second;
            OperatorOnFirst = operatorOnFirst;
        }

        public Database Database { get; }

        public ApiProcess First { get; }

        public ApiProcess Second { get; }

        public HttpClient OperatorOnFirst { get; }

        public static async Task<TwoInstances?> StartAsync(string purpose)
        {
            var cluster = await PostgresCluster.Shared;
            if (cluster.AdminConnectionString is null)
            {
                Assert.True(!PostgresCluster.Required, cluster.UnavailableReason);
                Assert.Skip(cluster.UnavailableReason!);
                return null;
            }

            var connectionString = await cluster.CreateDatabaseAsync(purpose);
            var first = ApiProcess.Start(connectionString);
            var second = ApiProcess.Start(connectionString);
            await first.WaitUntilReadyAsync();
            await second.WaitUntilReadyAsync();
            var database = new Database(Options.Create(new DatabaseOptions { Provider = DatabaseProvider.Postgres, ConnectionString = connectionString }));
            var (_, operatorKey) = await ApiProcess.CreateAgencyAsync(database, "MUP RS — IntelSharing Operations", [Scopes.AgenciesAdmin]);
            return new TwoInstances(database, first, second, first.Client(operatorKey));
        }

        /// <summary>
        /// Uses the key on both instances until both serve it from their cache: a listener that has just connected
        /// empties the cache, so the key is used again once both listeners are up (a session in pg_stat_activity each).
        /// </summary>
        public async Task AssertCachedOnBothAsync(string key)
        {
            await DeliveryTestSettings.EventuallyAsync(
                async () =>
                {
                    await using var connection = await Database.OpenAsync(Ct);
                    return await connection.ExecuteScalarAsync<long>(new CommandDefinition(
                        "SELECT COUNT(*) FROM pg_stat_activity WHERE application_name = @listener AND datname = current_database() AND (query LIKE 'LISTEN%' OR query = 'SELECT 1')",
                        new { listener = ApiKeyChangeListener.ApplicationName }, cancellationToken: Ct)) == 2;
                },
                "both instances listening for key changes", TimeSpan.FromSeconds(30));
            foreach (var instance in new[] { First, Second })
            {
                using var client = instance.Client(key);
                Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/v1/alerts", Ct)).StatusCode);
            }
        }

        public async Task<Guid> KeyIdAsync(string key)
        {
            await using var connection = await Database.OpenAsync(Ct);
            return await connection.ExecuteScalarAsync<Guid>(new CommandDefinition(
                "SELECT id FROM api_keys WHERE prefix = @prefix", new { prefix = ApiKeys.PrefixOf(key) }, cancellationToken: Ct));
        }

        public async ValueTask DisposeAsync()
        {
            OperatorOnFirst.Dispose();
            await First.DisposeAsync();
            await Second.DisposeAsync();
            await Database.DisposeAsync();
        }
    }
}
