using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Dapper;
using IntelSharing.IntegrationTests.Infrastructure;

namespace IntelSharing.IntegrationTests.Taxii;

public abstract class TaxiiServerTests(ApiFixture app)
{
    private const string TaxiiMediaType = "application/taxii+json;version=2.1";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Discovery_the_api_root_and_the_collections_answer_in_the_taxii_media_type_to_a_key_sent_as_basic_auth()
    {
        var cert = await app.CreateAgencyAsync("National CERT");
        var basic = app.ClientWithKey(null);
        basic.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"cert:{cert.Key}")));
        basic.DefaultRequestHeaders.Accept.ParseAdd(TaxiiMediaType);

        var discovery = await GetJsonAsync(basic, "/taxii2/");
        var root = await GetJsonAsync(basic, discovery.GetProperty("default").GetString()!);
        var collections = (await GetJsonAsync(basic, "/taxii2/api/collections/")).GetProperty("collections").EnumerateArray().ToList();

        Assert.Equal(["/taxii2/api/"], discovery.GetProperty("api_roots").EnumerateArray().Select(r => r.GetString()));
        Assert.Equal([TaxiiMediaType], root.GetProperty("versions").EnumerateArray().Select(v => v.GetString()));
        Assert.Equal(["cyber_incident", "migrant_smuggling"], collections.Select(c => c.GetProperty("alias").GetString()));
        Assert.All(collections, c => Assert.True(c.GetProperty("can_read").GetBoolean()));
        var unauthenticated = await app.ClientWithKey(null).GetAsync("/taxii2/", Ct);
        Assert.Equal(HttpStatusCode.Unauthorized, unauthenticated.StatusCode);
        Assert.Contains(unauthenticated.Headers.WwwAuthenticate, h => h.Scheme == "Basic");
    }

    [Fact]
    public async Task An_unsupported_accept_is_answered_406_with_a_taxii_error_message()
    {
        var cert = await app.CreateAgencyAsync("National CERT");
        using var request = new HttpRequestMessage(HttpMethod.Get, "/taxii2/api/collections/");
        request.Headers.Accept.ParseAdd("application/taxii+json;version=2.0");

        var response = await cert.Client.SendAsync(request, Ct);

        Assert.Equal(HttpStatusCode.NotAcceptable, response.StatusCode);
        Assert.Equal("application/taxii+json", response.Content.Headers.ContentType?.MediaType);
        var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct)).RootElement;
        Assert.Equal("406", error.GetProperty("http_status").GetString());
        Assert.False(string.IsNullOrEmpty(error.GetProperty("title").GetString()));
    }

    [Fact]
    public async Task Paging_through_a_collection_returns_exactly_the_objects_of_the_alerts_the_caller_may_see_once_each()
    {
        var cert = await app.CreateAgencyAsync("National CERT");
        var named = await app.CreateAgencyAsync("Europol EC3", "NL");
        var outsider = await app.CreateAgencyAsync("Turkish National Police", "TR");
        // The class's database holds other tests' alerts: walk only what was added from here on.
        var since = Uri.EscapeDataString(DateTimeOffset.UtcNow.AddMilliseconds(-1).ToString("yyyy-MM-ddTHH:mm:ss.fffZ", System.Globalization.CultureInfo.InvariantCulture));
        var green = await cert.PublishAsync(Samples.CyberAlert());
        var red = RedFor(Samples.CyberAlert(), named);
        var hidden = await cert.PublishAsync(red);
        var collection = await CollectionOfAsync(cert.Client, "cyber_incident");

        var forNamed = await WalkAsync(named.Client, collection, $"limit=7&added_after={since}");
        var forOutsider = await WalkAsync(outsider.Client, collection, $"limit=7&added_after={since}");

        var expectedForNamed = (await StixIdsAsync(named.Client, green)).Concat(await StixIdsAsync(named.Client, hidden)).ToList();
        var walked = forNamed.Objects.Select(IdOf).ToList();
        Assert.Equal(expectedForNamed.Distinct().Order(), walked.Distinct().Order());
        // An object only one alert carries comes exactly once; a shared one (markings, the originator) once per page.
        Assert.All(expectedForNamed.GroupBy(id => id).Where(g => g.Count() == 1), own => Assert.Single(walked, id => id == own.Key));
        Assert.All(forNamed.PageIds, page => Assert.Equal(page.Count, page.Distinct().Count()));
        Assert.True(forNamed.Pages > 2, $"{forNamed.Pages} pages");
        Assert.Equal((await StixIdsAsync(outsider.Client, green)).Order(), forOutsider.Objects.Select(IdOf).Order());
        Assert.DoesNotContain(forOutsider.Objects, o => o.GetRawText().Contains(hidden.ToString(), StringComparison.Ordinal));
    }

    [Fact]
    public async Task Filters_manifest_object_by_id_and_versions_follow_the_sharing_policy()
    {
        var cert = await app.CreateAgencyAsync("National CERT");
        var partner = await app.CreateAgencyAsync("Europol EC3", "NL");
        var outsider = await app.CreateAgencyAsync("Turkish National Police", "TR");
        var red = RedFor(Samples.CyberAlert(), partner);
        var alert = await cert.PublishAsync(red);
        var collection = await CollectionOfAsync(cert.Client, "cyber_incident");

        var indicators = await GetJsonAsync(partner.Client, $"{collection}objects/?match[type]=indicator");
        var indicator = Assert.Single(indicators.GetProperty("objects").EnumerateArray(), o => o.GetProperty("pattern").GetString() == "[ipv4-addr:value = '185.220.101.4']"
            && o.GetRawText().Contains(alert.ToString(), StringComparison.Ordinal));
        Assert.All(indicators.GetProperty("objects").EnumerateArray(), o => Assert.Equal("indicator", o.GetProperty("type").GetString()));
        var id = indicator.GetProperty("id").GetString()!;

        var byId = await GetJsonAsync(partner.Client, $"{collection}objects/{id}/");
        var versions = await GetJsonAsync(partner.Client, $"{collection}objects/{id}/versions/");
        var matched = await GetJsonAsync(partner.Client, $"{collection}objects/?match[id]={id}&match[version]=last&match[spec_version]=2.1");
        var manifest = await GetJsonAsync(partner.Client, $"{collection}manifest/?match[type]=indicator");
        var later = await partner.Client.GetAsync($"{collection}objects/?added_after={Uri.EscapeDataString(DateTimeOffset.UtcNow.AddMinutes(5).ToString("O"))}", Ct);

        Assert.Equal(id, Assert.Single(byId.GetProperty("objects").EnumerateArray()).GetProperty("id").GetString());
        Assert.Equal([indicator.GetProperty("modified").GetString()], versions.GetProperty("versions").EnumerateArray().Select(v => v.GetString()));
        Assert.Equal(id, Assert.Single(matched.GetProperty("objects").EnumerateArray()).GetProperty("id").GetString());
        Assert.Equal(indicators.GetProperty("objects").GetArrayLength(), manifest.GetProperty("objects").GetArrayLength());
        Assert.All(manifest.GetProperty("objects").EnumerateArray(), m => Assert.Equal("application/stix+json;version=2.1", m.GetProperty("media_type").GetString()));
        Assert.Equal(HttpStatusCode.OK, later.StatusCode);
        Assert.Empty(JsonDocument.Parse(await later.Content.ReadAsStringAsync(Ct)).RootElement.GetProperty("objects").EnumerateArray());

        var outsiderById = await outsider.Client.GetAsync($"{collection}objects/{id}/", Ct);
        Assert.Equal(HttpStatusCode.NotFound, outsiderById.StatusCode);
        Assert.Equal("404", JsonDocument.Parse(await outsiderById.Content.ReadAsStringAsync(Ct)).RootElement.GetProperty("http_status").GetString());
        Assert.Empty((await GetJsonAsync(outsider.Client, $"{collection}manifest/?match[id]={id}")).GetProperty("objects").EnumerateArray());
    }

    [Fact]
    public async Task Objects_are_served_exactly_as_the_stix_export_writes_them_whatever_their_characters()
    {
        // The stored objects are read as their UTF-8 bytes and copied into the page as they are: text outside ASCII,
        // quotes and backslashes must come out as the export writes them, on both databases.
        var cert = await app.CreateAgencyAsync("National CERT");
        var since = Uri.EscapeDataString(DateTimeOffset.UtcNow.AddMilliseconds(-1).ToString("yyyy-MM-ddTHH:mm:ss.fffZ", System.Globalization.CultureInfo.InvariantCulture));
        var published = Samples.CyberAlert();
        const string Title = "Фишинг „eUprava\" – Röszke–Horgoš határátkelő, ĐŽ 🛂 \\share\\c$";
        published["title"] = Title;
        var alert = await cert.PublishAsync(published);
        var collection = await CollectionOfAsync(cert.Client, "cyber_incident");

        var exported = (await BundleAsync(cert.Client, alert)).GetProperty("objects").EnumerateArray().ToDictionary(IdOf);
        var response = await cert.Client.GetAsync($"{collection}objects/?added_after={since}", Ct);
        var bytes = await response.Content.ReadAsByteArrayAsync(Ct);
        var page = JsonDocument.Parse(bytes).RootElement.GetProperty("objects").EnumerateArray().Where(o => exported.ContainsKey(IdOf(o))).ToList();
        var incident = exported.Values.Single(o => o.GetProperty("type").GetString() == "incident");
        var byId = await GetJsonAsync(cert.Client, $"{collection}objects/{IdOf(incident)}/");

        Assert.Equal(bytes.Length, response.Content.Headers.ContentLength);
        Assert.Equal(exported.Keys.Order(), page.Select(IdOf).Order());
        Assert.All(page, o => Assert.True(System.Text.Json.Nodes.JsonNode.DeepEquals(System.Text.Json.Nodes.JsonNode.Parse(exported[IdOf(o)].GetRawText()), System.Text.Json.Nodes.JsonNode.Parse(o.GetRawText())), IdOf(o)));
        Assert.Equal(Title, page.Single(o => IdOf(o) == IdOf(incident)).GetProperty("name").GetString());
        Assert.Equal(Title, Assert.Single(byId.GetProperty("objects").EnumerateArray()).GetProperty("name").GetString());
    }

    [Fact]
    public async Task A_page_carries_each_shared_object_once_however_many_of_its_alerts_carry_it()
    {
        var cert = await app.CreateAgencyAsync("National CERT");
        var since = Uri.EscapeDataString(DateTimeOffset.UtcNow.AddMilliseconds(-1).ToString("yyyy-MM-ddTHH:mm:ss.fffZ", System.Globalization.CultureInfo.InvariantCulture));
        var alerts = new List<Guid>();
        for (var i = 0; i < 3; i++)
        {
            alerts.Add(await cert.PublishAsync(Samples.CyberAlert()));
        }

        var collection = await CollectionOfAsync(cert.Client, "cyber_incident");
        var bundles = new List<string>();
        foreach (var alert in alerts)
        {
            bundles.AddRange(await StixIdsAsync(cert.Client, alert));
        }

        var page = await GetJsonAsync(cert.Client, $"{collection}objects/?limit=1000&added_after={since}");
        var manifest = await GetJsonAsync(cert.Client, $"{collection}manifest/?limit=1000&added_after={since}");

        var served = page.GetProperty("objects").EnumerateArray().Select(IdOf).ToList();
        Assert.Equal(bundles.Distinct().Order(), served.Order());
        Assert.True(bundles.Count > served.Count, "the three bundles repeat the shared objects; the page does not");
        Assert.Single(served, id => id == "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb");
        Assert.Single(page.GetProperty("objects").EnumerateArray(), o => o.TryGetProperty("identity_class", out var c) && c.GetString() == "organization");
        Assert.Equal(served.Order(), manifest.GetProperty("objects").EnumerateArray().Select(IdOf).Order());
    }

    [Fact]
    public async Task Object_by_id_is_found_through_the_object_index_among_thousands_and_is_404_like_an_absent_one_for_an_outsider()
    {
        var cert = await app.CreateAgencyAsync("National CERT");
        var partner = await app.CreateAgencyAsync("Europol EC3", "NL");
        var outsider = await app.CreateAgencyAsync("Turkish National Police", "TR");
        var red = RedFor(Samples.CyberAlert(), partner);
        var alert = await cert.PublishAsync(red);
        var collection = await CollectionOfAsync(cert.Client, "cyber_incident");
        var bundle = await BundleAsync(partner.Client, alert);
        var indicator = IdOf(bundle.GetProperty("objects").EnumerateArray().Single(o => o.TryGetProperty("pattern", out var p) && p.GetString() == "[ipv4-addr:value = '185.220.101.4']"));
        var originator = IdOf(bundle.GetProperty("objects").EnumerateArray().Single(o => o.TryGetProperty("identity_class", out var c) && c.GetString() == "organization"));
        var plan = await PlanWithManyOtherAlertsAsync(alert, Guid.Parse(indicator[(indicator.IndexOf("--", StringComparison.Ordinal) + 2)..]));

        var byId = await GetJsonAsync(partner.Client, $"{collection}objects/{indicator}/");
        var identity = await GetJsonAsync(partner.Client, $"{collection}objects/{originator}/");
        var hidden = await outsider.Client.GetAsync($"{collection}objects/{indicator}/", Ct);
        var hiddenIdentity = await outsider.Client.GetAsync($"{collection}objects/{originator}/", Ct);
        var absent = await outsider.Client.GetAsync($"{collection}objects/indicator--{Guid.NewGuid()}/", Ct);
        var matched = await GetJsonAsync(outsider.Client, $"{collection}objects/?match[id]={indicator},{originator}");

        Assert.DoesNotContain("Seq Scan on stix_object_alerts", plan, StringComparison.Ordinal);
        Assert.Contains(app.Provider == Api.Infrastructure.Persistence.DatabaseProvider.Postgres ? "stix_object_alerts_pkey" : "object_key=?", plan, StringComparison.Ordinal);
        Assert.Equal(indicator, IdOf(Assert.Single(byId.GetProperty("objects").EnumerateArray())));
        Assert.Equal(originator, IdOf(Assert.Single(identity.GetProperty("objects").EnumerateArray())));
        Assert.Equal(HttpStatusCode.NotFound, hidden.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, hiddenIdentity.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, absent.StatusCode);
        Assert.Equal(await absent.Content.ReadAsStringAsync(Ct), await hidden.Content.ReadAsStringAsync(Ct));
        Assert.Empty(matched.GetProperty("objects").EnumerateArray());
    }

    /// <summary>
    /// Adds thousands of alerts of another originator that no one else may see (red, no audience), each with object
    /// keys in the index, and returns the plan of the by-id look-up for <paramref name="key"/>.
    /// </summary>
    private async Task<string> PlanWithManyOtherAlertsAsync(Guid template, Guid key)
    {
        var filler = await app.CreateAgencyAsync("Filler agency");
        await using var connection = await app.Database.OpenAsync(Ct);
        var postgres = app.Provider == Api.Infrastructure.Persistence.DatabaseProvider.Postgres;
        const string Columns = "originator_id, category, severity, severity_rank, tlp, handling_code, has_audience, version, status, created_at, updated_at, review_at, expires_at, document";
        var copies = $"@filler, category, severity, severity_rank, 'red', handling_code, false, version, status, created_at, updated_at, review_at, expires_at, document";
        var sql = postgres
            ? $"""
              INSERT INTO alerts (id, {Columns}) SELECT gen_random_uuid(), {copies} FROM alerts, generate_series(1, 5000) WHERE id = @template;
              INSERT INTO stix_object_alerts (object_key, alert_id) SELECT gen_random_uuid(), a.id FROM alerts a, generate_series(1, 8) WHERE a.originator_id = @filler;
              ANALYZE alerts; ANALYZE stix_object_alerts;
              """
            : $"""
              WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5000)
              INSERT INTO alerts (id, {Columns}) SELECT {SqliteUuid}, {copies} FROM alerts, n WHERE id = @template;
              WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 8)
              INSERT INTO stix_object_alerts (object_key, alert_id) SELECT {SqliteUuid}, a.id FROM alerts a, n WHERE a.originator_id = @filler;
              ANALYZE;
              """;
        await connection.ExecuteAsync(new CommandDefinition(sql, new { template, filler = filler.Id }, cancellationToken: Ct));
        var lookup = Api.Features.Taxii.GetTaxiiObjects.Handler.CarriersSql(Api.Infrastructure.Persistence.SqlDialect.Of(connection), addedAfter: false);
        var parameters = new { key, category = "cyber_incident", agencyId = filler.Id, offset = 0, take = 2 };
        return postgres
            ? string.Join('\n', await connection.QueryAsync<string>(new CommandDefinition("EXPLAIN " + lookup, parameters, cancellationToken: Ct)))
            : string.Join('\n', (await connection.QueryAsync(new CommandDefinition("EXPLAIN QUERY PLAN " + lookup, parameters, cancellationToken: Ct)))
                .Select(r => (string)((IDictionary<string, object>)r)["detail"]));
    }

    [Fact]
    public async Task An_outsider_who_may_see_no_alert_gets_the_tlp_definitions_and_intelsharings_own_objects_by_id()
    {
        var border = await app.CreateAgencyAsync("Serbian Border Police", "RS");
        var named = await app.CreateAgencyAsync("Frontex", "PL");
        var outsider = await app.CreateAgencyAsync("Turkish National Police", "TR");
        var red = RedFor(Samples.SmugglingAlert(), named);
        var alert = await border.PublishAsync(red);
        var collection = await CollectionOfAsync(outsider.Client, "migrant_smuggling");
        var bundle = await BundleAsync(named.Client, alert);
        var inBundle = bundle.GetProperty("objects").EnumerateArray()
            .Where(o => o.GetProperty("type").GetString() is "marking-definition" or "extension-definition" || IdOf(o) == SystemIdentity)
            .ToDictionary(IdOf, o => o.GetRawText());
        var originator = IdOf(bundle.GetProperty("objects").EnumerateArray().Single(o => o.TryGetProperty("identity_class", out var c) && c.GetString() == "organization"));
        string[] universal = [.. TlpMarkings, SystemIdentity, .. inBundle.Keys.Where(id => id.StartsWith("extension-definition--", StringComparison.Ordinal))];

        var outsidersCollection = await GetJsonAsync(outsider.Client, $"{collection}objects/");
        var byId = new Dictionary<string, JsonElement>();
        foreach (var id in universal)
        {
            byId[id] = Assert.Single((await GetJsonAsync(outsider.Client, $"{collection}objects/{id}/")).GetProperty("objects").EnumerateArray());
        }

        var matched = await GetJsonAsync(outsider.Client, $"{collection}objects/?match[id]={string.Join(',', universal)}");
        var originatorForOutsider = await outsider.Client.GetAsync($"{collection}objects/{originator}/", Ct);

        Assert.Empty(outsidersCollection.GetProperty("objects").EnumerateArray());
        Assert.Equal(8, universal.Length);
        Assert.All(byId, o => Assert.Equal(o.Key, IdOf(o.Value)));
        // The definitions the red alert's own bundle carries (TLP:RED, TLP:CLEAR, IntelSharing's identity and extensions) are those served.
        Assert.All(inBundle, o => Assert.True(System.Text.Json.Nodes.JsonNode.DeepEquals(System.Text.Json.Nodes.JsonNode.Parse(o.Value), System.Text.Json.Nodes.JsonNode.Parse(byId[o.Key].GetRawText())), o.Key));
        Assert.Equal(universal.Order(), matched.GetProperty("objects").EnumerateArray().Select(IdOf).Order());
        Assert.Equal(HttpStatusCode.NotFound, originatorForOutsider.StatusCode);
    }

    [Fact]
    public async Task A_stored_rendering_of_another_version_is_never_served_and_a_missing_one_is_rendered_from_the_document_and_restored_at_start()
    {
        var cert = await app.CreateAgencyAsync("National CERT");
        var alert = await cert.PublishAsync(Samples.CyberAlert());
        var collection = await CollectionOfAsync(cert.Client, "cyber_incident");
        var bundle = await BundleAsync(cert.Client, alert);
        var report = bundle.GetProperty("objects").EnumerateArray().Single(o => o.GetProperty("type").GetString() == "report");
        var path = $"{collection}objects/{IdOf(report)}/";
        await using var connection = await app.Database.OpenAsync(Ct);
        const string Stored = "SELECT version AS Version, mapping AS Mapping FROM stix_renderings WHERE alert_id = @alert";

        var written = await connection.QuerySingleAsync<(int Version, int Mapping)>(new CommandDefinition(Stored, new { alert }, cancellationToken: Ct));
        var fromStore = Assert.Single((await GetJsonAsync(cert.Client, path)).GetProperty("objects").EnumerateArray()).GetRawText();
        var stale = new System.Text.Json.Nodes.JsonArray(new System.Text.Json.Nodes.JsonObject { ["type"] = "report", ["id"] = IdOf(report), ["name"] = "stale" }).ToJsonString();
        await connection.ExecuteAsync(new CommandDefinition("UPDATE stix_renderings SET version = 0, objects = @stale WHERE alert_id = @alert", new { alert, stale }, cancellationToken: Ct));
        var besideStale = Assert.Single((await GetJsonAsync(cert.Client, path)).GetProperty("objects").EnumerateArray()).GetRawText();
        await connection.ExecuteAsync(new CommandDefinition("DELETE FROM stix_renderings WHERE alert_id = @alert", new { alert }, cancellationToken: Ct));
        var withoutRow = Assert.Single((await GetJsonAsync(cert.Client, path)).GetProperty("objects").EnumerateArray()).GetRawText();
        var backfill = new Api.Features.Stix.StixRendering.Backfill(app.Database, Microsoft.Extensions.Logging.Abstractions.NullLogger<Api.Features.Stix.StixRendering.Backfill>.Instance);
        await backfill.StartAsync(Ct);
        await backfill.ExecuteTask!;
        var restored = await connection.QuerySingleAsync<(int Version, int Mapping)>(new CommandDefinition(Stored, new { alert }, cancellationToken: Ct));

        Assert.Equal((1, Api.Features.Stix.StixRendering.Mapping), written);
        Assert.True(System.Text.Json.Nodes.JsonNode.DeepEquals(System.Text.Json.Nodes.JsonNode.Parse(report.GetRawText()), System.Text.Json.Nodes.JsonNode.Parse(fromStore)));
        Assert.Equal(fromStore, besideStale);
        Assert.Equal(fromStore, withoutRow);
        Assert.Equal(written, restored);
        Assert.Equal(fromStore, Assert.Single((await GetJsonAsync(cert.Client, path)).GetProperty("objects").EnumerateArray()).GetRawText());
    }

    private static readonly string SystemIdentity = Api.Features.Stix.StixDefinitions.SystemIdentityId;

    /// <summary>FIRST's TLP 2.0 marking definitions (../shared/reference/tlp-2.0): clear, green, amber, amber+strict, red.</summary>
    private static readonly string[] TlpMarkings =
    [
        "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
        "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
        "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
        "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
        "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
    ];

    private const string SqliteUuid =
        "lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-' || hex(randomblob(2)) || '-' || hex(randomblob(2)) || '-' || hex(randomblob(6)))";

    [Fact]
    public async Task A_next_link_works_only_for_the_caller_and_query_it_was_issued_for_and_pages_carry_date_added_headers()
    {
        var cert = await app.CreateAgencyAsync("National CERT");
        var other = await app.CreateAgencyAsync("Europol EC3", "NL");
        await cert.PublishAsync(Samples.CyberAlert());
        var collection = await CollectionOfAsync(cert.Client, "cyber_incident");

        var first = await cert.Client.GetAsync($"{collection}objects/?limit=3", Ct);
        var body = JsonDocument.Parse(await first.Content.ReadAsStringAsync(Ct)).RootElement;
        var next = body.GetProperty("next").GetString()!;

        Assert.True(body.GetProperty("more").GetBoolean());
        Assert.True(first.Headers.Contains("X-TAXII-Date-Added-First"));
        Assert.True(first.Headers.Contains("X-TAXII-Date-Added-Last"));
        Assert.Equal(HttpStatusCode.OK, (await cert.Client.GetAsync($"{collection}objects/?limit=3&next={Uri.EscapeDataString(next)}", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await other.Client.GetAsync($"{collection}objects/?limit=3&next={Uri.EscapeDataString(next)}", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await cert.Client.GetAsync($"{collection}objects/?limit=3&match[type]=indicator&next={Uri.EscapeDataString(next)}", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await cert.Client.GetAsync($"{collection}objects/?limit=0", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await cert.Client.GetAsync($"{collection}objects/?match[version]=yesterday", Ct)).StatusCode);
    }

    private sealed record Walk(List<JsonElement> Objects, int Pages, List<List<string>> PageIds);

    private static string IdOf(JsonElement stix) => stix.GetProperty("id").GetString()!;

    /// <summary>The alert made TLP:RED for <paramref name="named"/> alone.</summary>
    private static System.Text.Json.Nodes.JsonObject RedFor(System.Text.Json.Nodes.JsonObject alert, TestAgency named)
    {
        alert["tlp"] = "red";
        alert["audience"] = new System.Text.Json.Nodes.JsonObject { ["agencies"] = new System.Text.Json.Nodes.JsonArray(named.Id.ToString()) };
        return alert;
    }

    private static async Task<JsonElement> BundleAsync(HttpClient client, Guid alert) =>
        JsonDocument.Parse(await (await client.GetAsync($"/api/v1/alerts/{alert}/stix", Ct)).Content.ReadAsStringAsync(Ct)).RootElement.Clone();

    private static async Task<Walk> WalkAsync(HttpClient client, string collection, string query)
    {
        var objects = new List<JsonElement>();
        var pageIds = new List<List<string>>();
        var pages = 0;
        string? next = null;
        do
        {
            var page = await GetJsonAsync(client, $"{collection}objects/?{query}{(next is null ? "" : $"&next={Uri.EscapeDataString(next)}")}");
            pages++;
            objects.AddRange(page.GetProperty("objects").EnumerateArray());
            pageIds.Add([.. page.GetProperty("objects").EnumerateArray().Select(IdOf)]);
            next = page.GetProperty("more").GetBoolean() ? page.GetProperty("next").GetString() : null;
        }
        while (next is not null && pages < 100);

        return new Walk(objects, pages, pageIds);
    }

    private static async Task<List<string>> StixIdsAsync(HttpClient client, Guid alert)
    {
        var bundle = await BundleAsync(client, alert);
        return [.. bundle.GetProperty("objects").EnumerateArray().Select(o => o.GetProperty("id").GetString()!)];
    }

    private static async Task<string> CollectionOfAsync(HttpClient client, string alias)
    {
        var collections = await GetJsonAsync(client, "/taxii2/api/collections/");
        var id = collections.GetProperty("collections").EnumerateArray().Single(c => c.GetProperty("alias").GetString() == alias).GetProperty("id").GetString();
        return $"/taxii2/api/collections/{id}/";
    }

    private static async Task<JsonElement> GetJsonAsync(HttpClient client, string path)
    {
        var response = await client.GetAsync(path, Ct);
        var body = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {path}: {(int)response.StatusCode} {body}");
        Assert.Equal("application/taxii+json", response.Content.Headers.ContentType?.MediaType);
        return JsonDocument.Parse(body).RootElement.Clone();
    }
}

public sealed class TaxiiServerTestsOnSqlite(SqliteApiFixture app) : TaxiiServerTests(app), IClassFixture<SqliteApiFixture>;

public sealed class TaxiiServerTestsOnPostgres(PostgresApiFixture app) : TaxiiServerTests(app), IClassFixture<PostgresApiFixture>;
