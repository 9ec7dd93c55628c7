using System.Net;
using IntelSharing.IntegrationTests.Infrastructure;

namespace IntelSharing.IntegrationTests.Alerts;

public abstract class AlertValidationRegressionTests(ApiFixture app)
{
    [Fact]
    public async Task Submitting_an_alert_without_countries_returns_400_naming_countries_not_500()
    {
        var agency = await app.CreateAgencyAsync("Border Police Directorate");
        var alert = Samples.SmugglingAlert();
        alert.Remove("countries");

        var response = await agency.Client.PostAsync("/api/v1/alerts", Samples.Json(alert), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(["countries"], (await response.ReadJsonAsync()).GetProperty("errors").EnumerateObject().Select(e => e.Name));
    }
}

public sealed class AlertValidationRegressionTestsOnSqlite(SqliteApiFixture app) : AlertValidationRegressionTests(app), IClassFixture<SqliteApiFixture>;

public sealed class AlertValidationRegressionTestsOnPostgres(PostgresApiFixture app) : AlertValidationRegressionTests(app), IClassFixture<PostgresApiFixture>;
