using System.Net;
using IntelSharing.IntegrationTests.Infrastructure;

namespace IntelSharing.IntegrationTests.Agencies;

public abstract class ApiKeyTests(ApiFixture app)
{
    [Fact]
    public async Task An_operator_lists_an_agencys_keys_by_prefix_and_a_revoked_key_is_refused_from_the_next_request()
    {
        var ct = TestContext.Current.CancellationToken;
        var operations = await app.CreateOperatorAsync();
        var partner = await app.CreateAgencyAsync("Croatian Border Police", "HR");
        Assert.Equal(HttpStatusCode.OK, (await partner.Client.GetAsync("/api/v1/alerts", ct)).StatusCode);

        var listed = await operations.Client.GetAsync($"/api/v1/agencies/{partner.Id}/keys", ct);
        Assert.Equal(HttpStatusCode.OK, listed.StatusCode);
        var key = Assert.Single((await listed.ReadJsonAsync()).GetProperty("items").EnumerateArray());
        Assert.Equal(partner.Key.Substring(4, 10), key.GetProperty("prefix").GetString());

        var revoked = await operations.Client.DeleteAsync($"/api/v1/agencies/{partner.Id}/keys/{key.GetProperty("id").GetGuid()}", ct);

        Assert.Equal(HttpStatusCode.NoContent, revoked.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await partner.Client.GetAsync("/api/v1/alerts", ct)).StatusCode);
        var relisted = await (await operations.Client.GetAsync($"/api/v1/agencies/{partner.Id}/keys", ct)).ReadJsonAsync();
        Assert.NotEqual(System.Text.Json.JsonValueKind.Null, relisted.GetProperty("items")[0].GetProperty("revokedAt").ValueKind);
    }
}

public sealed class ApiKeyTestsOnSqlite(SqliteApiFixture app) : ApiKeyTests(app), IClassFixture<SqliteApiFixture>;

public sealed class ApiKeyTestsOnPostgres(PostgresApiFixture app) : ApiKeyTests(app), IClassFixture<PostgresApiFixture>;
