using System.Net;
using System.Text.Json.Nodes;
using IntelSharing.Api.Domain;
using IntelSharing.Api.Infrastructure.Security;
using IntelSharing.IntegrationTests.Infrastructure;

namespace IntelSharing.IntegrationTests.SharingGroups;

/// <summary>
/// Who is in a joint investigation team tells outsiders who is working on what. A private group is visible, and
/// nameable as an audience, only to its members (and visible to operators); to anyone else it is exactly a group that
/// does not exist — in the list, on read, in an alert's audience and in error messages.
/// </summary>
public abstract class PrivateSharingGroupTests(ApiFixture app)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private sealed record Team(TestAgency Operations, TestAgency Serbia, TestAgency Hungary, TestAgency Outsider, Guid GroupId);

    private async Task<Team> PrivateTeamAsync()
    {
        var operations = await app.CreateOperatorAsync();
        var serbia = await app.CreateAgencyAsync("MUP RS Border Police", "RS");
        var hungary = await app.CreateAgencyAsync("Hungarian National Police", "HU");
        var outsider = await app.CreateAgencyAsync("Turkish National Police", "TR", AgencyKind.Police, Scopes.AlertsRead, Scopes.AlertsWrite);
        var created = await operations.Client.PostAsync("/api/v1/sharing-groups", Samples.Json(new JsonObject
        {
            ["name"] = $"JIT Preševo–Subotica {Guid.NewGuid():N}",
            ["description"] = "Joint investigation team: the network moving people from Preševo to the Hungarian border",
            ["visibility"] = "private",
            ["members"] = new JsonArray(serbia.Id.ToString(), hungary.Id.ToString()),
        }), Ct);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var body = await created.ReadJsonAsync();
        Assert.Equal("private", body.GetProperty("visibility").GetString());
        return new Team(operations, serbia, hungary, outsider, body.GetProperty("id").GetGuid());
    }

    private static async Task<IReadOnlyList<Guid>> ListedGroupsAsync(TestAgency agency)
    {
        var response = await agency.Client.GetAsync("/api/v1/sharing-groups?limit=200", Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return [.. (await response.ReadJsonAsync()).GetProperty("items").EnumerateArray().Select(g => g.GetProperty("id").GetGuid())];
    }

    /// <summary>A problem body without what differs between any two responses (trace id, instance) and with <paramref name="id"/> replaced.</summary>
    private static async Task<string> ComparableProblemAsync(HttpResponseMessage response, Guid id)
    {
        var problem = JsonNode.Parse(await response.Content.ReadAsStringAsync(Ct))!.AsObject();
        problem.Remove("traceId");
        problem.Remove("instance");
        return $"{(int)response.StatusCode} {response.Content.Headers.ContentType?.MediaType} {problem.ToJsonString().Replace(id.ToString(), "<id>", StringComparison.Ordinal)}";
    }

    [Fact]
    public async Task A_private_group_is_listed_to_its_members_and_operators_but_not_to_an_outsider()
    {
        var team = await PrivateTeamAsync();

        Assert.Contains(team.GroupId, await ListedGroupsAsync(team.Serbia));
        Assert.Contains(team.GroupId, await ListedGroupsAsync(team.Hungary));
        Assert.Contains(team.GroupId, await ListedGroupsAsync(team.Operations));
        Assert.DoesNotContain(team.GroupId, await ListedGroupsAsync(team.Outsider));
    }

    [Fact]
    public async Task Reading_a_private_group_as_an_outsider_answers_exactly_as_reading_a_group_that_does_not_exist()
    {
        var team = await PrivateTeamAsync();
        var missing = Guid.CreateVersion7();

        var member = await team.Hungary.Client.GetAsync($"/api/v1/sharing-groups/{team.GroupId}", Ct);
        var outsider = await team.Outsider.Client.GetAsync($"/api/v1/sharing-groups/{team.GroupId}", Ct);
        var nothing = await team.Outsider.Client.GetAsync($"/api/v1/sharing-groups/{missing}", Ct);

        Assert.Equal(HttpStatusCode.OK, member.StatusCode);
        Assert.Equal(2, (await member.ReadJsonAsync()).GetProperty("members").GetArrayLength());
        Assert.Equal(HttpStatusCode.NotFound, outsider.StatusCode);
        Assert.Equal(await ComparableProblemAsync(nothing, missing), await ComparableProblemAsync(outsider, team.GroupId));
        Assert.DoesNotContain(team.Serbia.Name, await outsider.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Naming_a_private_group_you_are_not_a_member_of_answers_exactly_as_naming_a_group_that_does_not_exist()
    {
        var team = await PrivateTeamAsync();
        var missing = Guid.CreateVersion7();

        var outsider = await team.Outsider.Client.PostAsync("/api/v1/alerts", Samples.Json(TestData.SmugglingAlert("red", groups: [team.GroupId])), Ct);
        var nothing = await team.Outsider.Client.PostAsync("/api/v1/alerts", Samples.Json(TestData.SmugglingAlert("red", groups: [missing])), Ct);

        Assert.Equal(HttpStatusCode.BadRequest, outsider.StatusCode);
        Assert.True((await outsider.ReadJsonAsync()).GetProperty("errors").TryGetProperty("audience.groups[0]", out _));
        Assert.Equal(await ComparableProblemAsync(nothing, missing), await ComparableProblemAsync(outsider, team.GroupId));
    }

    [Fact]
    public async Task A_member_names_the_private_group_and_only_the_recipients_see_the_alert_and_its_audience()
    {
        var team = await PrivateTeamAsync();

        var published = await team.Serbia.Client.PostAsync("/api/v1/alerts", Samples.Json(TestData.SmugglingAlert("amber", groups: [team.GroupId])), Ct);
        Assert.Equal(HttpStatusCode.Created, published.StatusCode);
        var alertId = (await published.ReadJsonAsync()).GetProperty("id").GetGuid();

        var recipient = await team.Hungary.Client.GetAsync($"/api/v1/alerts/{alertId}", Ct);
        Assert.Equal(HttpStatusCode.OK, recipient.StatusCode);
        Assert.Contains(team.Hungary.Id, (await recipient.ReadJsonAsync()).GetProperty("audience").EnumerateArray().Select(a => a.GetProperty("id").GetGuid()));

        // An outsider can neither read the alert nor find it in a listing, so its audience (the group's members) stays hidden.
        Assert.Equal(HttpStatusCode.NotFound, (await team.Outsider.Client.GetAsync($"/api/v1/alerts/{alertId}", Ct)).StatusCode);
        var listed = await (await team.Outsider.Client.GetAsync("/api/v1/alerts?limit=200", Ct)).Content.ReadAsStringAsync(Ct);
        Assert.DoesNotContain(alertId.ToString(), listed, StringComparison.Ordinal);
        Assert.DoesNotContain(team.GroupId.ToString(), listed, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Replacing_a_private_group_without_naming_its_visibility_keeps_it_private()
    {
        var team = await PrivateTeamAsync();

        var replaced = await team.Operations.Client.PutAsync($"/api/v1/sharing-groups/{team.GroupId}", Samples.Json(new JsonObject
        {
            ["name"] = $"JIT Preševo–Subotica renamed {Guid.NewGuid():N}",
            ["members"] = new JsonArray(team.Serbia.Id.ToString()),
        }), Ct);

        Assert.Equal(HttpStatusCode.OK, replaced.StatusCode);
        Assert.Equal("private", (await replaced.ReadJsonAsync()).GetProperty("visibility").GetString());
        Assert.DoesNotContain(team.GroupId, await ListedGroupsAsync(team.Hungary));
    }

    [Fact]
    public async Task A_group_created_without_a_visibility_is_public()
    {
        var operations = await app.CreateOperatorAsync();
        var outsider = await app.CreateAgencyAsync("Turkish National Police", "TR");

        var created = await (await operations.Client.PostAsync("/api/v1/sharing-groups", Samples.Json(new JsonObject
        {
            ["name"] = $"Western Balkans route {Guid.NewGuid():N}",
            ["members"] = new JsonArray(),
        }), Ct)).ReadJsonAsync();

        Assert.Equal("public", created.GetProperty("visibility").GetString());
        Assert.Contains(created.GetProperty("id").GetGuid(), await ListedGroupsAsync(outsider));
    }
}

public sealed class PrivateSharingGroupTestsOnSqlite(SqliteApiFixture app) : PrivateSharingGroupTests(app), IClassFixture<SqliteApiFixture>;

public sealed class PrivateSharingGroupTestsOnPostgres(PostgresApiFixture app) : PrivateSharingGroupTests(app), IClassFixture<PostgresApiFixture>;
