using System.Net;
using Dapper;
using IntelSharing.Api.Infrastructure.Persistence;
using IntelSharing.Api.Infrastructure.Security;
using IntelSharing.IntegrationTests.Infrastructure;
using Microsoft.Extensions.Options;

namespace IntelSharing.IntegrationTests.Alerts;

/// <summary>
/// Two real API processes on one PostgreSQL, each storing submissions in commit groups, receive the same keys at once:
/// the groups of the two instances claim keys the other holds, and the claims wait for each other instead of failing.
/// </summary>
public sealed class GroupCommitAcrossInstancesTests
{
    private const int Keys = 48;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Two_instances_grouping_the_same_idempotency_keys_in_opposite_orders_store_one_alert_per_key_and_answer_both_requests_with_it()
    {
        var cluster = await PostgresCluster.Shared;
        if (cluster.AdminConnectionString is null)
        {
            Assert.True(!PostgresCluster.Required, cluster.UnavailableReason);
            Assert.Skip(cluster.UnavailableReason!);
        }

        var connectionString = await cluster.CreateDatabaseAsync("groupcommit");
        // Groups of up to 16 gathered for up to 50 ms: each instance's groups hold keys the other instance's groups want.
        var settings = new Dictionary<string, string>
        {
            ["CommitGroups__Submissions__Window"] = "00:00:00.050",
            ["CommitGroups__Submissions__MaxSize"] = "16",
            ["Delivery__Enabled"] = "false",
        };
        await using var first = ApiProcess.Start(connectionString, settings);
        await first.WaitUntilReadyAsync();
        await using var second = ApiProcess.Start(connectionString, settings);
        await second.WaitUntilReadyAsync();
        var database = new Database(Options.Create(new DatabaseOptions { Provider = DatabaseProvider.Postgres, ConnectionString = connectionString }));
        await using var _ = database;
        var (agencyId, key) = await ApiProcess.CreateAgencyAsync(database, "Border Police Directorate", [Scopes.AlertsWrite, Scopes.AlertsRead]);
        using var toFirst = first.Client(key);
        using var toSecond = second.Client(key);

        var keys = Enumerable.Range(0, Keys).Select(i => $"both-instances-{i:D2}").ToList();
        var fromFirst = keys.Select(k => toFirst.SubmitAsync(Samples.SmugglingAlert(), k, Ct)).ToList();
        var fromSecond = Enumerable.Reverse(keys).Select(k => toSecond.SubmitAsync(Samples.SmugglingAlert(), k, Ct)).Reverse().ToList();
        var answers = await Task.WhenAll(fromFirst.Concat(fromSecond));

        Assert.All(answers, a => Assert.Equal(HttpStatusCode.Created, a.StatusCode));
        for (var i = 0; i < Keys; i++)
        {
            var (a, b) = (answers[i], answers[Keys + i]);
            Assert.Equal(a.Headers.Location, b.Headers.Location);
            Assert.Single(new[] { a, b }, r => r.Headers.Contains("Idempotent-Replayed"));
        }

        await using var connection = await database.OpenAsync(Ct);
        Assert.Equal(Keys, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM alerts WHERE originator_id = @agencyId", new { agencyId }));
        Assert.Equal(Keys, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM idempotency_keys WHERE agency_id = @agencyId", new { agencyId }));
    }
}
