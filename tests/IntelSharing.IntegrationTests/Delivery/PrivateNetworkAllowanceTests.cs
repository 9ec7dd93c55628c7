using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using IntelSharing.Api.Domain;
using IntelSharing.Api.Features.Deliveries.Dispatch;
using IntelSharing.Api.Infrastructure.Security;
using IntelSharing.IntegrationTests.Infrastructure;

namespace IntelSharing.IntegrationTests.Delivery;

/// <summary>
/// Internal networks are allowed per agency by an operator, not for every agency at once; and what a webhook attempt
/// or a ping reports back never lets an agency map networks, ports or internal names. No deployment-wide allowance here.
/// </summary>
public abstract partial class PrivateNetworkAllowanceTests<TFixture>(TFixture app) : IAsyncLifetime
    where TFixture : ApiFixture
{
    private readonly List<PartnerReceiver> _receivers = [];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        foreach (var receiver in _receivers)
        {
            await receiver.DisposeAsync();
        }
    }

    private async Task<PartnerReceiver> ReceiverAsync(Func<int, PartnerReceiver.Response>? behaviour = null)
    {
        var receiver = await PartnerReceiver.StartAsync();
        if (behaviour is not null)
        {
            receiver.Behaviour = behaviour;
        }

        _receivers.Add(receiver);
        return receiver;
    }

    private Task<TestAgency> PartnerAsync(string name, string country = "HU") =>
        app.CreateAgencyAsync(name, country, AgencyKind.Police, Scopes.AlertsRead, Scopes.SubscriptionsManage);

    private static async Task<Guid> SubscribeAsync(TestAgency agency, string url)
    {
        var response = await agency.Client.PostAsync("/api/v1/subscriptions", Samples.Json(new JsonObject { ["url"] = url }), Ct);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.ReadJsonAsync()).GetProperty("subscription").GetProperty("id").GetGuid();
    }

    private static async Task<HttpResponseMessage> AllowAsync(HttpClient operatorClient, Guid agencyId, params string[] networks) =>
        await operatorClient.PutAsync($"/api/v1/agencies/{agencyId}/allowed-private-networks",
            Samples.Json(new JsonObject { ["allowedPrivateNetworks"] = new JsonArray(networks.Select(n => (JsonNode)n).ToArray()) }), Ct);

    private static async Task<(HttpStatusCode Status, string Body)> PingAsync(TestAgency agency, Guid subscriptionId)
    {
        var response = await agency.Client.PostAsync($"/api/v1/subscriptions/{subscriptionId}/ping", null, Ct);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(Ct));
    }

    /// <summary>The one attempt of the subscription's only delivery, once it was made, as its owner reads it.</summary>
    private static async Task<JsonElement> OnlyAttemptAsync(TestAgency owner, Guid subscriptionId)
    {
        JsonElement attempt = default;
        await DeliveryTestSettings.EventuallyAsync(async () =>
        {
            var ledger = await (await owner.Client.GetAsync($"/api/v1/deliveries?subscription={subscriptionId}", Ct)).ReadJsonAsync();
            var delivery = ledger.GetProperty("items").EnumerateArray().SingleOrDefault();
            if (delivery.ValueKind != JsonValueKind.Object)
            {
                return false;
            }

            var detail = await (await owner.Client.GetAsync($"/api/v1/deliveries/{delivery.GetProperty("id").GetGuid()}", Ct)).ReadJsonAsync();
            var attempts = detail.GetProperty("attempts").EnumerateArray().ToList();
            attempt = attempts.FirstOrDefault();
            return attempts.Count > 0;
        }, "the delivery's first attempt");
        return attempt;
    }

    [Fact]
    public async Task A_private_network_allowed_for_one_agency_is_unreachable_for_another_which_reads_nothing_back()
    {
        var operatorClient = (await app.CreateOperatorAsync()).Client;
        var originator = await app.CreateAgencyAsync("Border Police Directorate", "RS");
        var allowed = await PartnerAsync("Hungarian Police");
        var other = await PartnerAsync("Croatian Police", "HR");
        // Stands in for a service on the private network that answers with something only the allowed agency should see.
        var service = await ReceiverAsync(_ => new PartnerReceiver.Response(HttpStatusCode.OK, Body: "db-password=hunter2"));
        var byName = service.Url.Replace("127.0.0.1", "localhost", StringComparison.Ordinal);

        var set = await AllowAsync(operatorClient, allowed.Id, "127.0.0.0/8");
        Assert.Equal(HttpStatusCode.OK, set.StatusCode);
        var read = await (await operatorClient.GetAsync($"/api/v1/agencies/{allowed.Id}/allowed-private-networks", Ct)).ReadJsonAsync();
        Assert.Equal(["127.0.0.0/8"], read.GetProperty("allowedPrivateNetworks").EnumerateArray().Select(n => n.GetString()));

        // Registration: the other agency cannot name the address; a host name is accepted and judged when dialled.
        var refused = await other.Client.PostAsync("/api/v1/subscriptions", Samples.Json(new JsonObject { ["url"] = service.Url }), Ct);
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains("operator must allow", (await refused.ReadJsonAsync()).GetProperty("errors").GetProperty("url")[0].GetString());
        var allowedSubscription = await SubscribeAsync(allowed, byName);
        var otherSubscription = await SubscribeAsync(other, byName);

        // Pings: the allowed agency's opens a pooled connection to localhost:port; the other's must not ride on it.
        var (allowedStatus, allowedPing) = await PingAsync(allowed, allowedSubscription);
        var (otherStatus, otherPing) = await PingAsync(other, otherSubscription);
        Assert.Equal(HttpStatusCode.OK, allowedStatus);
        Assert.Equal(200, JsonDocument.Parse(allowedPing).RootElement.GetProperty("statusCode").GetInt32());
        Assert.DoesNotContain("hunter2", allowedPing, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, otherStatus);
        Assert.Equal(WebhookSender.NotReachable, JsonDocument.Parse(otherPing).RootElement.GetProperty("error").GetString());
        Assert.DoesNotContain("hunter2", otherPing, StringComparison.Ordinal);
        Assert.Single(service.Received);

        // Deliveries: the allowed agency's arrives, the other's is never sent; neither ledger shows the service's answer.
        await (await originator.Client.PostAsync("/api/v1/alerts", Samples.Json(Samples.SmugglingAlert()), Ct)).ReadJsonAsync();
        var allowedAttempt = await OnlyAttemptAsync(allowed, allowedSubscription);
        var otherAttempt = await OnlyAttemptAsync(other, otherSubscription);
        Assert.Equal(200, allowedAttempt.GetProperty("statusCode").GetInt32());
        Assert.False(allowedAttempt.TryGetProperty("responseExcerpt", out _), "no excerpt from an internal destination");
        Assert.False(otherAttempt.TryGetProperty("statusCode", out _));
        Assert.False(otherAttempt.TryGetProperty("responseExcerpt", out _));
        Assert.Equal(WebhookSender.NotReachable, otherAttempt.GetProperty("error").GetString());
        Assert.Equal(2, service.Received.Count);

        var audit = await (await operatorClient.GetAsync($"/api/v1/audit?action=agency.networks.set&resourceId={allowed.Id}", Ct)).ReadJsonAsync();
        var record = Assert.Single(audit.GetProperty("items").EnumerateArray());
        Assert.Equal("127.0.0.0/8", record.GetProperty("detail").GetProperty("to")[0].GetString());
        Assert.Equal(0, record.GetProperty("detail").GetProperty("from").GetArrayLength());
    }

    [Fact]
    public async Task Removing_an_agency_s_allowance_stops_its_next_delivery_to_that_network()
    {
        var operatorClient = (await app.CreateOperatorAsync()).Client;
        var partner = await PartnerAsync("Serbian CERT", "RS");
        var receiver = await ReceiverAsync();
        Assert.Equal(HttpStatusCode.OK, (await AllowAsync(operatorClient, partner.Id, "127.0.0.0/8")).StatusCode);
        var subscription = await SubscribeAsync(partner, receiver.Url);
        Assert.Equal(HttpStatusCode.OK, (await PingAsync(partner, subscription)).Status);
        Assert.Single(receiver.Received);

        Assert.Equal(HttpStatusCode.OK, (await AllowAsync(operatorClient, partner.Id)).StatusCode);
        var (_, body) = await PingAsync(partner, subscription);

        Assert.Equal(WebhookSender.NotReachable, JsonDocument.Parse(body).RootElement.GetProperty("error").GetString());
        Assert.Single(receiver.Received);
    }

    [Fact]
    public async Task Allowing_a_network_that_is_not_an_internal_cidr_range_returns_400_naming_each_entry_and_changes_nothing()
    {
        var operatorClient = (await app.CreateOperatorAsync()).Client;
        var partner = await PartnerAsync("Hungarian Police");
        var before = await app.CountRowsAsync();

        var response = await AllowAsync(operatorClient, partner.Id, "10.20.0.0/16", "0.0.0.0/0", "10.20.1.0/8", "partner.internal", "185.220.101.0/24");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var errors = (await response.ReadJsonAsync()).GetProperty("errors");
        Assert.Equal(
            ["allowedPrivateNetworks[1]", "allowedPrivateNetworks[2]", "allowedPrivateNetworks[3]", "allowedPrivateNetworks[4]"],
            errors.EnumerateObject().Select(e => e.Name).Order(StringComparer.Ordinal));
        Assert.Equal(before, await app.CountRowsAsync());
        var read = await (await operatorClient.GetAsync($"/api/v1/agencies/{partner.Id}/allowed-private-networks", Ct)).ReadJsonAsync();
        Assert.Equal(0, read.GetProperty("allowedPrivateNetworks").GetArrayLength());
    }

    [Fact]
    public async Task Only_operators_can_read_or_set_an_agency_s_allowed_private_networks()
    {
        var partner = await PartnerAsync("Hungarian Police");

        Assert.Equal(HttpStatusCode.Forbidden, (await AllowAsync(partner.Client, partner.Id, "127.0.0.0/8")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await partner.Client.GetAsync($"/api/v1/agencies/{partner.Id}/allowed-private-networks", Ct)).StatusCode);
        var directory = await (await partner.Client.GetAsync($"/api/v1/agencies/{partner.Id}", Ct)).ReadJsonAsync();
        Assert.False(directory.TryGetProperty("allowedPrivateNetworks", out _), "the partner directory does not describe private networks");
    }

    [Fact]
    public async Task Ping_answers_a_refused_port_an_unknown_name_an_internal_name_and_a_timeout_with_the_same_bytes()
    {
        var operatorClient = (await app.CreateOperatorAsync()).Client;
        var allowed = await PartnerAsync("Hungarian Police");
        var notAllowed = await PartnerAsync("Croatian Police", "HR");
        Assert.Equal(HttpStatusCode.OK, (await AllowAsync(operatorClient, allowed.Id, "127.0.0.0/8")).StatusCode);
        var hanging = await ReceiverAsync(_ => new PartnerReceiver.Response(HttpStatusCode.OK, Hang: true));
        int closedPort;
        using (var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0))
        {
            listener.Start();
            closedPort = ((IPEndPoint)listener.LocalEndpoint).Port;
        }

        var cases = new (string What, TestAgency Agency, string Url)[]
        {
            ("refused port", allowed, $"http://127.0.0.1:{closedPort}/hook"),
            ("unknown name", allowed, "http://no-such-partner.invalid/hook"),
            ("internal name", notAllowed, hanging.Url.Replace("127.0.0.1", "localhost", StringComparison.Ordinal)),
            ("timeout", allowed, hanging.Url),
        };
        var answers = new List<(string What, HttpStatusCode Status, string? MediaType, string Body)>();
        foreach (var (what, agency, url) in cases)
        {
            var response = await agency.Client.PostAsync($"/api/v1/subscriptions/{await SubscribeAsync(agency, url)}/ping", null, Ct);
            var body = WebhookIdValue().Replace(await response.Content.ReadAsStringAsync(Ct), "\"webhookId\":\"…\"");
            answers.Add((what, response.StatusCode, response.Content.Headers.ContentType?.MediaType, body));
        }

        var first = answers[0];
        Assert.All(answers, a => Assert.Equal((first.Status, first.MediaType, first.Body), (a.Status, a.MediaType, a.Body)));
        Assert.Equal($"{{\"webhookId\":\"…\",\"succeeded\":false,\"error\":\"{WebhookSender.NotReachable}\"}}", first.Body);
    }

    [GeneratedRegex("\"webhookId\":\"[^\"]*\"")]
    private static partial Regex WebhookIdValue();
}

public sealed class PrivateNetworkAllowanceTestsOnSqlite(PerAgencyOutboundSqliteFixture app)
    : PrivateNetworkAllowanceTests<PerAgencyOutboundSqliteFixture>(app), IClassFixture<PerAgencyOutboundSqliteFixture>;

public sealed class PrivateNetworkAllowanceTestsOnPostgres(PerAgencyOutboundPostgresFixture app)
    : PrivateNetworkAllowanceTests<PerAgencyOutboundPostgresFixture>(app), IClassFixture<PerAgencyOutboundPostgresFixture>;
