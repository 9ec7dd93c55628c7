using System.Net;
using System.Text.Json;
using IntelSharing.Api.Domain;
using IntelSharing.Api.Infrastructure.Security;
using IntelSharing.IntegrationTests.Console;
using IntelSharing.IntegrationTests.Infrastructure;

namespace IntelSharing.IntegrationTests.Statistics;

/// <summary>
/// GET /api/v1/subscriptions/health: what each partner endpoint's attempts did in the last hour and day, its latency,
/// last error and next retry, with the delivery ledger's rules for whose subscriptions are shown. Every alert here is
/// amber+strict to one partner, so that no other test's alerts reach these subscriptions.
/// </summary>
public abstract class PartnerHealthTests<TFixture>(TFixture app) : IAsyncLifetime
    where TFixture : ApiFixture, IFakeClockFixture
{
    private readonly PartnerRig _partners = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync()
    {
        // Past the previous test's day, so its attempts are out of this one's windows.
        app.Advance(TimeSpan.FromDays(2));
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync() => _partners.DisposeAsync();

    private Task<TestAgency> AgencyAsync(string name, string country, params string[] scopes) =>
        app.CreateAgencyAsync(name, country, AgencyKind.Police, scopes);

    private static async Task<JsonElement> HealthAsync(TestAgency caller)
    {
        var response = await caller.Client.GetAsync("/api/v1/subscriptions/health", Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.ReadJsonAsync()).GetProperty("items");
    }

    private static JsonElement? Find(JsonElement items, Guid subscriptionId) =>
        items.EnumerateArray().Where(i => i.GetProperty("subscriptionId").GetGuid() == subscriptionId).Select(i => (JsonElement?)i).SingleOrDefault();

    [Fact]
    public async Task A_partner_sees_its_endpoints_deliveries_failures_deaths_latency_and_last_error_and_an_outsider_sees_none_of_it()
    {
        var serbia = await AgencyAsync("Border Police Directorate", "RS", Scopes.AlertsWrite);
        var hungary = await AgencyAsync("Hungarian Police", "HU", Scopes.AlertsRead, Scopes.SubscriptionsManage);
        var croatia = await AgencyAsync("Croatian Police", "HR", Scopes.AlertsRead, Scopes.SubscriptionsManage);
        var operations = await AgencyAsync("Operations", "RS", Scopes.DeliveriesManage);
        var down = false;
        var receiver = await _partners.ReceiverAsync(_ => down
            ? new PartnerReceiver.Response(HttpStatusCode.ServiceUnavailable, Body: "maintenance")
            : new PartnerReceiver.Response(HttpStatusCode.NoContent));
        var (subscriptionId, _) = await _partners.SubscribeAsync(hungary, receiver.Url);

        for (var i = 0; i < 2; i++)
        {
            await serbia.PublishAsync(TestData.SmugglingAlert("amber+strict", agencies: [hungary.Id]));
        }

        await receiver.WaitForAsync(2);
        down = true;
        await serbia.PublishAsync(TestData.SmugglingAlert("amber+strict", agencies: [hungary.Id]));
        await receiver.WaitForAsync(3);
        JsonElement health = default;
        await DeliveryTestSettings.EventuallyAsync(async () =>
        {
            health = Find(await HealthAsync(hungary), subscriptionId) ?? default;
            return health.ValueKind == JsonValueKind.Object && health.GetProperty("lastDay").GetProperty("dead").GetInt64() == 1
                && health.GetProperty("lastDay").GetProperty("delivered").GetInt64() == 2;
        }, "two deliveries recorded and the third dead");

        foreach (var window in new[] { "lastHour", "lastDay" })
        {
            Assert.Equal(2, health.GetProperty(window).GetProperty("delivered").GetInt64());
            Assert.Equal(1, health.GetProperty(window).GetProperty("failed").GetInt64());
            Assert.Equal(1, health.GetProperty(window).GetProperty("dead").GetInt64());
        }

        Assert.Equal(3, health.GetProperty("latencySampleSize").GetInt32());
        Assert.True(health.GetProperty("latencyP50Ms").GetInt32() >= 0);
        Assert.True(health.GetProperty("latencyP99Ms").GetInt32() >= health.GetProperty("latencyP50Ms").GetInt32());
        Assert.Equal(503, health.GetProperty("lastError").GetProperty("statusCode").GetInt32());
        Assert.Equal("closed", health.GetProperty("circuit").GetString());
        Assert.Equal(new Uri(receiver.Url).GetLeftPart(UriPartial.Authority), health.GetProperty("endpoint").GetString());
        Assert.False(health.TryGetProperty("nextRetryAt", out _)); // nothing waits: the dead delivery gave up
        Assert.Null(Find(await HealthAsync(croatia), subscriptionId));
        Assert.NotNull(Find(await HealthAsync(operations), subscriptionId));
    }

    [Fact]
    public async Task Attempts_older_than_a_day_drop_out_of_both_windows()
    {
        var serbia = await AgencyAsync("Border Police Directorate", "RS", Scopes.AlertsWrite);
        var hungary = await AgencyAsync("Hungarian Police", "HU", Scopes.AlertsRead, Scopes.SubscriptionsManage);
        var (receiver, subscriptionId) = await _partners.SubscribedReceiverAsync(hungary);
        await serbia.PublishAsync(TestData.SmugglingAlert("amber+strict", agencies: [hungary.Id]));
        await receiver.WaitForAsync(1);
        await DeliveryTestSettings.EventuallyAsync(async () =>
            Find(await HealthAsync(hungary), subscriptionId)?.GetProperty("lastHour").GetProperty("delivered").GetInt64() == 1, "the delivery recorded");

        app.Advance(TimeSpan.FromHours(2));
        var afterTwoHours = Find(await HealthAsync(hungary), subscriptionId)!.Value;
        app.Advance(TimeSpan.FromDays(1));
        var afterADay = Find(await HealthAsync(hungary), subscriptionId)!.Value;

        Assert.Equal(0, afterTwoHours.GetProperty("lastHour").GetProperty("delivered").GetInt64());
        Assert.Equal(1, afterTwoHours.GetProperty("lastDay").GetProperty("delivered").GetInt64());
        Assert.Equal(0, afterADay.GetProperty("lastDay").GetProperty("delivered").GetInt64());
        Assert.False(afterADay.TryGetProperty("latencyP50Ms", out _));
    }

    /// <summary>
    /// The plotted hours are whole clock hours (ADR 50: from attempt_hours); the day and the last hour are not. The part of
    /// the day before the first plotted hour, and a last hour that spans two clock hours, are counted from the attempts.
    /// </summary>
    [Fact]
    public async Task The_day_counts_the_part_of_its_first_hour_no_plotted_hour_shows_and_the_last_hour_spans_two_clock_hours()
    {
        var serbia = await AgencyAsync("Border Police Directorate", "RS", Scopes.AlertsWrite);
        var hungary = await AgencyAsync("Hungarian Police", "HU", Scopes.AlertsRead, Scopes.SubscriptionsManage);
        var (receiver, subscriptionId) = await _partners.SubscribedReceiverAsync(hungary);
        var now = app.Clock.GetUtcNow();
        var toTwentyToTheHour = TimeSpan.FromMinutes((100 - now.Minute) % 60) - TimeSpan.FromSeconds(now.Second);
        app.Advance(toTwentyToTheHour > TimeSpan.Zero ? toTwentyToTheHour : toTwentyToTheHour + TimeSpan.FromHours(1));
        Assert.Equal(40, app.Clock.GetUtcNow().Minute);
        await serbia.PublishAsync(TestData.SmugglingAlert("amber+strict", agencies: [hungary.Id]));
        await receiver.WaitForAsync(1);
        await DeliveryTestSettings.EventuallyAsync(async () => await FinishedAsync([subscriptionId]) == 1, "the first attempt recorded");

        // 23 h 30 min later (at :10): the first attempt is in the last day, in the hour before the first plotted one.
        app.Advance(TimeSpan.FromMinutes((23 * 60) + 30));
        await serbia.PublishAsync(TestData.SmugglingAlert("amber+strict", agencies: [hungary.Id]));
        await receiver.WaitForAsync(2);
        await DeliveryTestSettings.EventuallyAsync(async () => await FinishedAsync([subscriptionId]) == 2, "the second attempt recorded");
        var both = Find(await HealthAsync(hungary), subscriptionId)!.Value;

        // 55 minutes later (at :05 of the next hour): the second attempt is in the last 60 minutes, in the previous clock
        // hour; the first has left the day.
        app.Advance(TimeSpan.FromMinutes(55));
        var later = Find(await HealthAsync(hungary), subscriptionId)!.Value;

        static long Delivered(JsonElement health, string window) => health.GetProperty(window).GetProperty("delivered").GetInt64();
        static long Plotted(JsonElement health) => health.GetProperty("hours").EnumerateArray().Sum(h => h.GetProperty("delivered").GetInt64());
        Assert.Equal((2L, 1L, 1L), (Delivered(both, "lastDay"), Delivered(both, "lastHour"), Plotted(both)));
        Assert.Equal((1L, 1L, 1L), (Delivered(later, "lastDay"), Delivered(later, "lastHour"), Plotted(later)));
    }

    [Fact]
    public async Task The_last_24_hours_list_every_clock_hour_with_the_attempts_and_latency_of_the_hour_they_started_in()
    {
        var serbia = await AgencyAsync("Border Police Directorate", "RS", Scopes.AlertsWrite);
        var hungary = await AgencyAsync("Hungarian Police", "HU", Scopes.AlertsRead, Scopes.SubscriptionsManage);
        var down = false;
        var receiver = await _partners.ReceiverAsync(_ => new PartnerReceiver.Response(down ? HttpStatusCode.ServiceUnavailable : HttpStatusCode.NoContent));
        var (subscriptionId, _) = await _partners.SubscribeAsync(hungary, receiver.Url);
        var deliveredHour = HourOf(app.Clock.GetUtcNow());
        await serbia.PublishAsync(TestData.SmugglingAlert("amber+strict", agencies: [hungary.Id]));
        await receiver.WaitForAsync(1);
        await DeliveryTestSettings.EventuallyAsync(async () =>
            Find(await HealthAsync(hungary), subscriptionId)?.GetProperty("lastHour").GetProperty("delivered").GetInt64() == 1, "the delivery recorded");

        app.Advance(TimeSpan.FromHours(3));
        down = true;
        var failedHour = HourOf(app.Clock.GetUtcNow());
        await serbia.PublishAsync(TestData.SmugglingAlert("amber+strict", agencies: [hungary.Id]));
        await receiver.WaitForAsync(2);
        JsonElement[] hours = [];
        await DeliveryTestSettings.EventuallyAsync(async () =>
        {
            hours = [.. Find(await HealthAsync(hungary), subscriptionId)!.Value.GetProperty("hours").EnumerateArray()];
            return hours.Sum(h => h.GetProperty("dead").GetInt64()) == 1;
        }, "the failed delivery recorded as dead");

        Assert.Equal(24, hours.Length);
        Assert.Equal(failedHour, hours[^1].GetProperty("hour").GetDateTimeOffset());
        Assert.Equal(failedHour.AddHours(-23), hours[0].GetProperty("hour").GetDateTimeOffset());
        var delivered = hours.Single(h => h.GetProperty("hour").GetDateTimeOffset() == deliveredHour);
        var failed = hours[^1];
        Assert.Equal((1L, 0L, 0L), Counts(delivered));
        Assert.Equal((0L, 1L, 1L), Counts(failed));
        Assert.All(new[] { delivered, failed }, h => Assert.True(h.GetProperty("latencyMaxMs").GetInt32() >= h.GetProperty("latencyMeanMs").GetInt64()));
        Assert.All(hours.Where(h => h.GetProperty("hour").GetDateTimeOffset() != deliveredHour && h.GetProperty("hour").GetDateTimeOffset() != failedHour), h =>
        {
            Assert.Equal((0L, 0L, 0L), Counts(h));
            Assert.False(h.TryGetProperty("latencyMeanMs", out _));
        });
    }

    private static DateTimeOffset HourOf(DateTimeOffset at) => new(at.Year, at.Month, at.Day, at.Hour, 0, 0, TimeSpan.Zero);

    private static (long Delivered, long Failed, long Dead) Counts(JsonElement hour) =>
        (hour.GetProperty("delivered").GetInt64(), hour.GetProperty("failed").GetInt64(), hour.GetProperty("dead").GetInt64());

    /// <summary>
    /// Migration 29 moved the counting from a join of every attempt to its delivery onto the attempts themselves; this
    /// holds the new answer to the old statement (kept here as it was) over attempts of two agencies' subscriptions in
    /// several hours: delivered, failed, died, and the hour's mean and slowest attempt.
    /// </summary>
    [Fact]
    public async Task The_counts_per_hour_and_window_are_those_of_the_old_join_over_two_agencies_subscriptions()
    {
        var serbia = await AgencyAsync("Border Police Directorate", "RS", Scopes.AlertsWrite);
        var hungary = await AgencyAsync("Hungarian Police", "HU", Scopes.AlertsRead, Scopes.SubscriptionsManage);
        var croatia = await AgencyAsync("Croatian Police", "HR", Scopes.AlertsRead, Scopes.SubscriptionsManage);
        var operations = await AgencyAsync("Operations", "RS", Scopes.DeliveriesManage);
        var down = false;
        var receiver = await _partners.ReceiverAsync(_ => new PartnerReceiver.Response(down ? HttpStatusCode.ServiceUnavailable : HttpStatusCode.NoContent));
        var (hungarys, _) = await _partners.SubscribeAsync(hungary, receiver.Url);
        var (croatias, _) = await _partners.SubscribeAsync(croatia, receiver.Url);
        var sent = 0;
        foreach (var (hoursLater, failing, toHungary, toCroatia) in new[] { (0, false, 2, 1), (2, true, 1, 2), (1, false, 3, 0), (1, true, 0, 1) })
        {
            app.Advance(TimeSpan.FromHours(hoursLater));
            down = failing;
            for (var i = 0; i < toHungary; i++)
            {
                await serbia.PublishAsync(TestData.SmugglingAlert("amber+strict", agencies: [hungary.Id]));
            }

            for (var i = 0; i < toCroatia; i++)
            {
                await serbia.PublishAsync(TestData.SmugglingAlert("amber+strict", agencies: [croatia.Id]));
            }

            sent += toHungary + toCroatia;
            await receiver.WaitForAsync(sent);
            // Recorded before the clock moves on, so that each attempt starts in the hour it was sent in.
            await DeliveryTestSettings.EventuallyAsync(async () => await FinishedAsync([hungarys, croatias]) == sent, "the attempts recorded");
        }

        var items = default(JsonElement);
        await DeliveryTestSettings.EventuallyAsync(async () =>
        {
            items = await HealthAsync(operations);
            return new[] { hungarys, croatias }.Sum(id => Find(items, id)?.GetProperty("lastDay").EnumerateObject().Sum(p => p.Name == "dead" ? 0 : p.Value.GetInt64()) ?? 0) == sent;
        }, "every attempt recorded");
        var old = await OldCountsAsync([hungarys, croatias]);

        foreach (var id in new[] { hungarys, croatias })
        {
            var health = Find(items, id)!.Value;
            var hours = health.GetProperty("hours").EnumerateArray()
                .Where(h => h.GetProperty("delivered").GetInt64() + h.GetProperty("failed").GetInt64() > 0)
                .Select(h => (h.GetProperty("hour").GetDateTimeOffset().ToString("yyyy-MM-dd'T'HH", System.Globalization.CultureInfo.InvariantCulture),
                    Counts(h), h.GetProperty("latencyMeanMs").GetInt64(), h.GetProperty("latencyMaxMs").GetInt32()))
                .ToList();
            var expected = old.Where(o => o.SubscriptionId == id).OrderBy(o => o.Hour, StringComparer.Ordinal)
                .Select(o => (o.Hour, (o.Delivered, o.Failed, o.Dead), o.MeanMs, o.MaxMs)).ToList();
            Assert.Equal(expected, hours);
            Assert.Equal((expected.Sum(e => e.Item2.Delivered), expected.Sum(e => e.Item2.Failed), expected.Sum(e => e.Item2.Dead)),
                (health.GetProperty("lastDay").GetProperty("delivered").GetInt64(), health.GetProperty("lastDay").GetProperty("failed").GetInt64(),
                 health.GetProperty("lastDay").GetProperty("dead").GetInt64()));
        }

        Assert.Equal(3, old.Count(o => o.SubscriptionId == hungarys));
        Assert.Equal(3, old.Count(o => o.SubscriptionId == croatias));
        Assert.Contains(old, o => o.Dead > 0 && o.SubscriptionId == croatias);
    }

    private sealed record OldHour
    {
        public Guid SubscriptionId { get; init; }

        public string Hour { get; init; } = string.Empty;

        public long Delivered { get; init; }

        public long Failed { get; init; }

        public long Dead { get; init; }

        public long MeanMs { get; init; }

        public int MaxMs { get; init; }
    }

    private async Task<long> FinishedAsync(IReadOnlyList<Guid> subscriptions)
    {
        await using var connection = await app.Database.OpenAsync(Ct);
        var parameters = new Dapper.DynamicParameters();
        var ids = IntelSharing.Api.Infrastructure.Persistence.SqlLists.In(parameters, "subscription", subscriptions.ToList());
        return await Dapper.SqlMapper.ExecuteScalarAsync<long>(connection,
            $"SELECT COUNT(*) FROM deliveries WHERE subscription_id IN {ids} AND state IN ('delivered', 'dead')", parameters);
    }

    /// <summary>The hourly statement partner health ran before migration 29, joining each attempt to its delivery.</summary>
    private async Task<List<OldHour>> OldCountsAsync(IReadOnlyList<Guid> subscriptions)
    {
        await using var connection = await app.Database.OpenAsync(Ct);
        var hour = app.Database.Dialect.Provider == IntelSharing.Api.Infrastructure.Persistence.DatabaseProvider.Postgres
            ? "to_char(da.started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24')"
            : "substr(da.started_at, 1, 13)";
        const string Succeeded = "da.status_code BETWEEN 200 AND 299 AND da.error IS NULL";
        var parameters = new Dapper.DynamicParameters(new { dayAgo = app.Clock.GetUtcNow().AddDays(-1) });
        var ids = IntelSharing.Api.Infrastructure.Persistence.SqlLists.In(parameters, "subscription", subscriptions.ToList());
        return [.. await Dapper.SqlMapper.QueryAsync<OldHour>(connection,
            $"""
            SELECT d.subscription_id AS SubscriptionId, {hour} AS Hour,
                   SUM(CASE WHEN {Succeeded} THEN 1 ELSE 0 END) AS Delivered,
                   SUM(CASE WHEN NOT ({Succeeded}) THEN 1 ELSE 0 END) AS Failed,
                   SUM(CASE WHEN d.state = 'dead' AND da.attempt = d.attempts THEN 1 ELSE 0 END) AS Dead,
                   CAST(ROUND(AVG(da.duration_ms)) AS BIGINT) AS MeanMs, MAX(da.duration_ms) AS MaxMs
            FROM delivery_attempts da JOIN deliveries d ON d.id = da.delivery_id
            WHERE da.started_at >= @dayAgo AND d.subscription_id IN {ids}
            GROUP BY d.subscription_id, {hour}
            """, parameters)];
    }

    [Fact]
    public async Task A_limit_out_of_bounds_is_a_400_naming_the_field()
    {
        var hungary = await AgencyAsync("Hungarian Police", "HU", Scopes.SubscriptionsManage);

        var response = await hungary.Client.GetAsync("/api/v1/subscriptions/health?limit=1000", Ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True((await response.ReadJsonAsync()).GetProperty("errors").TryGetProperty("limit", out _));
    }
}

public sealed class PartnerHealthTestsOnSqlite(ConsoleSqliteFixture app) : PartnerHealthTests<ConsoleSqliteFixture>(app), IClassFixture<ConsoleSqliteFixture>;

public sealed class PartnerHealthTestsOnPostgres(ConsolePostgresFixture app) : PartnerHealthTests<ConsolePostgresFixture>(app), IClassFixture<ConsolePostgresFixture>;
