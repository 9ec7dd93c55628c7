using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using IntelSharing.Api.Domain;
using IntelSharing.Api.Features.Agencies;
using IntelSharing.Api.Infrastructure.Security;
using IntelSharing.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace IntelSharing.IntegrationTests.Security;

/// <summary>
/// Every endpoint × credentials: no key → 401; a key with every scope but the one required → 403; a key with
/// only that scope → the endpoint's answer (404 for another agency's alert the policy hides). Endpoints open to
/// any authenticated agency are called with a key holding one unrelated scope. A last test fails when an
/// endpoint is mapped without a row here.
/// </summary>
public abstract partial class AuthorizationMatrixTests(ApiFixture app)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>The resources one case works on, created fresh for it: another agency's alerts, an agency to administer, a group.</summary>
    public sealed record World(Guid Partner, Guid OwnAlert, Guid VisibleAlert, Guid HiddenAlert, Guid Target, Guid TargetKey, Guid Group);

    // AlsoGrantedBy: other scopes that open the endpoint too (the delivery ledger: operators or the subscribing agency).
    public sealed record Case(string Method, string Route, string? Scope, HttpStatusCode Success, Func<World, string> Path, Func<JsonObject>? Body = null, string[]? AlsoGrantedBy = null);

    private static JsonObject Subscription() => new() { ["url"] = "https://webhooks.policija.me/intelsharing" };

    private static readonly Case[] Cases =
    [
        new("POST", "/api/v1/alerts", Scopes.AlertsWrite, HttpStatusCode.Created, _ => "/api/v1/alerts", Samples.SmugglingAlert),
        new("GET", "/api/v1/alerts", Scopes.AlertsRead, HttpStatusCode.OK, _ => "/api/v1/alerts"),
        new("GET", "/api/v1/alerts/{id} (own alert)", Scopes.AlertsRead, HttpStatusCode.OK, w => $"/api/v1/alerts/{w.OwnAlert}"),
        new("GET", "/api/v1/alerts/{id} (another agency's green alert)", Scopes.AlertsRead, HttpStatusCode.OK, w => $"/api/v1/alerts/{w.VisibleAlert}"),
        new("GET", "/api/v1/alerts/{id} (another agency's red alert for others)", Scopes.AlertsRead, HttpStatusCode.NotFound, w => $"/api/v1/alerts/{w.HiddenAlert}"),
        new("GET", "/api/v1/alerts/{id}/stix (another agency's green alert)", Scopes.AlertsRead, HttpStatusCode.OK, w => $"/api/v1/alerts/{w.VisibleAlert}/stix"),
        new("GET", "/api/v1/alerts/{id}/stix (another agency's red alert for others)", Scopes.AlertsRead, HttpStatusCode.NotFound, w => $"/api/v1/alerts/{w.HiddenAlert}/stix"),
        new("POST", "/api/v1/agencies", Scopes.AgenciesAdmin, HttpStatusCode.Created, _ => "/api/v1/agencies",
            () => new JsonObject { ["name"] = $"Kosovo Police {Guid.NewGuid():N}", ["country"] = "XK", ["kind"] = "police" }),
        new("GET", "/api/v1/agencies", null, HttpStatusCode.OK, _ => "/api/v1/agencies"),
        new("GET", "/api/v1/agencies/{id}", null, HttpStatusCode.OK, w => $"/api/v1/agencies/{w.Target}"),
        new("PATCH", "/api/v1/agencies/{id}", Scopes.AgenciesAdmin, HttpStatusCode.OK, w => $"/api/v1/agencies/{w.Target}", () => new JsonObject { ["country"] = "ME" }),
        new("GET", "/api/v1/agencies/{id}/allowed-private-networks", Scopes.AgenciesAdmin, HttpStatusCode.OK, w => $"/api/v1/agencies/{w.Target}/allowed-private-networks"),
        new("PUT", "/api/v1/agencies/{id}/allowed-private-networks", Scopes.AgenciesAdmin, HttpStatusCode.OK, w => $"/api/v1/agencies/{w.Target}/allowed-private-networks",
            () => new JsonObject { ["allowedPrivateNetworks"] = new JsonArray("10.20.0.0/16") }),
        new("POST", "/api/v1/agencies/{id}/deactivate", Scopes.AgenciesAdmin, HttpStatusCode.OK, w => $"/api/v1/agencies/{w.Target}/deactivate"),
        new("POST", "/api/v1/agencies/{id}/activate", Scopes.AgenciesAdmin, HttpStatusCode.OK, w => $"/api/v1/agencies/{w.Target}/activate"),
        new("POST", "/api/v1/agencies/{agencyId}/keys", Scopes.AgenciesAdmin, HttpStatusCode.Created, w => $"/api/v1/agencies/{w.Target}/keys",
            () => new JsonObject { ["name"] = "SIS gateway", ["scopes"] = new JsonArray("alerts:read") }),
        new("GET", "/api/v1/agencies/{agencyId}/keys", Scopes.AgenciesAdmin, HttpStatusCode.OK, w => $"/api/v1/agencies/{w.Target}/keys"),
        new("GET", "/api/v1/agencies/me/keys", null, HttpStatusCode.OK, _ => "/api/v1/agencies/me/keys"),
        new("DELETE", "/api/v1/agencies/{agencyId}/keys/{keyId}", Scopes.AgenciesAdmin, HttpStatusCode.NoContent, w => $"/api/v1/agencies/{w.Target}/keys/{w.TargetKey}"),
        new("POST", "/api/v1/sharing-groups", Scopes.AgenciesAdmin, HttpStatusCode.Created, _ => "/api/v1/sharing-groups",
            () => new JsonObject { ["name"] = $"Sava river {Guid.NewGuid():N}", ["members"] = new JsonArray() }),
        new("GET", "/api/v1/sharing-groups", null, HttpStatusCode.OK, _ => "/api/v1/sharing-groups"),
        new("GET", "/api/v1/sharing-groups/{id}", null, HttpStatusCode.OK, w => $"/api/v1/sharing-groups/{w.Group}"),
        new("PUT", "/api/v1/sharing-groups/{id}", Scopes.AgenciesAdmin, HttpStatusCode.OK, w => $"/api/v1/sharing-groups/{w.Group}",
            () => new JsonObject { ["name"] = $"Sava river {Guid.NewGuid():N}", ["members"] = new JsonArray() }),
        new("DELETE", "/api/v1/sharing-groups/{id}", Scopes.AgenciesAdmin, HttpStatusCode.NoContent, w => $"/api/v1/sharing-groups/{w.Group}"),
        new("PUT", "/api/v1/sharing-groups/{id}/members/{agencyId}", Scopes.AgenciesAdmin, HttpStatusCode.NoContent, w => $"/api/v1/sharing-groups/{w.Group}/members/{w.Partner}"),
        new("DELETE", "/api/v1/sharing-groups/{id}/members/{agencyId}", Scopes.AgenciesAdmin, HttpStatusCode.NoContent, w => $"/api/v1/sharing-groups/{w.Group}/members/{w.Target}"),
        new("GET", "/api/v1/audit", Scopes.AuditRead, HttpStatusCode.OK, _ => "/api/v1/audit"),
        new("GET", "/api/v1/audit/verify", Scopes.AuditRead, HttpStatusCode.OK, _ => "/api/v1/audit/verify"),

        // Lifecycle. Without If-Match an update is 428: the scope let it through to the precondition check.
        new("PUT", "/api/v1/alerts/{id}", Scopes.AlertsWrite, HttpStatusCode.PreconditionRequired, w => $"/api/v1/alerts/{w.OwnAlert}", Samples.SmugglingAlert),
        new("GET", "/api/v1/alerts/{id}/versions", Scopes.AlertsWrite, HttpStatusCode.OK, w => $"/api/v1/alerts/{w.OwnAlert}/versions"),
        new("POST", "/api/v1/alerts/{id}/revoke", Scopes.AlertsWrite, HttpStatusCode.OK, w => $"/api/v1/alerts/{w.OwnAlert}/revoke",
            () => new JsonObject { ["reason"] = "The informant withdrew the report." }),
        // An empty list is a 400 from validation, which runs only once the scope has let the request in.
        new("POST", "/api/v1/alerts/{id}/share", Scopes.AlertsWrite, HttpStatusCode.BadRequest, w => $"/api/v1/alerts/{w.OwnAlert}/share",
            () => new JsonObject { ["agencies"] = new JsonArray() }),
        new("POST", "/api/v1/alerts/{id}/feedback", Scopes.AlertsRead, HttpStatusCode.Created, w => $"/api/v1/alerts/{w.VisibleAlert}/feedback",
            () => new JsonObject { ["kind"] = "hit", ["note"] = "Same domain seen in our sinkhole." }),
        new("GET", "/api/v1/alerts/{id}/feedback", Scopes.AlertsRead, HttpStatusCode.OK, w => $"/api/v1/alerts/{w.VisibleAlert}/feedback"),
        // No feedback exists in this world: a 404 shows the scope let the request through to the look-up.
        new("GET", "/api/v1/alerts/{id}/feedback/{feedbackId}", Scopes.AlertsRead, HttpStatusCode.NotFound, w => $"/api/v1/alerts/{w.VisibleAlert}/feedback/{Guid.NewGuid()}"),
        new("GET", "/api/v1/alerts/{id}/correlations", Scopes.AlertsRead, HttpStatusCode.OK, w => $"/api/v1/alerts/{w.OwnAlert}/correlations"),
        new("GET", "/api/v1/alerts/{id}/correlations/hidden", Scopes.AlertsRead, HttpStatusCode.OK, w => $"/api/v1/alerts/{w.OwnAlert}/correlations/hidden"),
        new("GET", "/api/v1/feed", Scopes.AlertsRead, HttpStatusCode.OK, _ => "/api/v1/feed?after=0"),
        new("GET", "/api/v1/indicators", Scopes.AlertsRead, HttpStatusCode.OK, _ => "/api/v1/indicators?type=domain&value=euprava-login.example.com"),
        new("POST", "/api/v1/indicators/search", Scopes.AlertsRead, HttpStatusCode.OK, _ => "/api/v1/indicators/search",
            () => new JsonObject { ["indicators"] = new JsonArray(new JsonObject { ["type"] = "ipv4", ["value"] = "185.220.101.4" }) }),
        new("GET", "/api/v1/alerts/{id}/deliveries", null, HttpStatusCode.OK, w => $"/api/v1/alerts/{w.OwnAlert}/deliveries"),
        new("GET", "/api/v1/alerts/{id}/deliveries (another agency's alert)", null, HttpStatusCode.NotFound, w => $"/api/v1/alerts/{w.VisibleAlert}/deliveries"),

        // Subscriptions: an agency manages only its own; another agency's (here: an id that is not the caller's) is 404.
        new("POST", "/api/v1/subscriptions", Scopes.SubscriptionsManage, HttpStatusCode.Created, _ => "/api/v1/subscriptions", Subscription),
        new("GET", "/api/v1/subscriptions", Scopes.SubscriptionsManage, HttpStatusCode.OK, _ => "/api/v1/subscriptions"),
        new("GET", "/api/v1/subscriptions/{id}", Scopes.SubscriptionsManage, HttpStatusCode.NotFound, w => $"/api/v1/subscriptions/{w.Group}"),
        new("PUT", "/api/v1/subscriptions/{id}", Scopes.SubscriptionsManage, HttpStatusCode.NotFound, w => $"/api/v1/subscriptions/{w.Group}", Subscription),
        new("POST", "/api/v1/subscriptions/{id}/pause", Scopes.SubscriptionsManage, HttpStatusCode.NotFound, w => $"/api/v1/subscriptions/{w.Group}/pause"),
        new("POST", "/api/v1/subscriptions/{id}/resume", Scopes.SubscriptionsManage, HttpStatusCode.NotFound, w => $"/api/v1/subscriptions/{w.Group}/resume"),
        new("DELETE", "/api/v1/subscriptions/{id}", Scopes.SubscriptionsManage, HttpStatusCode.NotFound, w => $"/api/v1/subscriptions/{w.Group}"),
        new("POST", "/api/v1/subscriptions/{id}/rotate-secret", Scopes.SubscriptionsManage, HttpStatusCode.NotFound, w => $"/api/v1/subscriptions/{w.Group}/rotate-secret"),
        new("GET", "/api/v1/subscriptions/health", Scopes.DeliveriesManage, HttpStatusCode.OK, _ => "/api/v1/subscriptions/health", AlsoGrantedBy: [Scopes.SubscriptionsManage]),
        new("GET", "/api/v1/statistics", Scopes.StatisticsRead, HttpStatusCode.OK, _ => "/api/v1/statistics?from=2026-11-01&to=2026-11-30&period=day"),
        new("POST", "/api/v1/subscriptions/{id}/ping", Scopes.SubscriptionsManage, HttpStatusCode.NotFound, w => $"/api/v1/subscriptions/{w.Group}/ping"),

        // The delivery ledger: operators (deliveries:manage) or the subscribing agency (subscriptions:manage).
        new("GET", "/api/v1/deliveries", Scopes.DeliveriesManage, HttpStatusCode.OK, _ => "/api/v1/deliveries", AlsoGrantedBy: [Scopes.SubscriptionsManage]),
        new("GET", "/api/v1/deliveries/{id}", Scopes.DeliveriesManage, HttpStatusCode.NotFound, w => $"/api/v1/deliveries/{w.Group}", AlsoGrantedBy: [Scopes.SubscriptionsManage]),
        new("POST", "/api/v1/deliveries/{id}/replay", Scopes.DeliveriesManage, HttpStatusCode.NotFound, w => $"/api/v1/deliveries/{w.Group}/replay", AlsoGrantedBy: [Scopes.SubscriptionsManage]),
        new("POST", "/api/v1/deliveries/replay", Scopes.DeliveriesManage, HttpStatusCode.NotFound, _ => "/api/v1/deliveries/replay",
            () => new JsonObject { ["subscriptionId"] = Guid.CreateVersion7().ToString(), ["from"] = "2026-11-01T00:00:00Z", ["to"] = "2026-12-01T00:00:00Z" },
            AlsoGrantedBy: [Scopes.SubscriptionsManage]),
    ];

    public static TheoryData<string> CaseNames => new(Cases.Select(c => $"{c.Method} {c.Route}"));

    [Theory]
    [MemberData(nameof(CaseNames), MemberType = typeof(AuthorizationMatrixTests))]
    public async Task Endpoint_answers_401_without_a_key_403_without_its_scope_and_its_own_answer_with_it(string endpoint)
    {
        var @case = Cases.Single(c => $"{c.Method} {c.Route}" == endpoint);
        var world = await CreateWorldAsync();

        var anonymous = await SendAsync(app.ClientWithKey(null), @case, world);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal("urn:intelsharing:problem:unauthenticated", (await anonymous.ReadJsonAsync()).GetProperty("type").GetString());

        if (@case.Scope is { } scope)
        {
            var allButOne = await app.ClientWithScopesAsync(world.Partner, [.. Scopes.All.Where(s => s != scope && !(@case.AlsoGrantedBy ?? []).Contains(s))]);
            var forbidden = await SendAsync(allButOne, @case, world);
            Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
            Assert.Contains(scope, (await forbidden.ReadJsonAsync()).GetProperty("detail").GetString());
        }

        var holder = await app.ClientWithScopesAsync(world.Partner, @case.Scope ?? Scopes.SubscriptionsManage);
        var answer = await SendAsync(holder, @case, world);
        Assert.True(@case.Success == answer.StatusCode, $"{endpoint}: expected {(int)@case.Success}, got {(int)answer.StatusCode} {await answer.Content.ReadAsStringAsync(Ct)}");
    }

    [Fact]
    public void The_matrix_has_a_row_for_every_endpoint_the_api_maps()
    {
        app.RequireDatabase();
        var mapped = app.Services.GetRequiredService<EndpointDataSource>().Endpoints
            .OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText?.StartsWith("/api/", StringComparison.Ordinal) == true)
            .SelectMany(e => (e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? ["*"]).Select(m => $"{m} {Normalise(e.RoutePattern.RawText!)}"))
            .ToHashSet();
        var covered = Cases.Select(c => $"{c.Method} {c.Route.Split(" (")[0]}").ToHashSet();

        Assert.Empty(mapped.Except(covered));
        Assert.Empty(covered.Except(mapped));
    }

    private static string Normalise(string pattern) => RouteConstraint().Replace(pattern, "{$1}").TrimEnd('/');

    [GeneratedRegex(@"\{(\w+):[^}]+\}")]
    private static partial Regex RouteConstraint();

    private static async Task<HttpResponseMessage> SendAsync(HttpClient client, Case @case, World world)
    {
        using var request = new HttpRequestMessage(new HttpMethod(@case.Method), @case.Path(world));
        if (@case.Body is not null)
        {
            request.Content = Samples.Json(@case.Body());
        }

        return await client.SendAsync(request, Ct);
    }

    private async Task<World> CreateWorldAsync()
    {
        var operations = await app.CreateOperatorAsync();
        var partner = await app.CreateAgencyAsync("Montenegrin Police", "ME");
        var other = await app.CreateAgencyAsync("Bulgarian Border Police", "BG", AgencyKind.BorderGuard);
        var target = await app.CreateAgencyAsync("Albanian State Police", "AL");

        var ownAlert = await partner.PublishAsync(TestData.SmugglingAlert("red", agencies: [other.Id]));
        var visibleAlert = await other.PublishAsync(Samples.CyberAlert());
        var hiddenAlert = await other.PublishAsync(TestData.SmugglingAlert("red", agencies: [target.Id]));

        await using var connection = await app.Database.OpenAsync(Ct);
        var key = await IssueApiKey.IssueAsync(connection, TimeProvider.System, target.Id, "gateway", [Scopes.AlertsRead], null, Ct);
        var group = await operations.Client.PostAsync("/api/v1/sharing-groups", Samples.Json(new JsonObject
        {
            ["name"] = $"Southern Balkans {Guid.NewGuid():N}",
            ["members"] = new JsonArray(target.Id.ToString()),
        }), Ct);
        Assert.Equal(HttpStatusCode.Created, group.StatusCode);
        var groupId = (await group.ReadJsonAsync()).GetProperty("id").GetGuid();
        return new World(partner.Id, ownAlert, visibleAlert, hiddenAlert, target.Id, key!.Id, groupId);
    }
}

public sealed class AuthorizationMatrixTestsOnSqlite(SqliteApiFixture app) : AuthorizationMatrixTests(app), IClassFixture<SqliteApiFixture>;

public sealed class AuthorizationMatrixTestsOnPostgres(PostgresApiFixture app) : AuthorizationMatrixTests(app), IClassFixture<PostgresApiFixture>;
