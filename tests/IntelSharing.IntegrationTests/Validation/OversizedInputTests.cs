using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using IntelSharing.Api.Domain;
using IntelSharing.Api.Infrastructure.Audit;
using IntelSharing.Api.Infrastructure.Security;
using IntelSharing.IntegrationTests.Infrastructure;

namespace IntelSharing.IntegrationTests.Validation;

/// <summary>
/// Requests whose lists are far over their limits, each close to the 1 MB body limit. A list over its limit gets one
/// error, for its length, and no element rule runs: the answer and the audit record stay small whatever was sent.
/// (Before, 150,000 bad country codes made a 16.7 MB answer and a 2.9 MB audit record from a 750 KB request.)
/// </summary>
public abstract class OversizedInputTests(ApiFixture app)
{
    /// <summary>Generous for an answer of at most 50 errors; the answers before the fix were megabytes.</summary>
    public const int MaxAnswerBytes = 16 * 1024;

    /// <summary>The refused request's audit record names at most 50 fields.</summary>
    public const int MaxAuditDetailBytes = 4 * 1024;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>An oversized request: where it goes, the field whose length is refused, and the audit action it is recorded as.</summary>
    public sealed record Shape(string Name, HttpMethod Method, string Path, string Field, string Action, Func<Guid, string> Body);

    public static readonly IReadOnlyDictionary<string, Shape> Shapes = new[]
    {
        AlertShape("countries", "countries", alert => alert["countries"] = Many(150_000, _ => "xx")),
        AlertShape("indicators", "indicators", alert => alert["indicators"] = Many(25_000, _ => new JsonObject { ["type"] = "ipv4", ["value"] = "x" })),
        AlertShape("persons", "persons", alert => alert["persons"] = Many(40_000, _ => new JsonObject { ["fullName"] = "\u0007" })),
        AlertShape("person aliases", "persons[0].aliases", alert =>
        {
            alert["tlp"] = "amber";
            alert["reviewAt"] = DateTimeOffset.UtcNow.AddMonths(3).ToString("O");
            alert["expiresAt"] = DateTimeOffset.UtcNow.AddYears(1).ToString("O");
            alert["persons"] = new JsonArray(new JsonObject
            {
                ["fullName"] = "Dragan Petrović",
                ["category"] = "suspect",
                ["aliases"] = Many(100_000, _ => "\u0007"),
            });
        }),
        AlertShape("route", "smuggling.route", alert => alert["smuggling"]!["route"] = Many(30_000, _ => new JsonObject { ["place"] = "", ["country"] = "x" })),
        AlertShape("crossing points", "smuggling.crossingPoints", alert =>
            alert["smuggling"]!["crossingPoints"] = Many(30_000, _ => new JsonObject { ["name"] = "", ["countries"] = new JsonArray() })),
        AlertShape("crossing point countries", "smuggling.crossingPoints[0].countries", alert =>
            alert["smuggling"]!["crossingPoints"] = new JsonArray(new JsonObject { ["name"] = "Horgoš–Röszke", ["countries"] = Many(150_000, _ => "xx") })),
        AlertShape("network names", "smuggling.networkNames", alert => alert["smuggling"]!["networkNames"] = Many(100_000, _ => "\u0007")),
        CyberShape("attack techniques", "cyber.attackTechniques", alert => alert["cyber"]!["attackTechniques"] = Many(150_000, _ => "xx")),
        CyberShape("cves", "cyber.cves", alert => alert["cyber"]!["cves"] = Many(150_000, _ => "xx")),
        new Shape("subscription countries", HttpMethod.Post, "/api/v1/subscriptions", "countries", AuditActions.SubscriptionCreate,
            _ => new JsonObject { ["url"] = "https://partner.example.org/hooks", ["countries"] = Many(150_000, _ => "xx") }.ToJsonString()),
        new Shape("key scopes", HttpMethod.Post, "/api/v1/agencies/{agency}/keys", "scopes", AuditActions.KeyIssue,
            _ => new JsonObject { ["name"] = "Case system", ["scopes"] = Many(150_000, _ => "xx") }.ToJsonString()),
        new Shape("bulk replay states", HttpMethod.Post, "/api/v1/deliveries/replay", "states", AuditActions.DeliveryBulkReplay,
            _ => new JsonObject
            {
                ["subscriptionId"] = Guid.NewGuid().ToString(),
                ["from"] = "2026-11-01T00:00:00Z",
                ["to"] = "2026-11-02T00:00:00Z",
                ["states"] = Many(150_000, _ => "xx"),
            }.ToJsonString()),
        new Shape("sharing group members", HttpMethod.Post, "/api/v1/sharing-groups", "members", AuditActions.GroupCreate,
            _ => new JsonObject { ["name"] = "Western Balkans route", ["members"] = Many(20_000, _ => Guid.NewGuid().ToString()) }.ToJsonString()),
        new Shape("alert list countries", HttpMethod.Get, "/api/v1/alerts?country=" + string.Join(',', Enumerable.Range(0, 1_500)), "country", AuditActions.AlertList,
            _ => string.Empty),
        new Shape("audit actions", HttpMethod.Get, "/api/v1/audit?action=" + string.Join(',', Enumerable.Repeat("x", 3_500)), "action", AuditActions.AuditList,
            _ => string.Empty),
    }.ToDictionary(s => s.Name);

    public static TheoryData<string> ShapeNames => [.. Shapes.Keys];

    [Theory]
    [MemberData(nameof(ShapeNames))]
    public async Task An_oversized_list_gets_one_length_error_and_a_small_answer_and_audit_record(string shapeName)
    {
        var shape = Shapes[shapeName];
        var agency = await app.CreateAgencyAsync("Border Police Directorate", "RS", AgencyKind.Police,
            Scopes.AlertsWrite, Scopes.AlertsRead, Scopes.SubscriptionsManage, Scopes.AgenciesAdmin, Scopes.DeliveriesManage, Scopes.AuditRead);

        var response = await SendAsync(agency.Client, shape, agency.Id, Ct);

        var body = await response.Content.ReadAsByteArrayAsync(Ct);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True(body.Length < MaxAnswerBytes, $"The answer is {body.Length} bytes.");
        var errors = JsonDocument.Parse(body).RootElement.GetProperty("errors");
        Assert.Single(errors.GetProperty(shape.Field).EnumerateArray());
        var elementErrors = errors.EnumerateObject().Where(e => e.Name.StartsWith(shape.Field + "[", StringComparison.Ordinal)).Select(e => e.Name).ToList();
        Assert.Empty(elementErrors);

        var record = Assert.Single(await app.AuditRecordsAsync("agency_id = @id AND action = @action", new { id = agency.Id, action = shape.Action }));
        Assert.Equal(400, record.Outcome);
        Assert.True(Encoding.UTF8.GetByteCount(record.Detail ?? string.Empty) < MaxAuditDetailBytes, $"The audit detail is {record.Detail?.Length} characters.");
        Assert.Contains($"\"{shape.Field}\"", record.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_request_with_more_than_50_errors_reports_the_first_50_and_says_more_were_cut()
    {
        var agency = await app.CreateAgencyAsync("Border Police Directorate");
        var alert = Samples.SmugglingAlert();
        // 60 countries is the limit, so each bad one is checked and reported: 60 errors, one per element.
        alert["countries"] = Many(60, i => $"x{i}");
        alert["title"] = "";

        var response = await agency.Client.PostAsync("/api/v1/alerts", Samples.Json(alert), Ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.ReadJsonAsync();
        var reported = problem.GetProperty("errors").EnumerateObject().Sum(e => e.Value.GetArrayLength());
        Assert.Equal(50, reported);
        Assert.True(problem.GetProperty("errorsTruncated").GetBoolean());
        Assert.Contains("Only the first 50 errors are reported", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        // The rules run in the order they are stated: the title is among the first 50.
        Assert.True(problem.GetProperty("errors").TryGetProperty("title", out _));
    }

    [Fact]
    public async Task A_request_with_50_errors_or_fewer_says_nothing_was_cut()
    {
        var agency = await app.CreateAgencyAsync("Border Police Directorate");
        var alert = Samples.SmugglingAlert();
        alert["countries"] = Many(3, i => $"x{i}");

        var response = await agency.Client.PostAsync("/api/v1/alerts", Samples.Json(alert), Ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.ReadJsonAsync();
        Assert.Equal(3, problem.GetProperty("errors").EnumerateObject().Count());
        Assert.False(problem.TryGetProperty("errorsTruncated", out _));
    }

    public static async Task<HttpResponseMessage> SendAsync(HttpClient client, Shape shape, Guid agencyId, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(shape.Method, shape.Path.Replace("{agency}", agencyId.ToString(), StringComparison.Ordinal));
        if (shape.Method != HttpMethod.Get)
        {
            request.Content = new StringContent(shape.Body(agencyId), Encoding.UTF8, "application/json");
        }

        return await client.SendAsync(request, cancellationToken);
    }

    private static JsonArray Many(int count, Func<int, JsonNode> element) => new([.. Enumerable.Range(0, count).Select(element)]);

    private static Shape AlertShape(string name, string field, Action<JsonObject> change) =>
        new(name, HttpMethod.Post, "/api/v1/alerts", field, AuditActions.AlertSubmit, _ =>
        {
            var alert = Samples.SmugglingAlert();
            change(alert);
            return alert.ToJsonString();
        });

    private static Shape CyberShape(string name, string field, Action<JsonObject> change) =>
        new(name, HttpMethod.Post, "/api/v1/alerts", field, AuditActions.AlertSubmit, _ =>
        {
            var alert = Samples.CyberAlert();
            change(alert);
            return alert.ToJsonString();
        });
}

public sealed class OversizedInputTestsOnSqlite(SqliteApiFixture app) : OversizedInputTests(app), IClassFixture<SqliteApiFixture>;

public sealed class OversizedInputTestsOnPostgres(PostgresApiFixture app) : OversizedInputTests(app), IClassFixture<PostgresApiFixture>;
