using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using IntelSharing.Api.Domain;
using IntelSharing.Api.Infrastructure.Security;
using IntelSharing.IntegrationTests.Infrastructure;

namespace IntelSharing.IntegrationTests.Fuzzing;

/// <summary>
/// Requests the bad-input fuzzer once answered with a 5xx, a non-problem 4xx or a write, kept as ordinary
/// regression tests (docs/robustness.md): each states what the client must get instead, and that nothing changed.
/// When the fuzzer finds another, its failure message carries the request; add it here with the fix.
/// </summary>
public abstract class FuzzFindingsTests(ApiFixture app)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private sealed record Finding(string Method, Func<Ids, string> Path, string? Body, HttpStatusCode Status, string Type, string? Field = null, params (string Name, string Value)[] Headers);

    /// <summary>Ids the requests point at: an amber+strict alert of the originator, whose audience can be widened, and a partner agency.</summary>
    private sealed record Ids(Guid RestrictedAlert, Guid Agency);

    private static readonly Dictionary<string, Finding> Findings = new()
    {
        // Seed 1, case 463: ShareInput.agencies missing or null passed NotEmpty into a count check → NullReferenceException, 500.
        ["share without agencies"] = new("POST", ids => $"/api/v1/alerts/{ids.RestrictedAlert}/share", "{}", HttpStatusCode.BadRequest, "urn:intelsharing:problem:validation", "agencies"),
        ["share with agencies null"] = new("POST", ids => $"/api/v1/alerts/{ids.RestrictedAlert}/share", """{"agencies":null}""", HttpStatusCode.BadRequest, "urn:intelsharing:problem:validation", "agencies"),

        // Seed 1, cases 1289 and 1947: a charset .NET knows no encoding for made the JSON reader throw InvalidOperationException, 500.
        ["alert body in charset 'nonsense'"] = new("POST", _ => "/api/v1/alerts", Samples.SmugglingAlert().ToJsonString(),
            HttpStatusCode.UnsupportedMediaType, "urn:intelsharing:problem:unsupported-media-type", null, ("Content-Type", "application/json; charset=nonsense")),
        ["agency body in charset 'x-unknown'"] = new("POST", _ => "/api/v1/agencies", """{"name":"Kosovo Police","country":"XK","kind":"police"}""",
            HttpStatusCode.UnsupportedMediaType, "urn:intelsharing:problem:unsupported-media-type", null, ("Content-Type", "application/json; charset=x-unknown")),

        // Seed 1, cases 1451 and 1940: an Accept header naming neither JSON type left the problem unwritten: a 404 as
        // text/plain, a 400 with an empty body.
        ["invalid alert with Accept: text/event-stream"] = new("POST", _ => "/api/v1/alerts", """{"title":"x"}""",
            HttpStatusCode.BadRequest, "urn:intelsharing:problem:validation", "category", ("Accept", "text/event-stream")),
        ["unknown property with Accept: text/html"] = new("POST", _ => "/api/v1/alerts", """{"titel":"x"}""",
            HttpStatusCode.BadRequest, "urn:intelsharing:problem:malformed-request", "titel", ("Accept", "text/html")),
        ["unknown route with Accept: application/xml"] = new("POST", _ => "/api/v2/agencies", "{}",
            HttpStatusCode.NotFound, "urn:intelsharing:problem:not-found", null, ("Accept", "application/xml")),
        ["wrong method with Accept: image/png"] = new("PATCH", _ => "/api/v1/alerts", null,
            HttpStatusCode.MethodNotAllowed, "urn:intelsharing:problem:method-not-allowed", null, ("Accept", "image/png")),

        // Seed 11 on PostgreSQL, cases 420 and 489: U+0000 in a name passed validation and reached a text column, which
        // PostgreSQL refuses ("invalid byte sequence for encoding UTF8: 0x00", 22021): a 500. The same held for a
        // subscription's description and URL. SQLite stored the NUL.
        ["agency name with U+0000"] = new("POST", _ => "/api/v1/agencies", """{"name":"Fuzz agency 23303\u00006","country":"HR","kind":"customs"}""",
            HttpStatusCode.BadRequest, "urn:intelsharing:problem:validation", "name"),
        ["API key name with U+0000"] = new("POST", ids => $"/api/v1/agencies/{ids.Agency}/keys", """{"name":"\u0000SIS gateway production","scopes":["alerts:read"]}""",
            HttpStatusCode.BadRequest, "urn:intelsharing:problem:validation", "name"),
        ["subscription description with U+0000"] = new("POST", _ => "/api/v1/subscriptions", """{"url":"https://partner.example/hooks","description":"Intake\u0000"}""",
            HttpStatusCode.BadRequest, "urn:intelsharing:problem:validation", "description"),
        ["subscription URL with U+0000"] = new("POST", _ => "/api/v1/subscriptions", """{"url":"https://partner.example/hooks\u0000"}""",
            HttpStatusCode.BadRequest, "urn:intelsharing:problem:validation", "url"),

        // Seed 11 on PostgreSQL, case 239, once sharing groups and agency updates existed: the same NUL 500 through a
        // sharing group's description and a renamed agency.
        ["sharing group description with U+0000"] = new("POST", _ => "/api/v1/sharing-groups",
            """{"name":"Western Balkans border services","description":"RS\u0000","members":[]}""",
            HttpStatusCode.BadRequest, "urn:intelsharing:problem:validation", "description"),
        ["agency renamed with U+0000"] = new("PATCH", ids => $"/api/v1/agencies/{ids.Agency}", """{"name":"Hungarian\u0000 Police"}""",
            HttpStatusCode.BadRequest, "urn:intelsharing:problem:validation", "name"),

        // Seed 20261128 on PostgreSQL, 10,000 requests: an alert whose summary held U+0000 was accepted — PostgreSQL's
        // json type stores the \u0000 escape — and from then on every GET /api/v1/alerts that could see it was a 500
        // (22P05 unsupported Unicode escape sequence, from the persons check on the stored document): one partner's
        // alert broke listing for everyone. Every free-text field of an alert, and a revocation reason, now refuses
        // control characters (line breaks allowed where the text is long), as the title and feedback note did.
        ["alert summary with U+0000"] = new("POST", _ => "/api/v1/alerts", Changed(Samples.CyberAlert(), a => a["summary"] = "Infrastructure\0 hosted abroad."),
            HttpStatusCode.BadRequest, "urn:intelsharing:problem:validation", "summary"),
        ["modus operandi with U+0000"] = new("POST", _ => "/api/v1/alerts", Changed(Samples.SmugglingAlert(), a => a["smuggling"]!["modusOperandi"] = "Forged CMR\0 documents"),
            HttpStatusCode.BadRequest, "urn:intelsharing:problem:validation", "smuggling.modusOperandi"),
        ["indicator description with U+0000"] = new("POST", _ => "/api/v1/alerts", Changed(Samples.SmugglingAlert(), a => a["indicators"]![0]!["description"] = "Driver\0s phone"),
            HttpStatusCode.BadRequest, "urn:intelsharing:problem:validation", "indicators[0].description"),
        ["revocation reason with U+0000"] = new("POST", ids => $"/api/v1/alerts/{ids.RestrictedAlert}/revoke", """{"reason":"Duplicate\u0000"}""",
            HttpStatusCode.BadRequest, "urn:intelsharing:problem:validation", "reason"),
    };

    public static TheoryData<string> Cases => new(Findings.Keys);

    /// <summary>A sample changed in place and serialised (a .NET "\0" becomes the JSON escape \u0000).</summary>
    private static string Changed(JsonObject alert, Action<JsonObject> change)
    {
        change(alert);
        return alert.ToJsonString();
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task A_request_the_fuzzer_once_broke_the_api_with_gets_its_4xx_problem_and_changes_nothing(string name)
    {
        var finding = Findings[name];
        var originator = await app.CreateAgencyAsync("Border Police Directorate", "RS", AgencyKind.BorderGuard,
            Scopes.AlertsWrite, Scopes.AlertsRead, Scopes.AgenciesAdmin, Scopes.SubscriptionsManage);
        var partner = await app.CreateAgencyAsync("Hungarian National Police", "HU");
        var alert = Samples.SmugglingAlert();
        alert["tlp"] = "amber+strict";
        alert["audience"] = new JsonObject { ["agencies"] = new JsonArray(partner.Id.ToString()) };
        var created = await originator.Client.PostAsync("/api/v1/alerts", Samples.Json(alert), Ct);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var ids = new Ids((await created.ReadJsonAsync()).GetProperty("id").GetGuid(), partner.Id);
        var before = await app.CountRowsAsync();

        using var request = new HttpRequestMessage(new HttpMethod(finding.Method), finding.Path(ids));
        if (finding.Body is not null)
        {
            request.Content = new ByteArrayContent(Encoding.UTF8.GetBytes(finding.Body));
            request.Content.Headers.TryAddWithoutValidation("Content-Type", "application/json");
        }

        foreach (var (header, value) in finding.Headers)
        {
            if (header == "Content-Type")
            {
                request.Content!.Headers.Remove("Content-Type");
                request.Content.Headers.TryAddWithoutValidation(header, value);
            }
            else
            {
                request.Headers.TryAddWithoutValidation(header, value);
            }
        }

        var response = await originator.Client.SendAsync(request, Ct);
        var text = await response.Content.ReadAsStringAsync(Ct);

        Assert.True(finding.Status == response.StatusCode, $"{name}: expected {(int)finding.Status}, got {(int)response.StatusCode} {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(text);
        Assert.Equal(finding.Type, problem.RootElement.GetProperty("type").GetString());
        Assert.Equal((int)finding.Status, problem.RootElement.GetProperty("status").GetInt32());
        if (finding.Field is not null)
        {
            Assert.True(problem.RootElement.GetProperty("errors").TryGetProperty(finding.Field, out _), $"{name}: '{finding.Field}' not named in {text}");
        }

        Assert.Equal(before, await app.CountRowsAsync());
    }
}

public sealed class FuzzFindingsTestsOnSqlite(SqliteApiFixture app) : FuzzFindingsTests(app), IClassFixture<SqliteApiFixture>;

public sealed class FuzzFindingsTestsOnPostgres(PostgresApiFixture app) : FuzzFindingsTests(app), IClassFixture<PostgresApiFixture>;
