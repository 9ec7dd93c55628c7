using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using IntelSharing.Api.Domain;
using IntelSharing.Api.Features.Deliveries.Dispatch;
using IntelSharing.Api.Infrastructure.Persistence;
using IntelSharing.Api.Infrastructure.Security;
using IntelSharing.IntegrationTests.Infrastructure;
using Microsoft.Extensions.Options;

namespace IntelSharing.IntegrationTests.Delivery;

/// <summary>
/// Partner traffic through an operator's egress proxy (Delivery__Proxy): the destination is resolved and checked before
/// anything is handed to the proxy, since the proxy would otherwise be the only address the connection check ever saw.
/// </summary>
public abstract class EgressProxyTests<TFixture>(TFixture app)
    where TFixture : ApiFixture, IProxiedFixture
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<Guid> SubscribeAsync(TestAgency agency, string url)
    {
        var response = await agency.Client.PostAsync("/api/v1/subscriptions", Samples.Json(new JsonObject { ["url"] = url }), Ct);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.ReadJsonAsync()).GetProperty("subscription").GetProperty("id").GetGuid();
    }

    private static async Task<HttpStatusCode> AllowAsync(HttpClient operatorClient, Guid agencyId, params string[] networks) =>
        (await operatorClient.PutAsync($"/api/v1/agencies/{agencyId}/allowed-private-networks",
            Samples.Json(new JsonObject { ["allowedPrivateNetworks"] = new JsonArray(networks.Select(n => (JsonNode)n).ToArray()) }), Ct)).StatusCode;

    private static async Task<JsonElement> PingAsync(TestAgency agency, Guid subscriptionId) =>
        await (await agency.Client.PostAsync($"/api/v1/subscriptions/{subscriptionId}/ping", null, Ct)).ReadJsonAsync();

    [Fact]
    public async Task Through_an_egress_proxy_a_forbidden_destination_is_refused_before_any_byte_reaches_the_proxy_and_an_allowed_one_goes_through_it()
    {
        var operatorClient = (await app.CreateOperatorAsync()).Client;
        var withAllowance = await app.CreateAgencyAsync("Hungarian Police", "HU", AgencyKind.Police, Scopes.AlertsRead, Scopes.SubscriptionsManage);
        var plain = await app.CreateAgencyAsync("Croatian Police", "HR", AgencyKind.Police, Scopes.AlertsRead, Scopes.SubscriptionsManage);

        // IP literals of internal addresses can only be registered while allowed; the operator then narrows the allowance.
        Assert.Equal(HttpStatusCode.OK, await AllowAsync(operatorClient, withAllowance.Id, "127.0.0.0/8", "::1/128", "169.254.169.254/32"));
        var forbidden = new List<(TestAgency Agency, Guid Subscription)>
        {
            (withAllowance, await SubscribeAsync(withAllowance, "http://[::1]:9/hook")),
            (withAllowance, await SubscribeAsync(withAllowance, "http://169.254.169.254/latest/meta-data/iam/security-credentials/")),
            (plain, await SubscribeAsync(plain, "https://metadata.google.internal/computeMetadata/v1/")),
            (plain, await SubscribeAsync(plain, "http://localhost:9/hook")),
        };
        var allowedInternal = await SubscribeAsync(withAllowance, "http://127.0.0.1:9/hook");
        var allowedPublic = await SubscribeAsync(plain, "https://193.0.6.139/hook");
        Assert.Equal(HttpStatusCode.OK, await AllowAsync(operatorClient, withAllowance.Id, "127.0.0.0/8"));

        foreach (var (agency, subscription) in forbidden)
        {
            var ping = await PingAsync(agency, subscription);
            Assert.Equal(WebhookSender.NotReachable, ping.GetProperty("error").GetString());
        }

        Assert.Equal(0, app.Proxy.Connections);

        await PingAsync(withAllowance, allowedInternal);
        await PingAsync(plain, allowedPublic);
        Assert.Contains("POST http://127.0.0.1:9/hook HTTP/1.1", app.Proxy.RequestLines);
        Assert.Contains(app.Proxy.RequestLines, line => line.StartsWith("CONNECT 193.0.6.139:443 ", StringComparison.Ordinal));
        Assert.Equal(2, app.Proxy.RequestLines.Count);
    }
}

public sealed class EgressProxyTestsOnSqlite(ProxiedOutboundSqliteFixture app)
    : EgressProxyTests<ProxiedOutboundSqliteFixture>(app), IClassFixture<ProxiedOutboundSqliteFixture>;

public sealed class EgressProxyTestsOnPostgres(ProxiedOutboundPostgresFixture app)
    : EgressProxyTests<ProxiedOutboundPostgresFixture>(app), IClassFixture<ProxiedOutboundPostgresFixture>;

/// <summary>
/// HTTPS_PROXY and HTTP_PROXY in the API process's own environment (set for other software on the host) must not carry
/// partner traffic: through them, the connection check would only ever see the proxy's address.
/// </summary>
public sealed class EnvironmentProxyTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Proxy_variables_in_the_process_environment_are_ignored_and_a_forbidden_destination_is_still_refused()
    {
        var cluster = await PostgresCluster.Shared;
        if (cluster.AdminConnectionString is null)
        {
            Assert.True(!PostgresCluster.Required, cluster.UnavailableReason);
            Assert.Skip(cluster.UnavailableReason!);
        }

        await using var proxy = new FakeProxy();
        await using var receiver = await PartnerReceiver.StartAsync();
        var connectionString = await cluster.CreateDatabaseAsync("envproxy");
        await using var api = ApiProcess.Start(connectionString, new Dictionary<string, string>
        {
            ["HTTPS_PROXY"] = proxy.Url,
            ["HTTP_PROXY"] = proxy.Url,
            ["ALL_PROXY"] = proxy.Url,
            ["https_proxy"] = proxy.Url,
            ["http_proxy"] = proxy.Url,
            ["all_proxy"] = proxy.Url,
        });
        await api.WaitUntilReadyAsync();
        var database = new Database(Options.Create(new DatabaseOptions { Provider = DatabaseProvider.Postgres, ConnectionString = connectionString }));
        await using var _ = database;
        var (_, key) = await ApiProcess.CreateAgencyAsync(database, "Hungarian Police", [Scopes.AlertsRead, Scopes.SubscriptionsManage], "HU");
        using var partner = api.Client(key);

        async Task<JsonElement> SubscribeAndPingAsync(string url)
        {
            var created = await partner.PostAsync("/api/v1/subscriptions", Samples.Json(new JsonObject { ["url"] = url }), Ct);
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            var id = (await created.ReadJsonAsync()).GetProperty("subscription").GetProperty("id").GetGuid();
            return await (await partner.PostAsync($"/api/v1/subscriptions/{id}/ping", null, Ct)).ReadJsonAsync();
        }

        var direct = await SubscribeAndPingAsync(receiver.Url);
        var metadata = await SubscribeAndPingAsync("https://metadata.google.internal/computeMetadata/v1/");
        var metadataHttp = await SubscribeAndPingAsync("http://metadata.google.internal/computeMetadata/v1/");

        Assert.Equal(204, direct.GetProperty("statusCode").GetInt32());
        Assert.Single(receiver.Received);
        Assert.All([metadata, metadataHttp], ping => Assert.Equal(WebhookSender.NotReachable, ping.GetProperty("error").GetString()));
        Assert.Equal(0, proxy.Connections);
        Assert.False(api.HasExited, api.RecentOutput);
    }
}
