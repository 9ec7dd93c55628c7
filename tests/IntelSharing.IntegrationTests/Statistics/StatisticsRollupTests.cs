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
/// Published results count closed days from the daily roll-up, today's closed hours from the hourly one and the rest
/// live (ADR 40, ADR 51). These hold the two equal: every caller's report (an originator, a partner in some audiences, an
/// outsider in another, an administrator), by day and by month, with nothing rolled up, with the closed days or hours
/// rolled up, and after late changes to a closed day or hour — a dead delivery replayed and delivered later, feedback
/// given later on an earlier alert.
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
        var community = await CommunityAsync(partners);
        var (serbia, hungary, croatia, administrator) = (community.Serbia, community.Hungary, community.Croatia, community.Administrator);
        var (receiver, subscriptionId) = (community.Receiver, community.SubscriptionId);
        var rollup = app.Services.GetRequiredService<StatisticsRollup>();
        await rollup.RollUpAsync(Ct); // the days before this test's, which other tests of the class may have left
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
        community.Down = true;
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
        community.Down = false;
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
        Assert.Equal(2, (await rollup.RollUpAsync(Ct)).Days);
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
        Assert.Equal(2, (await rollup.RollUpAsync(Ct)).Days);
        Assert.Equal(new[] { first, Day(first, 1) }, await RolledUpAsync(first));
        Assert.Equal(changed, await ReportsAsync(first, callers));
    }

    [Fact]
    public async Task Todays_closed_hours_from_the_roll_up_give_the_live_figures_until_the_day_is_rolled_up_and_a_late_change_is_counted()
    {
        await using var partners = new PartnerRig();
        var community = await CommunityAsync(partners);
        var (serbia, hungary, croatia, administrator) = (community.Serbia, community.Hungary, community.Croatia, community.Administrator);
        var (receiver, subscriptionId) = (community.Receiver, community.SubscriptionId);
        var rollup = app.Services.GetRequiredService<StatisticsRollup>();
        var now = app.Clock.GetUtcNow();
        app.Advance(now.UtcDateTime.Date.AddDays(1).AddMinutes(70) - now.UtcDateTime); // 01:10 tomorrow
        var day = Today;
        await rollup.RollUpAsync(Ct); // the days before, and today's first hour (nothing in it)
        var before = await RecordedAsync(subscriptionId);

        // 01:xx: every sharing case, deliveries to Hungary's endpoint and one that dies, feedback.
        var green = await serbia.PublishAsync(Alert("green", ["RS"]));
        var restricted = await serbia.PublishAsync(Alert("amber+strict", ["RS", "HU"], audience: [hungary.Id]));
        await serbia.PublishAsync(Alert("red", ["HU"], audience: [croatia.Id]));
        await serbia.PublishAsync(Alert("amber", ["BA"], cyber: true));
        await DeliveryTestSettings.EventuallyAsync(async () => await RecordedAsync(subscriptionId) == before + 3, "01:xx's deliveries recorded");
        community.Down = true;
        await serbia.PublishAsync(Alert("green", ["HU"]));
        var dead = await DeadDeliveryAsync(subscriptionId);
        Assert.Equal(HttpStatusCode.Created, (await hungary.Client.PostAsync($"/api/v1/alerts/{restricted}/feedback", Samples.Json(new JsonObject { ["kind"] = "hit" }), Ct)).StatusCode);

        // 02:xx, and the current hour 03:xx: a few more.
        app.Advance(TimeSpan.FromHours(1));
        community.Down = false;
        await serbia.PublishAsync(Alert("green", ["RS"]));
        await serbia.PublishAsync(Alert("amber+strict", ["HR"], audience: [hungary.Id, croatia.Id]));
        await DeliveryTestSettings.EventuallyAsync(async () => await RecordedAsync(subscriptionId) == before + 6, "02:xx's deliveries recorded");
        app.Advance(TimeSpan.FromHours(1));
        await serbia.PublishAsync(Alert("green", ["RS"]));
        await DeliveryTestSettings.EventuallyAsync(async () => await RecordedAsync(subscriptionId) == before + 7, "03:xx's delivery recorded");

        TestAgency[] callers = [serbia, hungary, croatia, administrator];
        var live = await LiveReportsAsync(day, callers);
        Assert.Equal(3, (await rollup.RollUpAsync(Ct)).Hours);
        Assert.Equal(new[] { day + "T00", day + "T01", day + "T02" }, await RolledUpHoursAsync(day));
        Assert.Equal(live, await ReportsAsync(day, callers));

        // The report reads a rolled-up hour from the roll-up: a count changed there shows.
        await using (var connection = await app.Database.OpenAsync(Ct))
        {
            Assert.Equal(1, await connection.ExecuteAsync(
                "UPDATE statistics_hourly SET first = first + 1000 WHERE hour = @hour AND section = 'deliveries'", new { hour = day + "T01" }));
        }

        Assert.Equal(Delivered(live[0]) + 1000, Delivered((await ReportsAsync(day, [serbia]))[0]));
        await using (var connection = await app.Database.OpenAsync(Ct))
        {
            await connection.ExecuteAsync("UPDATE statistics_hourly SET first = first - 1000 WHERE hour = @hour AND section = 'deliveries'", new { hour = day + "T01" });
        }

        // A late change to 01:xx: its dead delivery replayed and delivered now; feedback now on 01:xx's alert.
        Assert.Equal(HttpStatusCode.OK, (await hungary.Client.PostAsync($"/api/v1/deliveries/{dead}/replay", null, Ct)).StatusCode);
        await DeliveryTestSettings.EventuallyAsync(async () => (await app.DeliveryStateAsync(dead)).State == "delivered", "delivered after the replay");
        Assert.Equal(HttpStatusCode.Created, (await hungary.Client.PostAsync($"/api/v1/alerts/{green}/feedback", Samples.Json(new JsonObject { ["kind"] = "actioned" }), Ct)).StatusCode);
        Assert.Equal(new[] { day + "T00", day + "T02" }, await RolledUpHoursAsync(day)); // 01:xx is stale: counted live until rolled up again

        var changed = await ReportsAsync(day, callers);
        Assert.Equal(Delivered(live[0]) + 1, Delivered(changed[0]));
        Assert.Equal(await LiveReportsAsync(day, callers), changed);
        Assert.Equal(3, (await rollup.RollUpAsync(Ct)).Hours);
        Assert.Equal(changed, await ReportsAsync(day, callers));

        // Past midnight the day is rolled up whole, its hours' rows go, and the figures stay.
        app.Advance(TimeSpan.FromHours(21));
        Assert.Equal((1, 0), await rollup.RollUpAsync(Ct));
        Assert.Equal(new[] { day }, await RolledUpAsync(day));
        Assert.Empty(await RolledUpHoursAsync(day));
        await using (var connection = await app.Database.OpenAsync(Ct))
        {
            Assert.Equal(0, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM statistics_hourly WHERE hour >= @day", new { day }));
        }

        Assert.Equal(changed, await ReportsAsync(day, callers, to: day));
    }

    [Fact]
    public async Task A_late_change_marks_its_day_for_the_previous_release_even_where_its_hour_is_marked_already()
    {
        await using var partners = new PartnerRig();
        var community = await CommunityAsync(partners);
        community.Down = true;
        await community.Serbia.PublishAsync(Alert("green", ["RS"]));
        var dead = await DeadDeliveryAsync(community.SubscriptionId);
        var day = Today;
        Assert.Contains(await StaleHoursAsync(day), h => h.StartsWith(day, StringComparison.Ordinal)); // the dead delivery's hour

        // Rolled back (ADR 43), the previous release rolls the day up: it clears the day's mark and knows nothing of the
        // hour marks, which stay. Its dead letter is then replayed and delivered: the day must be marked again.
        await using (var connection = await app.Database.OpenAsync(Ct))
        {
            await connection.ExecuteAsync("DELETE FROM statistics_stale_days WHERE day = @day", new { day });
        }

        community.Down = false;
        Assert.Equal(HttpStatusCode.OK, (await community.Hungary.Client.PostAsync($"/api/v1/deliveries/{dead}/replay", null, Ct)).StatusCode);
        await DeliveryTestSettings.EventuallyAsync(async () => (await app.DeliveryStateAsync(dead)).State == "delivered", "delivered after the replay");
        await using (var connection = await app.Database.OpenAsync(Ct))
        {
            Assert.Equal(1, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM statistics_stale_days WHERE day = @day", new { day }));
        }
    }

    private async Task<List<string>> StaleHoursAsync(string day)
    {
        await using var connection = await app.Database.OpenAsync(Ct);
        return [.. await connection.QueryAsync<string>("SELECT hour FROM statistics_stale_hours WHERE substr(hour, 1, 10) = @day", new { day })];
    }

    private static long Delivered(string report) => Partner(report, "deliveries").GetProperty("delivered").GetInt64();

    /// <summary>An originator, a partner subscribed to a receiver that answers 503 while <see cref="Community.Down"/>, an outsider, an administrator.</summary>
    private sealed class Community
    {
        public required TestAgency Serbia { get; init; }

        public required TestAgency Hungary { get; init; }

        public required TestAgency Croatia { get; init; }

        public required TestAgency Administrator { get; init; }

        public PartnerReceiver Receiver { get; set; } = null!;

        public Guid SubscriptionId { get; set; }

        public bool Down { get; set; }
    }

    private async Task<Community> CommunityAsync(PartnerRig partners)
    {
        var community = new Community
        {
            Serbia = await AgencyAsync("Border Police Directorate", "RS", Scopes.AlertsWrite, Scopes.StatisticsRead),
            Hungary = await AgencyAsync("Hungarian Police", "HU", Scopes.AlertsRead, Scopes.SubscriptionsManage, Scopes.StatisticsRead),
            Croatia = await AgencyAsync("Croatian Police", "HR", Scopes.AlertsRead, Scopes.StatisticsRead),
            Administrator = await AgencyAsync("Operations", "RS", Scopes.StatisticsRead, Scopes.AgenciesAdmin),
        };
        community.Receiver = await partners.ReceiverAsync(_ => new PartnerReceiver.Response(community.Down ? HttpStatusCode.ServiceUnavailable : HttpStatusCode.NoContent));
        (community.SubscriptionId, _) = await partners.SubscribeAsync(community.Hungary, community.Receiver.Url);
        return community;
    }

    private static string Day(string day, int later) =>
        DateOnly.ParseExact(day, "yyyy-MM-dd", CultureInfo.InvariantCulture).AddDays(later).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    private static JsonElement Partner(string report, string section) =>
        Assert.Single(JsonDocument.Parse(report).RootElement.GetProperty(section).EnumerateArray());

    /// <summary>Each caller's report from the first day to today, by day and by month, as the API writes it.</summary>
    private async Task<List<string>> ReportsAsync(string first, IEnumerable<TestAgency> callers, string? to = null)
    {
        var reports = new List<string>();
        foreach (var caller in callers)
        {
            foreach (var period in new[] { "day", "month" })
            {
                var response = await caller.Client.GetAsync($"/api/v1/statistics?from={first}&to={to ?? Today}&period={period}", Ct);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                reports.Add(await response.Content.ReadAsStringAsync(Ct));
            }
        }

        return reports;
    }

    /// <summary>The same reports with no day or hour from <paramref name="first"/> rolled up: every day counted live, as before the roll-up existed.</summary>
    private async Task<List<string>> LiveReportsAsync(string first, IEnumerable<TestAgency> callers)
    {
        await using (var connection = await app.Database.OpenAsync(Ct))
        {
            await connection.ExecuteAsync("DELETE FROM statistics_days WHERE day >= @first", new { first });
            await connection.ExecuteAsync("DELETE FROM statistics_hours WHERE hour >= @first", new { first });
        }

        return await ReportsAsync(first, callers);
    }

    /// <summary>The days from <paramref name="first"/> that a report takes from the roll-up: rolled up and not changed since.</summary>
    private async Task<List<string>> RolledUpAsync(string first)
    {
        await using var connection = await app.Database.OpenAsync(Ct);
        return [.. await connection.QueryAsync<string>(
            "SELECT r.day FROM statistics_days r WHERE r.day >= @first AND NOT EXISTS (SELECT 1 FROM statistics_stale_hours s WHERE substr(s.hour, 1, 10) = r.day) ORDER BY r.day",
            new { first })];
    }

    /// <summary>The hours of <paramref name="day"/> that a report takes from the roll-up: rolled up and not changed since.</summary>
    private async Task<List<string>> RolledUpHoursAsync(string day)
    {
        await using var connection = await app.Database.OpenAsync(Ct);
        return [.. await connection.QueryAsync<string>(
            "SELECT r.hour FROM statistics_hours r WHERE substr(r.hour, 1, 10) = @day AND NOT EXISTS (SELECT 1 FROM statistics_stale_hours s WHERE s.hour = r.hour) ORDER BY r.hour",
            new { day })];
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
