using System.Net;
using System.Reflection;
using System.Text.Json.Nodes;
using IntelSharing.Api.Infrastructure.Http;
using IntelSharing.Api.Infrastructure.Security;
using IntelSharing.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace IntelSharing.IntegrationTests.Contract;

/// <summary>
/// Every GET endpoint in the route table refuses a query parameter it does not declare (400 naming it), accepts each
/// one it declares, and the OpenAPI document lists exactly the parameters it accepts. Routing and the document do not
/// depend on the database, so these run on SQLite only.
/// </summary>
public sealed class QueryParameterContractTests(SqliteApiFixture app) : IClassFixture<SqliteApiFixture>
{
    private const string Refusal = "is not a parameter";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string Collection => Api.Features.Taxii.TaxiiProtocol.Collections[0].Id;

    [Fact]
    public void The_route_table_holds_the_get_endpoints_under_test()
    {
        var names = GetEndpoints().Select(e => e.Name).ToList();

        // A guard against an empty or half-read table making the tests below pass without testing anything.
        Assert.Contains("ListAlerts", names);
        Assert.Contains("ListAgencies", names);
        Assert.Contains("TaxiiObjects", names);
        Assert.Contains("ReadFeed", names);
        Assert.True(names.Count >= 25, $"only {names.Count} GET endpoints found: {string.Join(", ", names)}");
    }

    [Fact]
    public async Task Every_documented_get_endpoint_lists_exactly_the_query_parameters_it_accepts()
    {
        var document = await ServedDocument.FetchAsync(app, Ct);
        var operations = document["paths"]!.AsObject()
            .Select(path => path.Value!["get"])
            .Where(get => get is not null)
            .ToDictionary(get => get!["operationId"]!.GetValue<string>(), get => get!);

        var mismatches = new List<string>();
        foreach (var endpoint in GetEndpoints().Where(e => e.Documented))
        {
            Assert.True(operations.TryGetValue(endpoint.Name, out var operation), $"{endpoint.Name} is not in the document.");
            var documented = (operation!["parameters"]?.AsArray() ?? [])
                .Where(p => p!["in"]!.GetValue<string>() == "query")
                .Select(p => p!["name"]!.GetValue<string>())
                .Order(StringComparer.Ordinal);
            if (!documented.SequenceEqual(endpoint.Accepted, StringComparer.Ordinal))
            {
                mismatches.Add($"{endpoint.Name}: documents [{string.Join(", ", documented)}], accepts [{string.Join(", ", endpoint.Accepted)}]");
            }
        }

        Assert.True(mismatches.Count == 0, string.Join(Environment.NewLine, mismatches));
    }

    [Fact]
    public async Task Every_get_endpoint_accepts_each_declared_query_parameter_and_refuses_an_undeclared_one_naming_it()
    {
        var caller = await app.CreateAgencyAsync("Operations", "RS", Api.Domain.AgencyKind.Operator, [.. Scopes.All]);
        var failures = new List<string>();
        foreach (var endpoint in GetEndpoints())
        {
            foreach (var name in endpoint.Accepted)
            {
                var accepted = await caller.Client.GetAsync($"{endpoint.Path}?{Uri.EscapeDataString(name)}=1", Ct);
                var body = await accepted.Content.ReadAsStringAsync(Ct);
                // Refused before the filter ran (no key, scope, rate or route) would prove nothing, so it counts as a failure too.
                var notReached = accepted.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden or HttpStatusCode.TooManyRequests
                    || (accepted.StatusCode == HttpStatusCode.NotFound && !endpoint.HasRouteValues);
                if (notReached || body.Contains(Refusal, StringComparison.Ordinal))
                {
                    failures.Add($"{endpoint.Name} ?{name}=1: {(int)accepted.StatusCode} {body}");
                }
            }

            var refused = await caller.Client.GetAsync($"{endpoint.Path}?unexpected=1", Ct);
            var refusal = await refused.Content.ReadAsStringAsync(Ct);
            if (refused.StatusCode != HttpStatusCode.BadRequest || !refusal.Contains($"unexpected {Refusal}", StringComparison.Ordinal))
            {
                failures.Add($"{endpoint.Name} ?unexpected=1: {(int)refused.StatusCode} {refusal}");
            }
        }

        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures));
    }

    [Fact]
    public async Task An_unknown_parameter_is_named_with_the_ones_the_endpoint_accepts_and_changes_nothing()
    {
        var agency = await app.CreateAgencyAsync("Border Police Directorate");
        var before = await app.CountRowsAsync();

        var response = await agency.Client.GetAsync("/api/v1/alerts?catgory=cyber_incident&limit=5", Ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var errors = (await response.ReadJsonAsync()).GetProperty("errors");
        Assert.Equal(["catgory"], errors.EnumerateObject().Select(e => e.Name));
        var message = errors.GetProperty("catgory")[0].GetString()!;
        Assert.Contains("category", message, StringComparison.Ordinal);
        Assert.Contains("cursor", message, StringComparison.Ordinal);
        Assert.Equal(before, await app.CountRowsAsync());
    }

    [Fact]
    public async Task Taxii_refuses_an_unknown_parameter_in_its_own_error_format_and_accepts_its_match_filters()
    {
        var agency = await app.CreateAgencyAsync("CERT-RS");
        using var unknown = new HttpRequestMessage(HttpMethod.Get, $"/taxii2/api/collections/{Collection}/objects/?match[severity]=high");
        unknown.Headers.TryAddWithoutValidation("Accept", "application/taxii+json;version=2.1");
        using var known = new HttpRequestMessage(HttpMethod.Get, $"/taxii2/api/collections/{Collection}/objects/?match[type]=indicator&added_after=2026-11-01T00:00:00Z&limit=5");
        known.Headers.TryAddWithoutValidation("Accept", "application/taxii+json;version=2.1");

        var refused = await agency.Client.SendAsync(unknown, Ct);
        var served = await agency.Client.SendAsync(known, Ct);

        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Equal("application/taxii+json", refused.Content.Headers.ContentType?.MediaType);
        var error = JsonNode.Parse(await refused.Content.ReadAsStringAsync(Ct))!;
        Assert.Equal("400", error["http_status"]!.GetValue<string>());
        Assert.Contains("match[severity]", error["description"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.NotEqual(HttpStatusCode.BadRequest, served.StatusCode);
    }

    private sealed record GetEndpoint(string Name, string Path, bool Documented, IReadOnlyList<string> Accepted, bool HasRouteValues);

    /// <summary>The GET endpoints with a handler (health and metrics are not the API's), each with a path that reaches its handler.</summary>
    private List<GetEndpoint> GetEndpoints() =>
        app.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods.Contains("GET") == true && e.Metadata.GetMetadata<MethodInfo>() is not null)
            .Select(e =>
            {
                var routeNames = e.RoutePattern.Parameters.Select(p => p.Name).ToHashSet(StringComparer.OrdinalIgnoreCase);
                var declared = UnknownQueryParameters.Declared(e.Metadata.GetMetadata<MethodInfo>()!);
                var accepted = declared.Explicit.Concat(declared.Implicit.Where(n => !routeNames.Contains(n))).Order(StringComparer.Ordinal).ToList();
                return new GetEndpoint(
                    e.Metadata.GetMetadata<IEndpointNameMetadata>()?.EndpointName ?? e.RoutePattern.RawText!,
                    PathOf(e.RoutePattern),
                    e.Metadata.GetMetadata<IExcludeFromDescriptionMetadata>()?.ExcludeFromDescription != true,
                    accepted,
                    routeNames.Count > 0);
            })
            .ToList();

    /// <summary>The route with every parameter filled: a UUID where the route constrains it to one, the TAXII collection otherwise.</summary>
    private static string PathOf(Microsoft.AspNetCore.Routing.Patterns.RoutePattern pattern)
    {
        var path = pattern.RawText!;
        foreach (var parameter in pattern.Parameters)
        {
            var value = parameter.ParameterPolicies.Any(p => p.Content == "guid") ? "00000000-0000-0000-0000-000000000001"
                : parameter.Name == "collectionId" ? Collection : "00000000";
            path = System.Text.RegularExpressions.Regex.Replace(path, $"{{{parameter.Name}[^}}]*}}", value);
        }

        return path.StartsWith('/') ? path : "/" + path;
    }
}
