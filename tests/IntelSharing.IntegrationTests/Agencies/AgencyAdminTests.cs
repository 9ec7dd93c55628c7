using System.Net;
using System.Text.Json.Nodes;
using IntelSharing.IntegrationTests.Infrastructure;

namespace IntelSharing.IntegrationTests.Agencies;

public abstract class AgencyAdminTests(ApiFixture app)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<HttpResponseMessage> PatchAsync(TestAgency caller, Guid id, JsonObject patch) =>
        await caller.Client.PatchAsync($"/api/v1/agencies/{id}", Samples.Json(patch), Ct);

    [Fact]
    public async Task Patching_an_agency_changes_only_the_fields_sent()
    {
        var operations = await app.CreateOperatorAsync();
        var agency = await app.CreateAgencyAsync("Border Police", "RS");
        var before = await (await operations.Client.GetAsync($"/api/v1/agencies/{agency.Id}", Ct)).ReadJsonAsync();
        var newName = $"Ministry of Interior of the Republic of Serbia — Border Police Directorate {Guid.NewGuid():N}";

        var response = await PatchAsync(operations, agency.Id, new JsonObject { ["name"] = newName, ["kind"] = "border_guard" });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.ReadJsonAsync();
        Assert.Equal(newName, body.GetProperty("name").GetString());
        Assert.Equal("border_guard", body.GetProperty("kind").GetString());
        Assert.Equal("RS", body.GetProperty("country").GetString());
        Assert.Equal(before.GetProperty("createdAt").GetDateTimeOffset(), body.GetProperty("createdAt").GetDateTimeOffset());
        Assert.Equal(body.GetRawText(), (await (await operations.Client.GetAsync($"/api/v1/agencies/{agency.Id}", Ct)).ReadJsonAsync()).GetRawText());
    }

    [Fact]
    public async Task Patching_with_no_field_or_an_invalid_country_returns_400_naming_it()
    {
        var operations = await app.CreateOperatorAsync();
        var agency = await app.CreateAgencyAsync("Border Police", "RS");

        var empty = await PatchAsync(operations, agency.Id, []);
        var lowerCase = await PatchAsync(operations, agency.Id, new JsonObject { ["country"] = "rs" });

        Assert.Equal(HttpStatusCode.BadRequest, empty.StatusCode);
        Assert.True((await empty.ReadJsonAsync()).GetProperty("errors").TryGetProperty("body", out _));
        Assert.Equal(HttpStatusCode.BadRequest, lowerCase.StatusCode);
        Assert.True((await lowerCase.ReadJsonAsync()).GetProperty("errors").TryGetProperty("country", out _));
    }

    [Fact]
    public async Task Renaming_an_agency_to_another_agencys_name_returns_409_and_changes_nothing()
    {
        var operations = await app.CreateOperatorAsync();
        var first = await app.CreateAgencyAsync("Hungarian National Police", "HU");
        var second = await app.CreateAgencyAsync("Austrian Federal Police", "AT");

        var response = await PatchAsync(operations, second.Id, new JsonObject { ["name"] = first.Name });

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Equal(second.Name, (await (await operations.Client.GetAsync($"/api/v1/agencies/{second.Id}", Ct)).ReadJsonAsync()).GetProperty("name").GetString());
    }

    [Fact]
    public async Task Patching_or_deactivating_an_unknown_agency_returns_404()
    {
        var operations = await app.CreateOperatorAsync();
        var unknown = Guid.CreateVersion7();

        Assert.Equal(HttpStatusCode.NotFound, (await PatchAsync(operations, unknown, new JsonObject { ["country"] = "HU" })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await operations.Client.PostAsync($"/api/v1/agencies/{unknown}/deactivate", null, Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await operations.Client.PostAsync($"/api/v1/agencies/{unknown}/activate", null, Ct)).StatusCode);
    }

    [Fact]
    public async Task A_deactivated_agencys_keys_are_refused_from_the_next_request_and_work_again_after_activation()
    {
        var operations = await app.CreateOperatorAsync();
        var partner = await app.CreateAgencyAsync("Croatian Border Police", "HR");
        Assert.Equal(HttpStatusCode.OK, (await partner.Client.GetAsync("/api/v1/alerts", Ct)).StatusCode);

        var deactivated = await operations.Client.PostAsync($"/api/v1/agencies/{partner.Id}/deactivate", null, Ct);

        Assert.Equal(HttpStatusCode.OK, deactivated.StatusCode);
        Assert.False((await deactivated.ReadJsonAsync()).GetProperty("isActive").GetBoolean());
        var refused = await partner.Client.GetAsync("/api/v1/alerts", Ct);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Contains("deactivated", (await refused.ReadJsonAsync()).GetProperty("detail").GetString());
        Assert.Equal(HttpStatusCode.OK, (await operations.Client.PostAsync($"/api/v1/agencies/{partner.Id}/deactivate", null, Ct)).StatusCode);

        var activated = await operations.Client.PostAsync($"/api/v1/agencies/{partner.Id}/activate", null, Ct);

        Assert.Equal(HttpStatusCode.OK, activated.StatusCode);
        Assert.True((await activated.ReadJsonAsync()).GetProperty("isActive").GetBoolean());
        Assert.Equal(HttpStatusCode.OK, (await partner.Client.GetAsync("/api/v1/alerts", Ct)).StatusCode);
    }

    [Fact]
    public async Task An_operator_cannot_deactivate_its_own_agency()
    {
        var operations = await app.CreateOperatorAsync();

        var response = await operations.Client.PostAsync($"/api/v1/agencies/{operations.Id}/deactivate", null, Ct);

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await operations.Client.GetAsync("/api/v1/agencies", Ct)).StatusCode);
    }
}

public sealed class AgencyAdminTestsOnSqlite(SqliteApiFixture app) : AgencyAdminTests(app), IClassFixture<SqliteApiFixture>;

public sealed class AgencyAdminTestsOnPostgres(PostgresApiFixture app) : AgencyAdminTests(app), IClassFixture<PostgresApiFixture>;
