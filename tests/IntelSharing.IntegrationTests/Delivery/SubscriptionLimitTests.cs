using System.Net;
using System.Text.Json.Nodes;
using Dapper;
using IntelSharing.Api.Domain;
using IntelSharing.Api.Infrastructure.Security;
using IntelSharing.IntegrationTests.Infrastructure;

namespace IntelSharing.IntegrationTests.Delivery;

/// <summary>
/// Every subscription can hold a share of the dispatcher's workers, so one agency may have only so many
/// (Delivery__MaxSubscriptionsPerAgency, 10 by default in these fixtures).
/// </summary>
public abstract class SubscriptionLimitTests<TFixture>(TFixture app)
    where TFixture : ApiFixture
{
    private const int DefaultLimit = 10;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Creating_one_subscription_more_than_the_agency_limit_returns_409_naming_the_limit_and_stores_nothing()
    {
        var agency = await SubscriberAsync();
        var ids = new List<Guid>();
        for (var i = 0; i < DefaultLimit; i++)
        {
            var created = await CreateAsync(agency, i);
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            ids.Add((await created.ReadJsonAsync()).GetProperty("subscription").GetProperty("id").GetGuid());
        }

        // Paused subscriptions still count: resuming one must not take the agency over the limit.
        Assert.Equal(HttpStatusCode.OK, (await agency.Client.PostAsync($"/api/v1/subscriptions/{ids[0]}/pause", null, Ct)).StatusCode);
        var before = await app.CountRowsAsync();

        var refused = await CreateAsync(agency, DefaultLimit);

        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        var problem = await refused.ReadJsonAsync();
        Assert.Equal("urn:intelsharing:problem:subscription-limit-reached", problem.GetProperty("type").GetString());
        Assert.Equal(DefaultLimit, problem.GetProperty("limit").GetInt32());
        Assert.Contains("Delivery__MaxSubscriptionsPerAgency", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(before, await app.CountRowsAsync());
        Assert.Equal(DefaultLimit, await StoredAsync(agency));

        // A deleted subscription no longer counts.
        Assert.Equal(HttpStatusCode.NoContent, (await agency.Client.DeleteAsync($"/api/v1/subscriptions/{ids[1]}", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await CreateAsync(agency, DefaultLimit + 1)).StatusCode);
    }

    [Fact]
    public async Task Parallel_creates_at_the_limit_store_no_more_subscriptions_than_the_limit()
    {
        var agency = await SubscriberAsync();
        for (var i = 0; i < DefaultLimit - 2; i++)
        {
            Assert.Equal(HttpStatusCode.Created, (await CreateAsync(agency, i)).StatusCode);
        }

        var answers = await Task.WhenAll(Enumerable.Range(100, 12).Select(i => CreateAsync(agency, i)));

        Assert.Equal(2, answers.Count(a => a.StatusCode == HttpStatusCode.Created));
        Assert.Equal(10, answers.Count(a => a.StatusCode == HttpStatusCode.Conflict));
        Assert.Equal(DefaultLimit, await StoredAsync(agency));
    }

    private Task<TestAgency> SubscriberAsync() =>
        app.CreateAgencyAsync("Hungarian Police", "HU", AgencyKind.Police, Scopes.AlertsRead, Scopes.SubscriptionsManage);

    private static Task<HttpResponseMessage> CreateAsync(TestAgency agency, int n) =>
        agency.Client.PostAsync("/api/v1/subscriptions", Samples.Json(new JsonObject { ["url"] = $"http://127.0.0.1:9/webhooks/{n}" }), Ct);

    private async Task<long> StoredAsync(TestAgency agency)
    {
        await using var connection = await app.Database.OpenAsync(Ct);
        return await connection.ExecuteScalarAsync<long>(
            "SELECT COUNT(*) FROM subscriptions WHERE agency_id = @agencyId AND status <> 'deleted'", new { agencyId = agency.Id });
    }
}

public sealed class SubscriptionLimitTestsOnSqlite(DeliverySqliteFixture app)
    : SubscriptionLimitTests<DeliverySqliteFixture>(app), IClassFixture<DeliverySqliteFixture>;

public sealed class SubscriptionLimitTestsOnPostgres(DeliveryPostgresFixture app)
    : SubscriptionLimitTests<DeliveryPostgresFixture>(app), IClassFixture<DeliveryPostgresFixture>;
