using System.Net;
using System.Text.Json.Nodes;
using IntelSharing.Api.Domain;
using IntelSharing.Api.Infrastructure.Security;
using IntelSharing.IntegrationTests.Infrastructure;

namespace IntelSharing.IntegrationTests.Validation;

/// <summary>
/// A body value outside a closed set (feedback kind, TLP, category, severity) is a 400 that names the field and lists
/// the values the server accepts, as query parameter errors do; nothing is stored.
/// </summary>
public abstract class EnumValueTests(ApiFixture app)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Feedback_of_an_unknown_kind_is_refused_naming_kind_and_listing_the_kinds()
    {
        var originator = await app.CreateAgencyAsync("Border Police Directorate", "RS");
        var recipient = await app.CreateAgencyAsync("Hungarian Police", "HU");
        var alertId = await originator.PublishAsync(Samples.SmugglingAlert());
        var before = await app.CountRowsAsync();

        var response = await recipient.Client.PostAsync($"/api/v1/alerts/{alertId}/feedback", Samples.Json(new JsonObject { ["kind"] = "no_hit" }), Ct);

        Assert.Equal(["'no_hit' is not one of the allowed values: received, hit, actioned, false_positive."], await ErrorsOfAsync(response, "kind"));
        Assert.Equal(before, await app.CountRowsAsync());
    }

    [Fact]
    public async Task An_alert_with_a_tlp_in_capitals_is_refused_listing_the_tlp_markings()
    {
        var originator = await app.CreateAgencyAsync("Border Police Directorate", "RS");
        var alert = Samples.SmugglingAlert();
        alert["tlp"] = "AMBER";
        var before = await app.CountRowsAsync();

        var response = await originator.Client.PostAsync("/api/v1/alerts", Samples.Json(alert), Ct);

        Assert.Equal(["'AMBER' is not one of the allowed values: clear, green, amber, amber+strict, red."], await ErrorsOfAsync(response, "tlp"));
        Assert.Equal(before, await app.CountRowsAsync());
    }

    [Fact]
    public async Task A_number_where_a_severity_belongs_is_refused_listing_the_severities()
    {
        var originator = await app.CreateAgencyAsync("Border Police Directorate", "RS");
        var alert = Samples.SmugglingAlert();
        alert["severity"] = 3;

        var response = await originator.Client.PostAsync("/api/v1/alerts", Samples.Json(alert), Ct);

        Assert.Equal(["The value must be one of: low, medium, high, critical."], await ErrorsOfAsync(response, "severity"));
    }

    [Fact]
    public async Task A_wrong_category_inside_a_subscription_list_names_its_position()
    {
        var partner = await app.CreateAgencyAsync("Hungarian Police", "HU", AgencyKind.Police, Scopes.AlertsRead, Scopes.SubscriptionsManage);
        var body = new JsonObject { ["url"] = "https://webhooks.police.hu/intelsharing", ["categories"] = new JsonArray("cyber_incident", "smuggling") };

        var response = await partner.Client.PostAsync("/api/v1/subscriptions", Samples.Json(body), Ct);

        Assert.Equal(["'smuggling' is not one of the allowed values: migrant_smuggling, cyber_incident."], await ErrorsOfAsync(response, "categories[1]"));
    }

    [Fact]
    public async Task A_long_wrong_value_is_not_echoed_back()
    {
        var originator = await app.CreateAgencyAsync("Border Police Directorate", "RS");
        var alert = Samples.SmugglingAlert();
        alert["basis"] = new string('x', 5000);

        var response = await originator.Client.PostAsync("/api/v1/alerts", Samples.Json(alert), Ct);

        Assert.Equal(["The value is not one of the allowed values: fact, assessment."], await ErrorsOfAsync(response, "basis"));
    }

    private static async Task<string[]> ErrorsOfAsync(HttpResponseMessage response, string field)
    {
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.ReadJsonAsync();
        Assert.Equal("urn:intelsharing:problem:malformed-request", problem.GetProperty("type").GetString());
        var errors = problem.GetProperty("errors");
        Assert.Equal([field], errors.EnumerateObject().Select(p => p.Name));
        return errors.GetProperty(field).EnumerateArray().Select(e => e.GetString()!).ToArray();
    }
}

public sealed class EnumValueTestsOnSqlite(SqliteApiFixture app) : EnumValueTests(app), IClassFixture<SqliteApiFixture>;

public sealed class EnumValueTestsOnPostgres(PostgresApiFixture app) : EnumValueTests(app), IClassFixture<PostgresApiFixture>;
