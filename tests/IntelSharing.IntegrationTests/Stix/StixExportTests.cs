using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using IntelSharing.Api.Features.Stix;
using IntelSharing.IntegrationTests.Infrastructure;

namespace IntelSharing.IntegrationTests.Stix;

public abstract partial class StixExportTests(ApiFixture app)
{
    private const string StixMediaType = "application/stix+json;version=2.1";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Both_README_example_alerts_export_as_bundles_every_object_of_which_passes_its_own_OASIS_schema()
    {
        StixSchemas.Require();
        var border = await app.CreateAgencyAsync("Border Police Directorate");
        var examples = ReadmeExampleAlerts();
        Assert.Equal(["migrant_smuggling", "cyber_incident"], examples.Select(e => (string?)e["category"]));

        foreach (var example in examples)
        {
            var id = await border.PublishAsync(example);
            var bundle = await ExportAsync(border.Client, id);

            AssertValid(bundle);
            var types = Objects(bundle).Select(o => o.GetProperty("type").GetString()).ToHashSet();
            if ((string?)example["category"] == "cyber_incident")
            {
                Assert.Superset(new HashSet<string?> { "incident", "indicator", "vulnerability", "attack-pattern", "report", "relationship", "identity", "marking-definition", "extension-definition" }, types);
                var attackPattern = Objects(bundle).Single(o => o.GetProperty("type").GetString() == "attack-pattern");
                var reference = attackPattern.GetProperty("external_references")[0];
                Assert.Equal("mitre-attack", reference.GetProperty("source_name").GetString());
                Assert.Equal("T1566.002", reference.GetProperty("external_id").GetString());
                Assert.Equal("https://attack.mitre.org/techniques/T1566/002/", reference.GetProperty("url").GetString());
                Assert.Equal("CVE-2024-21413", Objects(bundle).Single(o => o.GetProperty("type").GetString() == "vulnerability").GetProperty("name").GetString());
            }
            else
            {
                Assert.Superset(new HashSet<string?> { "intrusion-set", "threat-actor", "location", StixDefinitions.IdentifierType, "report", "relationship" }, types);
                var actor = Objects(bundle).Single(o => o.GetProperty("type").GetString() == "threat-actor");
                Assert.Equal("Kurdish route", actor.GetProperty("name").GetString());
                Assert.Equal("crime-syndicate", actor.GetProperty("threat_actor_types")[0].GetString());
                Assert.Contains(Objects(bundle), o => o.TryGetProperty("name", out var name) && name.GetString() == "Horgoš–Röszke" && o.GetProperty("country").GetString() == "RS");
                var handling = actor.GetProperty("extensions").GetProperty(StixDefinitions.HandlingExtensionId);
                Assert.Equal("H1", handling.GetProperty("handling_code").GetString());
                Assert.Equal("B", handling.GetProperty("source_reliability").GetString());
                Assert.Equal("2", handling.GetProperty("information_assessment").GetString());
                Assert.Equal("assessment", handling.GetProperty("basis").GetString());
            }
        }
    }

    [Fact]
    public async Task Every_object_carries_the_official_TLP_marking_the_originator_and_dates_from_the_alert_versions()
    {
        StixSchemas.Require();
        var border = await app.CreateAgencyAsync("Border Police Directorate");
        var id = await border.PublishAsync(TestData.SmugglingAlert("amber"));
        var alert = await (await border.Client.GetAsync($"/api/v1/alerts/{id}", Ct)).ReadJsonAsync();

        var bundle = await ExportAsync(border.Client, id);

        const string Amber = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421";
        const string Clear = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487";
        var marking = Objects(bundle).Single(o => o.GetProperty("id").GetString() == Amber);
        Assert.Equal("TLP:AMBER", marking.GetProperty("name").GetString());
        Assert.Equal("amber", marking.GetProperty("extensions").GetProperty("extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d").GetProperty("tlp_2_0").GetString());
        var originator = Objects(bundle).Single(o => o.GetProperty("type").GetString() == "identity" && o.GetProperty("name").GetString() == alert.GetProperty("originator").GetProperty("name").GetString());
        var created = alert.GetProperty("createdAt").GetDateTimeOffset();
        foreach (var stix in Objects(bundle).Where(o => o.GetProperty("type").GetString() != "marking-definition"))
        {
            var markings = stix.GetProperty("object_marking_refs").EnumerateArray().Select(m => m.GetString()).ToList();
            if (stix.TryGetProperty("created_by_ref", out var createdBy) && createdBy.GetString() == originator.GetProperty("id").GetString())
            {
                Assert.Equal([Amber], markings);
                Assert.Equal(created, stix.GetProperty("created").GetDateTimeOffset(), TimeSpan.FromMilliseconds(1));
            }
            else
            {
                // Shared definitions (IntelSharing's identity and extensions, the agency) are public: TLP:CLEAR.
                Assert.True(markings.SequenceEqual([Clear]) || markings.SequenceEqual([Amber]), $"{stix.GetProperty("id")} is marked {string.Join(", ", markings)}");
            }
        }
    }

    [Fact]
    public async Task Every_indicator_type_exports_as_a_valid_pattern_or_as_an_identifier_observable_and_hostile_values_are_escaped()
    {
        StixSchemas.Require();
        var cert = await app.CreateAgencyAsync("National CERT");
        var alert = Samples.CyberAlert();
        var indicators = new (string Type, string Value)[]
        {
            ("ipv4", "185.220.101.4"),
            ("ipv6", "2001:db8::1"),
            ("domain", "euprava-login.example.com"),
            ("url", "https://secure-login.example.rs/prijava?next='+OR+'1'='1"),
            ("email", "o'brien.transport@example.com"),
            ("sha256", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"),
            ("md5", "098f6bcd4621d373cade4e832627b4f6"),
            ("phone", "+381 64 123 4567"),
            ("vehicle_plate", "SU 123-AB"),
            ("vessel_imo", "IMO 9074729"),
            ("travel_document", "AB1234567"),
            ("crypto_wallet", "0xde709f2102306220921060314715629080e2fb77"),
            ("iban", "RS35 2600 0560 1001 6113 79"),
        };
        alert["indicators"] = new JsonArray(indicators.Select(i => (JsonNode)new JsonObject { ["type"] = i.Type, ["value"] = i.Value }).ToArray());
        var id = await cert.PublishAsync(alert);

        var bundle = await ExportAsync(cert.Client, id);

        AssertValid(bundle);
        var patterns = Objects(bundle).Where(o => o.GetProperty("type").GetString() == "indicator").Select(o => o.GetProperty("pattern").GetString()).ToHashSet();
        Assert.Equal(
            new HashSet<string?>
            {
                "[ipv4-addr:value = '185.220.101.4']",
                "[ipv6-addr:value = '2001:db8::1']",
                "[domain-name:value = 'euprava-login.example.com']",
                @"[url:value = 'https://secure-login.example.rs/prijava?next=\'+OR+\'1\'=\'1']",
                @"[email-addr:value = 'o\'brien.transport@example.com']",
                "[file:hashes.'SHA-256' = '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08']",
                "[file:hashes.MD5 = '098f6bcd4621d373cade4e832627b4f6']",
            },
            patterns);
        Assert.All(patterns, p => Assert.Matches(PatternShape(), p!));
        var identifiers = Objects(bundle).Where(o => o.GetProperty("type").GetString() == StixDefinitions.IdentifierType)
            .Select(o => (o.GetProperty("identifier_type").GetString(), o.GetProperty("value").GetString())).ToHashSet();
        Assert.Equal(
            new HashSet<(string?, string?)>
            {
                ("phone", "+381641234567"), ("vehicle_plate", "SU123AB"), ("vessel_imo", "IMO9074729"), ("travel_document", "AB1234567"),
                ("crypto_wallet", "0xde709f2102306220921060314715629080e2fb77"), ("iban", "RS35260005601001611379"),
            },
            identifiers);
        Assert.Contains(Objects(bundle), o => o.GetProperty("id").GetString() == StixDefinitions.IdentifierExtensionId);
    }

    [Fact]
    public async Task A_re_export_keeps_every_id_and_a_new_version_updates_modified_but_not_created()
    {
        StixSchemas.Require();
        var cert = await app.CreateAgencyAsync("National CERT");
        var id = await cert.PublishAsync(Samples.CyberAlert());
        var first = await ExportAsync(cert.Client, id);
        var again = await ExportAsync(cert.Client, id);
        Assert.Equal(first.GetRawText(), again.GetRawText());

        var changed = Samples.CyberAlert();
        changed["severity"] = "critical";
        using var update = new HttpRequestMessage(HttpMethod.Put, $"/api/v1/alerts/{id}") { Content = Samples.Json(changed) };
        update.Headers.IfMatch.Add(new EntityTagHeaderValue("\"1\""));
        Assert.Equal(HttpStatusCode.OK, (await cert.Client.SendAsync(update, Ct)).StatusCode);
        var second = await ExportAsync(cert.Client, id);

        AssertValid(second);
        var before = Objects(first).Where(o => o.TryGetProperty("created_by_ref", out _)).ToDictionary(o => o.GetProperty("id").GetString()!);
        var after = Objects(second).Where(o => o.TryGetProperty("created_by_ref", out _)).ToDictionary(o => o.GetProperty("id").GetString()!);
        Assert.Equal(before.Keys.Order(), after.Keys.Order());
        var incident = Objects(second).Single(o => o.GetProperty("type").GetString() == "incident");
        var oldIncident = before[incident.GetProperty("id").GetString()!];
        Assert.Equal(oldIncident.GetProperty("created").GetString(), incident.GetProperty("created").GetString());
        Assert.True(incident.GetProperty("modified").GetDateTimeOffset() > oldIncident.GetProperty("modified").GetDateTimeOffset());
        Assert.Equal(100, incident.GetProperty("extensions").GetProperty(StixDefinitions.IncidentCoreExtensionId).GetProperty("criticality").GetInt32());
    }

    [Fact]
    public async Task A_revoked_alert_exports_its_objects_once_more_with_revoked_true_under_the_same_ids()
    {
        StixSchemas.Require();
        var cert = await app.CreateAgencyAsync("National CERT");
        var partner = await app.CreateAgencyAsync("Europol EC3", "NL");
        var id = await cert.PublishAsync(Samples.CyberAlert());
        var published = await ExportAsync(partner.Client, id);
        var revoke = await cert.Client.PostAsync($"/api/v1/alerts/{id}/revoke", Samples.Json(new JsonObject { ["reason"] = "The domain was a sinkhole run by a partner CERT." }), Ct);
        Assert.Equal(HttpStatusCode.OK, revoke.StatusCode);

        var revoked = await ExportAsync(partner.Client, id);

        AssertValid(revoked);
        var madeByOriginator = Objects(revoked).Where(o => o.TryGetProperty("created_by_ref", out var by) && by.GetString() != StixDefinitions.SystemIdentityId).ToList();
        Assert.NotEmpty(madeByOriginator);
        Assert.All(madeByOriginator, o => Assert.True(o.GetProperty("revoked").GetBoolean(), $"{o.GetProperty("id")} is not revoked"));
        Assert.All(madeByOriginator, o => Assert.Equal("revoked", o.GetProperty("extensions").GetProperty(StixDefinitions.HandlingExtensionId).GetProperty("status").GetString()));
        Assert.Equal(
            Objects(published).Where(o => o.TryGetProperty("created_by_ref", out var by) && by.GetString() != StixDefinitions.SystemIdentityId).Select(o => o.GetProperty("id").GetString()).Order(),
            madeByOriginator.Select(o => o.GetProperty("id").GetString()).Order());
        Assert.Contains(Objects(revoked), o => o.GetProperty("type").GetString() == "indicator" && o.GetProperty("pattern").GetString() == "[ipv4-addr:value = '185.220.101.4']");
    }

    [Fact]
    public async Task The_accept_header_and_the_stix_path_return_the_same_bundle_and_each_is_audited_as_a_read()
    {
        var cert = await app.CreateAgencyAsync("National CERT");
        var partner = await app.CreateAgencyAsync("Europol EC3", "NL");
        var id = await cert.PublishAsync(Samples.CyberAlert());

        using var negotiated = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/alerts/{id}");
        negotiated.Headers.Accept.ParseAdd(StixMediaType);
        var byAccept = await partner.Client.SendAsync(negotiated, Ct);
        var byPath = await partner.Client.GetAsync($"/api/v1/alerts/{id}/stix", Ct);
        var json = await partner.Client.GetAsync($"/api/v1/alerts/{id}", Ct);

        Assert.Equal(HttpStatusCode.OK, byAccept.StatusCode);
        Assert.Equal("application/stix+json", byAccept.Content.Headers.ContentType?.MediaType);
        Assert.Equal("2.1", byAccept.Content.Headers.ContentType?.Parameters.Single(p => p.Name == "version").Value);
        Assert.Equal(await byAccept.Content.ReadAsStringAsync(Ct), await byPath.Content.ReadAsStringAsync(Ct));
        Assert.Equal("application/json", json.Content.Headers.ContentType?.MediaType);
        Assert.Contains("Accept", byAccept.Headers.Vary);
        var reads = await app.AuditRecordsAsync("action = 'alert.read' AND resource_id = @id", new { id });
        Assert.Equal([200, 200, 200], reads.Select(r => r.Outcome));
        Assert.All(reads, r => Assert.Equal(partner.Id, r.AgencyId));
    }

    [Fact]
    public async Task An_outsider_gets_the_same_404_from_the_stix_export_as_from_the_json_read()
    {
        var border = await app.CreateAgencyAsync("Border Police Directorate");
        var named = await app.CreateAgencyAsync("Hungarian National Police", "HU");
        var outsider = await app.CreateAgencyAsync("Turkish National Police", "TR");
        var id = await border.PublishAsync(TestData.SmugglingAlert("red", agencies: [named.Id]));

        using var negotiated = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/alerts/{id}");
        negotiated.Headers.Accept.ParseAdd(StixMediaType);
        var responses = new[]
        {
            await outsider.Client.GetAsync($"/api/v1/alerts/{id}", Ct),
            await outsider.Client.GetAsync($"/api/v1/alerts/{id}/stix", Ct),
            await outsider.Client.SendAsync(negotiated, Ct),
            await outsider.Client.GetAsync($"/api/v1/alerts/{Guid.NewGuid()}/stix", Ct),
        };

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.NotFound, r.StatusCode));
        var problems = new List<JsonElement>();
        foreach (var response in responses)
        {
            problems.Add(await response.ReadJsonAsync());
        }

        Assert.Single(problems.Select(p => (p.GetProperty("type").GetString(), p.GetProperty("detail").GetString())).Distinct());
        Assert.Equal(HttpStatusCode.OK, (await named.Client.GetAsync($"/api/v1/alerts/{id}/stix", Ct)).StatusCode);
        var reads = await app.AuditRecordsAsync("action = 'alert.read' AND resource_id = @id AND agency_id = @agency", new { id, agency = outsider.Id });
        Assert.Equal([404, 404, 404], reads.Select(r => r.Outcome));
    }

    [Fact]
    public async Task Persons_are_exported_only_with_X_Purpose_as_individuals_with_their_data_subject_category()
    {
        StixSchemas.Require();
        var border = await app.CreateAgencyAsync("Border Police Directorate");
        var reader = await app.CreateAgencyAsync("Hungarian National Police", "HU");
        var id = await border.PublishAsync(TestData.SmugglingAlertNamingPersons(DateTimeOffset.UtcNow));

        var withoutPurpose = await reader.Client.GetAsync($"/api/v1/alerts/{id}/stix", Ct);
        var withPurpose = await reader.Client.SendAsync(TestData.Get($"/api/v1/alerts/{id}/stix", "Investigation 2026/114 — Horgoš smuggling ring"), Ct);

        Assert.Equal(HttpStatusCode.BadRequest, withoutPurpose.StatusCode);
        var problem = await withoutPurpose.ReadJsonAsync();
        Assert.Equal(["x-purpose"], problem.GetProperty("errors").EnumerateObject().Select(e => e.Name));
        Assert.DoesNotContain("Petrović", problem.GetRawText());
        Assert.Equal(HttpStatusCode.OK, withPurpose.StatusCode);
        var bundle = StixSchemas.Parse(await withPurpose.Content.ReadAsStringAsync(Ct));
        AssertValid(bundle);
        var person = Objects(bundle).Single(o => o.GetProperty("type").GetString() == "identity" && o.GetProperty("identity_class").GetString() == "individual");
        Assert.Equal("Dragan Petrović", person.GetProperty("name").GetString());
        var handling = person.GetProperty("extensions").GetProperty(StixDefinitions.HandlingExtensionId);
        Assert.Equal("suspect", handling.GetProperty("data_subject").GetProperty("category").GetString());
        Assert.True(handling.TryGetProperty("review_at", out _));
        Assert.True(handling.TryGetProperty("expires_at", out _));
        var reads = await app.AuditRecordsAsync("action = 'alert.read' AND resource_id = @id", new { id });
        Assert.Equal([400, 200], reads.Select(r => r.Outcome));
        Assert.Equal("Investigation 2026/114 — Horgoš smuggling ring", reads[1].Purpose);
    }

    [Fact]
    public async Task An_accept_header_for_another_stix_version_gets_the_json_representation()
    {
        var cert = await app.CreateAgencyAsync("National CERT");
        var id = await cert.PublishAsync(Samples.CyberAlert());
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/alerts/{id}");
        request.Headers.Accept.ParseAdd("application/stix+json;version=2.0");

        var response = await cert.Client.SendAsync(request, Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
    }

    private static void AssertValid(JsonElement bundle)
    {
        var problems = StixSchemas.ProblemsOfBundle(bundle);
        Assert.True(problems.Count == 0, string.Join('\n', problems.Take(40)));
    }

    private static async Task<JsonElement> ExportAsync(HttpClient client, Guid id)
    {
        var response = await client.GetAsync($"/api/v1/alerts/{id}/stix", Ct);
        var body = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {body}");
        Assert.Equal("application/stix+json", response.Content.Headers.ContentType?.MediaType);
        return StixSchemas.Parse(body);
    }

    private static List<JsonElement> Objects(JsonElement bundle) => [.. bundle.GetProperty("objects").EnumerateArray()];

    /// <summary>The two alerts the README walks through, taken from its curl examples so that they cannot drift apart.</summary>
    private static List<JsonObject> ReadmeExampleAlerts()
    {
        var readme = File.ReadAllText(Path.Combine(StixSchemas.RepositoryRoot, "README.md"));
        return ReadmeJsonBody().Matches(readme)
            .Select(m => JsonNode.Parse(m.Groups["body"].Value)!.AsObject())
            .Where(body => body.ContainsKey("category") && body.ContainsKey("indicators"))
            .Take(2)
            .ToList();
    }

    [GeneratedRegex(@"<<'JSON'\n(?<body>\{.*?\n\})\nJSON", RegexOptions.Singleline)]
    private static partial Regex ReadmeJsonBody();

    /// <summary>One comparison, a path and a quoted literal in which every quote and backslash is escaped.</summary>
    [GeneratedRegex(@"^\[[a-z0-9-]+:[A-Za-z0-9_.'-]+ = '(?:[^'\\]|\\['\\])*'\]$")]
    private static partial Regex PatternShape();
}

public sealed class StixExportTestsOnSqlite(SqliteApiFixture app) : StixExportTests(app), IClassFixture<SqliteApiFixture>;

public sealed class StixExportTestsOnPostgres(PostgresApiFixture app) : StixExportTests(app), IClassFixture<PostgresApiFixture>;
