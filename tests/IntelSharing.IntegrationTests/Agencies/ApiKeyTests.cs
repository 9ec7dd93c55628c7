using System.Net;
using System.Text.Json.Nodes;
using IntelSharing.Api.Domain;
using IntelSharing.Api.Infrastructure.Security;
using IntelSharing.IntegrationTests.Infrastructure;

namespace IntelSharing.IntegrationTests.Agencies;

/// <summary>Operators issue, list and revoke agencies' API keys.</summary>
public abstract class ApiKeyTests(ApiFixture app)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    // Found by the bad-input fuzzer (its valid form of DELETE …/keys/{keyId}): the handler bound KeyId and
    // AgencyId while the SQL names @keyId and @agencyId, and SQLite matches names exactly — every revocation was a 500.
    [Fact]
    public async Task Revoking_a_key_returns_204_and_the_key_no_longer_authenticates()
    {
        var operations = await app.CreateOperatorAsync();
        var agency = await app.CreateAgencyAsync("Hungarian National Police", "HU", AgencyKind.Police, Scopes.AlertsRead);
        var issued = await operations.Client.PostAsync($"/api/v1/agencies/{agency.Id}/keys",
            Samples.Json(new JsonObject { ["name"] = "SIS gateway production", ["scopes"] = new JsonArray("alerts:read") }), Ct);
        Assert.Equal(HttpStatusCode.Created, issued.StatusCode);
        var key = await issued.ReadJsonAsync();
        using var partner = app.ClientWithKey(key.GetProperty("key").GetString());
        Assert.Equal(HttpStatusCode.OK, (await partner.GetAsync("/api/v1/alerts", Ct)).StatusCode);

        var revoked = await operations.Client.DeleteAsync($"/api/v1/agencies/{agency.Id}/keys/{key.GetProperty("id").GetGuid()}", Ct);

        Assert.Equal(HttpStatusCode.NoContent, revoked.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await partner.GetAsync("/api/v1/alerts", Ct)).StatusCode);
        var listed = await (await operations.Client.GetAsync($"/api/v1/agencies/{agency.Id}/keys", Ct)).ReadJsonAsync();
        var entry = listed.EnumerateArray().Single(k => k.GetProperty("id").GetGuid() == key.GetProperty("id").GetGuid());
        Assert.NotEqual(System.Text.Json.JsonValueKind.Null, entry.GetProperty("revokedAt").ValueKind);
    }

    [Fact]
    public async Task Revoking_a_key_of_another_agency_returns_404_and_changes_nothing()
    {
        var operations = await app.CreateOperatorAsync();
        var agency = await app.CreateAgencyAsync("Croatian Border Police", "HR", AgencyKind.BorderGuard, Scopes.AlertsRead);
        var other = await app.CreateAgencyAsync("Frontex Situation Centre", "PL", AgencyKind.EuAgency, Scopes.AlertsRead);
        var issued = await (await operations.Client.PostAsync($"/api/v1/agencies/{agency.Id}/keys",
            Samples.Json(new JsonObject { ["name"] = "Intake", ["scopes"] = new JsonArray("alerts:read") }), Ct)).ReadJsonAsync();
        var before = await app.CountRowsAsync();

        var response = await operations.Client.DeleteAsync($"/api/v1/agencies/{other.Id}/keys/{issued.GetProperty("id").GetGuid()}", Ct);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(before, await app.CountRowsAsync());
        using var partner = app.ClientWithKey(issued.GetProperty("key").GetString());
        Assert.Equal(HttpStatusCode.OK, (await partner.GetAsync("/api/v1/alerts", Ct)).StatusCode);
    }
}

public sealed class ApiKeyTestsOnSqlite(SqliteApiFixture app) : ApiKeyTests(app), IClassFixture<SqliteApiFixture>;

public sealed class ApiKeyTestsOnPostgres(PostgresApiFixture app) : ApiKeyTests(app), IClassFixture<PostgresApiFixture>;
