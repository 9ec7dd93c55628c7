using System.Net;
using System.Text.Json.Nodes;
using Dapper;
using IntelSharing.IntegrationTests.Infrastructure;

namespace IntelSharing.IntegrationTests.Indicators;

/// <summary>
/// What intake leaves for the correlation worker (ADR 20, ADR 35): a version is queued only when it carries an
/// indicator, since one without any matches nothing. The hosts of these tests run no correlation worker, so the queue
/// shows exactly what intake wrote.
/// </summary>
public abstract class CorrelationQueueTests(ApiFixture app)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static JsonObject WithoutIndicators()
    {
        var alert = TestData.SmugglingAlert("green");
        alert.Remove("indicators");
        return alert;
    }

    private async Task<int?> QueuedVersionAsync(Guid alertId)
    {
        await using var connection = await app.Database.OpenAsync(Ct);
        return await connection.ExecuteScalarAsync<int?>("SELECT version FROM correlation_pending WHERE alert_id = @alertId", new { alertId });
    }

    [Fact]
    public async Task An_alert_without_indicators_is_not_queued_for_correlation_and_one_with_indicators_is()
    {
        var agency = await app.CreateAgencyAsync("Border Police Directorate");

        var plain = await agency.PublishAsync(WithoutIndicators());
        var carrying = await agency.PublishAsync(TestData.SmugglingAlert("green"));

        Assert.Null(await QueuedVersionAsync(plain));
        Assert.Equal(1, await QueuedVersionAsync(carrying));
    }

    [Fact]
    public async Task An_update_that_drops_every_indicator_queues_no_new_correlation_and_leaves_no_value_to_match()
    {
        var agency = await app.CreateAgencyAsync("Border Police Directorate");
        var created = await agency.Client.PostAsync("/api/v1/alerts", Samples.Json(TestData.SmugglingAlert("green")), Ct);
        var id = (await created.ReadJsonAsync()).GetProperty("id").GetGuid();

        using var update = new HttpRequestMessage(HttpMethod.Put, $"/api/v1/alerts/{id}") { Content = Samples.Json(WithoutIndicators()) };
        update.Headers.TryAddWithoutValidation("If-Match", created.Headers.ETag!.Tag);
        Assert.Equal(HttpStatusCode.OK, (await agency.Client.SendAsync(update, Ct)).StatusCode);

        // Version 1's marker stays as it was (a worker matches what the alert carries when it runs: nothing); version 2
        // added no work.
        Assert.Equal(1, await QueuedVersionAsync(id));
        await using var connection = await app.Database.OpenAsync(Ct);
        Assert.Equal(0, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM alert_indicators WHERE alert_id = @id", new { id }));
    }
}

public sealed class CorrelationQueueTestsOnSqlite(SqliteApiFixture app) : CorrelationQueueTests(app), IClassFixture<SqliteApiFixture>;

public sealed class CorrelationQueueTestsOnPostgres(PostgresApiFixture app) : CorrelationQueueTests(app), IClassFixture<PostgresApiFixture>;
