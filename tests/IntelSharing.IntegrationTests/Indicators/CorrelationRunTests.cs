using System.Text.Json.Nodes;
using IntelSharing.Api.Domain;
using IntelSharing.Api.Features.Indicators;
using IntelSharing.Api.Infrastructure.Security;
using IntelSharing.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace IntelSharing.IntegrationTests.Indicators;

/// <summary>
/// The correlation worker matches every queued version in one run (one transaction, issue 9): versions that match each
/// other in the same run must still tell each agency of each shared alert exactly once, as one run per version did.
/// The hosts here have the background worker off; the test runs it by hand.
/// </summary>
public abstract class CorrelationRunTests(ApiFixture app) : IAsyncLifetime
{
    private readonly PartnerRig _partners = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public ValueTask DisposeAsync() => _partners.DisposeAsync();

    private static JsonObject AlertCarrying(string phone)
    {
        var alert = TestData.SmugglingAlert("green");
        alert["indicators"] = new JsonArray(new JsonObject { ["type"] = "phone", ["value"] = phone, ["description"] = "Driver's phone" });
        return alert;
    }

    private static HashSet<(Guid Mine, Guid Matched)> Correlated(PartnerReceiver receiver) => receiver.Received
        .Where(r => r.Type == "alert.correlated")
        .Select(r => r.Json.GetProperty("data"))
        .Select(d => (d.GetProperty("alertId").GetGuid(), d.GetProperty("matchedAlert").GetProperty("id").GetGuid()))
        .ToHashSet();

    [Fact]
    public async Task Versions_published_together_are_matched_in_one_run_and_each_agency_is_told_of_each_shared_alert_once()
    {
        var serbia = await app.CreateAgencyAsync("Border Police Directorate", "RS", AgencyKind.BorderGuard, Scopes.AlertsRead, Scopes.AlertsWrite, Scopes.SubscriptionsManage);
        var hungary = await app.CreateAgencyAsync("Hungarian Police", "HU", AgencyKind.Police, Scopes.AlertsRead, Scopes.AlertsWrite, Scopes.SubscriptionsManage);
        var (serbiaReceiver, _) = await _partners.SubscribedReceiverAsync(serbia, s => s["eventTypes"] = new JsonArray("alert.correlated"));
        var (hungaryReceiver, _) = await _partners.SubscribedReceiverAsync(hungary, s => s["eventTypes"] = new JsonArray("alert.correlated"));
        var phone = $"+38164{Random.Shared.Next(1_000_000, 9_999_999)}";
        var ours = await serbia.PublishAsync(AlertCarrying(phone));
        var theirs = await hungary.PublishAsync(AlertCarrying(phone));
        var theirsToo = await hungary.PublishAsync(AlertCarrying(phone));

        var correlate = app.Services.GetServices<IHostedService>().OfType<CorrelateAlerts>().Single();
        Assert.Equal(3, await correlate.RunOnceAsync(Ct));
        Assert.Equal(0, await correlate.RunOnceAsync(Ct));

        // Serbia: its alert shares the phone with both of Hungary's. Hungary: each of its alerts with Serbia's, and with
        // each other (its own two alerts, one event for each side).
        HashSet<(Guid, Guid)> toSerbia = [(ours, theirs), (ours, theirsToo)];
        HashSet<(Guid, Guid)> toHungary = [(theirs, ours), (theirsToo, ours), (theirs, theirsToo), (theirsToo, theirs)];
        await DeliveryTestSettings.EventuallyAsync(
            () => Task.FromResult(Correlated(serbiaReceiver).SetEquals(toSerbia) && Correlated(hungaryReceiver).SetEquals(toHungary)),
            "the correlation events of the run at both partners");

        // A later run with nothing queued tells nothing again; every pair arrived once.
        Assert.Equal(0, await correlate.RunOnceAsync(Ct));
        await DeliveryTestSettings.EventuallyAsync(async () =>
        {
            await using var db = await app.Database.OpenAsync(Ct);
            return await Dapper.SqlMapper.ExecuteScalarAsync<long>(db,
                "SELECT COUNT(*) FROM deliveries WHERE state IN ('pending', 'in_flight', 'failed') AND agency_id IN (@serbia, @hungary)",
                new { serbia = serbia.Id, hungary = hungary.Id }) == 0;
        }, "every delivery to be recorded");
        Assert.Equal(toSerbia.Count, serbiaReceiver.Received.Count(r => r.Type == "alert.correlated"));
        Assert.Equal(toHungary.Count, hungaryReceiver.Received.Count(r => r.Type == "alert.correlated"));
    }

    [Fact]
    public async Task Events_name_the_other_alert_as_the_correlations_view_does_by_its_title_whoever_wrote_its_document_and_a_revoked_alert_keeps_none()
    {
        var serbia = await app.CreateAgencyAsync("Border Police Directorate", "RS", AgencyKind.BorderGuard, Scopes.AlertsRead, Scopes.AlertsWrite, Scopes.SubscriptionsManage);
        var hungary = await app.CreateAgencyAsync("Hungarian Police", "HU", AgencyKind.Police, Scopes.AlertsRead, Scopes.AlertsWrite, Scopes.SubscriptionsManage);
        var (serbiaReceiver, _) = await _partners.SubscribedReceiverAsync(serbia, s => s["eventTypes"] = new JsonArray("alert.correlated"));
        var phone = $"+38164{Random.Shared.Next(1_000_000, 9_999_999)}";
        JsonObject Titled(string title)
        {
            var alert = AlertCarrying(phone);
            alert["title"] = title;
            return alert;
        }

        var older = await hungary.PublishAsync(Titled("Boat launches from Subotica, older report"));
        var rolledBack = await hungary.PublishAsync(Titled("Boat launches from Subotica, first version"));
        await using var db = await app.Database.OpenAsync(Ct);
        // The previous release, after a rollback, writes the document and knows nothing of the title column: the title
        // follows the document all the same.
        var stored = JsonNode.Parse(await Dapper.SqlMapper.ExecuteScalarAsync<string>(db, "SELECT CAST(document AS TEXT) FROM alerts WHERE id = @rolledBack", new { rolledBack }) ?? "{}")!;
        stored["title"] = "Boat launches from Subotica, written by the previous release";
        await Dapper.SqlMapper.ExecuteAsync(db, $"UPDATE alerts SET document = {app.Database.Dialect.Json("@document")} WHERE id = @rolledBack",
            new { rolledBack, document = stored.ToJsonString() });
        var ours = await serbia.PublishAsync(Titled("Van with 14 people stopped at Horgoš"));

        var correlate = app.Services.GetServices<IHostedService>().OfType<CorrelateAlerts>().Single();
        await correlate.RunOnceAsync(Ct);
        await DeliveryTestSettings.EventuallyAsync(() => Task.FromResult(serbiaReceiver.Received.Count(r => r.Type == "alert.correlated") == 2), "both events");
        var named = serbiaReceiver.Received.Where(r => r.Type == "alert.correlated")
            .Select(r => r.Json.GetProperty("data").GetProperty("matchedAlert"))
            .ToDictionary(m => m.GetProperty("id").GetGuid(), m => m.GetRawText());
        Assert.Equal("Boat launches from Subotica, older report", JsonNode.Parse(named[older])!["title"]!.GetValue<string>());
        Assert.Equal("Boat launches from Subotica, written by the previous release", JsonNode.Parse(named[rolledBack])!["title"]!.GetValue<string>());
        var hungarian = JsonNode.Parse(named[older])!["originator"]!;
        Assert.Equal((hungary.Id, hungary.Name, hungary.Country), (hungarian["id"]!.GetValue<Guid>(), hungarian["name"]!.GetValue<string>(), hungarian["country"]!.GetValue<string>()));

        // The event names each alert as the correlations view does, field for field (its own query).
        using var view = await serbia.Client.GetAsync($"/api/v1/alerts/{ours}/correlations", Ct);
        var viewed = (await view.ReadJsonAsync()).GetProperty("items").EnumerateArray()
            .ToDictionary(i => i.GetProperty("matchedAlert").GetProperty("id").GetGuid(), i => i.GetProperty("matchedAlert").GetRawText());
        Assert.Equal(named, viewed);

        // Kept with the version; gone with the content when the alert is revoked.
        Assert.Equal("Van with 14 people stopped at Horgoš", await Dapper.SqlMapper.ExecuteScalarAsync<string>(db, "SELECT title FROM alerts WHERE id = @ours", new { ours }));
        var revoke = await hungary.Client.PostAsync($"/api/v1/alerts/{older}/revoke", Samples.Json(new JsonObject { ["reason"] = "Wrong crossing." }), Ct);
        Assert.Equal(System.Net.HttpStatusCode.OK, revoke.StatusCode);
        Assert.Null(await Dapper.SqlMapper.ExecuteScalarAsync<string?>(db, "SELECT title FROM alerts WHERE id = @older", new { older }));
    }

    [Fact]
    public async Task A_later_version_is_told_only_the_value_it_newly_shares_and_what_was_told_before_migration_26_is_not_told_again()
    {
        var serbia = await app.CreateAgencyAsync("Border Police Directorate", "RS", AgencyKind.BorderGuard, Scopes.AlertsRead, Scopes.AlertsWrite, Scopes.SubscriptionsManage);
        var hungary = await app.CreateAgencyAsync("Hungarian Police", "HU", AgencyKind.Police, Scopes.AlertsRead, Scopes.AlertsWrite, Scopes.SubscriptionsManage);
        var (serbiaReceiver, _) = await _partners.SubscribedReceiverAsync(serbia, s => s["eventTypes"] = new JsonArray("alert.correlated"));
        var phone = $"+38164{Random.Shared.Next(1_000_000, 9_999_999)}";
        var plate = $"SU{Random.Shared.Next(100, 999)}AB";
        var told = $"+38165{Random.Shared.Next(1_000_000, 9_999_999)}";
        JsonObject Carrying(params (string Type, string Value)[] indicators)
        {
            var alert = TestData.SmugglingAlert("green");
            alert["indicators"] = new JsonArray([.. indicators.Select(i => (JsonNode)new JsonObject { ["type"] = i.Type, ["value"] = i.Value, ["description"] = "Seen at Horgoš" })]);
            return alert;
        }

        var created = await serbia.Client.PostAsync("/api/v1/alerts", Samples.Json(Carrying(("phone", phone), ("phone", told))), Ct);
        var ours = (await created.ReadJsonAsync()).GetProperty("id").GetGuid();
        var theirs = await hungary.PublishAsync(Carrying(("phone", phone), ("phone", told), ("vehicle_plate", plate)));

        // Serbia was told of the second phone by a version of the service that kept one row per value.
        await using (var db = await app.Database.OpenAsync(Ct))
        {
            await Dapper.SqlMapper.ExecuteAsync(db,
                "INSERT INTO correlation_notices (alert_id, counterpart_alert_id, value_key, kind, notified_at) VALUES (@ours, @theirs, @key, 'alert.correlated', @at)",
                new { ours, theirs, key = IndicatorIndex.Key(IndicatorType.Phone, told), at = DateTimeOffset.UtcNow });
        }

        var correlate = app.Services.GetServices<IHostedService>().OfType<CorrelateAlerts>().Single();
        await correlate.RunOnceAsync(Ct);
        await DeliveryTestSettings.EventuallyAsync(() => Task.FromResult(serbiaReceiver.Received.Count(r => r.Type == "alert.correlated") == 1), "the first event");

        using var update = new HttpRequestMessage(HttpMethod.Put, $"/api/v1/alerts/{ours}") { Content = Samples.Json(Carrying(("phone", phone), ("phone", told), ("vehicle_plate", plate))) };
        update.Headers.TryAddWithoutValidation("If-Match", created.Headers.ETag!.Tag);
        Assert.Equal(System.Net.HttpStatusCode.OK, (await serbia.Client.SendAsync(update, Ct)).StatusCode);
        await correlate.RunOnceAsync(Ct);
        await DeliveryTestSettings.EventuallyAsync(() => Task.FromResult(serbiaReceiver.Received.Count(r => r.Type == "alert.correlated") == 2), "the second event");

        var values = serbiaReceiver.Received.Where(r => r.Type == "alert.correlated")
            .Select(r => r.Json.GetProperty("data").GetProperty("indicators").EnumerateArray().Select(i => i.GetProperty("value").GetString()).ToList())
            .ToList();
        Assert.Equal([[phone], [plate]], values);
    }
}

public sealed class CorrelationRunTestsOnSqlite(DeliverySqliteFixture app) : CorrelationRunTests(app), IClassFixture<DeliverySqliteFixture>;

public sealed class CorrelationRunTestsOnPostgres(DeliveryPostgresFixture app) : CorrelationRunTests(app), IClassFixture<DeliveryPostgresFixture>;
