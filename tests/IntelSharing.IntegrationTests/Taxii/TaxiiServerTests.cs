using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
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
        var red = Samples.CyberAlert();
        red["tlp"] = "red";
        red["audience"] = new System.Text.Json.Nodes.JsonObject { ["agencies"] = new System.Text.Json.Nodes.JsonArray(named.Id.ToString()) };
        var hidden = await cert.PublishAsync(red);
        var collection = await CollectionOfAsync(cert.Client, "cyber_incident");

        var forNamed = await WalkAsync(named.Client, collection, $"limit=7&added_after={since}");
        var forOutsider = await WalkAsync(outsider.Client, collection, $"limit=7&added_after={since}");

        var expectedForNamed = (await StixIdsAsync(named.Client, green)).Concat(await StixIdsAsync(named.Client, hidden)).ToList();
        Assert.Equal(expectedForNamed.Count, forNamed.Objects.Count);
        Assert.Equal(expectedForNamed.Order(), forNamed.Objects.Select(o => $"{o.GetProperty("id").GetString()}").Order());
        Assert.True(forNamed.Pages > 2, $"{forNamed.Pages} pages");
        Assert.Equal((await StixIdsAsync(outsider.Client, green)).Order(), forOutsider.Objects.Select(o => $"{o.GetProperty("id").GetString()}").Order());
        Assert.DoesNotContain(forOutsider.Objects, o => o.GetRawText().Contains(hidden.ToString(), StringComparison.Ordinal));
    }

    [Fact]
    public async Task Filters_manifest_object_by_id_and_versions_follow_the_sharing_policy()
    {
        var cert = await app.CreateAgencyAsync("National CERT");
        var partner = await app.CreateAgencyAsync("Europol EC3", "NL");
        var outsider = await app.CreateAgencyAsync("Turkish National Police", "TR");
        var red = Samples.CyberAlert();
        red["tlp"] = "red";
        red["audience"] = new System.Text.Json.Nodes.JsonObject { ["agencies"] = new System.Text.Json.Nodes.JsonArray(partner.Id.ToString()) };
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

    private sealed record Walk(List<JsonElement> Objects, int Pages);

    private static async Task<Walk> WalkAsync(HttpClient client, string collection, string query)
    {
        var objects = new List<JsonElement>();
        var pages = 0;
        string? next = null;
        do
        {
            var page = await GetJsonAsync(client, $"{collection}objects/?{query}{(next is null ? "" : $"&next={Uri.EscapeDataString(next)}")}");
            pages++;
            objects.AddRange(page.GetProperty("objects").EnumerateArray());
            next = page.GetProperty("more").GetBoolean() ? page.GetProperty("next").GetString() : null;
        }
        while (next is not null && pages < 100);

        return new Walk(objects, pages);
    }

    private static async Task<List<string>> StixIdsAsync(HttpClient client, Guid alert)
    {
        var bundle = JsonDocument.Parse(await (await client.GetAsync($"/api/v1/alerts/{alert}/stix", Ct)).Content.ReadAsStringAsync(Ct)).RootElement;
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
