using System.Net;
using System.Text.Json.Nodes;
using IntelSharing.IntegrationTests.Infrastructure;

namespace IntelSharing.IntegrationTests.Alerts;

/// <summary>
/// A submitted answer has an address: the 201's Location points at the new item, and reading it there follows the
/// list's rules (the originator every answer, a recipient its own, anyone else 404).
/// </summary>
public abstract class FeedbackLocationTests(ApiFixture app)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_location_of_new_feedback_points_at_the_item_and_reads_back_the_same_answer()
    {
        var originator = await app.CreateAgencyAsync("Border Police Directorate", "RS");
        var recipient = await app.CreateAgencyAsync("Hungarian Police", "HU");
        var alertId = await originator.PublishAsync(Samples.SmugglingAlert());

        var created = await recipient.Client.PostAsync($"/api/v1/alerts/{alertId}/feedback",
            Samples.Json(new JsonObject { ["kind"] = "hit", ["note"] = "The truck was stopped at Horgoš; 38 people found." }), Ct);

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var body = await created.ReadJsonAsync();
        var feedbackId = body.GetProperty("id").GetGuid();
        Assert.Equal($"/api/v1/alerts/{alertId}/feedback/{feedbackId}", created.Headers.Location?.OriginalString);
        foreach (var reader in new[] { recipient, originator })
        {
            var read = await reader.Client.GetAsync(created.Headers.Location, Ct);
            Assert.Equal(HttpStatusCode.OK, read.StatusCode);
            Assert.Equal(body.GetRawText(), (await read.ReadJsonAsync()).GetRawText());
        }
    }

    [Fact]
    public async Task Another_recipients_answer_and_an_unknown_id_are_404()
    {
        var originator = await app.CreateAgencyAsync("Border Police Directorate", "RS");
        var recipient = await app.CreateAgencyAsync("Hungarian Police", "HU");
        var otherRecipient = await app.CreateAgencyAsync("Croatian Border Police", "HR");
        var alertId = await originator.PublishAsync(Samples.SmugglingAlert());
        var created = await recipient.Client.PostAsync($"/api/v1/alerts/{alertId}/feedback", Samples.Json(new JsonObject { ["kind"] = "received" }), Ct);

        var byOther = await otherRecipient.Client.GetAsync(created.Headers.Location, Ct);
        var unknown = await originator.Client.GetAsync($"/api/v1/alerts/{alertId}/feedback/{Guid.NewGuid()}", Ct);
        var wrongAlert = await recipient.Client.GetAsync($"/api/v1/alerts/{await originator.PublishAsync(Samples.SmugglingAlert())}/feedback/{(await created.ReadJsonAsync()).GetProperty("id").GetGuid()}", Ct);

        Assert.Equal(HttpStatusCode.NotFound, byOther.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, wrongAlert.StatusCode);
    }

    [Fact]
    public async Task An_agency_outside_a_red_alerts_audience_gets_404_for_its_feedback()
    {
        var originator = await app.CreateAgencyAsync("Border Police Directorate", "RS");
        var recipient = await app.CreateAgencyAsync("Hungarian Police", "HU");
        var outsider = await app.CreateAgencyAsync("Outsider Police", "AT");
        var alertId = await originator.PublishAsync(TestData.SmugglingAlert("red", [recipient.Id]));
        var created = await recipient.Client.PostAsync($"/api/v1/alerts/{alertId}/feedback", Samples.Json(new JsonObject { ["kind"] = "actioned" }), Ct);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);

        var read = await outsider.Client.GetAsync(created.Headers.Location, Ct);

        Assert.Equal(HttpStatusCode.NotFound, read.StatusCode);
    }
}

public sealed class FeedbackLocationTestsOnSqlite(SqliteApiFixture app) : FeedbackLocationTests(app), IClassFixture<SqliteApiFixture>;

public sealed class FeedbackLocationTestsOnPostgres(PostgresApiFixture app) : FeedbackLocationTests(app), IClassFixture<PostgresApiFixture>;
