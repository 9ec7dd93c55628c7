using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using IntelSharing.IntegrationTests.Infrastructure;

namespace IntelSharing.IntegrationTests.SharingGroups;

public abstract class SharingGroupTests(ApiFixture app)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static JsonObject Group(string name, params Guid[] members) => new()
    {
        ["name"] = name,
        ["description"] = "Cross-border smuggling along the Western Balkans route",
        ["members"] = new JsonArray(members.Select(m => (JsonNode)m.ToString()).ToArray()),
    };

    private static string UniqueName(string name) => $"{name} {Guid.NewGuid():N}";

    private static IEnumerable<Guid> MemberIds(JsonElement group) =>
        group.GetProperty("members").EnumerateArray().Select(m => m.GetProperty("id").GetGuid());

    [Fact]
    public async Task An_operator_creates_a_group_and_every_partner_can_list_and_read_it_with_its_members()
    {
        var operations = await app.CreateOperatorAsync();
        var serbia = await app.CreateAgencyAsync("MUP RS Border Police", "RS");
        var hungary = await app.CreateAgencyAsync("Hungarian National Police", "HU");
        var partner = await app.CreateAgencyAsync("Bosnian Border Police", "BA", Api.Domain.AgencyKind.BorderGuard, Api.Infrastructure.Security.Scopes.AlertsRead);
        var name = UniqueName("Horgoš–Röszke joint patrol");

        var created = await operations.Client.PostAsync("/api/v1/sharing-groups", Samples.Json(Group(name, hungary.Id, serbia.Id)), Ct);

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var body = await created.ReadJsonAsync();
        var id = body.GetProperty("id").GetGuid();
        Assert.Equal($"/api/v1/sharing-groups/{id}", created.Headers.Location?.OriginalString);
        Assert.Equal(name, body.GetProperty("name").GetString());
        Assert.Equal([hungary.Id, serbia.Id], MemberIds(body));
        Assert.True(body.GetProperty("members")[0].GetProperty("isActive").GetBoolean());

        var read = await partner.Client.GetAsync($"/api/v1/sharing-groups/{id}", Ct);
        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        Assert.Equal(body.GetRawText(), (await read.ReadJsonAsync()).GetRawText());
        var list = await (await partner.Client.GetAsync("/api/v1/sharing-groups?limit=200", Ct)).ReadJsonAsync();
        Assert.Contains(list.GetProperty("items").EnumerateArray(), g => g.GetProperty("id").GetGuid() == id);
    }

    [Fact]
    public async Task Creating_a_group_with_an_unknown_member_returns_400_naming_the_member_and_stores_nothing()
    {
        var operations = await app.CreateOperatorAsync();
        var hungary = await app.CreateAgencyAsync("Hungarian National Police", "HU");
        var before = await app.CountRowsAsync();

        var response = await operations.Client.PostAsync("/api/v1/sharing-groups", Samples.Json(Group(UniqueName("Danube"), hungary.Id, Guid.CreateVersion7())), Ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(["members[1]"], (await response.ReadJsonAsync()).GetProperty("errors").EnumerateObject().Select(e => e.Name));
        Assert.Equal(before, await app.CountRowsAsync());
    }

    [Fact]
    public async Task Creating_a_group_without_a_name_or_members_returns_400_naming_both()
    {
        var operations = await app.CreateOperatorAsync();

        var response = await operations.Client.PostAsync("/api/v1/sharing-groups", Samples.Json(new JsonObject { ["description"] = "no name" }), Ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var errors = (await response.ReadJsonAsync()).GetProperty("errors");
        Assert.True(errors.TryGetProperty("name", out _));
        Assert.True(errors.TryGetProperty("members", out _));
    }

    [Fact]
    public async Task A_second_group_with_the_same_name_returns_409()
    {
        var operations = await app.CreateOperatorAsync();
        var name = UniqueName("EMPACT facilitation of illegal immigration");
        Assert.Equal(HttpStatusCode.Created, (await operations.Client.PostAsync("/api/v1/sharing-groups", Samples.Json(Group(name)), Ct)).StatusCode);

        var second = await operations.Client.PostAsync("/api/v1/sharing-groups", Samples.Json(Group(name)), Ct);

        Assert.Equal(HttpStatusCode.Conflict, second.StatusCode);
        Assert.Equal("urn:intelsharing:problem:conflict", (await second.ReadJsonAsync()).GetProperty("type").GetString());
    }

    [Fact]
    public async Task Updating_a_group_replaces_its_name_description_and_members()
    {
        var operations = await app.CreateOperatorAsync();
        var serbia = await app.CreateAgencyAsync("MUP RS Border Police", "RS");
        var hungary = await app.CreateAgencyAsync("Hungarian National Police", "HU");
        var croatia = await app.CreateAgencyAsync("Croatian Border Police", "HR");
        var created = await (await operations.Client.PostAsync("/api/v1/sharing-groups", Samples.Json(Group(UniqueName("Route east"), serbia.Id, hungary.Id)), Ct)).ReadJsonAsync();
        var id = created.GetProperty("id").GetGuid();
        var renamed = UniqueName("Route west");
        var replacement = Group(renamed, serbia.Id, croatia.Id);
        replacement["description"] = "Šid–Tovarnik and the Bosnian border";

        var response = await operations.Client.PutAsync($"/api/v1/sharing-groups/{id}", Samples.Json(replacement), Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.ReadJsonAsync();
        Assert.Equal(renamed, body.GetProperty("name").GetString());
        Assert.Equal("Šid–Tovarnik and the Bosnian border", body.GetProperty("description").GetString());
        Assert.Equal(new[] { serbia.Id, croatia.Id }.Order(), MemberIds(body).Order());
        Assert.Equal(body.GetRawText(), (await (await operations.Client.GetAsync($"/api/v1/sharing-groups/{id}", Ct)).ReadJsonAsync()).GetRawText());
    }

    [Fact]
    public async Task Members_are_added_and_removed_one_at_a_time_and_adding_twice_changes_nothing()
    {
        var operations = await app.CreateOperatorAsync();
        var hungary = await app.CreateAgencyAsync("Hungarian National Police", "HU");
        var id = (await (await operations.Client.PostAsync("/api/v1/sharing-groups", Samples.Json(Group(UniqueName("Danube"))), Ct)).ReadJsonAsync()).GetProperty("id").GetGuid();

        Assert.Equal(HttpStatusCode.NoContent, (await operations.Client.PutAsync($"/api/v1/sharing-groups/{id}/members/{hungary.Id}", null, Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await operations.Client.PutAsync($"/api/v1/sharing-groups/{id}/members/{hungary.Id}", null, Ct)).StatusCode);
        Assert.Equal([hungary.Id], MemberIds(await (await operations.Client.GetAsync($"/api/v1/sharing-groups/{id}", Ct)).ReadJsonAsync()));

        Assert.Equal(HttpStatusCode.NoContent, (await operations.Client.DeleteAsync($"/api/v1/sharing-groups/{id}/members/{hungary.Id}", Ct)).StatusCode);
        Assert.Empty(MemberIds(await (await operations.Client.GetAsync($"/api/v1/sharing-groups/{id}", Ct)).ReadJsonAsync()));
        var again = await operations.Client.DeleteAsync($"/api/v1/sharing-groups/{id}/members/{hungary.Id}", Ct);
        Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
        Assert.Contains("not a member", (await again.ReadJsonAsync()).GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Adding_an_unknown_agency_or_to_an_unknown_group_returns_404()
    {
        var operations = await app.CreateOperatorAsync();
        var hungary = await app.CreateAgencyAsync("Hungarian National Police", "HU");
        var id = (await (await operations.Client.PostAsync("/api/v1/sharing-groups", Samples.Json(Group(UniqueName("Danube"))), Ct)).ReadJsonAsync()).GetProperty("id").GetGuid();

        Assert.Equal(HttpStatusCode.NotFound, (await operations.Client.PutAsync($"/api/v1/sharing-groups/{id}/members/{Guid.CreateVersion7()}", null, Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await operations.Client.PutAsync($"/api/v1/sharing-groups/{Guid.CreateVersion7()}/members/{hungary.Id}", null, Ct)).StatusCode);
    }

    [Fact]
    public async Task Deleting_a_group_returns_204_then_404_and_alerts_that_named_it_keep_their_audience()
    {
        var operations = await app.CreateOperatorAsync();
        var originator = await app.CreateAgencyAsync("Border Police Directorate");
        var hungary = await app.CreateAgencyAsync("Hungarian National Police", "HU");
        var id = (await (await operations.Client.PostAsync("/api/v1/sharing-groups", Samples.Json(Group(UniqueName("Danube"), hungary.Id)), Ct)).ReadJsonAsync()).GetProperty("id").GetGuid();
        var alertId = await originator.PublishAsync(TestData.SmugglingAlert("red", groups: [id]));

        Assert.Equal(HttpStatusCode.NoContent, (await operations.Client.DeleteAsync($"/api/v1/sharing-groups/{id}", Ct)).StatusCode);

        Assert.Equal(HttpStatusCode.NotFound, (await operations.Client.GetAsync($"/api/v1/sharing-groups/{id}", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await operations.Client.DeleteAsync($"/api/v1/sharing-groups/{id}", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await hungary.Client.GetAsync($"/api/v1/alerts/{alertId}", Ct)).StatusCode);
    }
}

public sealed class SharingGroupTestsOnSqlite(SqliteApiFixture app) : SharingGroupTests(app), IClassFixture<SqliteApiFixture>;

public sealed class SharingGroupTestsOnPostgres(PostgresApiFixture app) : SharingGroupTests(app), IClassFixture<PostgresApiFixture>;
