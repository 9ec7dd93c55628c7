using System.Net;
using Dapper;
using IntelSharing.Api.Features.Alerts;
using IntelSharing.Api.Infrastructure.Audit;
using IntelSharing.Api.Infrastructure.Persistence;
using IntelSharing.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace IntelSharing.IntegrationTests.Alerts;

/// <summary>
/// Submissions stored in commit groups (ADR 17). The fixtures hold a group open for seconds until it has
/// <see cref="GroupSize"/> submissions, so the submissions a test sends together are certain to share one transaction.
/// </summary>
public abstract class GroupCommitTests(ApiFixture app)
{
    public const int GroupSize = 5;

    public static readonly KeyValuePair<string, string>[] GroupSettings =
    [
        new("CommitGroups:Submissions:Window", "00:00:05"),
        new("CommitGroups:Submissions:MaxSize", GroupSize.ToString(System.Globalization.CultureInfo.InvariantCulture)),
    ];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private CommitGroup<SubmitAlert.Submission, SubmitAlert.Stored, SubmitAlert.Commits> Submissions =>
        app.Services.GetRequiredService<CommitGroup<SubmitAlert.Submission, SubmitAlert.Stored, SubmitAlert.Commits>>();

    [Fact]
    public async Task A_group_with_reused_idempotency_keys_answers_each_submission_as_if_alone_and_stores_only_the_new_alerts()
    {
        var agency = await app.CreateAgencyAsync("Border Police");
        var earlier = Samples.SmugglingAlert();
        var first = await agency.Client.SubmitAsync(earlier, "earlier", Ct);
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        var before = await app.CountRowsAsync();
        var groupsBefore = Submissions.Committed;

        var changed = Samples.SmugglingAlert();
        changed["severity"] = "critical";
        var fresh = Samples.SmugglingAlert();
        fresh["title"] = "Second group expected at Kelebija";
        var answers = await Task.WhenAll(
            agency.Client.SubmitAsync(Samples.SmugglingAlert(), "earlier", Ct), // the same key and body as before: the original 201
            agency.Client.SubmitAsync(changed, "earlier", Ct),                  // the same key, another body: 409
            agency.Client.SubmitAsync(fresh, "fresh", Ct),                      // a new key, twice in the same group:
            agency.Client.SubmitAsync(fresh, "fresh", Ct),                      //   one alert, the second answer a replay of the first
            agency.Client.SubmitAsync(Samples.SmugglingAlert(), null, Ct));     // no key: a new alert

        Assert.Equal((groupsBefore.Groups + 1, groupsBefore.Items + GroupSize), (Submissions.Committed.Groups, Submissions.Committed.Items));
        var (replayed, conflict, freshA, freshB, keyless) = (answers[0], answers[1], answers[2], answers[3], answers[4]);

        Assert.Equal(HttpStatusCode.Created, replayed.StatusCode);
        Assert.Equal(first.Headers.Location, replayed.Headers.Location);
        Assert.True(replayed.Headers.Contains("Idempotent-Replayed"));
        Assert.Equal((await first.ReadJsonAsync()).GetRawText(), (await replayed.ReadJsonAsync()).GetRawText());

        Assert.Equal(HttpStatusCode.Conflict, conflict.StatusCode);
        Assert.Equal("urn:intelsharing:problem:idempotency-key-reused", (await conflict.ReadJsonAsync()).GetProperty("type").GetString());

        Assert.Equal(HttpStatusCode.Created, freshA.StatusCode);
        Assert.Equal(HttpStatusCode.Created, freshB.StatusCode);
        Assert.Equal(freshA.Headers.Location, freshB.Headers.Location);
        Assert.Single(new[] { freshA, freshB }, r => r.Headers.Contains("Idempotent-Replayed"));

        Assert.Equal(HttpStatusCode.Created, keyless.StatusCode);
        Assert.NotEqual(freshA.Headers.Location, keyless.Headers.Location);

        var after = await app.CountRowsAsync();
        Assert.Equal(before["alerts"] + 2, after["alerts"]);
        Assert.Equal(before["alert_versions"] + 2, after["alert_versions"]);
        Assert.Equal(before["idempotency_keys"] + 1, after["idempotency_keys"]);
        foreach (var created in new[] { freshA, keyless })
        {
            var read = await agency.Client.GetAsync(created.Headers.Location, Ct);
            Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        }

        // One submit record per request: the fresh alert's creation and its replay, the keyless alert's creation.
        await using var connection = await app.Database.OpenAsync(Ct);
        foreach (var (created, records) in new[] { (freshA, 2L), (keyless, 1L) })
        {
            var id = Guid.Parse(created.Headers.Location!.OriginalString.Split('/')[^1]);
            Assert.Equal(records, await connection.ExecuteScalarAsync<long>(
                "SELECT COUNT(*) FROM audit_records WHERE action = @action AND resource_id = @id AND outcome = 201",
                new { action = AuditActions.AlertSubmit, id }));
        }
    }

    [Fact]
    public async Task A_row_the_database_rejects_fails_only_its_own_submission_and_its_group_neighbours_are_stored()
    {
        var agency = await app.CreateAgencyAsync("Border Police");
        await using (var connection = await app.Database.OpenAsync(Ct))
        {
            // A constraint the API does not know about, as a bad row would meet one: the database refuses this title.
            await connection.ExecuteAsync(app.Provider == DatabaseProvider.Postgres
                ? """
                  CREATE OR REPLACE FUNCTION reject_poisoned_alert() RETURNS trigger AS $$
                  BEGIN RAISE EXCEPTION 'poisoned row' USING ERRCODE = 'check_violation'; END $$ LANGUAGE plpgsql;
                  CREATE OR REPLACE TRIGGER reject_poisoned_alert BEFORE INSERT ON alerts
                  FOR EACH ROW WHEN (NEW.document::text LIKE '%Poisoned row%') EXECUTE FUNCTION reject_poisoned_alert();
                  """
                : """
                  CREATE TRIGGER IF NOT EXISTS reject_poisoned_alert BEFORE INSERT ON alerts
                  WHEN NEW.document LIKE '%Poisoned row%' BEGIN SELECT RAISE(ABORT, 'poisoned row'); END;
                  """);
        }

        var before = await app.CountRowsAsync();
        var poisoned = Samples.SmugglingAlert();
        poisoned["title"] = "Poisoned row";
        var answers = await Task.WhenAll(Enumerable.Range(0, GroupSize).Select(i =>
            agency.Client.SubmitAsync(i == 2 ? poisoned : Samples.SmugglingAlert(), $"neighbour-{Guid.NewGuid():N}", Ct)));

        Assert.Equal(GroupSize - 1, answers.Count(a => a.StatusCode == HttpStatusCode.Created));
        Assert.NotEqual(HttpStatusCode.Created, answers[2].StatusCode);
        var after = await app.CountRowsAsync();
        Assert.Equal(before["alerts"] + GroupSize - 1, after["alerts"]);
        Assert.Equal(before["idempotency_keys"] + GroupSize - 1, after["idempotency_keys"]);
        foreach (var created in answers.Where(a => a.StatusCode == HttpStatusCode.Created))
        {
            Assert.Equal(HttpStatusCode.OK, (await agency.Client.GetAsync(created.Headers.Location, Ct)).StatusCode);
        }
    }
}

public sealed class GroupedSqliteApiFixture : SqliteApiFixture
{
    protected override IEnumerable<KeyValuePair<string, string>> Settings => GroupCommitTests.GroupSettings;
}

public sealed class GroupedPostgresApiFixture : PostgresApiFixture
{
    protected override IEnumerable<KeyValuePair<string, string>> Settings => GroupCommitTests.GroupSettings;
}

public sealed class GroupCommitTestsOnSqlite(GroupedSqliteApiFixture app) : GroupCommitTests(app), IClassFixture<GroupedSqliteApiFixture>;

public sealed class GroupCommitTestsOnPostgres(GroupedPostgresApiFixture app) : GroupCommitTests(app), IClassFixture<GroupedPostgresApiFixture>;
