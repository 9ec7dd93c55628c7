using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using IntelSharing.Api.Domain;
using IntelSharing.Api.Features.Alerts;
using IntelSharing.Api.Infrastructure.Audit;
using IntelSharing.Api.Infrastructure.Http;
using IntelSharing.Api.Infrastructure.Security;
using IntelSharing.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace IntelSharing.IntegrationTests.Audit;

/// <summary>What the audit trail records for reads, writes, refusals and admin actions, and how auditors query it. On a fake clock.</summary>
public abstract partial class AuditTrailTests(ApiFixture app)
{
    private const string InvestigationPurpose = "Investigation KU-2026/118 into the network moving people via Horgoš";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private FakeTimeProvider Clock => ((IClockedFixture)app).Clock;

    private static string Time(DateTimeOffset value) => Uri.EscapeDataString(value.ToString("O"));

    private async Task<TestAgency> AuditorAsync() =>
        await app.CreateAgencyAsync("Data Protection Office", "RS", AgencyKind.Operator, Scopes.AuditRead);

    private static Task<List<JsonElement>> ReadTrailAsync(TestAgency auditor, string query) =>
        auditor.Client.ReadAllItemsAsync($"/api/v1/audit?{query}", Ct);

    [Fact]
    public async Task Reading_an_alert_records_the_agency_key_address_time_and_outcome()
    {
        var auditor = await AuditorAsync();
        var originator = await app.CreateAgencyAsync("National CERT");
        var reader = await app.CreateAgencyAsync("Europol EC3", "NL", AgencyKind.EuAgency);
        var alertId = await originator.PublishAsync(Samples.CyberAlert());
        Clock.Advance(TimeSpan.FromMinutes(1));
        var readAt = Clock.GetUtcNow();

        Assert.Equal(HttpStatusCode.OK, (await reader.Client.GetAsync($"/api/v1/alerts/{alertId}", Ct)).StatusCode);

        var trail = await ReadTrailAsync(auditor, $"resourceId={alertId}");
        Assert.Equal(["alert.submit", "alert.read"], trail.Select(r => r.GetProperty("action").GetString()));
        var submit = trail[0];
        Assert.Equal(originator.Id, submit.GetProperty("agencyId").GetGuid());
        Assert.Equal(201, submit.GetProperty("outcome").GetInt32());
        var read = trail[1];
        Assert.Equal(reader.Id, read.GetProperty("agencyId").GetGuid());
        Assert.Equal(TestData.KeyPrefixOf(reader.Key), read.GetProperty("keyPrefix").GetString());
        Assert.Equal("alert", read.GetProperty("resourceType").GetString());
        Assert.Equal(200, read.GetProperty("outcome").GetInt32());
        Assert.Equal(reader.Client.AddressOf(), read.GetProperty("clientIp").GetString());
        Assert.Equal(readAt, read.GetProperty("recordedAt").GetDateTimeOffset());
        Assert.False(read.TryGetProperty("purpose", out _));
    }

    [Fact]
    public async Task A_read_the_policy_refuses_is_recorded_with_outcome_404()
    {
        var auditor = await AuditorAsync();
        var originator = await app.CreateAgencyAsync("Border Police Directorate");
        var named = await app.CreateAgencyAsync("Hungarian National Police", "HU");
        var outsider = await app.CreateAgencyAsync("Turkish National Police", "TR");
        var alertId = await originator.PublishAsync(TestData.SmugglingAlert("red", agencies: [named.Id]));

        Assert.Equal(HttpStatusCode.NotFound, (await outsider.Client.GetAsync($"/api/v1/alerts/{alertId}", Ct)).StatusCode);

        var refused = Assert.Single(await ReadTrailAsync(auditor, $"resourceId={alertId}&action=alert.read"));
        Assert.Equal(outsider.Id, refused.GetProperty("agencyId").GetGuid());
        Assert.Equal(404, refused.GetProperty("outcome").GetInt32());
    }

    [Fact]
    public async Task Reading_an_alert_that_names_persons_needs_X_Purpose_and_the_purpose_given_is_stored()
    {
        var auditor = await AuditorAsync();
        var originator = await app.CreateAgencyAsync("Border Police Directorate");
        var reader = await app.CreateAgencyAsync("Hungarian National Police", "HU");
        var alertId = await originator.PublishAsync(TestData.SmugglingAlertNamingPersons(Clock.GetUtcNow()));

        var withoutPurpose = await reader.Client.GetAsync($"/api/v1/alerts/{alertId}", Ct);
        Clock.Advance(TimeSpan.FromSeconds(1));
        var withPurpose = await reader.Client.SendAsync(TestData.Get($"/api/v1/alerts/{alertId}", InvestigationPurpose), Ct);

        Assert.Equal(HttpStatusCode.BadRequest, withoutPurpose.StatusCode);
        var problem = await withoutPurpose.ReadJsonAsync();
        Assert.Equal(["x-purpose"], problem.GetProperty("errors").EnumerateObject().Select(e => e.Name));
        Assert.DoesNotContain("Petrović", problem.GetRawText());
        Assert.Equal(HttpStatusCode.OK, withPurpose.StatusCode);
        Assert.Equal("Dragan Petrović", (await withPurpose.ReadJsonAsync()).GetProperty("persons")[0].GetProperty("fullName").GetString());

        var reads = await ReadTrailAsync(auditor, $"resourceId={alertId}&action=alert.read");
        Assert.Equal([400, 200], reads.Select(r => r.GetProperty("outcome").GetInt32()));
        Assert.False(reads[0].TryGetProperty("purpose", out _));
        Assert.Equal(InvestigationPurpose, reads[1].GetProperty("purpose").GetString());
    }

    [Fact]
    public async Task The_originator_too_needs_X_Purpose_to_read_its_own_alert_naming_persons()
    {
        var originator = await app.CreateAgencyAsync("Border Police Directorate");
        var alertId = await originator.PublishAsync(TestData.SmugglingAlertNamingPersons(Clock.GetUtcNow()));

        Assert.Equal(HttpStatusCode.BadRequest, (await originator.Client.GetAsync($"/api/v1/alerts/{alertId}", Ct)).StatusCode);
    }

    [Fact]
    public async Task An_X_Purpose_longer_than_500_characters_returns_400_naming_the_header()
    {
        var originator = await app.CreateAgencyAsync("National CERT");
        var alertId = await originator.PublishAsync(Samples.CyberAlert());

        var tooLong = await originator.Client.SendAsync(TestData.Get($"/api/v1/alerts/{alertId}", new string('p', 501)), Ct);
        var longest = await originator.Client.SendAsync(TestData.Get($"/api/v1/alerts/{alertId}", new string('p', 500)), Ct);

        Assert.Equal(HttpStatusCode.BadRequest, tooLong.StatusCode);
        Assert.True((await tooLong.ReadJsonAsync()).GetProperty("errors").TryGetProperty("x-purpose", out _));
        Assert.Equal(HttpStatusCode.OK, longest.StatusCode);
    }

    [Fact]
    public async Task A_page_that_includes_an_alert_naming_persons_needs_X_Purpose_and_the_listing_records_the_ids_it_returned()
    {
        var auditor = await AuditorAsync();
        var originator = await app.CreateAgencyAsync("Border Police Directorate");
        var reader = await app.CreateAgencyAsync("Hungarian National Police", "HU");
        Clock.Advance(TimeSpan.FromMinutes(1));
        var since = Clock.GetUtcNow();
        Clock.Advance(TimeSpan.FromSeconds(1));
        var plainId = await originator.PublishAsync(Samples.CyberAlert());
        Clock.Advance(TimeSpan.FromSeconds(1));
        var personsId = await originator.PublishAsync(TestData.SmugglingAlertNamingPersons(Clock.GetUtcNow()));
        var uri = $"/api/v1/alerts?updatedAfter={Time(since)}";

        var withoutPurpose = await reader.Client.GetAsync(uri, Ct);
        Clock.Advance(TimeSpan.FromSeconds(1));
        var withPurpose = await reader.Client.SendAsync(TestData.Get(uri, InvestigationPurpose), Ct);

        Assert.Equal(HttpStatusCode.BadRequest, withoutPurpose.StatusCode);
        Assert.True((await withoutPurpose.ReadJsonAsync()).GetProperty("errors").TryGetProperty("x-purpose", out _));
        Assert.Equal(HttpStatusCode.OK, withPurpose.StatusCode);
        Assert.Equal([plainId, personsId], (await withPurpose.ReadJsonAsync()).GetProperty("items").EnumerateArray().Select(i => i.GetProperty("id").GetGuid()));

        var listings = await ReadTrailAsync(auditor, $"agency={reader.Id}&action=alert.list");
        Assert.Equal([400, 200], listings.Select(r => r.GetProperty("outcome").GetInt32()));
        Assert.Equal(InvestigationPurpose, listings[1].GetProperty("purpose").GetString());
        Assert.Equal([plainId, personsId], listings[1].GetProperty("detail").GetProperty("alertIds").EnumerateArray().Select(i => i.GetGuid()));
    }

    [Fact]
    public async Task A_refused_submission_is_recorded_with_the_fields_it_got_wrong_and_no_alert_is_stored()
    {
        var auditor = await AuditorAsync();
        var originator = await app.CreateAgencyAsync("Border Police Directorate");
        var alert = Samples.SmugglingAlert();
        alert.Remove("severity");

        Assert.Equal(HttpStatusCode.BadRequest, (await originator.Client.PostAsync("/api/v1/alerts", Samples.Json(alert), Ct)).StatusCode);

        var refused = Assert.Single(await ReadTrailAsync(auditor, $"agency={originator.Id}&action=alert.submit"));
        Assert.Equal(400, refused.GetProperty("outcome").GetInt32());
        Assert.False(refused.TryGetProperty("resourceId", out _));
        Assert.Equal(["severity"], refused.GetProperty("detail").GetProperty("fields").EnumerateArray().Select(f => f.GetString()));
    }

    [Fact]
    public async Task A_request_refused_for_an_unknown_query_parameter_is_recorded_with_the_parameter_named()
    {
        var auditor = await AuditorAsync();
        var reader = await app.CreateAgencyAsync("Frontex Situation Centre", "PL");
        var alertId = Guid.CreateVersion7();

        var listing = await reader.Client.GetAsync("/api/v1/alerts?catgory=cyber_incident&limit=5", Ct);
        var reading = await reader.Client.GetAsync($"/api/v1/alerts/{alertId}?format=stix", Ct);

        Assert.Equal(HttpStatusCode.BadRequest, listing.StatusCode);
        Assert.Equal(["catgory"], (await listing.ReadJsonAsync()).GetProperty("errors").EnumerateObject().Select(e => e.Name));
        Assert.Equal(HttpStatusCode.BadRequest, reading.StatusCode);
        var listed = Assert.Single(await ReadTrailAsync(auditor, $"agency={reader.Id}&action={AuditActions.AlertList}"));
        Assert.Equal(400, listed.GetProperty("outcome").GetInt32());
        Assert.Equal(["catgory"], listed.GetProperty("detail").GetProperty("fields").EnumerateArray().Select(f => f.GetString()));
        var read = Assert.Single(await ReadTrailAsync(auditor, $"agency={reader.Id}&action={AuditActions.AlertRead}"));
        Assert.Equal(400, read.GetProperty("outcome").GetInt32());
        Assert.Equal(alertId, read.GetProperty("resourceId").GetGuid());
        Assert.Equal(["format"], read.GetProperty("detail").GetProperty("fields").EnumerateArray().Select(f => f.GetString()));
    }

    [Fact]
    public async Task Failed_authentications_are_recorded_with_the_presented_key_prefix_and_address_and_a_revoked_key_names_its_agency()
    {
        var operations = await app.CreateOperatorAsync();
        var auditor = await AuditorAsync();
        var revokedAgency = await app.CreateAgencyAsync("Moldovan Border Police", "MD");
        var keys = await (await operations.Client.GetAsync($"/api/v1/agencies/{revokedAgency.Id}/keys", Ct)).ReadJsonAsync();
        Assert.Equal(HttpStatusCode.NoContent, (await operations.Client.DeleteAsync($"/api/v1/agencies/{revokedAgency.Id}/keys/{keys.GetProperty("items")[0].GetProperty("id").GetGuid()}", Ct)).StatusCode);
        var forged = app.ClientWithKey("isk_zzzzzzzzzz_" + new string('A', 43));

        Assert.Equal(HttpStatusCode.Unauthorized, (await forged.GetAsync("/api/v1/alerts", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await revokedAgency.Client.GetAsync("/api/v1/alerts", Ct)).StatusCode);

        var failures = await ReadTrailAsync(auditor, "action=auth.failed");
        var forgedRecord = Assert.Single(failures, r => r.GetProperty("clientIp").GetString() == forged.AddressOf());
        Assert.Equal("zzzzzzzzzz", forgedRecord.GetProperty("keyPrefix").GetString());
        Assert.False(forgedRecord.TryGetProperty("agencyId", out _));
        Assert.Equal(401, forgedRecord.GetProperty("outcome").GetInt32());
        Assert.Equal("/api/v1/alerts", forgedRecord.GetProperty("detail").GetProperty("path").GetString());
        var revokedRecord = Assert.Single(failures, r => r.GetProperty("clientIp").GetString() == revokedAgency.Client.AddressOf());
        Assert.Equal(revokedAgency.Id, revokedRecord.GetProperty("agencyId").GetGuid());
        Assert.Equal(TestData.KeyPrefixOf(revokedAgency.Key), revokedRecord.GetProperty("keyPrefix").GetString());
    }

    [Fact]
    public async Task A_key_without_the_scope_is_recorded_as_forbidden_with_the_scope_it_lacked()
    {
        var auditor = await AuditorAsync();
        var reader = await app.CreateAgencyAsync("Slovenian Police", "SI", AgencyKind.Police, Scopes.AlertsRead);

        Assert.Equal(HttpStatusCode.Forbidden, (await reader.Client.PostAsync("/api/v1/alerts", Samples.Json(Samples.CyberAlert()), Ct)).StatusCode);

        var record = Assert.Single(await ReadTrailAsync(auditor, $"agency={reader.Id}&action=auth.forbidden"));
        Assert.Equal(403, record.GetProperty("outcome").GetInt32());
        Assert.Equal(["alerts:write"], record.GetProperty("detail").GetProperty("requiredScopes").EnumerateArray().Select(s => s.GetString()));
    }

    [Fact]
    public async Task Every_agency_key_and_group_change_an_operator_makes_is_recorded_with_its_resource_and_outcome()
    {
        var operations = await app.CreateOperatorAsync();
        var auditor = await AuditorAsync();
        var member = await app.CreateAgencyAsync("Hungarian National Police", "HU");

        var agency = await (await operations.Client.PostAsync("/api/v1/agencies", Samples.Json(new System.Text.Json.Nodes.JsonObject { ["name"] = $"Kosovo Police {Guid.NewGuid():N}", ["country"] = "XK", ["kind"] = "police" }), Ct)).ReadJsonAsync();
        var agencyId = agency.GetProperty("id").GetGuid();
        await operations.Client.PatchAsync($"/api/v1/agencies/{agencyId}", Samples.Json(new System.Text.Json.Nodes.JsonObject { ["kind"] = "border_guard" }), Ct);
        await operations.Client.PostAsync($"/api/v1/agencies/{agencyId}/deactivate", null, Ct);
        await operations.Client.PostAsync($"/api/v1/agencies/{agencyId}/activate", null, Ct);
        var key = await (await operations.Client.PostAsync($"/api/v1/agencies/{agencyId}/keys", Samples.Json(new System.Text.Json.Nodes.JsonObject { ["name"] = "gateway", ["scopes"] = new System.Text.Json.Nodes.JsonArray("alerts:read") }), Ct)).ReadJsonAsync();
        var keyId = key.GetProperty("id").GetGuid();
        await operations.Client.DeleteAsync($"/api/v1/agencies/{agencyId}/keys/{keyId}", Ct);
        var group = await (await operations.Client.PostAsync("/api/v1/sharing-groups", Samples.Json(new System.Text.Json.Nodes.JsonObject { ["name"] = $"Kosovo border {Guid.NewGuid():N}", ["members"] = new System.Text.Json.Nodes.JsonArray() }), Ct)).ReadJsonAsync();
        var groupId = group.GetProperty("id").GetGuid();
        await operations.Client.PutAsync($"/api/v1/sharing-groups/{groupId}/members/{member.Id}", null, Ct);
        await operations.Client.DeleteAsync($"/api/v1/sharing-groups/{groupId}/members/{member.Id}", Ct);
        await operations.Client.PutAsync($"/api/v1/sharing-groups/{groupId}", Samples.Json(new System.Text.Json.Nodes.JsonObject { ["name"] = $"Kosovo border {Guid.NewGuid():N}", ["members"] = new System.Text.Json.Nodes.JsonArray(agencyId.ToString()) }), Ct);
        await operations.Client.DeleteAsync($"/api/v1/sharing-groups/{groupId}", Ct);
        var unknownAgency = Guid.CreateVersion7();
        await operations.Client.PatchAsync($"/api/v1/agencies/{unknownAgency}", Samples.Json(new System.Text.Json.Nodes.JsonObject { ["country"] = "AL" }), Ct);

        // Records made within the same microsecond have no defined order among themselves; compare as sets.
        var trail = await ReadTrailAsync(auditor, $"agency={operations.Id}");
        var recorded = trail.Select(r => (Action: r.GetProperty("action").GetString()!, Id: r.TryGetProperty("resourceId", out var id) ? id.GetGuid() : Guid.Empty, Outcome: r.GetProperty("outcome").GetInt32())).ToList();
        Assert.Equivalent(new (string, Guid, int)[]
            {
                ("agency.register", agencyId, 201), ("agency.update", agencyId, 200), ("agency.deactivate", agencyId, 200), ("agency.activate", agencyId, 200),
                ("key.issue", keyId, 201), ("key.revoke", keyId, 204),
                ("group.create", groupId, 201), ("group.member.add", groupId, 204), ("group.member.remove", groupId, 204), ("group.update", groupId, 200), ("group.delete", groupId, 204),
                ("agency.update", unknownAgency, 404),
            },
            recorded.Select(r => (r.Action, r.Id, r.Outcome)).ToArray(),
            strict: true);
        var update = trail.Single(r => r.GetProperty("action").GetString() == "agency.update" && r.GetProperty("outcome").GetInt32() == 200);
        Assert.Equal("border_guard", update.GetProperty("detail").GetProperty("changes").GetProperty("kind").GetProperty("to").GetString());
        var groupUpdate = trail.Single(r => r.GetProperty("action").GetString() == "group.update");
        Assert.Equal([agencyId], groupUpdate.GetProperty("detail").GetProperty("added").EnumerateArray().Select(a => a.GetGuid()));
    }

    [Fact]
    public async Task The_trail_is_filtered_by_agency_action_and_time_and_paged_with_a_cursor_bound_to_the_filters()
    {
        var auditor = await AuditorAsync();
        var originator = await app.CreateAgencyAsync("National CERT");
        var reader = await app.CreateAgencyAsync("CERT Hungary", "HU", AgencyKind.Cert);
        var alertId = await originator.PublishAsync(Samples.CyberAlert());
        var times = new List<DateTimeOffset>();
        for (var i = 0; i < 5; i++)
        {
            Clock.Advance(TimeSpan.FromMinutes(1));
            times.Add(Clock.GetUtcNow());
            Assert.Equal(HttpStatusCode.OK, (await reader.Client.GetAsync($"/api/v1/alerts/{alertId}", Ct)).StatusCode);
        }

        var filters = $"agency={reader.Id}&action=alert.read,alert.list&from={Time(times[1])}&to={Time(times[4])}";
        var first = await (await auditor.Client.GetAsync($"/api/v1/audit?{filters}&limit=2", Ct)).ReadJsonAsync();
        var cursor = first.GetProperty("nextCursor").GetString();
        var second = await (await auditor.Client.GetAsync($"/api/v1/audit?{filters}&limit=2&cursor={cursor}", Ct)).ReadJsonAsync();
        var transplanted = await auditor.Client.GetAsync($"/api/v1/audit?agency={reader.Id}&limit=2&cursor={cursor}", Ct);
        var badAgency = await auditor.Client.GetAsync("/api/v1/audit?agency=europol", Ct);

        Assert.Equal(times[1..3], first.GetProperty("items").EnumerateArray().Select(r => r.GetProperty("recordedAt").GetDateTimeOffset()));
        Assert.Equal([times[3]], second.GetProperty("items").EnumerateArray().Select(r => r.GetProperty("recordedAt").GetDateTimeOffset()));
        Assert.Equal(JsonValueKind.Null, second.GetProperty("nextCursor").ValueKind);
        Assert.Equal(HttpStatusCode.BadRequest, transplanted.StatusCode);
        Assert.True((await transplanted.ReadJsonAsync()).GetProperty("errors").TryGetProperty("cursor", out _));
        Assert.Equal(HttpStatusCode.BadRequest, badAgency.StatusCode);
        Assert.True((await badAgency.ReadJsonAsync()).GetProperty("errors").TryGetProperty("agency", out _));
    }

    [Fact]
    public async Task Records_are_written_unsealed_and_sealing_gives_them_consecutive_seqs_and_hashes_that_verify()
    {
        var auditor = await AuditorAsync();
        var originator = await app.CreateAgencyAsync("National CERT");
        await app.SealAuditAsync();
        var alertId = await originator.PublishAsync(Samples.CyberAlert());

        var unsealed = Assert.Single(await ReadTrailAsync(auditor, $"resourceId={alertId}"));
        Assert.False(unsealed.TryGetProperty("seq", out _));
        Assert.False(unsealed.TryGetProperty("hash", out _));

        Assert.True(await app.SealAuditAsync() >= 1);
        var verification = await (await auditor.Client.GetAsync("/api/v1/audit/verify", Ct)).ReadJsonAsync();

        var sealedRecord = Assert.Single(await ReadTrailAsync(auditor, $"resourceId={alertId}"));
        Assert.True(sealedRecord.GetProperty("seq").GetInt64() > 0);
        Assert.Equal(64, sealedRecord.GetProperty("hash").GetString()!.Length);
        var stored = await app.AuditRecordsAsync("seq IS NOT NULL");
        Assert.Equal(Enumerable.Range(1, stored.Count).Select(i => (long)i), stored.Select(r => r.Seq!.Value).Order());
        Assert.True(verification.GetProperty("ok").GetBoolean());
        Assert.Equal(stored.Count, verification.GetProperty("verified").GetInt64());
        Assert.Equal(stored.Count, verification.GetProperty("headSeq").GetInt64());
        Assert.Equal(Convert.ToHexStringLower(stored.MaxBy(r => r.Seq)!.Hash!), verification.GetProperty("headHash").GetString());
    }

    private static (string Action, Guid Agency, Guid Resource, int Outcome) Summary(JsonElement record) => (
        record.GetProperty("action").GetString()!,
        record.TryGetProperty("agencyId", out var agency) ? agency.GetGuid() : Guid.Empty,
        record.TryGetProperty("resourceId", out var resource) ? resource.GetGuid() : Guid.Empty,
        record.GetProperty("outcome").GetInt32());

    private static async Task<HttpResponseMessage> SendAsync(HttpClient client, HttpMethod method, string uri, JsonNode? body = null, string? ifMatch = null)
    {
        using var request = new HttpRequestMessage(method, uri) { Content = body is null ? null : Samples.Json(body) };
        if (ifMatch is not null)
        {
            request.Headers.TryAddWithoutValidation("If-Match", ifMatch);
        }

        return await client.SendAsync(request, Ct);
    }

    [Fact]
    public async Task Every_alert_write_and_its_refusals_are_recorded_once_with_agency_key_resource_and_outcome()
    {
        var auditor = await AuditorAsync();
        var originator = await app.CreateAgencyAsync("Border Police Directorate");
        var partner = await app.CreateAgencyAsync("Hungarian National Police", "HU");
        var added = await app.CreateAgencyAsync("Croatian Border Police", "HR", AgencyKind.BorderGuard);
        var outsider = await app.CreateAgencyAsync("Turkish National Police", "TR");
        var alertId = await originator.PublishAsync(TestData.SmugglingAlert("amber", agencies: [partner.Id]));
        var uri = $"/api/v1/alerts/{alertId}";
        var version2 = TestData.SmugglingAlert("amber", agencies: [partner.Id]);
        version2["summary"] = "Second sighting of the group near Subotica, heading for Horgoš.";

        var statuses = new List<HttpStatusCode>
        {
            (await SendAsync(originator.Client, HttpMethod.Put, uri, version2, ETags.ForVersion(1))).StatusCode,
            (await SendAsync(originator.Client, HttpMethod.Put, uri, version2, ETags.ForVersion(1))).StatusCode,
            (await SendAsync(originator.Client, HttpMethod.Put, uri, version2)).StatusCode,
            (await SendAsync(outsider.Client, HttpMethod.Put, uri, version2, ETags.ForVersion(2))).StatusCode,
            (await SendAsync(originator.Client, HttpMethod.Post, $"{uri}/share", new JsonObject { ["agencies"] = new JsonArray(added.Id.ToString()) })).StatusCode,
            (await SendAsync(partner.Client, HttpMethod.Post, $"{uri}/share", new JsonObject { ["agencies"] = new JsonArray(outsider.Id.ToString()) })).StatusCode,
            (await SendAsync(partner.Client, HttpMethod.Post, $"{uri}/feedback", new JsonObject { ["kind"] = "hit", ["note"] = "Same vehicle seen at Röszke." })).StatusCode,
            (await SendAsync(originator.Client, HttpMethod.Post, $"{uri}/feedback", new JsonObject { ["kind"] = "hit" })).StatusCode,
            (await partner.Client.GetAsync($"{uri}/feedback", Ct)).StatusCode,
            (await originator.Client.GetAsync($"{uri}/deliveries", Ct)).StatusCode,
            (await SendAsync(originator.Client, HttpMethod.Post, $"{uri}/revoke", new JsonObject { ["reason"] = "" })).StatusCode,
            (await SendAsync(originator.Client, HttpMethod.Post, $"{uri}/revoke", new JsonObject { ["reason"] = "The source withdrew the report." })).StatusCode,
            (await SendAsync(originator.Client, HttpMethod.Post, $"{uri}/revoke", new JsonObject { ["reason"] = "Again." })).StatusCode,
        };

        Assert.Equal(
            [HttpStatusCode.OK, HttpStatusCode.PreconditionFailed, HttpStatusCode.PreconditionRequired, HttpStatusCode.NotFound, HttpStatusCode.OK, HttpStatusCode.Forbidden,
             HttpStatusCode.Created, HttpStatusCode.Forbidden, HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.BadRequest, HttpStatusCode.OK, HttpStatusCode.Conflict],
            statuses);
        var trail = await ReadTrailAsync(auditor, $"resourceId={alertId}");
        Assert.Equivalent(new (string, Guid, Guid, int)[]
            {
                ("alert.submit", originator.Id, alertId, 201),
                ("alert.update", originator.Id, alertId, 200), ("alert.update", originator.Id, alertId, 412), ("alert.update", originator.Id, alertId, 428),
                ("alert.update", outsider.Id, alertId, 404),
                ("alert.share", originator.Id, alertId, 200), ("alert.share", partner.Id, alertId, 403),
                ("alert.feedback", partner.Id, alertId, 201), ("alert.feedback", originator.Id, alertId, 403),
                ("alert.feedback.list", partner.Id, alertId, 200), ("alert.deliveries", originator.Id, alertId, 200),
                ("alert.revoke", originator.Id, alertId, 400), ("alert.revoke", originator.Id, alertId, 200), ("alert.revoke", originator.Id, alertId, 409),
            },
            trail.Select(Summary).ToArray(),
            strict: true);
        Assert.All(trail, r => Assert.Equal("alert", r.GetProperty("resourceType").GetString()));
        Assert.All(trail.Where(r => r.GetProperty("agencyId").GetGuid() == partner.Id), r => Assert.Equal(TestData.KeyPrefixOf(partner.Key), r.GetProperty("keyPrefix").GetString()));
        Assert.All(trail.Where(r => r.GetProperty("agencyId").GetGuid() == originator.Id), r => Assert.Equal(TestData.KeyPrefixOf(originator.Key), r.GetProperty("keyPrefix").GetString()));
        JsonElement Only(string action, int outcome) => trail.Single(r => Summary(r).Action == action && Summary(r).Outcome == outcome);
        Assert.Equal(2, Only("alert.update", 200).GetProperty("detail").GetProperty("version").GetInt32());
        Assert.Equal([added.Id], Only("alert.share", 200).GetProperty("detail").GetProperty("added").EnumerateArray().Select(a => a.GetGuid()));
        Assert.Equal("hit", Only("alert.feedback", 201).GetProperty("detail").GetProperty("kind").GetString());
        Assert.Equal(4, Only("alert.revoke", 200).GetProperty("detail").GetProperty("version").GetInt32());
        Assert.Equal(["reason"], Only("alert.revoke", 400).GetProperty("detail").GetProperty("fields").EnumerateArray().Select(f => f.GetString()));

        await app.SealAuditAsync();
        var verification = await (await auditor.Client.GetAsync("/api/v1/audit/verify", Ct)).ReadJsonAsync();
        Assert.True(verification.GetProperty("ok").GetBoolean(), verification.GetRawText());
    }

    [Fact]
    public async Task Reading_the_versions_of_an_alert_that_ever_named_persons_needs_X_Purpose_and_the_purpose_is_stored()
    {
        var auditor = await AuditorAsync();
        var originator = await app.CreateAgencyAsync("Border Police Directorate");
        var plainId = await originator.PublishAsync(Samples.CyberAlert());
        var alertId = await originator.PublishAsync(TestData.SmugglingAlertNamingPersons(Clock.GetUtcNow()));
        // The current version names nobody any more; the first one still does.
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(originator.Client, HttpMethod.Put, $"/api/v1/alerts/{alertId}", TestData.SmugglingAlert("amber"), ETags.ForVersion(1))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await originator.Client.GetAsync($"/api/v1/alerts/{alertId}", Ct)).StatusCode);

        var plain = await originator.Client.GetAsync($"/api/v1/alerts/{plainId}/versions", Ct);
        var withoutPurpose = await originator.Client.GetAsync($"/api/v1/alerts/{alertId}/versions", Ct);
        Clock.Advance(TimeSpan.FromSeconds(1));
        var withPurpose = await originator.Client.SendAsync(TestData.Get($"/api/v1/alerts/{alertId}/versions", InvestigationPurpose), Ct);

        Assert.Equal(HttpStatusCode.OK, plain.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, withoutPurpose.StatusCode);
        Assert.Equal("application/problem+json", withoutPurpose.Content.Headers.ContentType?.MediaType);
        var problem = await withoutPurpose.ReadJsonAsync();
        Assert.Equal(["x-purpose"], problem.GetProperty("errors").EnumerateObject().Select(e => e.Name));
        Assert.Contains("X-Purpose", problem.GetProperty("errors").GetProperty("x-purpose")[0].GetString());
        Assert.DoesNotContain("Petrović", problem.GetRawText());
        Assert.Equal(HttpStatusCode.OK, withPurpose.StatusCode);
        var versions = (await withPurpose.ReadJsonAsync()).GetProperty("items");
        Assert.Equal(2, versions.GetArrayLength());
        Assert.Equal("Dragan Petrović", versions[0].GetProperty("persons")[0].GetProperty("fullName").GetString());

        var plainRead = Assert.Single(await ReadTrailAsync(auditor, $"resourceId={plainId}&action=alert.versions"));
        Assert.Equal(200, plainRead.GetProperty("outcome").GetInt32());
        var reads = await ReadTrailAsync(auditor, $"resourceId={alertId}&action=alert.versions");
        Assert.Equal([400, 200], reads.Select(r => r.GetProperty("outcome").GetInt32()));
        Assert.All(reads, r => Assert.Equal(originator.Id, r.GetProperty("agencyId").GetGuid()));
        Assert.All(reads, r => Assert.Equal(TestData.KeyPrefixOf(originator.Key), r.GetProperty("keyPrefix").GetString()));
        Assert.False(reads[0].TryGetProperty("purpose", out _));
        Assert.Equal(["x-purpose"], reads[0].GetProperty("detail").GetProperty("fields").EnumerateArray().Select(f => f.GetString()));
        Assert.Equal(InvestigationPurpose, reads[1].GetProperty("purpose").GetString());
    }

    [Fact]
    public async Task The_expiry_purge_is_recorded_as_a_system_action_with_no_agency_key_or_address()
    {
        var auditor = await AuditorAsync();
        var originator = await app.CreateAgencyAsync("Border Police Directorate");
        var alertId = await originator.PublishAsync(TestData.SmugglingAlertNamingPersons(Clock.GetUtcNow()));
        Clock.Advance(TimeSpan.FromDays(366));
        var purgedAt = Clock.GetUtcNow();

        // The background sweep may get there first; either way the purge has exactly one record.
        await app.Services.GetRequiredService<ExpirePersonalData>().PurgeDueAsync(Ct);

        var purge = Assert.Single(await ReadTrailAsync(auditor, $"resourceId={alertId}&action=alert.expire"));
        Assert.False(purge.TryGetProperty("agencyId", out _));
        Assert.False(purge.TryGetProperty("keyPrefix", out _));
        Assert.False(purge.TryGetProperty("clientIp", out _));
        Assert.False(purge.TryGetProperty("purpose", out _));
        Assert.Equal("alert", purge.GetProperty("resourceType").GetString());
        Assert.Equal(200, purge.GetProperty("outcome").GetInt32());
        Assert.Equal(purgedAt, purge.GetProperty("recordedAt").GetDateTimeOffset());
        Assert.Equal(2, purge.GetProperty("detail").GetProperty("version").GetInt32());
        var tombstone = await (await originator.Client.GetAsync($"/api/v1/alerts/{alertId}", Ct)).ReadJsonAsync();
        Assert.Equal("expired", tombstone.GetProperty("status").GetString());
    }

    [Fact]
    public async Task Subscription_management_and_the_delivery_ledger_are_recorded_with_their_resource_and_outcome()
    {
        var auditor = await AuditorAsync();
        var agency = await app.CreateAgencyAsync("Montenegrin Police", "ME", AgencyKind.Police, Scopes.SubscriptionsManage);
        var created = await (await agency.Client.PostAsync("/api/v1/subscriptions", Samples.Json(new JsonObject { ["url"] = "https://webhooks.policija.me/intelsharing" }), Ct)).ReadJsonAsync();
        var id = created.GetProperty("subscription").GetProperty("id").GetGuid();
        var uri = $"/api/v1/subscriptions/{id}";
        var unknown = Guid.CreateVersion7();

        var statuses = new List<HttpStatusCode>
        {
            (await agency.Client.GetAsync("/api/v1/subscriptions", Ct)).StatusCode,
            (await agency.Client.GetAsync(uri, Ct)).StatusCode,
            (await agency.Client.PutAsync(uri, Samples.Json(new JsonObject { ["url"] = "https://webhooks.policija.me/intelsharing/v2" }), Ct)).StatusCode,
            (await agency.Client.PostAsync($"{uri}/pause", null, Ct)).StatusCode,
            (await agency.Client.PostAsync($"{uri}/resume", null, Ct)).StatusCode,
            (await agency.Client.PostAsync($"{uri}/rotate-secret", null, Ct)).StatusCode,
            (await agency.Client.GetAsync($"/api/v1/subscriptions/{unknown}", Ct)).StatusCode,
            (await agency.Client.GetAsync("/api/v1/deliveries", Ct)).StatusCode,
            (await agency.Client.GetAsync($"/api/v1/deliveries/{unknown}", Ct)).StatusCode,
            (await agency.Client.PostAsync($"/api/v1/deliveries/{unknown}/replay", null, Ct)).StatusCode,
            (await agency.Client.DeleteAsync(uri, Ct)).StatusCode,
            (await agency.Client.DeleteAsync(uri, Ct)).StatusCode,
            (await agency.Client.PostAsync("/api/v1/deliveries/replay", Samples.Json(new JsonObject
            {
                ["subscriptionId"] = id.ToString(), ["from"] = "2026-01-01T00:00:00Z", ["to"] = "2026-02-01T00:00:00Z",
            }), Ct)).StatusCode,
        };

        Assert.Equal(
            [HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.NotFound,
             HttpStatusCode.OK, HttpStatusCode.NotFound, HttpStatusCode.NotFound, HttpStatusCode.NoContent, HttpStatusCode.NotFound, HttpStatusCode.NotFound],
            statuses);
        var trail = await ReadTrailAsync(auditor, $"agency={agency.Id}");
        Assert.Equivalent(new (string, Guid, Guid, int)[]
            {
                ("subscription.create", agency.Id, id, 201), ("subscription.list", agency.Id, Guid.Empty, 200), ("subscription.read", agency.Id, id, 200),
                ("subscription.update", agency.Id, id, 200), ("subscription.pause", agency.Id, id, 200), ("subscription.resume", agency.Id, id, 200),
                ("subscription.secret.rotate", agency.Id, id, 200), ("subscription.read", agency.Id, unknown, 404),
                ("delivery.list", agency.Id, Guid.Empty, 200), ("delivery.read", agency.Id, unknown, 404), ("delivery.replay", agency.Id, unknown, 404),
                ("subscription.delete", agency.Id, id, 204), ("subscription.delete", agency.Id, id, 404), ("delivery.replay.bulk", agency.Id, id, 404),
            },
            trail.Select(Summary).ToArray(),
            strict: true);
        Assert.All(trail, r => Assert.Equal(TestData.KeyPrefixOf(agency.Key), r.GetProperty("keyPrefix").GetString()));
        Assert.All(trail.Where(r => r.GetProperty("action").GetString()!.StartsWith("subscription.", StringComparison.Ordinal)),
            r => Assert.Equal("subscription", r.GetProperty("resourceType").GetString()));
        Assert.DoesNotContain(trail, r => r.GetRawText().Contains("whsec_", StringComparison.Ordinal));
    }

    [Fact]
    public void Every_api_endpoint_is_mapped_with_an_audit_action()
    {
        app.RequireDatabase();
        // Health, metrics and the OpenAPI document are outside /api and not audited. Inside it there is no
        // exception: even reading the audit trail is recorded (audit.list, audit.verify).
        var unaudited = app.Services.GetRequiredService<EndpointDataSource>().Endpoints
            .OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText?.StartsWith("/api/", StringComparison.Ordinal) == true)
            .Where(e => e.Metadata.GetMetadata<AuditedEndpointMetadata>() is null)
            .Select(e => e.DisplayName)
            .ToList();

        Assert.True(unaudited.Count == 0, "Endpoints without .Audited(…): " + string.Join(", ", unaudited));
    }

    [Fact]
    public async Task Every_api_endpoint_runs_the_audit_filter_and_records_its_action()
    {
        // The metadata above says .Audited(…) was called; this proves the filter runs: an over-long X-Purpose is
        // refused by the filter alone, before any handler, and recorded under the endpoint's own action.
        var operations = await app.CreateOperatorAsync();
        var caller = await app.ClientWithScopesAsync(operations.Id, [.. Scopes.All]);
        var endpoints = app.Services.GetRequiredService<EndpointDataSource>().Endpoints
            .OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText?.StartsWith("/api/", StringComparison.Ordinal) == true)
            .ToList();
        Assert.NotEmpty(endpoints);

        var expected = new List<string>();
        foreach (var endpoint in endpoints)
        {
            var method = endpoint.Metadata.GetMetadata<Microsoft.AspNetCore.Routing.HttpMethodMetadata>()!.HttpMethods.Single();
            var path = RouteParameter().Replace(endpoint.RoutePattern.RawText!, _ => Guid.CreateVersion7().ToString());
            using var request = new HttpRequestMessage(new HttpMethod(method), path)
            {
                Content = method is "POST" or "PUT" or "PATCH" ? Samples.Json(new JsonObject()) : null,
            };
            request.Headers.Add(RequestOrigin.PurposeHeader, new string('p', AuditWriter.MaxPurposeLength + 1));
            var response = await caller.SendAsync(request, Ct);

            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{method} {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(Ct)}");
            Assert.True((await response.ReadJsonAsync()).GetProperty("errors").TryGetProperty("x-purpose", out _), $"{method} {path}");
            expected.Add(endpoint.Metadata.GetMetadata<AuditedEndpointMetadata>()?.Action ?? $"(none for {method} {path})");
        }

        var recorded = await app.AuditRecordsAsync("agency_id = @agency AND outcome = 400", new { agency = operations.Id });
        Assert.Equal(expected.Order(StringComparer.Ordinal), recorded.Select(r => r.Action).Order(StringComparer.Ordinal));
    }

    [GeneratedRegex(@"\{[^}]+\}")]
    private static partial Regex RouteParameter();
}

public sealed class AuditTrailTestsOnSqlite(ClockedSqliteApiFixture app) : AuditTrailTests(app), IClassFixture<ClockedSqliteApiFixture>;

public sealed class AuditTrailTestsOnPostgres(ClockedPostgresApiFixture app) : AuditTrailTests(app), IClassFixture<ClockedPostgresApiFixture>;
