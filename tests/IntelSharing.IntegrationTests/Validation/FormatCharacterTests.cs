using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using IntelSharing.Api.Domain;
using IntelSharing.Api.Infrastructure.Security;
using IntelSharing.IntegrationTests.Infrastructure;

namespace IntelSharing.IntegrationTests.Validation;

/// <summary>
/// Free text with a right-to-left override (U+202E) reads one way on a partner's screen and holds another: every
/// free-text field refuses it with a 400 naming the field and the character, and stores nothing.
/// </summary>
public abstract class FormatCharacterTests(ApiFixture app)
{
    private const string Overridden = "Horgoš\u202Ezsöröz–";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static TheoryData<string> Fields =>
    [
        "alert title", "alert summary", "subscription description", "agency name", "sharing group name", "sharing group description",
        "key name", "feedback note", "revocation reason",
    ];

    [Theory]
    [MemberData(nameof(Fields))]
    public async Task Free_text_with_a_bidirectional_override_is_refused_with_400_naming_the_field_and_nothing_is_stored(string field)
    {
        var agency = await app.CreateAgencyAsync("Border Police Directorate", "RS", AgencyKind.Operator,
            Scopes.AlertsWrite, Scopes.AlertsRead, Scopes.SubscriptionsManage, Scopes.AgenciesAdmin);
        var alertId = await agency.PublishAsync(Samples.SmugglingAlert());
        var (path, body, name) = field switch
        {
            "alert title" => ("/api/v1/alerts", With(Samples.SmugglingAlert(), "title"), "title"),
            "alert summary" => ("/api/v1/alerts", With(Samples.SmugglingAlert(), "summary"), "summary"),
            "subscription description" => ("/api/v1/subscriptions", With(new JsonObject { ["url"] = "https://partner.example.org/hooks" }, "description"), "description"),
            "agency name" => ("/api/v1/agencies", With(new JsonObject { ["country"] = "RS", ["kind"] = "police" }, "name"), "name"),
            "sharing group name" => ("/api/v1/sharing-groups", With(new JsonObject { ["members"] = new JsonArray() }, "name"), "name"),
            "sharing group description" => ("/api/v1/sharing-groups", With(new JsonObject { ["name"] = "Western Balkans route", ["members"] = new JsonArray() }, "description"), "description"),
            "key name" => ($"/api/v1/agencies/{agency.Id}/keys", With(new JsonObject { ["scopes"] = new JsonArray("alerts:read") }, "name"), "name"),
            "feedback note" => ($"/api/v1/alerts/{alertId}/feedback", With(new JsonObject { ["kind"] = "hit" }, "note"), "note"),
            "revocation reason" => ($"/api/v1/alerts/{alertId}/revoke", With(new JsonObject(), "reason"), "reason"),
            _ => throw new ArgumentOutOfRangeException(nameof(field)),
        };
        var before = await app.CountRowsAsync();

        var response = await agency.Client.PostAsync(path, new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"), Ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.ReadJsonAsync();
        Assert.Equal("urn:intelsharing:problem:validation", problem.GetProperty("type").GetString());
        var errors = problem.GetProperty("errors");
        Assert.Equal([name], errors.EnumerateObject().Select(e => e.Name));
        Assert.Equal($"'{name}' must not contain {(name is "title" or "name" ? "control characters" : "control characters other than line breaks and tabs")} or invisible formatting characters such as bidirectional overrides and zero-width spaces (found U+202E at position 6).",
            errors.GetProperty(name)[0].GetString());
        Assert.Equal(before, await app.CountRowsAsync());
    }

    private static JsonObject With(JsonObject body, string field)
    {
        body[field] = Overridden;
        return body;
    }
}

public sealed class FormatCharacterTestsOnSqlite(SqliteApiFixture app) : FormatCharacterTests(app), IClassFixture<SqliteApiFixture>;

public sealed class FormatCharacterTestsOnPostgres(PostgresApiFixture app) : FormatCharacterTests(app), IClassFixture<PostgresApiFixture>;
