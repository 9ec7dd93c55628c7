using System.Net;
using System.Text.Json;
using Dapper;
using IntelSharing.Api.Domain;
using IntelSharing.Api.Infrastructure.Audit;
using IntelSharing.Api.Infrastructure.Security;
using IntelSharing.IntegrationTests.Infrastructure;

namespace IntelSharing.IntegrationTests.Audit;

/// <summary>
/// Someone with database access edits or deletes sealed audit records; verification names the first broken
/// seq. Each test puts the row back afterwards and sees the chain verify again, so the tests do not depend on
/// their order. The fake clock keeps the background sealer still: only the tests seal.
/// </summary>
public abstract class AuditTamperTests(ApiFixture app)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>
    /// Creates a few records (a submission, reads, a refused read) a second apart, so that their order in the
    /// chain is defined, seals them, and returns the auditor and the sealed records in seq order.
    /// </summary>
    private async Task<(TestAgency Auditor, IReadOnlyList<AuditRecord> Sealed)> SealedTrailAsync()
    {
        var clock = ((IClockedFixture)app).Clock;
        var auditor = await app.CreateAgencyAsync("Data Protection Office", "RS", AgencyKind.Operator, Scopes.AuditRead);
        var originator = await app.CreateAgencyAsync("Border Police Directorate");
        var named = await app.CreateAgencyAsync("Hungarian National Police", "HU");
        var outsider = await app.CreateAgencyAsync("Turkish National Police", "TR");
        var alertId = await originator.PublishAsync(TestData.SmugglingAlert("red", agencies: [named.Id]));
        foreach (var reader in new[] { named, outsider, named })
        {
            clock.Advance(TimeSpan.FromSeconds(1));
            await reader.Client.GetAsync($"/api/v1/alerts/{alertId}", Ct);
        }

        await app.SealAuditAsync();
        var verification = await VerifyAsync(auditor);
        Assert.True(verification.GetProperty("ok").GetBoolean(), verification.GetRawText());
        return (auditor, (await app.AuditRecordsAsync("seq IS NOT NULL")).OrderBy(r => r.Seq).ToList());
    }

    private static async Task<JsonElement> VerifyAsync(TestAgency auditor)
    {
        var response = await auditor.Client.GetAsync("/api/v1/audit/verify", Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.ReadJsonAsync();
    }

    private async Task ExecuteAsync(string sql, object parameters)
    {
        await using var connection = await app.Database.OpenAsync(Ct);
        await connection.ExecuteAsync(sql, parameters);
    }

    private async Task RestoreAsync(AuditRecord record) =>
        await ExecuteAsync(
            """
            INSERT INTO audit_records (id, recorded_at, agency_id, key_prefix, action, resource_type, resource_id, outcome, purpose, client_ip, detail, seq, hash)
            VALUES (@Id, @RecordedAt, @AgencyId, @KeyPrefix, @Action, @ResourceType, @ResourceId, @Outcome, @Purpose, @ClientIp, @Detail, @Seq, @Hash)
            """,
            record);

    [Fact]
    public async Task Editing_a_sealed_record_in_the_database_makes_verify_report_that_seq()
    {
        var (auditor, records) = await SealedTrailAsync();
        var refused = records.Last(r => r.Action == AuditActions.AlertRead && r.Outcome == 404);
        Assert.True(refused.Seq < records[^1].Seq);

        // Hide the refused read: turn its 404 into a 200.
        await ExecuteAsync("UPDATE audit_records SET outcome = 200 WHERE id = @Id", refused);
        try
        {
            var verification = await VerifyAsync(auditor);

            Assert.False(verification.GetProperty("ok").GetBoolean());
            Assert.Equal(refused.Seq, verification.GetProperty("brokenSeq").GetInt64());
            Assert.Equal(refused.Seq - 1, verification.GetProperty("verified").GetInt64());
            Assert.Contains("does not match its hash", verification.GetProperty("reason").GetString());
        }
        finally
        {
            await ExecuteAsync("UPDATE audit_records SET outcome = @Outcome WHERE id = @Id", refused);
        }

        Assert.True((await VerifyAsync(auditor)).GetProperty("ok").GetBoolean());
    }

    [Fact]
    public async Task Deleting_a_sealed_record_makes_verify_report_the_missing_seq()
    {
        var (auditor, records) = await SealedTrailAsync();
        var deleted = records.Last(r => r.Action == AuditActions.AlertRead && r.Outcome == 404);
        Assert.True(deleted.Seq < records[^1].Seq, "The record deleted here must not be the newest; another test covers that.");

        await ExecuteAsync("DELETE FROM audit_records WHERE id = @Id", deleted);
        try
        {
            var verification = await VerifyAsync(auditor);

            Assert.False(verification.GetProperty("ok").GetBoolean());
            Assert.Equal(deleted.Seq, verification.GetProperty("brokenSeq").GetInt64());
            Assert.Contains($"seq {deleted.Seq} is missing", verification.GetProperty("reason").GetString());
        }
        finally
        {
            await RestoreAsync(deleted);
        }

        Assert.True((await VerifyAsync(auditor)).GetProperty("ok").GetBoolean());
    }

    [Fact]
    public async Task Deleting_the_newest_sealed_records_is_caught_against_the_chain_head()
    {
        var (auditor, records) = await SealedTrailAsync();
        var newest = records[^1];

        await ExecuteAsync("DELETE FROM audit_records WHERE id = @Id", newest);
        try
        {
            var verification = await VerifyAsync(auditor);

            Assert.False(verification.GetProperty("ok").GetBoolean());
            Assert.Equal(newest.Seq, verification.GetProperty("brokenSeq").GetInt64());
            Assert.Contains("chain head", verification.GetProperty("reason").GetString());
        }
        finally
        {
            await RestoreAsync(newest);
        }

        Assert.True((await VerifyAsync(auditor)).GetProperty("ok").GetBoolean());
    }
}

public sealed class AuditTamperTestsOnSqlite(ClockedSqliteApiFixture app) : AuditTamperTests(app), IClassFixture<ClockedSqliteApiFixture>;

public sealed class AuditTamperTestsOnPostgres(ClockedPostgresApiFixture app) : AuditTamperTests(app), IClassFixture<ClockedPostgresApiFixture>;
