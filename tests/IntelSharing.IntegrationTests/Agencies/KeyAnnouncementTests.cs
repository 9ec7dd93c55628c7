using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using IntelSharing.Api.Domain;
using IntelSharing.Api.Infrastructure.Audit;
using IntelSharing.Api.Infrastructure.Security;
using IntelSharing.IntegrationTests.Infrastructure;

namespace IntelSharing.IntegrationTests.Agencies;

/// <summary>
/// An operator can issue keys to any agency, so it could mint itself alerts:read for a partner and read that partner's
/// red alerts. It cannot do so quietly: the agency is told at once and sees the key in its own list (docs/decisions/0012).
/// </summary>
public abstract class KeyAnnouncementTests(ApiFixture app) : IAsyncLifetime
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

    private async Task<(TestAgency Partner, PartnerReceiver Receiver, string Secret)> SubscribedPartnerAsync()
    {
        var partner = await app.CreateAgencyAsync("Hungarian National Police", "HU", AgencyKind.Police, Scopes.AlertsRead, Scopes.SubscriptionsManage);
        var receiver = await PartnerReceiver.StartAsync();
        _receivers.Add(receiver);
        var created = await partner.Client.PostAsync("/api/v1/subscriptions",
            Samples.Json(new JsonObject { ["url"] = receiver.Url, ["description"] = "Budapest operations centre" }), Ct);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        return (partner, receiver, (await created.ReadJsonAsync()).GetProperty("secret").GetString()!);
    }

    private static HttpRequestMessage IssueKey(Guid agencyId, string purpose) =>
        new HttpRequestMessage(HttpMethod.Post, $"/api/v1/agencies/{agencyId}/keys")
        {
            Content = Samples.Json(new JsonObject { ["name"] = "Operations console", ["scopes"] = new JsonArray("alerts:read") }),
        }.WithPurpose(purpose);

    [Fact]
    public async Task A_key_an_operator_issues_to_another_agency_is_announced_to_that_agency_and_listed_as_its_own()
    {
        var operations = await app.CreateOperatorAsync();
        var (partner, receiver, secret) = await SubscribedPartnerAsync();

        var response = await operations.Client.SendAsync(IssueKey(partner.Id, "Support ticket 4711: partner's gateway cannot read alerts"), Ct);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var issued = await response.ReadJsonAsync();
        var prefix = issued.GetProperty("prefix").GetString();

        await receiver.WaitForAsync(1);
        var announcement = receiver.Received.Single();
        Assert.True(announcement.VerifiesWith(secret));
        Assert.Equal("api_key.issued", announcement.Type);
        var data = announcement.Json.GetProperty("data");
        Assert.Equal(partner.Id, data.GetProperty("agencyId").GetGuid());
        Assert.Equal(prefix, data.GetProperty("key").GetProperty("prefix").GetString());
        Assert.Equal(["alerts:read"], data.GetProperty("key").GetProperty("scopes").EnumerateArray().Select(s => s.GetString()));
        Assert.Equal(operations.Id, data.GetProperty("issuedBy").GetProperty("id").GetGuid());
        Assert.Equal("Support ticket 4711: partner's gateway cannot read alerts", data.GetProperty("purpose").GetString());
        Assert.False(data.GetProperty("key").TryGetProperty("key", out _), "The announcement never carries the secret.");
        Assert.DoesNotContain(issued.GetProperty("key").GetString()!, announcement.Body, StringComparison.Ordinal);

        var own = await partner.Client.GetAsync("/api/v1/agencies/me/keys", Ct);
        Assert.Equal(HttpStatusCode.OK, own.StatusCode);
        Assert.Contains(prefix, (await own.ReadJsonAsync()).GetProperty("items").EnumerateArray().Select(k => k.GetProperty("prefix").GetString()));

        var record = (await app.AuditRecordsAsync("action = @action AND resource_id = @id",
            new { action = AuditActions.KeyIssue, id = issued.GetProperty("id").GetGuid() })).Single();
        Assert.Equal(operations.Id, record.AgencyId);
        var detail = JsonDocument.Parse(record.Detail!).RootElement;
        Assert.Equal(partner.Id, detail.GetProperty("agencyId").GetGuid());
        Assert.Equal(1, detail.GetProperty("announcedTo").GetInt32());
    }

    [Fact]
    public async Task An_agencys_own_key_list_shows_only_its_own_keys()
    {
        var (partner, _, _) = await SubscribedPartnerAsync();
        var other = await app.CreateAgencyAsync("Croatian Border Police", "HR");

        var own = await (await partner.Client.GetAsync("/api/v1/agencies/me/keys", Ct)).ReadJsonAsync();
        var otherKeys = await (await other.Client.GetAsync("/api/v1/agencies/me/keys", Ct)).ReadJsonAsync();

        Assert.Equal([TestData.KeyPrefixOf(partner.Key)], own.GetProperty("items").EnumerateArray().Select(k => k.GetProperty("prefix").GetString()));
        Assert.Equal([TestData.KeyPrefixOf(other.Key)], otherKeys.GetProperty("items").EnumerateArray().Select(k => k.GetProperty("prefix").GetString()));
    }

    [Fact]
    public async Task Listing_your_own_keys_without_a_key_returns_401()
    {
        var response = await app.ClientWithKey(null).GetAsync("/api/v1/agencies/me/keys", Ct);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }
}

public sealed class KeyAnnouncementTestsOnSqlite(DeliverySqliteFixture app) : KeyAnnouncementTests(app), IClassFixture<DeliverySqliteFixture>;

public sealed class KeyAnnouncementTestsOnPostgres(DeliveryPostgresFixture app) : KeyAnnouncementTests(app), IClassFixture<DeliveryPostgresFixture>;
