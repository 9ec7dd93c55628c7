using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Dapper;
using IntelSharing.Api.Domain;
using IntelSharing.Api.Features.Statistics;
using IntelSharing.Api.Infrastructure.Security;
using IntelSharing.IntegrationTests.Console;
using IntelSharing.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace IntelSharing.IntegrationTests.Statistics;

/// <summary>
/// Published results count closed days from the daily roll-up and the rest live (ADR 40). These hold the two equal:
/// every caller's report (an originator, a partner in some audiences, an outsider in another, an administrator), by day
/// and by month, with no day rolled up, with the closed days rolled up, and after late changes to a closed day — a
/// dead delivery of the first day replayed and delivered on the third, feedback given today on the first day's alert.
/// </summary>
public abstract class StatisticsRollupTests<TFixture>(TFixture app) : IAsyncLifetime
    where TFixture : ApiFixture, IFakeClockFixture
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync()
    {
        app.Advance(TimeSpan.FromDays(3));
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private Task<TestAgency> AgencyAsync(string name, string country, params string[] scopes) =>
        app.CreateAgencyAsync(name, country, AgencyKind.Police, scopes);

    private string Today => app.Clock.GetUtcNow().ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    private static JsonObject Alert(string tlp, string[] countries, IEnumerable<Guid>? audience = null, bool cyber = false)
    {
        var alert = cyber ? Samples.CyberAlert() : TestData.SmugglingAlert(tlp, audience);
        alert["tlp"] = tlp;
        alert["countries"] = new JsonArray([.. countries.Select(c => (JsonNode)c)]);
        return alert;
    }

    [Fact]
    public async Task Closed_days_from_the_roll_up_give_the_live_figures_and_a_late_change_to_a_closed_day_is_counted()
    {
        await using var partners = new PartnerRig();
        var serbia = await AgencyAsync("Border Police Directorate", "RS", Scopes.AlertsWrite, Scopes.StatisticsRead);
        var hungary = await AgencyAsync("Hungarian Police", "HU", Scopes.AlertsRead, Scopes.SubscriptionsManage, Scopes.StatisticsRead);
        var croatia = await AgencyAsync("Croatian Police", "HR", Scopes.AlertsRead, Scopes.StatisticsRead);
        var administrator = await AgencyAsync("Operations", "RS", Scopes.StatisticsRead, Scopes.AgenciesAdmin);
        var down = false;
        var receiver = await partners.ReceiverAsync(_ => new PartnerReceiver.Response(down ? HttpStatusCode.ServiceUnavailable : HttpStatusCode.NoContent));
        var (subscriptionId, _) = await partners.SubscribeAsync(hungary, receiver.Url);
        var first = Today;

        // Day one: every sharing case, eight deliveries to Hungary's endpoint and one that dies, feedback.
        var green = new List<Guid>();
        for (var i = 0; i < 4; i++)
        {
            green.Add(await serbia.PublishAsync(Alert("green", ["RS"])));
        }

        var restricted = new List<Guid>();
        for (var i = 0; i < 3; i++)
        {
            restricted.Add(await serbia.PublishAsync(Alert("amber+strict", ["RS", "HU"], audience: [hungary.Id])));
        }

        await serbia.PublishAsync(Alert("red", ["HU"], audience: [croatia.Id]));
        await serbia.PublishAsync(Alert("amber", ["BA"], cyber: true));
        await receiver.WaitForAsync(8);
        await DeliveryTestSettings.EventuallyAsync(async () => await RecordedAsync(subscriptionId) == 8, "eight deliveries recorded before the endpoint goes down");
        down = true;
        await serbia.PublishAsync(Alert("green", ["HU"]));
        await receiver.WaitForAsync(9);
        foreach (var (alert, kind) in new[] { (restricted[0], "hit"), (restricted[1], "hit"), (restricted[2], "hit"), (green[0], "actioned") })
        {
            Assert.Equal(HttpStatusCode.Created, (await hungary.Client.PostAsync($"/api/v1/alerts/{alert}/feedback", Samples.Json(new JsonObject { ["kind"] = kind }), Ct)).StatusCode);
        }

        var dead = await DeadDeliveryAsync(subscriptionId);
        await DeliveryTestSettings.EventuallyAsync(async () => await RecordedAsync(subscriptionId) == 9, "day one's deliveries recorded before the day ends");

        // Day two and today: a few more.
        app.Advance(TimeSpan.FromDays(1));
        down = false;
        for (var i = 0; i < 3; i++)
        {
            await serbia.PublishAsync(Alert("green", ["RS"]));
        }

        await receiver.WaitForAsync(12);
        await DeliveryTestSettings.EventuallyAsync(async () => await RecordedAsync(subscriptionId) == 12, "day two's deliveries recorded before the day ends");
        app.Advance(TimeSpan.FromDays(1));
        await serbia.PublishAsync(Alert("amber+strict", ["HR"], audience: [hungary.Id, croatia.Id]));
        await receiver.WaitForAsync(13);
        await DeliveryTestSettings.EventuallyAsync(async () => await RecordedAsync(subscriptionId) == 13, "every attempt recorded");

        TestAgency[] callers = [serbia, hungary, croatia, administrator];
        var live = await LiveReportsAsync(first, callers);
        var rollup = app.Services.GetRequiredService<StatisticsRollup>();
        Assert.Equal(2, await rollup.RollUpAsync(Ct));
        Assert.Equal(new[] { first, Day(first, 1) }, await RolledUpAsync(first));
        Assert.True(await RowsAsync(first) > 0);
        Assert.Equal(live, await ReportsAsync(first, callers));

        // A late change to day one: its dead delivery replayed and delivered today; feedback today on day one's alert.
        Assert.Equal(HttpStatusCode.OK, (await hungary.Client.PostAsync($"/api/v1/deliveries/{dead}/replay", null, Ct)).StatusCode);
        await DeliveryTestSettings.EventuallyAsync(async () => (await app.DeliveryStateAsync(dead)).State == "delivered", "delivered after the replay");
        Assert.Equal(HttpStatusCode.Created, (await hungary.Client.PostAsync($"/api/v1/alerts/{green[1]}/feedback", Samples.Json(new JsonObject { ["kind"] = "hit" }), Ct)).StatusCode);
        Assert.Equal(new[] { Day(first, 1) }, await RolledUpAsync(first)); // day one is stale: counted live until rolled up again

        var changed = await ReportsAsync(first, callers);
        var before = Partner(live[0], "deliveries");
        var after = Partner(changed[0], "deliveries");
        Assert.Equal(before.GetProperty("delivered").GetInt64() + 1, after.GetProperty("delivered").GetInt64());
        Assert.True(after.GetProperty("failed").ValueKind == JsonValueKind.Number && after.GetProperty("failed").GetInt64() == 0, live[0] + "\n" + changed[0]);
        Assert.Equal(Partner(live[0], "feedback").GetProperty("hits").GetInt64() + 1, Partner(changed[0], "feedback").GetProperty("hits").GetInt64());
        Assert.Equal(await LiveReportsAsync(first, callers), changed);
        Assert.Equal(2, await rollup.RollUpAsync(Ct));
        Assert.Equal(new[] { first, Day(first, 1) }, await RolledUpAsync(first));
        Assert.Equal(changed, await ReportsAsync(first, callers));
    }

    private static string Day(string day, int later) =>
        DateOnly.ParseExact(day, "yyyy-MM-dd", CultureInfo.InvariantCulture).AddDays(later).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    private static JsonElement Partner(string report, string section) =>
        Assert.Single(JsonDocument.Parse(report).RootElement.GetProperty(section).EnumerateArray());

    /// <summary>Each caller's report from the first day to today, by day and by month, as the API writes it.</summary>
    private async Task<List<string>> ReportsAsync(string first, IEnumerable<TestAgency> callers)
    {
        var reports = new List<string>();
        foreach (var caller in callers)
        {
            foreach (var period in new[] { "day", "month" })
            {
                var response = await caller.Client.GetAsync($"/api/v1/statistics?from={first}&to={Today}&period={period}", Ct);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                reports.Add(await response.Content.ReadAsStringAsync(Ct));
            }
        }

        return reports;
    }

    /// <summary>The same reports with no day rolled up: every day counted live, as before the roll-up existed.</summary>
    private async Task<List<string>> LiveReportsAsync(string first, IEnumerable<TestAgency> callers)
    {
        await using (var connection = await app.Database.OpenAsync(Ct))
        {
            await connection.ExecuteAsync("DELETE FROM statistics_days");
        }

        return await ReportsAsync(first, callers);
    }

    /// <summary>The days from <paramref name="first"/> that a report takes from the roll-up: rolled up and not changed since.</summary>
    private async Task<List<string>> RolledUpAsync(string first)
    {
        await using var connection = await app.Database.OpenAsync(Ct);
        return [.. await connection.QueryAsync<string>(
            "SELECT r.day FROM statistics_days r WHERE r.day >= @first AND NOT EXISTS (SELECT 1 FROM statistics_stale_days s WHERE s.day = r.day) ORDER BY r.day",
            new { first })];
    }

    private async Task<long> RowsAsync(string day)
    {
        await using var connection = await app.Database.OpenAsync(Ct);
        return await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM statistics_daily WHERE day = @day", new { day });
    }

    private async Task<Guid> DeadDeliveryAsync(Guid subscriptionId)
    {
        Guid? id = null;
        await DeliveryTestSettings.EventuallyAsync(async () =>
        {
            await using var connection = await app.Database.OpenAsync(Ct);
            id = await connection.QuerySingleOrDefaultAsync<Guid?>(
                "SELECT id FROM deliveries WHERE subscription_id = @subscriptionId AND state = 'dead'", new { subscriptionId });
            return id is not null;
        }, "the ninth delivery dead");
        return id!.Value;
    }

    private async Task<long> RecordedAsync(Guid subscriptionId)
    {
        await using var connection = await app.Database.OpenAsync(Ct);
        return await connection.ExecuteScalarAsync<long>(
            "SELECT COUNT(*) FROM deliveries WHERE subscription_id = @subscriptionId AND state IN ('delivered', 'dead')", new { subscriptionId });
    }
}

public sealed class StatisticsRollupTestsOnSqlite(ConsoleSqliteFixture app) : StatisticsRollupTests<ConsoleSqliteFixture>(app), IClassFixture<ConsoleSqliteFixture>;

public sealed class StatisticsRollupTestsOnPostgres(ConsolePostgresFixture app) : StatisticsRollupTests<ConsolePostgresFixture>(app), IClassFixture<ConsolePostgresFixture>;
