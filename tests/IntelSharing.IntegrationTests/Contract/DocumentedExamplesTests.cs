using System.Net;
using System.Text.Json.Nodes;
using Dapper;
using IntelSharing.Api.Domain;
using IntelSharing.Api.Features.Agencies;
using IntelSharing.Api.Infrastructure.Json;
using IntelSharing.Api.Infrastructure.OpenApi;
using IntelSharing.Api.Infrastructure.Security;
using IntelSharing.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace IntelSharing.IntegrationTests.Contract;

/// <summary>A clock the test sets to the instant an example says something happened.</summary>
public sealed class SettableClock(DateTimeOffset now) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = now;

    public override DateTimeOffset GetUtcNow() => Now;
}

/// <summary>The application on its own SQLite file, with its clock under the test's control.</summary>
public sealed class ExamplesFixture : SqliteApiFixture
{
    public SettableClock Clock { get; } = new(ContractExamples.BorderPoliceRegisteredAt);

    protected override void ConfigureServices(IServiceCollection services) => services.AddSingleton<TimeProvider>(Clock);

    /// <summary>Creates an agency with the id and name an example uses, and a key for it.</summary>
    public async Task<HttpClient> SeedAgencyAsync(string id, string name, AgencyKind kind, params string[] scopes)
    {
        RequireDatabase();
        await using var connection = await Database.OpenAsync(CancellationToken.None);
        await connection.ExecuteAsync(
            """
            INSERT INTO agencies (id, name, country, kind, is_active, created_at, updated_at)
            VALUES (@id, @name, 'RS', @kind, @active, @now, @now)
            """,
            new { id = Guid.Parse(id), name, kind = WireNames.Of(kind), active = true, now = DateTimeOffset.UtcNow });
        var issued = await IssueApiKey.IssueAsync(connection, TimeProvider.System, Guid.Parse(id), "contract examples", scopes, null, CancellationToken.None);
        var client = ClientWithKey(issued!.Key);
        // The smuggling example names a person: reading it takes a purpose (docs/sharing.md).
        client.DefaultRequestHeaders.Add("X-Purpose", "Operation Horgoš: checking the driver against our records");
        return client;
    }
}

/// <summary>
/// The examples in the OpenAPI document are not illustrations but recorded exchanges: each request example is
/// sent to the API as it stands in the served document, and the answer must be the response example beside it
/// (apart from ids and secrets the server generates). The document does not depend on the database, so SQLite only.
/// </summary>
public sealed class DocumentedAlertExamplesTests(ExamplesFixture app) : IClassFixture<ExamplesFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_alert_request_examples_are_answered_with_the_documented_responses_in_both_categories()
    {
        var document = await ServedDocument.FetchAsync(app, Ct);
        var border = await app.SeedAgencyAsync(ContractExamples.BorderPoliceId, ContractExamples.BorderPoliceName, AgencyKind.BorderGuard, Scopes.AlertsWrite, Scopes.AlertsRead);
        var cert = await app.SeedAgencyAsync(ContractExamples.CertId, ContractExamples.CertName, AgencyKind.Cert, Scopes.AlertsWrite, Scopes.AlertsRead);
        var submit = document["paths"]!["/api/v1/alerts"]!["post"]!;
        var read = document["paths"]!["/api/v1/alerts/{id}"]!["get"]!;

        app.Clock.Now = ContractExamples.CyberPublishedAt;
        var cyber = await SubmitAndReadAsync(cert, submit, read, "cyberIncident");
        app.Clock.Now = ContractExamples.SmugglingPublishedAt;
        var smuggling = await SubmitAndReadAsync(border, submit, read, "migrantSmuggling");

        var page = JsonNode.Parse(await border.GetStringAsync("/api/v1/alerts?limit=2", Ct))!;
        var documentedPage = ServedDocument.Example(document["paths"]!["/api/v1/alerts"]!["get"]!["responses"]!["200"], "firstPage");
        Assert.Equal(2, page["items"]!.AsArray().Count);
        Assert.Equal(cyber, page["items"]![0]!["id"]!.GetValue<string>());
        Assert.Equal(smuggling, page["items"]![1]!["id"]!.GetValue<string>());
        for (var i = 0; i < 2; i++)
        {
            ServedDocument.AssertSameExceptGenerated(documentedPage["items"]![i], page["items"]![i], $"ListAlerts firstPage items[{i}]", "id");
        }
    }

    private static async Task<string> SubmitAndReadAsync(HttpClient client, JsonNode submit, JsonNode read, string example)
    {
        var request = ServedDocument.Example(submit["requestBody"], example);
        var documentedCreated = ServedDocument.Example(submit["responses"]!["201"], example);
        var documentedRead = ServedDocument.Example(read["responses"]!["200"], example);

        var created = await client.PostAsync("/api/v1/alerts", Samples.Json(request), Ct);

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var body = JsonNode.Parse(await created.Content.ReadAsStringAsync(Ct))!;
        ServedDocument.AssertSameExceptGenerated(documentedCreated, body, $"SubmitAlert 201 {example}", "id");
        var id = body["id"]!.GetValue<string>();
        Assert.Equal($"/api/v1/alerts/{id}", created.Headers.Location?.OriginalString);
        Assert.Equal("\"1\"", created.Headers.ETag?.Tag);

        var fetched = await client.GetAsync(created.Headers.Location, Ct);
        Assert.Equal(HttpStatusCode.OK, fetched.StatusCode);
        ServedDocument.AssertSameExceptGenerated(documentedRead, JsonNode.Parse(await fetched.Content.ReadAsStringAsync(Ct)), $"GetAlert 200 {example}", "id");
        return id;
    }
}

public sealed class DocumentedAgencyExamplesTests(ExamplesFixture app) : IClassFixture<ExamplesFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_agency_and_key_examples_are_answered_with_the_documented_responses()
    {
        var document = await ServedDocument.FetchAsync(app, Ct);
        var paths = document["paths"]!;
        var operators = await app.SeedAgencyAsync(ContractExamples.OperatorId, "MUP RS — IntelSharing Operations", AgencyKind.Operator, [.. BootstrapAdmin.OperatorScopes]);
        var register = paths["/api/v1/agencies"]!["post"]!;
        var issue = paths["/api/v1/agencies/{agencyId}/keys"]!["post"]!;

        app.Clock.Now = ContractExamples.BorderPoliceRegisteredAt;
        var registered = await operators.PostAsync("/api/v1/agencies", Samples.Json(ServedDocument.Example(register["requestBody"], "borderPolice")), Ct);
        Assert.Equal(HttpStatusCode.Created, registered.StatusCode);
        var agency = JsonNode.Parse(await registered.Content.ReadAsStringAsync(Ct))!;
        ServedDocument.AssertSameExceptGenerated(ServedDocument.Example(register["responses"]!["201"], "borderPolice"), agency, "RegisterAgency 201", "id");
        var agencyId = agency["id"]!.GetValue<string>();

        var again = await operators.PostAsync("/api/v1/agencies", Samples.Json(ServedDocument.Example(register["requestBody"], "borderPolice")), Ct);
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        ServedDocument.AssertSameExceptGenerated(ServedDocument.Example(register["responses"]!["409"], "nameTaken"), JsonNode.Parse(await again.Content.ReadAsStringAsync(Ct)), "RegisterAgency 409", "traceId");

        var europol = await operators.PostAsync("/api/v1/agencies", Samples.Json(ServedDocument.Example(register["requestBody"], "europol")), Ct);
        Assert.Equal(HttpStatusCode.Created, europol.StatusCode);

        app.Clock.Now = ContractExamples.BorderPoliceKeyIssuedAt;
        var issued = await operators.PostAsync($"/api/v1/agencies/{agencyId}/keys", Samples.Json(ServedDocument.Example(issue["requestBody"], "caseSystem")), Ct);
        Assert.Equal(HttpStatusCode.Created, issued.StatusCode);
        var key = JsonNode.Parse(await issued.Content.ReadAsStringAsync(Ct))!;
        ServedDocument.AssertSameExceptGenerated(ServedDocument.Example(issue["responses"]!["201"], "issued"), key, "IssueApiKey 201", "id", "prefix", "key");
        Assert.StartsWith($"isk_{key["prefix"]!.GetValue<string>()}_", key["key"]!.GetValue<string>(), StringComparison.Ordinal);

        var keys = JsonNode.Parse(await operators.GetStringAsync($"/api/v1/agencies/{agencyId}/keys", Ct))!;
        var documentedKeys = ServedDocument.Example(paths["/api/v1/agencies/{agencyId}/keys"]!["get"]!["responses"]!["200"], "keys");
        ServedDocument.AssertSameExceptGenerated(documentedKeys["items"]![0], keys["items"]![0], "ListApiKeys 200 items[0]", "id", "prefix");

        // The issued key works for what its scopes allow.
        app.Clock.Now = ContractExamples.SmugglingPublishedAt;
        var client = app.ClientWithKey(key["key"]!.GetValue<string>());
        var created = await client.PostAsync("/api/v1/alerts", Samples.Json(ServedDocument.Example(paths["/api/v1/alerts"]!["post"]!["requestBody"], "migrantSmuggling")), Ct);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
    }
}

/// <summary>Reads examples out of the document the app serves.</summary>
public static class ServedDocument
{
    public static async Task<JsonNode> FetchAsync(ApiFixture app, CancellationToken cancellationToken) =>
        JsonNode.Parse(await app.ClientWithKey(null).GetStringAsync(OpenApiFile.ServedPath, cancellationToken))!;

    /// <summary>A copy of the named example of a request body or response (its application/json or problem content).</summary>
    public static JsonNode Example(JsonNode? bodyOrResponse, string name)
    {
        var content = bodyOrResponse!["content"]!.AsObject();
        var media = content["application/json"] ?? content["application/problem+json"];
        var value = media?["examples"]?[name]?["value"] ?? throw new InvalidOperationException($"The document has no example '{name}' there.");
        return value.DeepClone();
    }

    /// <summary>Equal as JSON once the top-level properties the server generates (ids, secrets, trace ids) are set aside.</summary>
    public static void AssertSameExceptGenerated(JsonNode? documented, JsonNode? actual, string what, params string[] generated)
    {
        var expected = documented!.DeepClone().AsObject();
        var got = actual!.DeepClone().AsObject();
        foreach (var name in generated)
        {
            Assert.True(got.ContainsKey(name) == expected.ContainsKey(name), $"{what}: '{name}' is in one of the example and the response only.");
            expected.Remove(name);
            got.Remove(name);
        }

        Assert.True(JsonNode.DeepEquals(expected, got),
            $"{what}: the documented example is not what the API answers.\nDocumented: {expected.ToJsonString()}\nAnswered:   {got.ToJsonString()}\n" +
            $"Update ContractExamples to match (then regenerate {OpenApiFile.RelativePath}).");
    }
}
