using System.Net;
using System.Text.Json;
using IntelSharing.IntegrationTests.Infrastructure;

namespace IntelSharing.IntegrationTests.Alerts;

public abstract class AlertIntakeTests(ApiFixture app)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Submitting_a_smuggling_alert_returns_201_with_location_etag_and_the_normalised_alert()
    {
        var agency = await app.CreateAgencyAsync("Border Police Directorate");

        var response = await agency.Client.PostAsync("/api/v1/alerts", Samples.Json(Samples.SmugglingAlert()), Ct);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var body = await response.ReadJsonAsync();
        var id = body.GetProperty("id").GetGuid();
        Assert.Equal($"/api/v1/alerts/{id}", response.Headers.Location?.OriginalString);
        Assert.Equal("\"1\"", response.Headers.ETag?.Tag);
        Assert.Equal(agency.Id, body.GetProperty("originator").GetProperty("id").GetGuid());
        Assert.Equal("+381641234567", body.GetProperty("indicators")[0].GetProperty("value").GetString());
        Assert.Equal("+381 64 123 4567", body.GetProperty("indicators")[0].GetProperty("submitted").GetString());
        Assert.Equal("RS35260005601001611379", body.GetProperty("indicators")[2].GetProperty("value").GetString());
        Assert.Equal("Horgoš–Röszke", body.GetProperty("smuggling").GetProperty("crossingPoints")[0].GetProperty("name").GetString());

        var read = await agency.Client.GetAsync($"/api/v1/alerts/{id}", Ct);
        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        Assert.Equal(body.GetRawText(), (await read.ReadJsonAsync()).GetRawText());
    }

    [Fact]
    public async Task Submitting_a_cyber_alert_stores_it_and_a_partner_can_read_a_green_alert()
    {
        var cert = await app.CreateAgencyAsync("National CERT");
        var partner = await app.CreateAgencyAsync("Europol EC3", "NL");

        var response = await cert.Client.PostAsync("/api/v1/alerts", Samples.Json(Samples.CyberAlert()), Ct);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var body = await response.ReadJsonAsync();
        Assert.Equal("euprava-login.example.com", body.GetProperty("indicators")[0].GetProperty("value").GetString());
        Assert.Equal("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", body.GetProperty("indicators")[2].GetProperty("value").GetString());

        var read = await partner.Client.GetAsync(response.Headers.Location, Ct);
        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        Assert.Equal("T1566.002", (await read.ReadJsonAsync()).GetProperty("cyber").GetProperty("attackTechniques")[1].GetString());
    }

    [Fact]
    public async Task Reading_an_alert_with_the_current_etag_in_if_none_match_returns_304()
    {
        var agency = await app.CreateAgencyAsync("Border Police");
        var created = await agency.Client.PostAsync("/api/v1/alerts", Samples.Json(Samples.SmugglingAlert()), Ct);

        using var request = new HttpRequestMessage(HttpMethod.Get, created.Headers.Location);
        request.Headers.IfNoneMatch.Add(created.Headers.ETag!);
        var response = await agency.Client.SendAsync(request, Ct);

        Assert.Equal(HttpStatusCode.NotModified, response.StatusCode);
    }

    [Fact]
    public async Task The_same_idempotency_key_and_body_returns_the_original_alert_without_creating_another()
    {
        var agency = await app.CreateAgencyAsync("Border Police");
        var key = Guid.NewGuid().ToString();

        async Task<HttpResponseMessage> Submit(JsonSerializerOptions? _ = null)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/alerts") { Content = Samples.Json(Samples.SmugglingAlert()) };
            request.Headers.Add("Idempotency-Key", key);
            return await agency.Client.SendAsync(request, Ct);
        }

        var first = await Submit();
        var before = await app.CountRowsAsync();
        var second = await Submit();

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.Created, second.StatusCode);
        Assert.Equal(first.Headers.Location, second.Headers.Location);
        Assert.Equal((await first.ReadJsonAsync()).GetRawText(), (await second.ReadJsonAsync()).GetRawText());
        Assert.True(second.Headers.Contains("Idempotent-Replayed"));
        Assert.Equal(before, await app.CountRowsAsync());
    }

    [Fact]
    public async Task The_same_idempotency_key_with_a_different_body_returns_409_and_changes_nothing()
    {
        var agency = await app.CreateAgencyAsync("Border Police");
        var key = Guid.NewGuid().ToString();
        using (var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/alerts") { Content = Samples.Json(Samples.SmugglingAlert()) })
        {
            request.Headers.Add("Idempotency-Key", key);
            Assert.Equal(HttpStatusCode.Created, (await agency.Client.SendAsync(request, Ct)).StatusCode);
        }

        var before = await app.CountRowsAsync();
        var changed = Samples.SmugglingAlert();
        changed["severity"] = "critical";
        using var second = new HttpRequestMessage(HttpMethod.Post, "/api/v1/alerts") { Content = Samples.Json(changed) };
        second.Headers.Add("Idempotency-Key", key);
        var response = await agency.Client.SendAsync(second, Ct);

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("urn:intelsharing:problem:idempotency-key-reused", (await response.ReadJsonAsync()).GetProperty("type").GetString());
        Assert.Equal(before, await app.CountRowsAsync());
    }

    [Fact]
    public async Task Concurrent_requests_with_one_idempotency_key_create_exactly_one_alert()
    {
        var agency = await app.CreateAgencyAsync("Border Police");
        var key = Guid.NewGuid().ToString();
        var before = await app.CountRowsAsync();

        var responses = await Task.WhenAll(Enumerable.Range(0, 8).Select(async _ =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/alerts") { Content = Samples.Json(Samples.SmugglingAlert()) };
            request.Headers.Add("Idempotency-Key", key);
            return await agency.Client.SendAsync(request, Ct);
        }));

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.Created, r.StatusCode));
        Assert.Single(responses.Select(r => r.Headers.Location).Distinct());
        var after = await app.CountRowsAsync();
        Assert.Equal(before["alerts"] + 1, after["alerts"]);
        Assert.Equal(before["idempotency_keys"] + 1, after["idempotency_keys"]);
    }

    [Fact]
    public async Task An_amber_strict_alert_is_404_for_an_agency_outside_its_audience_and_readable_inside_it()
    {
        var originator = await app.CreateAgencyAsync("Border Police");
        var named = await app.CreateAgencyAsync("Hungarian Police", "HU");
        var outsider = await app.CreateAgencyAsync("Croatian Police", "HR");
        var alert = Samples.SmugglingAlert();
        alert["tlp"] = "amber+strict";
        alert["audience"] = new System.Text.Json.Nodes.JsonObject { ["agencies"] = new System.Text.Json.Nodes.JsonArray(named.Id.ToString()) };

        var created = await originator.Client.PostAsync("/api/v1/alerts", Samples.Json(alert), Ct);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);

        Assert.Equal(HttpStatusCode.OK, (await named.Client.GetAsync(created.Headers.Location, Ct)).StatusCode);
        var hidden = await outsider.Client.GetAsync(created.Headers.Location, Ct);
        Assert.Equal(HttpStatusCode.NotFound, hidden.StatusCode);
        var hiddenProblem = await hidden.ReadJsonAsync();
        Assert.Equal("urn:intelsharing:problem:not-found", hiddenProblem.GetProperty("type").GetString());
        var missing = await outsider.Client.GetAsync($"/api/v1/alerts/{Guid.CreateVersion7()}", Ct);
        Assert.Equal(hiddenProblem.GetProperty("detail").GetString(), (await missing.ReadJsonAsync()).GetProperty("detail").GetString());

        var outsiderList = await (await outsider.Client.GetAsync("/api/v1/alerts?limit=200", Ct)).ReadJsonAsync();
        Assert.DoesNotContain(outsiderList.GetProperty("items").EnumerateArray(), i => i.GetProperty("id").GetString() == created.Headers.Location!.OriginalString.Split('/')[^1]);
    }

    [Fact]
    public async Task A_key_without_alerts_write_gets_403_and_no_key_gets_401()
    {
        var reader = await app.CreateAgencyAsync("Reader", "RS", Api.Domain.AgencyKind.Police, Api.Infrastructure.Security.Scopes.AlertsRead);
        var anonymous = app.ClientWithKey(null);

        var forbidden = await reader.Client.PostAsync("/api/v1/alerts", Samples.Json(Samples.SmugglingAlert()), Ct);
        var unauthenticated = await anonymous.PostAsync("/api/v1/alerts", Samples.Json(Samples.SmugglingAlert()), Ct);

        Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
        Assert.Contains("alerts:write", (await forbidden.ReadJsonAsync()).GetProperty("detail").GetString());
        Assert.Equal(HttpStatusCode.Unauthorized, unauthenticated.StatusCode);
        Assert.Equal("Bearer", unauthenticated.Headers.WwwAuthenticate.Single().Scheme);
    }

    [Fact]
    public async Task Health_endpoints_answer_without_a_key_and_ready_checks_the_database()
    {
        var client = app.ClientWithKey(null);

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/live", Ct)).StatusCode);
        var ready = await client.GetAsync("/health/ready", Ct);
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Equal("Healthy", await ready.Content.ReadAsStringAsync(Ct));
    }
}

public sealed class AlertIntakeTestsOnSqlite(SqliteApiFixture app) : AlertIntakeTests(app), IClassFixture<SqliteApiFixture>;

public sealed class AlertIntakeTestsOnPostgres(PostgresApiFixture app) : AlertIntakeTests(app), IClassFixture<PostgresApiFixture>;
