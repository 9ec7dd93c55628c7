using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Dapper;
using IntelSharing.Api.Domain;
using IntelSharing.Api.Infrastructure.Security;
using IntelSharing.IntegrationTests.Infrastructure;

namespace IntelSharing.IntegrationTests.Taxii;

/// <summary>
/// TAXII 2.1 add objects (§5.4) and status (§4.3), ADR 52: an envelope of STIX objects becomes one cyber-incident alert
/// through the same submission as POST /api/v1/alerts — stored, shared by the same rules and delivered to partners —
/// and every object gets its outcome; a refused request stores nothing.
/// </summary>
public abstract class TaxiiAddObjectsTests<TFixture>(TFixture app) : IAsyncLifetime
    where TFixture : ApiFixture, IFakeClockFixture
{
    private const string TaxiiMediaType = "application/taxii+json;version=2.1";
    private const string Green = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb";
    private const string Amber = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421";
    private const string Red = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1";
    private const string Tlp1Amber = "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82";

    private readonly PartnerRig _partners = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public ValueTask DisposeAsync() => _partners.DisposeAsync();

    [Fact]
    public async Task An_envelope_becomes_one_cyber_incident_alert_that_partners_read_and_receive_with_each_objects_outcome_in_the_status()
    {
        var cert = await app.CreateAgencyAsync("National CERT", "RS");
        var partner = await app.CreateAgencyAsync("Hungarian CERT", "HU", AgencyKind.Cert, Scopes.AlertsRead, Scopes.SubscriptionsManage);
        var (receiver, _) = await _partners.SubscribedReceiverAsync(partner);
        var incident = Stix("incident", Green, new JsonObject
        {
            ["name"] = "Credential phishing against eUprava users",
            ["description"] = "Spoofed e-mails lead to a credential-harvesting page.",
            ["extensions"] = new JsonObject
            {
                ["extension-definition--ef765651-680c-498d-9894-99799f2fa126"] = new JsonObject
                {
                    ["extension_type"] = "property-extension",
                    ["criticality"] = 75,
                    ["incident_types"] = new JsonArray("phishing"),
                },
            },
        });
        var ip = Indicator("[ipv4-addr:value = '203.0.113.7']", Green);
        var domains = Indicator("[domain-name:value = 'Login-Portal.example' OR url:value = 'https://login-portal.example/it\\'s']", Tlp1Amber);
        var cve = Stix("vulnerability", Green, new JsonObject
        {
            ["name"] = "CVE-2024-3400",
            ["external_references"] = new JsonArray(new JsonObject { ["source_name"] = "cve", ["external_id"] = "CVE-2024-3400" }),
        });
        var technique = Stix("attack-pattern", Green, new JsonObject
        {
            ["name"] = "Spearphishing Link",
            ["external_references"] = new JsonArray(new JsonObject { ["source_name"] = "mitre-attack", ["external_id"] = "T1566.002" }),
        });
        var country = Stix("location", Green, new JsonObject { ["country"] = "ba" });
        var unmarked = Indicator("[ipv4-addr:value = '198.51.100.9']", null);
        var conjunction = Indicator("[ipv4-addr:value = '198.51.100.10' AND domain-name:value = 'x.example']", Green);
        var malware = Stix("malware", Green, new JsonObject { ["name"] = "Emotet", ["is_family"] = true });
        var relationship = Stix("relationship", Green, new JsonObject
        {
            ["relationship_type"] = "indicates", ["source_ref"] = (string)ip["id"]!, ["target_ref"] = (string)incident["id"]!,
        });

        var response = await PostAsync(cert.Client, await CollectionAsync(cert.Client, "cyber_incident"),
            Envelope(incident, ip, domains, cve, technique, country, unmarked, conjunction, malware, relationship));

        var status = await TaxiiJsonAsync(response, HttpStatusCode.Accepted);
        Assert.Equal("complete", status.GetProperty("status").GetString());
        Assert.Equal(10, status.GetProperty("total_count").GetInt32());
        Assert.Equal(0, status.GetProperty("pending_count").GetInt32());
        Assert.Equal(Ids(incident, ip, domains, cve, technique, country, relationship).Order(), IdsOf(status, "successes").Order());
        Assert.Equal(Ids(unmarked, conjunction, malware).Order(), IdsOf(status, "failures").Order());
        Assert.Equal(7, status.GetProperty("success_count").GetInt32());
        Assert.Equal(3, status.GetProperty("failure_count").GetInt32());
        Assert.Contains("TLP", Message(status, "failures", unmarked), StringComparison.Ordinal);
        Assert.Contains("pattern is not taken", Message(status, "failures", conjunction), StringComparison.Ordinal);
        Assert.Contains("malware", Message(status, "failures", malware), StringComparison.Ordinal);
        var alertId = AlertIdOf(status);

        // The partner reads it through the REST API and receives it as any published alert.
        var read = await partner.Client.GetAsync($"/api/v1/alerts/{alertId}", Ct);
        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        var alert = await read.ReadJsonAsync();
        Assert.Equal("cyber_incident", alert.GetProperty("category").GetString());
        Assert.Equal("Credential phishing against eUprava users", alert.GetProperty("title").GetString());
        Assert.Equal("Spoofed e-mails lead to a credential-harvesting page.", alert.GetProperty("summary").GetString());
        Assert.Equal(cert.Id, alert.GetProperty("originator").GetProperty("id").GetGuid());
        Assert.Equal("amber", alert.GetProperty("tlp").GetString()); // the strictest marking of what was taken (TLP 1.0 amber)
        Assert.Equal("high", alert.GetProperty("severity").GetString());
        Assert.Equal("H2", alert.GetProperty("handling").GetProperty("code").GetString());
        Assert.Equal("X", alert.GetProperty("evaluation").GetProperty("source").GetString());
        Assert.Equal("4", alert.GetProperty("evaluation").GetProperty("information").GetString());
        Assert.Equal("assessment", alert.GetProperty("basis").GetString());
        Assert.Equal(["BA"], alert.GetProperty("countries").EnumerateArray().Select(c => c.GetString()));
        Assert.Equal("phishing", alert.GetProperty("cyber").GetProperty("incidentType").GetString());
        Assert.Equal(["CVE-2024-3400"], alert.GetProperty("cyber").GetProperty("cves").EnumerateArray().Select(c => c.GetString()));
        Assert.Equal(["T1566.002"], alert.GetProperty("cyber").GetProperty("attackTechniques").EnumerateArray().Select(c => c.GetString()));
        Assert.Equal(
            ["domain login-portal.example", "ipv4 203.0.113.7", "url https://login-portal.example/it's"],
            alert.GetProperty("indicators").EnumerateArray().Select(i => $"{i.GetProperty("type").GetString()} {i.GetProperty("value").GetString()}").Order());
        await receiver.WaitForAsync(1);
        var webhook = Assert.Single(receiver.Received);
        Assert.Equal("alert.published", webhook.Type);
        Assert.Equal(alertId, webhook.Json.GetProperty("data").GetProperty("id").GetGuid());
        var records = await app.AuditRecordsAsync("action = 'alert.submit' AND resource_id = @alertId", new { alertId });
        Assert.Equal(cert.Id, Assert.Single(records).AgencyId);
    }

    [Fact]
    public async Task The_same_envelope_posted_again_answers_the_same_status_and_creates_no_second_alert()
    {
        var cert = await app.CreateAgencyAsync("National CERT", "RS");
        var collection = await CollectionAsync(cert.Client, "cyber_incident");
        var envelope = Envelope(Indicator("[ipv4-addr:value = '203.0.113.77']", Green));

        var first = await TaxiiJsonAsync(await PostAsync(cert.Client, collection, envelope), HttpStatusCode.Accepted);
        var second = await TaxiiJsonAsync(await PostAsync(cert.Client, collection, envelope), HttpStatusCode.Accepted);
        var polled = await TaxiiJsonAsync(await GetAsync(cert.Client, $"/taxii2/api/status/{first.GetProperty("id").GetString()}/"), HttpStatusCode.OK);
        var withoutSlash = await GetAsync(cert.Client, $"/taxii2/api/status/{first.GetProperty("id").GetString()}");

        Assert.Equal(first.GetRawText(), second.GetRawText());
        Assert.Equal(first.GetRawText(), polled.GetRawText());
        Assert.Equal(HttpStatusCode.OK, withoutSlash.StatusCode); // the OASIS client polls status/{id} without the slash
        await using var connection = await app.Database.OpenAsync(Ct);
        Assert.Equal(1, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM alerts WHERE originator_id = @id", new { id = cert.Id }));
        Assert.Equal("1 indicator shared over TAXII", (await (await cert.Client.GetAsync($"/api/v1/alerts/{AlertIdOf(first)}", Ct)).ReadJsonAsync()).GetProperty("title").GetString());
    }

    [Fact]
    public async Task The_same_envelope_posted_eight_times_at_once_makes_one_alert_and_one_status()
    {
        var cert = await app.CreateAgencyAsync("National CERT", "RS");
        var collection = await CollectionAsync(cert.Client, "cyber_incident");
        var envelope = Envelope(Indicator("[domain-name:value = 'at-once.example']", Green));

        var answers = await Task.WhenAll(Enumerable.Range(0, 8).Select(async _ => await TaxiiJsonAsync(await PostAsync(cert.Client, collection, envelope), HttpStatusCode.Accepted)));

        Assert.Single(answers.Select(a => a.GetProperty("id").GetString()).Distinct());
        await using var connection = await app.Database.OpenAsync(Ct);
        Assert.Equal(
            (1L, 1L),
            (await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM alerts WHERE originator_id = @id", new { id = cert.Id }),
             await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM taxii_statuses WHERE agency_id = @id", new { id = cert.Id })));
    }

    [Fact]
    public async Task A_status_is_read_only_by_the_agency_that_posted_it()
    {
        var cert = await app.CreateAgencyAsync("National CERT", "RS");
        var other = await app.CreateAgencyAsync("Croatian CERT", "HR");
        var status = await TaxiiJsonAsync(
            await PostAsync(cert.Client, await CollectionAsync(cert.Client, "cyber_incident"), Envelope(Indicator("[domain-name:value = 'status.example']", Green))),
            HttpStatusCode.Accepted);

        foreach (var (client, path) in new[]
        {
            (other.Client, $"/taxii2/api/status/{status.GetProperty("id").GetString()}/"),
            (cert.Client, $"/taxii2/api/status/{Guid.NewGuid()}/"),
            (cert.Client, "/taxii2/api/status/not-a-status/"),
        })
        {
            var error = await TaxiiJsonAsync(await GetAsync(client, path), HttpStatusCode.NotFound);
            Assert.Equal("404", error.GetProperty("http_status").GetString());
        }
    }

    [Fact]
    public async Task The_collections_say_who_may_write_and_every_refused_request_stores_nothing()
    {
        var cert = await app.CreateAgencyAsync("National CERT", "RS");
        var reader = await app.CreateAgencyAsync("Europol EC3", "NL", AgencyKind.EuAgency, Scopes.AlertsRead);
        var cyber = await CollectionAsync(cert.Client, "cyber_incident");
        var smuggling = await CollectionAsync(cert.Client, "migrant_smuggling");
        Assert.Equal([("cyber_incident", true), ("migrant_smuggling", false)], await CanWriteAsync(cert.Client));
        Assert.Equal([("cyber_incident", false), ("migrant_smuggling", false)], await CanWriteAsync(reader.Client));
        var good = Envelope(Indicator("[ipv4-addr:value = '203.0.113.99']", Green));

        Assert.Equal(HttpStatusCode.Forbidden, (await PostAsync(reader.Client, cyber, good)).StatusCode);
        await RefusedAsync(await PostAsync(cert.Client, smuggling, good), HttpStatusCode.Forbidden, "does not take objects");
        await RefusedAsync(await PostAsync(cert.Client, "/taxii2/api/collections/00000000-0000-0000-0000-000000000000/", good), HttpStatusCode.NotFound, "no such collection");
        await RefusedAsync(await PostAsync(cert.Client, cyber, good, contentType: "application/json"), HttpStatusCode.UnsupportedMediaType, TaxiiMediaType);
        await RefusedAsync(await PostAsync(cert.Client, cyber, good, accept: "application/taxii+json;version=2.0"), HttpStatusCode.NotAcceptable, "answers");
        await RefusedAsync(await PostRawAsync(cert.Client, cyber, "{\"objects\": [ {"), HttpStatusCode.BadRequest, "not JSON");
        await RefusedAsync(await PostRawAsync(cert.Client, cyber, "{\"objects\": {}}"), HttpStatusCode.BadRequest, "objects property is an array");
        await RefusedAsync(await PostRawAsync(cert.Client, cyber, "[]"), HttpStatusCode.BadRequest, "objects property is an array");
        var many = Envelope([.. Enumerable.Range(0, 1001).Select(i => Indicator($"[ipv4-addr:value = '10.0.{i / 256}.{i % 256}']", Green))]);
        await RefusedAsync(await PostAsync(cert.Client, cyber, many), HttpStatusCode.BadRequest, "at most 1000 objects");
        var nothing = await RefusedAsync(
            await PostAsync(cert.Client, cyber, Envelope(Indicator("[ipv4-addr:value = '203.0.113.5']", null), Indicator("[ipv4-addr:value = 'not-an-ip']", Green))),
            HttpStatusCode.BadRequest, "No object of the envelope was taken");
        Assert.Equal(2, nothing.GetProperty("details").GetProperty("failures").GetArrayLength());
        Assert.Contains("not-an-ip", nothing.GetProperty("details").GetProperty("failures")[1].GetProperty("message").GetString(), StringComparison.Ordinal);
        await RefusedAsync(await PostAsync(cert.Client, cyber, Envelope(Indicator("[ipv4-addr:value = '203.0.113.6']", Red))), HttpStatusCode.BadRequest, "TLP:RED");
        var longName = Stix("incident", Green, new JsonObject { ["name"] = new string('x', 201), ["description"] = "A description." });
        var invalid = await RefusedAsync(await PostAsync(cert.Client, cyber, Envelope(longName)), HttpStatusCode.BadRequest, "refuse");
        Assert.True(invalid.GetProperty("details").GetProperty("fields").TryGetProperty("title", out _), invalid.GetRawText());

        // Nothing of the agency's was stored: no alert, no Idempotency-Key, no status; each refusal is in the audit trail.
        await using var connection = await app.Database.OpenAsync(Ct);
        Assert.Equal(
            (0L, 0L, 0L),
            (await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM alerts WHERE originator_id = @id", new { id = cert.Id }),
             await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM idempotency_keys WHERE agency_id = @id", new { id = cert.Id }),
             await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM taxii_statuses WHERE agency_id = @id", new { id = cert.Id })));
        var refusals = await app.AuditRecordsAsync("action = 'taxii.write' AND agency_id = @id", new { id = cert.Id });
        Assert.Equal(11, refusals.Count);
        Assert.All(refusals, r => Assert.InRange(r.Outcome, 400, 499));
    }

    [Fact]
    public async Task An_intelsharing_export_posted_by_a_partner_keeps_the_handling_and_evaluation_its_extension_carries()
    {
        var cert = await app.CreateAgencyAsync("National CERT", "RS");
        var croatia = await app.CreateAgencyAsync("Croatian CERT", "HR");
        var original = await cert.PublishAsync(Samples.CyberAlert());
        var bundle = (JsonObject)JsonNode.Parse(await (await croatia.Client.GetAsync($"/api/v1/alerts/{original}/stix", Ct)).Content.ReadAsStringAsync(Ct))!;

        var status = await TaxiiJsonAsync(
            await PostAsync(croatia.Client, await CollectionAsync(croatia.Client, "cyber_incident"), new JsonObject { ["objects"] = bundle["objects"]!.DeepClone() }),
            HttpStatusCode.Accepted);

        Assert.Equal(0, status.GetProperty("failure_count").GetInt32());
        var copy = await (await croatia.Client.GetAsync($"/api/v1/alerts/{AlertIdOf(status)}", Ct)).ReadJsonAsync();
        var source = await (await cert.Client.GetAsync($"/api/v1/alerts/{original}", Ct)).ReadJsonAsync();
        Assert.Equal(croatia.Id, copy.GetProperty("originator").GetProperty("id").GetGuid());
        foreach (var property in new[] { "title", "summary", "severity", "tlp", "handling", "evaluation", "basis", "cyber" })
        {
            Assert.True(JsonElement.DeepEquals(source.GetProperty(property), copy.GetProperty(property) is var c && property == "cyber" ? WithSector(c, source) : c), property);
        }

        Assert.Equal(source.GetProperty("countries").EnumerateArray().Select(c => c.GetString()).Order(), copy.GetProperty("countries").EnumerateArray().Select(c => c.GetString()).Order());
        Assert.Equal(
            source.GetProperty("indicators").EnumerateArray().Select(i => i.GetProperty("value").GetString()).Order(),
            copy.GetProperty("indicators").EnumerateArray().Select(i => i.GetProperty("value").GetString()).Order());
    }

    /// <summary>The copy's cyber section with the source's sector: STIX has no sector, so an import says "other".</summary>
    private static JsonElement WithSector(JsonElement copy, JsonElement source)
    {
        Assert.Equal("other", copy.GetProperty("sector").GetString());
        var cyber = JsonNode.Parse(copy.GetRawText())!.AsObject();
        cyber["sector"] = source.GetProperty("cyber").GetProperty("sector").GetString();
        return JsonDocument.Parse(cyber.ToJsonString()).RootElement.Clone();
    }

    private static JsonObject Stix(string type, string? marking, JsonObject properties)
    {
        var stix = new JsonObject
        {
            ["type"] = type,
            ["spec_version"] = "2.1",
            ["id"] = $"{type}--{Guid.NewGuid()}",
            ["created"] = "2026-12-01T10:00:00.000Z",
            ["modified"] = "2026-12-01T10:00:00.000Z",
        };
        foreach (var (name, value) in properties.ToList())
        {
            properties.Remove(name);
            stix[name] = value;
        }

        if (marking is not null)
        {
            stix["object_marking_refs"] = new JsonArray(marking);
        }

        return stix;
    }

    private static JsonObject Indicator(string pattern, string? marking) =>
        Stix("indicator", marking, new JsonObject { ["pattern"] = pattern, ["pattern_type"] = "stix", ["valid_from"] = "2026-12-01T10:00:00Z" });

    private static JsonObject Envelope(params JsonObject[] objects) => new() { ["objects"] = new JsonArray([.. objects]) };

    private static string[] Ids(params JsonObject[] objects) => [.. objects.Select(o => (string)o["id"]!)];

    private static IEnumerable<string> IdsOf(JsonElement status, string list) => status.GetProperty(list).EnumerateArray().Select(o => o.GetProperty("id").GetString()!);

    private static string Message(JsonElement status, string list, JsonObject stix) =>
        status.GetProperty(list).EnumerateArray().Single(o => o.GetProperty("id").GetString() == (string)stix["id"]!).GetProperty("message").GetString()!;

    /// <summary>The alert the status's successes name (each says "The alert is /api/v1/alerts/{id}.").</summary>
    private static Guid AlertIdOf(JsonElement status)
    {
        var message = status.GetProperty("successes")[0].GetProperty("message").GetString()!;
        var at = message.IndexOf("/api/v1/alerts/", StringComparison.Ordinal) + "/api/v1/alerts/".Length;
        return Guid.Parse(message.AsSpan(at, 36));
    }

    private static async Task<string> CollectionAsync(HttpClient client, string alias)
    {
        var collections = await TaxiiJsonAsync(await GetAsync(client, "/taxii2/api/collections/"), HttpStatusCode.OK);
        var id = collections.GetProperty("collections").EnumerateArray().Single(c => c.GetProperty("alias").GetString() == alias).GetProperty("id").GetString();
        return $"/taxii2/api/collections/{id}/";
    }

    private static async Task<List<(string, bool)>> CanWriteAsync(HttpClient client)
    {
        var collections = await TaxiiJsonAsync(await GetAsync(client, "/taxii2/api/collections/"), HttpStatusCode.OK);
        return [.. collections.GetProperty("collections").EnumerateArray().Select(c => (c.GetProperty("alias").GetString()!, c.GetProperty("can_write").GetBoolean()))];
    }

    private static Task<HttpResponseMessage> GetAsync(HttpClient client, string path)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Accept.ParseAdd(TaxiiMediaType);
        return client.SendAsync(request, Ct);
    }

    private static Task<HttpResponseMessage> PostAsync(HttpClient client, string collection, JsonObject envelope, string contentType = TaxiiMediaType, string accept = TaxiiMediaType) =>
        PostRawAsync(client, collection, envelope.ToJsonString(), contentType, accept);

    private static Task<HttpResponseMessage> PostRawAsync(HttpClient client, string collection, string body, string contentType = TaxiiMediaType, string accept = TaxiiMediaType)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, $"{collection}objects/") { Content = new ByteArrayContent(Encoding.UTF8.GetBytes(body)) };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        request.Headers.Accept.ParseAdd(accept);
        return client.SendAsync(request, Ct);
    }

    private static async Task<JsonElement> RefusedAsync(HttpResponseMessage response, HttpStatusCode expected, string description)
    {
        var error = await TaxiiJsonAsync(response, expected);
        Assert.Equal(((int)expected).ToString(System.Globalization.CultureInfo.InvariantCulture), error.GetProperty("http_status").GetString());
        Assert.Contains(description, error.GetProperty("description").GetString(), StringComparison.Ordinal);
        return error;
    }

    private static async Task<JsonElement> TaxiiJsonAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        var body = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.StatusCode == expected, $"{(int)response.StatusCode} {body}");
        Assert.Equal("application/taxii+json", response.Content.Headers.ContentType?.MediaType);
        return JsonDocument.Parse(body).RootElement.Clone();
    }
}

public sealed class TaxiiAddObjectsTestsOnSqlite(DeliverySqliteFixture app) : TaxiiAddObjectsTests<DeliverySqliteFixture>(app), IClassFixture<DeliverySqliteFixture>;

public sealed class TaxiiAddObjectsTestsOnPostgres(DeliveryPostgresFixture app) : TaxiiAddObjectsTests<DeliveryPostgresFixture>(app), IClassFixture<DeliveryPostgresFixture>;
