using System.Net;
using IntelSharing.IntegrationTests.Infrastructure;

namespace IntelSharing.IntegrationTests.Alerts;

public abstract class AlertListFilterTests(ApiFixture app)
{
    [Fact]
    public async Task Listing_by_category_severity_and_country_returns_only_the_matching_alerts()
    {
        var ct = TestContext.Current.CancellationToken;
        var agency = await app.CreateAgencyAsync("National CERT");
        var cyber = await agency.Client.PostAsync("/api/v1/alerts", Samples.Json(Samples.CyberAlert()), ct);
        var smuggling = await agency.Client.PostAsync("/api/v1/alerts", Samples.Json(Samples.SmugglingAlert()), ct);
        var cyberId = (await cyber.ReadJsonAsync()).GetProperty("id").GetGuid();
        var smugglingId = (await smuggling.ReadJsonAsync()).GetProperty("id").GetGuid();

        var response = await agency.Client.GetAsync("/api/v1/alerts?category=cyber_incident&severity=medium,high&country=BA,AL&limit=200", ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var ids = (await response.ReadJsonAsync()).GetProperty("items").EnumerateArray().Select(i => i.GetProperty("id").GetGuid()).ToList();
        Assert.Contains(cyberId, ids);
        Assert.DoesNotContain(smugglingId, ids);
    }
}

public sealed class AlertListFilterTestsOnSqlite(SqliteApiFixture app) : AlertListFilterTests(app), IClassFixture<SqliteApiFixture>;

public sealed class AlertListFilterTestsOnPostgres(PostgresApiFixture app) : AlertListFilterTests(app), IClassFixture<PostgresApiFixture>;
