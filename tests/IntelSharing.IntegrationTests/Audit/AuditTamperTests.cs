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

    private sealed class ChainHead
    {
        public long Seq { get; set; }

        public byte[] Hash { get; set; } = null!;

        public DateTimeOffset SealedAt { get; set; }
    }

    private static string AnchorQuery(JsonElement head) =>
        $"anchorSeq={head.GetProperty("seq").GetInt64()}&anchorHash={head.GetProperty("hash").GetString()}&anchorSignature={head.GetProperty("signature").GetString()}";

    [Fact]
    public async Task Deleting_the_newest_records_and_rewriting_the_chain_head_is_caught_against_an_earlier_signed_head()
    {
        var (auditor, records) = await SealedTrailAsync();
        var head = (await VerifyAsync(auditor)).GetProperty("head");
        Assert.Equal(records[^1].Seq, head.GetProperty("seq").GetInt64());
        Assert.Equal(records[^1].Seq, head.GetProperty("records").GetInt64());
        Assert.Equal(Convert.ToHexStringLower(records[^1].Hash!), head.GetProperty("hash").GetString());

        // What someone with database access does to hide the newest records: delete them and make the head point at the new end.
        var removed = records.TakeLast(2).ToList();
        var newEnd = records[^3];
        await using (var connection = await app.Database.OpenAsync(Ct))
        {
            var original = await connection.QuerySingleAsync<ChainHead>("SELECT seq AS Seq, hash AS Hash, sealed_at AS SealedAt FROM audit_chain_head WHERE id = 1");
            try
            {
                foreach (var record in removed)
                {
                    await connection.ExecuteAsync("DELETE FROM audit_records WHERE id = @Id", record);
                }

                await connection.ExecuteAsync("UPDATE audit_chain_head SET seq = @Seq, hash = @Hash WHERE id = 1", newEnd);

                var anchored = await (await auditor.Client.GetAsync($"/api/v1/audit/verify?{AnchorQuery(head)}", Ct)).ReadJsonAsync();

                Assert.False(anchored.GetProperty("ok").GetBoolean(), anchored.GetRawText());
                Assert.Equal(newEnd.Seq + 1, anchored.GetProperty("brokenSeq").GetInt64());
                Assert.Contains("removed", anchored.GetProperty("reason").GetString());
                Assert.False(anchored.GetProperty("anchor").GetProperty("isPrefix").GetBoolean());
                Assert.True(anchored.GetProperty("anchor").GetProperty("signatureValid").GetBoolean());
                Assert.False(anchored.TryGetProperty("head", out _), "A chain that fails verification gets no signed head.");
            }
            finally
            {
                foreach (var record in removed)
                {
                    await RestoreAsync(record);
                }

                await connection.ExecuteAsync("UPDATE audit_chain_head SET seq = @Seq, hash = @Hash, sealed_at = @SealedAt WHERE id = 1", original);
            }
        }

        var restored = await (await auditor.Client.GetAsync($"/api/v1/audit/verify?{AnchorQuery(head)}", Ct)).ReadJsonAsync();
        Assert.True(restored.GetProperty("ok").GetBoolean(), restored.GetRawText());
        Assert.True(restored.GetProperty("anchor").GetProperty("isPrefix").GetBoolean());
    }

    [Fact]
    public async Task An_earlier_head_stays_a_prefix_as_the_chain_grows_and_a_forged_signature_is_told_apart()
    {
        var (auditor, _) = await SealedTrailAsync();
        var head = (await VerifyAsync(auditor)).GetProperty("head");
        await app.SealAuditAsync();

        var later = await (await auditor.Client.GetAsync($"/api/v1/audit/verify?{AnchorQuery(head)}", Ct)).ReadJsonAsync();
        Assert.True(later.GetProperty("ok").GetBoolean(), later.GetRawText());
        Assert.True(later.GetProperty("head").GetProperty("seq").GetInt64() > head.GetProperty("seq").GetInt64());
        Assert.True(later.GetProperty("anchor").GetProperty("isPrefix").GetBoolean());
        Assert.True(later.GetProperty("anchor").GetProperty("signatureValid").GetBoolean());

        var forged = new string('0', 64);
        var withForgedSignature = await (await auditor.Client.GetAsync(
            $"/api/v1/audit/verify?anchorSeq={head.GetProperty("seq").GetInt64()}&anchorHash={head.GetProperty("hash").GetString()}&anchorSignature={forged}", Ct)).ReadJsonAsync();
        Assert.False(withForgedSignature.GetProperty("anchor").GetProperty("signatureValid").GetBoolean());
    }

    [Theory]
    [InlineData("anchorSeq=0&anchorHash=" + "ab" + "00000000000000000000000000000000000000000000000000000000000000", "anchorSeq")]
    [InlineData("anchorSeq=3&anchorHash=not-a-hash", "anchorHash")]
    [InlineData("anchorSeq=3", "anchorHash")]
    [InlineData("anchorHash=0000000000000000000000000000000000000000000000000000000000000000", "anchorSeq")]
    public async Task Verify_with_a_malformed_anchor_returns_400_naming_the_field(string query, string field)
    {
        var auditor = await app.CreateAgencyAsync("Data Protection Office", "RS", AgencyKind.Operator, Scopes.AuditRead);

        var response = await auditor.Client.GetAsync($"/api/v1/audit/verify?{query}", Ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.True((await response.ReadJsonAsync()).GetProperty("errors").TryGetProperty(field, out _));
    }

    [Fact]
    public async Task A_backdated_record_inserted_directly_is_refused_by_the_sealer_and_reported_by_verify()
    {
        var (auditor, records) = await SealedTrailAsync();
        // A forged alibi: a read "recorded" an hour before the trail began, inserted unsealed as a request would.
        var forged = new AuditRecord
        {
            Id = Guid.CreateVersion7(),
            RecordedAt = records[0].RecordedAt.AddHours(-1),
            AgencyId = records[0].AgencyId,
            Action = AuditActions.AlertRead,
            ResourceType = AuditResources.Alert,
            ResourceId = records[0].ResourceId,
            Outcome = 200,
            Purpose = "routine check",
        };
        await ExecuteAsync(
            """
            INSERT INTO audit_records (id, recorded_at, agency_id, action, resource_type, resource_id, outcome, purpose)
            VALUES (@Id, @RecordedAt, @AgencyId, @Action, @ResourceType, @ResourceId, @Outcome, @Purpose)
            """,
            forged);
        try
        {
            await app.SealAuditAsync();

            var stored = (await app.AuditRecordsAsync("id = @Id", forged)).Single();
            Assert.Null(stored.Seq);
            Assert.Contains("backdated", stored.SealRefused);
            // Everything else the sealer took in the same round was sealed as usual.
            Assert.Empty(await app.AuditRecordsAsync("seq IS NULL AND seal_refused IS NULL"));

            var verification = await VerifyAsync(auditor);
            Assert.False(verification.GetProperty("ok").GetBoolean(), verification.GetRawText());
            Assert.Equal(1, verification.GetProperty("refused").GetInt64());
            Assert.Contains(forged.Id.ToString(), verification.GetProperty("reason").GetString());
        }
        finally
        {
            await ExecuteAsync("DELETE FROM audit_records WHERE id = @Id", forged);
        }

        Assert.True((await VerifyAsync(auditor)).GetProperty("ok").GetBoolean());
    }

    [Fact]
    public async Task A_record_that_commits_a_few_seconds_after_a_newer_one_is_still_sealed()
    {
        var (auditor, records) = await SealedTrailAsync();
        // A request stamps its record before its transaction commits; a slow one can land after a newer record was sealed.
        var late = new AuditRecord
        {
            Id = Guid.CreateVersion7(),
            RecordedAt = records[^1].RecordedAt.AddSeconds(-3),
            AgencyId = records[^1].AgencyId,
            Action = AuditActions.AlertList,
            Outcome = 200,
        };
        await ExecuteAsync(
            "INSERT INTO audit_records (id, recorded_at, agency_id, action, outcome) VALUES (@Id, @RecordedAt, @AgencyId, @Action, @Outcome)",
            late);

        await app.SealAuditAsync();

        Assert.NotNull((await app.AuditRecordsAsync("id = @Id", late)).Single().Seq);
        Assert.True((await VerifyAsync(auditor)).GetProperty("ok").GetBoolean());
    }
}

public sealed class AuditTamperTestsOnSqlite(ClockedSqliteApiFixture app) : AuditTamperTests(app), IClassFixture<ClockedSqliteApiFixture>;

public sealed class AuditTamperTestsOnPostgres(ClockedPostgresApiFixture app) : AuditTamperTests(app), IClassFixture<ClockedPostgresApiFixture>;
