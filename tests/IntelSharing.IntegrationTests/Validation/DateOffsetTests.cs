using System.Net;
using System.Text.Json.Nodes;
using IntelSharing.Api.Domain;
using IntelSharing.Api.Infrastructure.Security;
using IntelSharing.IntegrationTests.Infrastructure;

namespace IntelSharing.IntegrationTests.Validation;

/// <summary>
/// A date-time without an offset names no instant: the server's time zone would decide when personal data expires.
/// Every date-time in a body or query must carry its offset (Z or ±hh:mm); one without is a 400 naming the field.
/// </summary>
public abstract class DateOffsetTests(ApiFixture app)
{
    private const string WithoutOffset = "2027-06-01T00:00:00";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private Task<TestAgency> AgencyAsync() => app.CreateAgencyAsync("Border Police Directorate", "RS", AgencyKind.Operator,
        Scopes.AlertsWrite, Scopes.AlertsRead, Scopes.AgenciesAdmin, Scopes.DeliveriesManage, Scopes.AuditRead);

    [Theory]
    [InlineData("expiresAt")]
    [InlineData("reviewAt")]
    [InlineData("observedAt")]
    public async Task An_alert_date_without_an_offset_is_refused_with_400_naming_the_field_and_nothing_is_stored(string field)
    {
        var agency = await AgencyAsync();
        var alert = TestData.SmugglingAlertNamingPersons(DateTimeOffset.UtcNow);
        alert["observedAt"] = DateTimeOffset.UtcNow.AddDays(-1).ToString("O");
        alert[field] = field == "observedAt" ? "2026-01-01T00:00:00" : WithoutOffset;
        var before = await app.CountRowsAsync();

        var response = await agency.Client.PostAsync("/api/v1/alerts", Samples.Json(alert), Ct);

        await AssertNamedAsync(response, field);
        Assert.Equal(before, await app.CountRowsAsync());
    }

    [Fact]
    public async Task A_key_expiry_without_an_offset_is_refused_with_400_naming_expires_at()
    {
        var agency = await AgencyAsync();

        var response = await agency.Client.PostAsync($"/api/v1/agencies/{agency.Id}/keys",
            Samples.Json(new JsonObject { ["name"] = "Case system", ["scopes"] = new JsonArray("alerts:read"), ["expiresAt"] = WithoutOffset }), Ct);

        await AssertNamedAsync(response, "expiresAt");
    }

    [Theory]
    [InlineData("from")]
    [InlineData("to")]
    public async Task A_bulk_replay_bound_without_an_offset_is_refused_with_400_naming_the_field(string field)
    {
        var agency = await AgencyAsync();
        var body = new JsonObject { ["subscriptionId"] = Guid.NewGuid().ToString(), ["from"] = "2026-11-01T00:00:00Z", ["to"] = "2026-11-02T00:00:00Z" };
        body[field] = "2026-11-01T12:00:00";

        var response = await agency.Client.PostAsync("/api/v1/deliveries/replay", Samples.Json(body), Ct);

        await AssertNamedAsync(response, field);
    }

    [Theory]
    [InlineData("from")]
    [InlineData("to")]
    public async Task An_audit_query_bound_without_an_offset_is_refused_with_400_naming_the_parameter(string parameter)
    {
        var agency = await AgencyAsync();

        var response = await agency.Client.GetAsync($"/api/v1/audit?{parameter}=2026-11-01T00:00:00", Ct);

        await AssertNamedAsync(response, parameter);
    }

    [Fact]
    public async Task Dates_with_z_or_a_numeric_offset_are_accepted()
    {
        var agency = await AgencyAsync();
        var alert = TestData.SmugglingAlertNamingPersons(DateTimeOffset.UtcNow);
        alert["reviewAt"] = "2027-03-01T01:00:00+01:00";
        alert["expiresAt"] = "2027-06-01T00:00:00Z";

        await agency.PublishAsync(alert);
        Assert.Equal(HttpStatusCode.OK, (await agency.Client.GetAsync("/api/v1/audit?from=2026-11-01T00:00:00%2B01:00&to=2099-01-01T00:00:00Z", Ct)).StatusCode);
    }

    private static async Task AssertNamedAsync(HttpResponseMessage response, string field)
    {
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var errors = (await response.ReadJsonAsync()).GetProperty("errors");
        Assert.Equal([field], errors.EnumerateObject().Select(e => e.Name));
        Assert.Contains("offset", errors.GetProperty(field)[0].GetString(), StringComparison.Ordinal);
    }
}

public sealed class DateOffsetTestsOnSqlite(SqliteApiFixture app) : DateOffsetTests(app), IClassFixture<SqliteApiFixture>;

public sealed class DateOffsetTestsOnPostgres(PostgresApiFixture app) : DateOffsetTests(app), IClassFixture<PostgresApiFixture>;
