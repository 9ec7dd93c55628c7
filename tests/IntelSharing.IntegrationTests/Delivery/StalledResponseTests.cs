using System.Net;
using System.Text.Json.Nodes;
using Dapper;
using IntelSharing.Api.Domain;
using IntelSharing.Api.Infrastructure.Security;
using IntelSharing.IntegrationTests.Infrastructure;

namespace IntelSharing.IntegrationTests.Delivery;

/// <summary>The attempt timeout bounds the whole attempt, the response body included (real clock, real loopback socket).</summary>
public abstract class StalledResponseTests<TFixture>(TFixture app)
    where TFixture : ApiFixture
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private sealed record AttemptRow
    {
        public string State { get; init; } = string.Empty;

        public int? StatusCode { get; init; }

        public int DurationMs { get; init; }
    }

    [Fact]
    public async Task A_partner_that_sends_its_headers_and_then_nothing_gets_its_delivery_recorded_at_the_attempt_timeout()
    {
        var originator = await app.CreateAgencyAsync("Border Police Directorate", "RS");
        var partner = await app.CreateAgencyAsync("Hungarian Police", "HU", AgencyKind.Police, Scopes.AlertsRead, Scopes.SubscriptionsManage);
        await using var stalled = StalledEndpoint.Start(StalledEndpoint.Stall.AfterHeaders);
        Assert.Equal(HttpStatusCode.Created,
            (await partner.Client.PostAsync("/api/v1/subscriptions", Samples.Json(new JsonObject { ["url"] = stalled.Url }), Ct)).StatusCode);

        Assert.Equal(HttpStatusCode.Created, (await originator.Client.PostAsync("/api/v1/alerts", Samples.Json(Samples.SmugglingAlert()), Ct)).StatusCode);

        // It answered 200 in time, so the delivery counts; the body it announced never came, and the worker did not wait for it.
        AttemptRow? attempt = null;
        await DeliveryTestSettings.EventuallyAsync(async () => (attempt = await AttemptAsync(partner)) is not null,
            "the stalled attempt to be recorded", ShortAttemptSettings.AttemptTimeout * 5);
        Assert.Equal("delivered", attempt!.State);
        Assert.Equal(200, attempt.StatusCode);
        Assert.InRange(attempt.DurationMs, ShortAttemptSettings.AttemptTimeout.TotalMilliseconds * 0.9, ShortAttemptSettings.AttemptTimeout.TotalMilliseconds * 3);
        Assert.Equal(1, stalled.Engaged);
    }

    private async Task<AttemptRow?> AttemptAsync(TestAgency partner)
    {
        await using var connection = await app.Database.OpenAsync(Ct);
        return await connection.QuerySingleOrDefaultAsync<AttemptRow>(
            """
            SELECT d.state AS State, a.status_code AS StatusCode, a.duration_ms AS DurationMs
            FROM deliveries d JOIN delivery_attempts a ON a.delivery_id = d.id
            WHERE d.agency_id = @agencyId
            """,
            new { agencyId = partner.Id });
    }
}

public sealed class StalledResponseTestsOnSqlite(ShortAttemptSqliteFixture app)
    : StalledResponseTests<ShortAttemptSqliteFixture>(app), IClassFixture<ShortAttemptSqliteFixture>;

public sealed class StalledResponseTestsOnPostgres(ShortAttemptPostgresFixture app)
    : StalledResponseTests<ShortAttemptPostgresFixture>(app), IClassFixture<ShortAttemptPostgresFixture>;
