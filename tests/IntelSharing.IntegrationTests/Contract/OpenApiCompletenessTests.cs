using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using IntelSharing.Api.Infrastructure.Security;
using IntelSharing.IntegrationTests.Infrastructure;

namespace IntelSharing.IntegrationTests.Contract;

/// <summary>
/// Walks the served OpenAPI document the way an integrator reads it and fails listing every gap at once: an operation
/// that does not say which scope it needs, a body or response without an example (or with Swagger's placeholders), a
/// property without a description, a string that is a closed set in code but not an enum, no usable server.
/// The document does not depend on the database, so this runs on SQLite only.
/// </summary>
public sealed partial class OpenApiCompletenessTests(SqliteApiFixture app) : IClassFixture<SqliteApiFixture>
{
    /// <summary>String properties with these names hold a closed set wherever they appear in this API.</summary>
    private static readonly HashSet<string> ClosedSetNames =
        new(["status", "state", "states", "kind", "eventType", "eventTypes", "action", "resourceType", "visibility", "category", "categories", "severity", "minSeverity", "tlp", "scopes"], StringComparer.Ordinal);

    /// <summary>Properties of those names that are not closed sets, each with the reason.</summary>
    private static readonly Dictionary<string, string> OpenOnPurpose = new(StringComparer.Ordinal)
    {
        ["ProblemDetails.status"] = "an HTTP status code (integer)",
        ["HttpValidationProblemDetails.status"] = "an HTTP status code (integer)",
    };

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_document_leaves_an_integrator_no_gaps()
    {
        var document = JsonNode.Parse(await app.ClientWithKey(null).GetStringAsync(OpenApiFile.ServedPath, Ct))!;

        var gaps = ServerGaps(document).Concat(TagGaps(document)).Concat(OperationGaps(document)).Concat(SchemaGaps(document)).ToList();

        Assert.True(gaps.Count == 0, $"{gaps.Count} gaps in the OpenAPI document:\n" + string.Join("\n", gaps));
    }

    [Fact]
    public async Task Each_operation_names_the_scope_its_endpoint_checks()
    {
        var paths = JsonNode.Parse(await app.ClientWithKey(null).GetStringAsync(OpenApiFile.ServedPath, Ct))!["paths"]!;

        Assert.Equal([Scopes.AlertsWrite], ScopesOf(paths["/api/v1/alerts"]!["post"]!));
        Assert.Equal([Scopes.AlertsRead], ScopesOf(paths["/api/v1/alerts/{id}"]!["get"]!));
        Assert.Equal([Scopes.AgenciesAdmin], ScopesOf(paths["/api/v1/agencies"]!["post"]!));
        Assert.Equal([Scopes.AuditRead], ScopesOf(paths["/api/v1/audit"]!["get"]!));
        Assert.Equal([Scopes.DeliveriesManage, Scopes.SubscriptionsManage], ScopesOf(paths["/api/v1/deliveries"]!["get"]!));
        Assert.Empty(ScopesOf(paths["/api/v1/agencies"]!["get"]!));
        Assert.Contains("Requires an API key with the `alerts:write` scope.", paths["/api/v1/alerts"]!["post"]!["description"]!.GetValue<string>());
        Assert.Contains("Any valid API key may call this.", paths["/api/v1/agencies"]!["get"]!["description"]!.GetValue<string>());
    }

    [Fact]
    public async Task Closed_sets_kept_in_code_are_enums_in_the_document()
    {
        var schemas = JsonNode.Parse(await app.ClientWithKey(null).GetStringAsync(OpenApiFile.ServedPath, Ct))!["components"]!["schemas"]!;

        Assert.Equal(["active", "paused", "disabled"], Strings(schemas["SubscriptionView"]!["properties"]!["status"]!["enum"]));
        Assert.Equal(["pending", "in_flight", "delivered", "failed", "dead", "cancelled"], Strings(schemas["DeliveryView"]!["properties"]!["state"]!["enum"]));
        Assert.Contains("alert.expired", Strings(schemas["DeliveryView"]!["properties"]!["eventType"]!["enum"]));
        Assert.DoesNotContain("alert.expired", Strings(schemas["SubscriptionInput"]!["properties"]!["eventTypes"]!["items"]!["enum"]));
        Assert.Contains("auth.failed", Strings(schemas["AuditRecordView"]!["properties"]!["action"]!["enum"]));
    }

    [Fact]
    public async Task A_deployment_serves_the_document_with_its_own_url()
    {
        await using var deployment = new DeploymentFixture();
        await deployment.InitializeAsync();

        var document = JsonNode.Parse(await deployment.ClientWithKey(null).GetStringAsync(OpenApiFile.ServedPath, Ct))!;

        Assert.Equal("https://intelsharing.mup.gov.rs", Assert.Single(document["servers"]!.AsArray())!["url"]!.GetValue<string>());
    }

    private sealed class DeploymentFixture : SqliteApiFixture
    {
        protected override IEnumerable<KeyValuePair<string, string>> Settings => [new("OpenApi:ServerUrl", "https://intelsharing.mup.gov.rs/")];
    }

    private static IEnumerable<string> ServerGaps(JsonNode document)
    {
        var servers = document["servers"]?.AsArray() ?? [];
        if (servers.Count == 0 || servers.Any(s => !Uri.TryCreate(ServerUrl(s!), UriKind.Absolute, out _)))
        {
            yield return "servers: no absolute server URL (a relative \"/\" names no host for a generated client)";
        }
    }

    private static IEnumerable<string> TagGaps(JsonNode document) =>
        (document["tags"]?.AsArray() ?? [])
            .Where(tag => string.IsNullOrWhiteSpace(tag!["description"]?.GetValue<string>()))
            .Select(tag => $"tag {tag!["name"]}: no description");

    /// <summary>The server URL with its variables at their defaults, as Swagger UI first shows it.</summary>
    private static string ServerUrl(JsonNode server) =>
        (server["variables"]?.AsObject() ?? []).Aggregate(server["url"]!.GetValue<string>(),
            (url, variable) => url.Replace($"{{{variable.Key}}}", variable.Value!["default"]!.GetValue<string>(), StringComparison.Ordinal));

    private static IEnumerable<string> OperationGaps(JsonNode document)
    {
        foreach (var (path, item) in document["paths"]!.AsObject())
        {
            foreach (var (method, operation) in item!.AsObject())
            {
                var name = $"{method.ToUpperInvariant()} {path}";
                if (operation!["security"] is not JsonArray { Count: > 0 })
                {
                    yield return $"{name}: no security requirement";
                }

                var description = operation["description"]?.GetValue<string>() ?? string.Empty;
                if (!ScopeSentence().IsMatch(description))
                {
                    yield return $"{name}: the description does not say which scope it needs";
                }

                if (description.Length < 80 || description.StartsWith("Requires an API key", StringComparison.Ordinal) || description.StartsWith("Any valid API key", StringComparison.Ordinal))
                {
                    yield return $"{name}: no description beyond the scope sentence";
                }

                foreach (var (mediaType, media) in operation["requestBody"]?["content"]?.AsObject() ?? [])
                {
                    foreach (var gap in ExampleGaps(media!, $"{name} request body ({mediaType})"))
                    {
                        yield return gap;
                    }
                }

                foreach (var (status, response) in operation["responses"]!.AsObject())
                {
                    foreach (var (mediaType, media) in response!["content"]?.AsObject() ?? [])
                    {
                        foreach (var gap in ExampleGaps(media!, $"{name} {status} ({mediaType})"))
                        {
                            yield return gap;
                        }
                    }
                }
            }
        }
    }

    private static IEnumerable<string> ExampleGaps(JsonNode media, string where)
    {
        var examples = media["examples"]?.AsObject().Select(e => e.Value!["value"]).ToList() ?? [];
        if (media["example"] is { } single)
        {
            examples.Add(single);
        }

        if (examples.Count == 0)
        {
            yield return $"{where}: no example";
        }
        else if (examples.Any(e => e?.ToJsonString().Contains("additionalProp", StringComparison.Ordinal) == true || e?.ToJsonString().Contains("\"string\"", StringComparison.Ordinal) == true))
        {
            yield return $"{where}: the example holds Swagger placeholders (\"string\", additionalProp1)";
        }
    }

    private static IEnumerable<string> SchemaGaps(JsonNode document)
    {
        foreach (var (schemaName, schema) in document["components"]!["schemas"]!.AsObject())
        {
            foreach (var (propertyName, property) in schema!["properties"]?.AsObject() ?? [])
            {
                var name = $"{schemaName}.{propertyName}";
                if (string.IsNullOrWhiteSpace(property!["description"]?.GetValue<string>()))
                {
                    yield return $"schema {name}: no description";
                }

                var values = property["type"]?.ToString() == "array" ? property["items"]! : property;
                var isString = values["type"]?.ToString() == "string";
                if (ClosedSetNames.Contains(propertyName) && isString && values["enum"] is null && values["allOf"] is null && !OpenOnPurpose.ContainsKey(name))
                {
                    yield return $"schema {name}: a closed set in code, but no enum";
                }
            }
        }
    }

    private static List<string> ScopesOf(JsonNode operation) =>
        [.. operation["security"]!.AsArray().SelectMany(requirement => requirement!["bearer"]!.AsArray()).Select(s => s!.GetValue<string>())];

    private static List<string> Strings(JsonNode? array) => [.. array!.AsArray().Select(v => v!.GetValue<string>())];

    [GeneratedRegex(@"Requires an API key with (the `[a-z:]+` scope|one of the scopes)|Any valid API key may call this\.")]
    private static partial Regex ScopeSentence();
}
