using System.Net;
using Dapper;
using IntelSharing.Api.Infrastructure.Audit;
using IntelSharing.Api.Infrastructure.Persistence;
using IntelSharing.Api.Infrastructure.Security;
using IntelSharing.Api.Domain;
using IntelSharing.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace IntelSharing.IntegrationTests.Audit;

/// <summary>
/// The audit records of reads are committed in groups (ADR 17). The fixtures hold a group open for seconds until it
/// has <see cref="Reads"/> records, so the reads a test sends together are certain to share one commit.
/// </summary>
public abstract class ReadAuditGroupTests(ApiFixture app)
{
    public const int Reads = 4;

    public static readonly KeyValuePair<string, string>[] GroupSettings =
    [
        new("CommitGroups:AuditRecords:Window", "00:00:05"),
        new("CommitGroups:AuditRecords:MaxSize", Reads.ToString(System.Globalization.CultureInfo.InvariantCulture)),
    ];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Concurrent_reads_share_one_commit_and_each_read_has_its_record_when_its_answer_arrives()
    {
        var originator = await app.CreateAgencyAsync("Border Police");
        var reader = await app.CreateAgencyAsync("Hungarian Police", "HU");
        var created = await originator.Client.PostAsync("/api/v1/alerts", Samples.Json(Samples.SmugglingAlert()), Ct);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = (await created.ReadJsonAsync()).GetProperty("id").GetGuid();
        var group = app.Services.GetRequiredService<CommitGroup<AuditRecord, bool, AuditRecordCommits>>();
        var before = group.Committed;

        var answers = await Task.WhenAll(Enumerable.Range(0, Reads).Select(_ => reader.Client.GetAsync($"/api/v1/alerts/{id}", Ct)));

        Assert.All(answers, a => Assert.Equal(HttpStatusCode.OK, a.StatusCode));
        Assert.Equal((before.Groups + 1, before.Items + Reads), (group.Committed.Groups, group.Committed.Items));
        await using var connection = await app.Database.OpenAsync(Ct);
        Assert.Equal(Reads, await connection.ExecuteScalarAsync<long>(
            "SELECT COUNT(*) FROM audit_records WHERE action = @action AND resource_id = @id AND agency_id = @agency AND outcome = 200",
            new { action = AuditActions.AlertRead, id, agency = reader.Id }));
    }

    [Fact]
    public async Task A_read_group_is_inserted_unsealed_between_writes_records_and_after_sealing_the_chain_verifies()
    {
        var auditor = await app.CreateAgencyAsync("Data Protection Office", "RS", AgencyKind.Operator, Scopes.AuditRead);
        var originator = await app.CreateAgencyAsync("Border Police");
        var reader = await app.CreateAgencyAsync("Hungarian Police", "HU");
        var id = await originator.PublishAsync(Samples.SmugglingAlert());

        var answers = await Task.WhenAll(Enumerable.Range(0, Reads).Select(_ => reader.Client.GetAsync($"/api/v1/alerts/{id}", Ct)));
        Assert.All(answers, a => Assert.Equal(HttpStatusCode.OK, a.StatusCode));
        await originator.PublishAsync(Samples.CyberAlert());

        // Every field of each record as the request made it, written by the group's one statement (arrays on PostgreSQL).
        var reads = await app.AuditRecordsAsync($"action = '{AuditActions.AlertRead}' AND resource_id = '{id}'");
        Assert.Equal(Reads, reads.Count);
        Assert.All(reads, r => Assert.Equal((reader.Id, 200, "alert", TestData.KeyPrefixOf(reader.Key)), (r.AgencyId!.Value, r.Outcome, r.ResourceType!, r.KeyPrefix!)));
        Assert.Equal(Reads, reads.Select(r => r.Id).Distinct().Count());

        await app.SealAuditAsync();
        var verification = await (await auditor.Client.GetAsync("/api/v1/audit/verify", Ct)).ReadJsonAsync();

        Assert.True(verification.GetProperty("ok").GetBoolean(), verification.ToString());
        Assert.All(await app.AuditRecordsAsync($"action = '{AuditActions.AlertRead}' AND resource_id = '{id}'"), r => Assert.NotNull(r.Seq));
    }
}

public sealed class ReadAuditGroupSqliteFixture : SqliteApiFixture
{
    protected override IEnumerable<KeyValuePair<string, string>> Settings => ReadAuditGroupTests.GroupSettings;
}

public sealed class ReadAuditGroupPostgresFixture : PostgresApiFixture
{
    protected override IEnumerable<KeyValuePair<string, string>> Settings => ReadAuditGroupTests.GroupSettings;
}

public sealed class ReadAuditGroupTestsOnSqlite(ReadAuditGroupSqliteFixture app) : ReadAuditGroupTests(app), IClassFixture<ReadAuditGroupSqliteFixture>;

public sealed class ReadAuditGroupTestsOnPostgres(ReadAuditGroupPostgresFixture app) : ReadAuditGroupTests(app), IClassFixture<ReadAuditGroupPostgresFixture>;
