using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using IntelSharing.IntegrationTests.Infrastructure;

namespace IntelSharing.IntegrationTests.Sharing;

/// <summary>An alert's audience naming sharing groups: resolved to the groups' active members when the version is published, and fixed there.</summary>
public abstract class GroupAudienceTests(ApiFixture app)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<Guid> CreateGroupAsync(TestAgency operations, params Guid[] members)
    {
        var response = await operations.Client.PostAsync("/api/v1/sharing-groups", Samples.Json(new JsonObject
        {
            ["name"] = $"Horgoš–Röszke joint patrol {Guid.NewGuid():N}",
            ["description"] = "Police and border guards working the Serbian–Hungarian border",
            ["members"] = new JsonArray(members.Select(m => (JsonNode)m.ToString()).ToArray()),
        }), Ct);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.ReadJsonAsync()).GetProperty("id").GetGuid();
    }

    [Fact]
    public async Task A_red_alert_naming_a_group_and_an_agency_is_shared_with_both_and_names_the_group_in_the_document()
    {
        var operations = await app.CreateOperatorAsync();
        var originator = await app.CreateAgencyAsync("Border Police Directorate");
        var hungary = await app.CreateAgencyAsync("Hungarian National Police", "HU");
        var croatia = await app.CreateAgencyAsync("Croatian Border Police", "HR");
        var europol = await app.CreateAgencyAsync("Europol EMSC", "NL", Api.Domain.AgencyKind.EuAgency);
        var groupId = await CreateGroupAsync(operations, hungary.Id, croatia.Id);

        var response = await originator.Client.PostAsync("/api/v1/alerts",
            Samples.Json(TestData.SmugglingAlert("red", agencies: [europol.Id], groups: [groupId])), Ct);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var body = await response.ReadJsonAsync();
        var audience = body.GetProperty("audience").EnumerateArray().Select(a => a.GetProperty("id").GetGuid()).ToList();
        // Named agencies first, in the order given, then the group's members by name.
        Assert.Equal([europol.Id, croatia.Id, hungary.Id], audience);
        Assert.Equal(groupId, body.GetProperty("audienceGroups")[0].GetProperty("id").GetGuid());
        foreach (var recipient in new[] { hungary, croatia, europol })
        {
            Assert.Equal(HttpStatusCode.OK, (await recipient.Client.GetAsync(response.Headers.Location, Ct)).StatusCode);
        }
    }

    [Fact]
    public async Task Membership_changes_after_publication_do_not_change_who_may_see_that_version()
    {
        var operations = await app.CreateOperatorAsync();
        var originator = await app.CreateAgencyAsync("Border Police Directorate");
        var member = await app.CreateAgencyAsync("Hungarian National Police", "HU");
        var joinsLater = await app.CreateAgencyAsync("Austrian Federal Police", "AT");
        var groupId = await CreateGroupAsync(operations, member.Id);
        var alertId = await originator.PublishAsync(TestData.SmugglingAlert("amber+strict", groups: [groupId]));

        Assert.Equal(HttpStatusCode.NoContent, (await operations.Client.PutAsync($"/api/v1/sharing-groups/{groupId}/members/{joinsLater.Id}", null, Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await operations.Client.DeleteAsync($"/api/v1/sharing-groups/{groupId}/members/{member.Id}", Ct)).StatusCode);

        Assert.Equal(HttpStatusCode.OK, (await member.Client.GetAsync($"/api/v1/alerts/{alertId}", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await joinsLater.Client.GetAsync($"/api/v1/alerts/{alertId}", Ct)).StatusCode);

        // A new version's worth of sharing (a new alert) uses the membership as it is now.
        var laterId = await originator.PublishAsync(TestData.SmugglingAlert("amber+strict", groups: [groupId]));
        Assert.Equal(HttpStatusCode.NotFound, (await member.Client.GetAsync($"/api/v1/alerts/{laterId}", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await joinsLater.Client.GetAsync($"/api/v1/alerts/{laterId}", Ct)).StatusCode);
    }

    [Fact]
    public async Task A_deactivated_member_is_left_out_of_audiences_resolved_while_it_is_inactive_even_after_reactivation()
    {
        var operations = await app.CreateOperatorAsync();
        var originator = await app.CreateAgencyAsync("Border Police Directorate");
        var active = await app.CreateAgencyAsync("Hungarian National Police", "HU");
        var suspended = await app.CreateAgencyAsync("Romanian Border Police", "RO");
        var groupId = await CreateGroupAsync(operations, active.Id, suspended.Id);
        Assert.Equal(HttpStatusCode.OK, (await operations.Client.PostAsync($"/api/v1/agencies/{suspended.Id}/deactivate", null, Ct)).StatusCode);

        var redId = await originator.PublishAsync(TestData.SmugglingAlert("red", groups: [groupId]));
        var greenId = await originator.PublishAsync(Samples.CyberAlert());
        Assert.Equal(HttpStatusCode.OK, (await operations.Client.PostAsync($"/api/v1/agencies/{suspended.Id}/activate", null, Ct)).StatusCode);

        var red = await (await originator.Client.GetAsync($"/api/v1/alerts/{redId}", Ct)).ReadJsonAsync();
        Assert.Equal([active.Id], red.GetProperty("audience").EnumerateArray().Select(a => a.GetProperty("id").GetGuid()));
        Assert.Equal(HttpStatusCode.NotFound, (await suspended.Client.GetAsync($"/api/v1/alerts/{redId}", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await suspended.Client.GetAsync($"/api/v1/alerts/{greenId}", Ct)).StatusCode);
    }

    [Fact]
    public async Task Naming_an_unknown_sharing_group_returns_400_naming_its_index_and_stores_nothing()
    {
        var operations = await app.CreateOperatorAsync();
        var originator = await app.CreateAgencyAsync("Border Police Directorate");
        var member = await app.CreateAgencyAsync("Hungarian National Police", "HU");
        var groupId = await CreateGroupAsync(operations, member.Id);
        var before = await app.CountRowsAsync();

        var response = await originator.Client.PostAsync("/api/v1/alerts",
            Samples.Json(TestData.SmugglingAlert("red", groups: [groupId, Guid.CreateVersion7()])), Ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var errors = (await response.ReadJsonAsync()).GetProperty("errors");
        Assert.Equal(["audience.groups[1]"], errors.EnumerateObject().Select(e => e.Name));
        Assert.Equal(before, await app.CountRowsAsync());
    }

    [Theory]
    [InlineData("amber")]
    [InlineData("amber+strict")]
    [InlineData("red")]
    public async Task An_audience_that_names_only_a_group_without_active_members_is_refused_rather_than_shared_with_nobody_or_everybody(string tlp)
    {
        var operations = await app.CreateOperatorAsync();
        var originator = await app.CreateAgencyAsync("Border Police Directorate");
        var inactive = await app.CreateAgencyAsync("Romanian Border Police", "RO");
        var groupId = await CreateGroupAsync(operations, inactive.Id);
        Assert.Equal(HttpStatusCode.OK, (await operations.Client.PostAsync($"/api/v1/agencies/{inactive.Id}/deactivate", null, Ct)).StatusCode);

        var response = await originator.Client.PostAsync("/api/v1/alerts", Samples.Json(TestData.SmugglingAlert(tlp, groups: [groupId])), Ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True((await response.ReadJsonAsync()).GetProperty("errors").TryGetProperty("audience.groups", out _));
    }

    [Fact]
    public async Task Amber_strict_without_agencies_or_groups_returns_400_naming_the_audience()
    {
        var originator = await app.CreateAgencyAsync("Border Police Directorate");

        var response = await originator.Client.PostAsync("/api/v1/alerts", Samples.Json(TestData.SmugglingAlert("amber+strict", agencies: [], groups: [])), Ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True((await response.ReadJsonAsync()).GetProperty("errors").TryGetProperty("audience", out _));
    }

    [Fact]
    public async Task A_green_alert_naming_a_group_returns_400_because_green_goes_to_every_partner()
    {
        var operations = await app.CreateOperatorAsync();
        var originator = await app.CreateAgencyAsync("National CERT");
        var groupId = await CreateGroupAsync(operations, originator.Id);
        var alert = Samples.CyberAlert();
        alert["audience"] = new JsonObject { ["groups"] = new JsonArray(groupId.ToString()) };

        var response = await originator.Client.PostAsync("/api/v1/alerts", Samples.Json(alert), Ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True((await response.ReadJsonAsync()).GetProperty("errors").TryGetProperty("audience.groups", out JsonElement _));
    }
}

public sealed class GroupAudienceTestsOnSqlite(SqliteApiFixture app) : GroupAudienceTests(app), IClassFixture<SqliteApiFixture>;

public sealed class GroupAudienceTestsOnPostgres(PostgresApiFixture app) : GroupAudienceTests(app), IClassFixture<PostgresApiFixture>;
