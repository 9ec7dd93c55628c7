using System.Net;
using System.Text.Json.Nodes;
using IntelSharing.IntegrationTests.Infrastructure;

namespace IntelSharing.IntegrationTests.Contract;

/// <summary>
/// The OpenAPI document is the contract integrators build against: it is committed as
/// openapi/intelsharing.v1.json, and any change to what the app serves must show up as a reviewed diff of that file.
/// The document does not depend on the database, so these run on SQLite only.
/// </summary>
public sealed class OpenApiDocumentTests(SqliteApiFixture app) : IClassFixture<SqliteApiFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_served_document_matches_the_committed_openapi_file()
    {
        var served = OpenApiFile.Normalise(await FetchTextAsync());
        var path = OpenApiFile.CommittedPath;

        if (OpenApiFile.UpdateRequested)
        {
            await File.WriteAllTextAsync(path, served, Ct);
            return;
        }

        Assert.True(File.Exists(path), $"{path} does not exist. {OpenApiFile.HowToRegenerate}");
        var committed = OpenApiFile.Normalise(await File.ReadAllTextAsync(path, Ct));
        if (!string.Equals(committed, served, StringComparison.Ordinal))
        {
            var where = OpenApiFile.FirstDifference(JsonNode.Parse(committed), JsonNode.Parse(served), "$");
            Assert.Fail($"The OpenAPI document the app serves differs from {OpenApiFile.RelativePath} (first difference at {where}). {OpenApiFile.HowToRegenerate}");
        }
    }

    [Fact]
    public async Task The_document_is_served_without_a_key_and_is_the_same_on_every_request()
    {
        var client = app.ClientWithKey(null);

        var first = await client.GetAsync(OpenApiFile.ServedPath, Ct);
        var second = await client.GetStringAsync(OpenApiFile.ServedPath, Ct);

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(await first.Content.ReadAsStringAsync(Ct), second);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/swagger/index.html", Ct)).StatusCode);
    }

    [Fact]
    public async Task Every_operation_has_an_id_a_summary_and_declares_its_4xx_responses_as_problem_json()
    {
        var document = await FetchAsync();

        foreach (var (path, method, operation) in Operations(document))
        {
            var name = $"{method.ToUpperInvariant()} {path}";
            Assert.False(string.IsNullOrWhiteSpace(operation["operationId"]?.GetValue<string>()), $"{name} has no operationId.");
            Assert.False(string.IsNullOrWhiteSpace(operation["summary"]?.GetValue<string>()), $"{name} has no summary.");

            var responses = operation["responses"]!.AsObject();
            var errors = responses.Where(r => r.Key[0] is '4' or '5').ToList();
            Assert.True(errors.Any(r => r.Key[0] == '4'), $"{name} declares no 4xx response.");
            Assert.Contains(errors, r => r.Key == "401");
            foreach (var (status, response) in errors)
            {
                var content = response!["content"]!.AsObject();
                Assert.True(content.Count == 1 && content.ContainsKey("application/problem+json"), $"{name} {status} is not application/problem+json only.");
                var expectedSchema = status == "400" ? "HttpValidationProblemDetails" : "ProblemDetails";
                Assert.Equal($"#/components/schemas/{expectedSchema}", content["application/problem+json"]!["schema"]!["$ref"]!.GetValue<string>());
                Assert.DoesNotMatch("^(Bad Request|Unauthorized|Forbidden|Not Found|Conflict)$", response["description"]!.GetValue<string>());
            }

            if (operation["requestBody"] is not null)
            {
                Assert.True(responses.ContainsKey("413") && responses.ContainsKey("415"), $"{name} takes a body but does not declare 413 and 415.");
            }
        }
    }

    [Fact]
    public async Task Enums_are_documented_with_their_wire_names()
    {
        var schemas = (await FetchAsync())["components"]!["schemas"]!;

        Assert.Equal(["clear", "green", "amber", "amber+strict", "red"], EnumOf(schemas["Tlp"]));
        Assert.Equal(["H0", "H1", "H2", "H3"], EnumOf(schemas["HandlingCode"]));
        Assert.Equal(["A", "B", "C", "X"], EnumOf(schemas["SourceReliability"]));
        Assert.Equal(["1", "2", "3", "4"], EnumOf(schemas["InformationAssessment"]));
        Assert.Equal(["migrant_smuggling", "cyber_incident"], EnumOf(schemas["AlertCategory"]));
        Assert.Equal(["low", "medium", "high", "critical"], EnumOf(schemas["Severity"]));
        Assert.Contains("vehicle_plate", EnumOf(schemas["IndicatorType"]));
        Assert.Contains("border_guard", EnumOf(schemas["AgencyKind"]));
        Assert.All(new[] { "Tlp", "HandlingCode", "InformationAssessment", "IndicatorType" }, name => Assert.Equal("string", schemas[name]!["type"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Alert_operations_declare_idempotency_location_etag_and_conditional_get()
    {
        var paths = (await FetchAsync())["paths"]!;
        var submit = paths["/api/v1/alerts"]!["post"]!;
        var read = paths["/api/v1/alerts/{id}"]!["get"]!;

        var idempotencyKey = submit["parameters"]!.AsArray().Single(p => p!["name"]!.GetValue<string>() == "Idempotency-Key")!;
        Assert.Equal("header", idempotencyKey["in"]!.GetValue<string>());
        Assert.Equal(255, idempotencyKey["schema"]!["maxLength"]!.GetValue<int>());
        var created = submit["responses"]!["201"]!["headers"]!.AsObject();
        Assert.True(created.ContainsKey("Location") && created.ContainsKey("ETag") && created.ContainsKey("Idempotent-Replayed"));

        Assert.Contains(read["parameters"]!.AsArray(), p => p!["name"]!.GetValue<string>() == "If-None-Match" && p["in"]!.GetValue<string>() == "header");
        Assert.NotNull(read["responses"]!["200"]!["headers"]!["ETag"]);
        Assert.NotNull(read["responses"]!["304"]);
    }

    [Fact]
    public async Task Alerts_are_exemplified_in_both_categories_and_agencies_and_keys_have_examples()
    {
        var paths = (await FetchAsync())["paths"]!;

        Assert.Equal(["migrantSmuggling", "cyberIncident"], ExampleNames(paths["/api/v1/alerts"]!["post"]!["requestBody"]!["content"]!["application/json"]));
        Assert.Equal(["migrantSmuggling", "cyberIncident"], ExampleNames(paths["/api/v1/alerts"]!["post"]!["responses"]!["201"]!["content"]!["application/json"]));
        Assert.Equal(["migrantSmuggling", "cyberIncident"], ExampleNames(paths["/api/v1/alerts/{id}"]!["get"]!["responses"]!["200"]!["content"]!["application/json"]));
        var page = paths["/api/v1/alerts"]!["get"]!["responses"]!["200"]!["content"]!["application/json"]!["examples"]!["firstPage"]!["value"]!;
        Assert.Equal(["cyber_incident", "migrant_smuggling"], page["items"]!.AsArray().Select(i => i!["category"]!.GetValue<string>()));

        Assert.NotEmpty(ExampleNames(paths["/api/v1/agencies"]!["post"]!["requestBody"]!["content"]!["application/json"]));
        Assert.NotEmpty(ExampleNames(paths["/api/v1/agencies"]!["get"]!["responses"]!["200"]!["content"]!["application/json"]));
        Assert.NotEmpty(ExampleNames(paths["/api/v1/agencies/{agencyId}/keys"]!["post"]!["requestBody"]!["content"]!["application/json"]));
        Assert.NotEmpty(ExampleNames(paths["/api/v1/agencies/{agencyId}/keys"]!["post"]!["responses"]!["201"]!["content"]!["application/json"]));
        Assert.NotEmpty(ExampleNames(paths["/api/v1/agencies/{agencyId}/keys"]!["get"]!["responses"]!["200"]!["content"]!["application/json"]));
    }

    [Fact]
    public async Task The_bearer_scheme_is_required_by_default()
    {
        var document = await FetchAsync();

        Assert.Equal("bearer", document["components"]!["securitySchemes"]!["bearer"]!["scheme"]!.GetValue<string>());
        Assert.NotNull(document["security"]![0]!["bearer"]);
    }

    private async Task<string> FetchTextAsync()
    {
        var client = app.ClientWithKey(null);
        return await client.GetStringAsync(OpenApiFile.ServedPath, Ct);
    }

    private async Task<JsonNode> FetchAsync() => JsonNode.Parse(await FetchTextAsync())!;

    private static IEnumerable<(string Path, string Method, JsonNode Operation)> Operations(JsonNode document) =>
        document["paths"]!.AsObject().SelectMany(path => path.Value!.AsObject().Select(op => (path.Key, op.Key, op.Value!)));

    private static List<string> EnumOf(JsonNode? schema) => schema!["enum"]!.AsArray().Select(v => v!.GetValue<string>()).ToList();

    private static List<string> ExampleNames(JsonNode? media) => media!["examples"]!.AsObject().Select(e => e.Key).ToList();
}
