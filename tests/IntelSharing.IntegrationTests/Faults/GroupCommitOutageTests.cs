using System.Net;
using Dapper;
using IntelSharing.Api.Domain;
using IntelSharing.Api.Features.Alerts;
using IntelSharing.Api.Infrastructure.Persistence;
using IntelSharing.Api.Infrastructure.Security;
using IntelSharing.IntegrationTests.Alerts;
using IntelSharing.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace IntelSharing.IntegrationTests.Faults;

/// <summary>The outage fixture, with submissions held in a group for seconds (<see cref="GroupCommitTests.GroupSettings"/>).</summary>
public sealed class GroupedOutageFixture : OutageFixture
{
    protected override IEnumerable<KeyValuePair<string, string>> Settings => [.. base.Settings, .. GroupCommitTests.GroupSettings];
}

/// <summary>PostgreSQL stops while a commit group of submissions is gathering: every submission of the group is refused alike, none is stored.</summary>
[Collection(nameof(FaultCollection))]
public sealed class GroupCommitOutageTests(GroupedOutageFixture app) : IClassFixture<GroupedOutageFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task When_the_database_fails_under_a_gathering_group_every_submission_of_it_gets_503_and_none_is_stored()
    {
        app.RequireDatabase();
        var agency = await app.CreateAgencyAsync("Border Police Directorate", "RS", AgencyKind.BorderGuard, Scopes.AlertsWrite, Scopes.AlertsRead);
        var group = app.Services.GetRequiredService<CommitGroup<SubmitAlert.Submission, SubmitAlert.Stored, SubmitAlert.Commits>>();
        var keys = Enumerable.Range(0, GroupCommitTests.GroupSize - 2).Select(i => $"outage-group-{i}").ToList();

        // A first submission warms the process up (it waits out the window alone), so the group below gathers in time.
        Assert.Equal(HttpStatusCode.Created, (await agency.Client.SubmitAsync(Samples.SmugglingAlert(), "outage-group-warm-up", Ct)).StatusCode);

        // Fewer submissions than the group holds: it waits out its window, and the database goes down meanwhile.
        var answers = keys.Select(key => agency.Client.SubmitAsync(Samples.SmugglingAlert(), key, Ct)).ToList();
        await DeliveryTestSettings.EventuallyAsync(() => Task.FromResult(group.Unanswered == keys.Count), "every submission waiting in the group", TimeSpan.FromSeconds(4));
        await app.Cluster.StopAsync("immediate");
        try
        {
            foreach (var answer in await Task.WhenAll(answers))
            {
                Assert.Equal(HttpStatusCode.ServiceUnavailable, answer.StatusCode);
                Assert.Equal("application/problem+json", answer.Content.Headers.ContentType?.MediaType);
                Assert.Equal("urn:intelsharing:problem:service-unavailable", (await answer.ReadJsonAsync()).GetProperty("type").GetString());
                Assert.True(answer.Headers.Contains("Retry-After"));
            }
        }
        finally
        {
            await app.Cluster.StartAsync();
        }

        // Only the warm-up's alert and key are stored.
        await using (var connection = await app.Database.OpenAsync(Ct))
        {
            Assert.Equal(1, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM alerts WHERE originator_id = @id", new { id = agency.Id }));
            Assert.Equal(1, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM idempotency_keys WHERE agency_id = @id", new { id = agency.Id }));
        }

        // Nothing was acknowledged, so the client retries each with its key and gets one alert each.
        var retried = await Task.WhenAll(keys.Select(key => agency.Client.SubmitAsync(Samples.SmugglingAlert(), key, Ct)));
        Assert.All(retried, r => Assert.Equal(HttpStatusCode.Created, r.StatusCode));
        Assert.All(retried, r => Assert.False(r.Headers.Contains("Idempotent-Replayed")));
        Assert.Equal(keys.Count, retried.Select(r => r.Headers.Location).Distinct().Count());
    }
}
