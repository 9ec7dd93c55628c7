using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using IntelSharing.Api.Domain;
using IntelSharing.Api.Infrastructure.Security;
using IntelSharing.IntegrationTests.Console;
using IntelSharing.IntegrationTests.Infrastructure;

namespace IntelSharing.IntegrationTests.Statistics;

/// <summary>
/// GET /api/v1/statistics: counts without content, small counts suppressed (with the complementary cell), CSV, what the
/// sharing policy lets each caller count, and bounds. The minimum cell count here is 3 (ConsoleTestSettings).
/// </summary>
public abstract class StatisticsTests<TFixture>(TFixture app) : IAsyncLifetime
    where TFixture : ApiFixture, IFakeClockFixture
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A day of this test's own: the clock moves three days on before each test.</summary>
    private string _day = string.Empty;

    public ValueTask InitializeAsync()
    {
        app.Advance(TimeSpan.FromDays(3));
        _day = app.Clock.GetUtcNow().ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private Task<TestAgency> AgencyAsync(string name, string country, params string[] scopes) =>
        app.CreateAgencyAsync(name, country, AgencyKind.Police, scopes);

    private static JsonObject Alert(string tlp, string[] countries, IEnumerable<Guid>? audience = null, bool cyber = false)
    {
        var alert = cyber ? Samples.CyberAlert() : TestData.SmugglingAlert(tlp, audience);
        alert["tlp"] = tlp;
        alert["countries"] = new JsonArray([.. countries.Select(c => (JsonNode)c)]);
        return alert;
    }

    private async Task<JsonElement> ReportAsync(TestAgency caller, string? period = "day")
    {
        var response = await caller.Client.GetAsync($"/api/v1/statistics?from={_day}&to={_day}&period={period}", Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.ReadJsonAsync();
    }

    private static long? Total(JsonElement report, string category) =>
        report.GetProperty("alertTotals").EnumerateArray().Where(t => t.GetProperty("category").GetString() == category)
            .Select(t => t.GetProperty("count").ValueKind == JsonValueKind.Null ? null : (long?)t.GetProperty("count").GetInt64())
            .SingleOrDefault();

    private static JsonElement Cell(JsonElement report, string category, string country) =>
        report.GetProperty("alerts").EnumerateArray()
            .Single(c => c.GetProperty("category").GetString() == category && c.GetProperty("country").GetString() == country)
            .GetProperty("count");

    [Fact]
    public async Task A_count_under_the_minimum_is_suppressed_with_the_cell_that_would_give_it_away_through_the_total()
    {
        var ministry = await AgencyAsync("Ministry of Interior", "RS", Scopes.AlertsWrite, Scopes.StatisticsRead);
        for (var i = 0; i < 4; i++)
        {
            await ministry.PublishAsync(Alert("green", ["RS"]));
        }

        await ministry.PublishAsync(Alert("green", ["HU"]));
        await ministry.PublishAsync(Alert("green", ["BA"], cyber: true));

        var report = await ReportAsync(ministry);

        Assert.Equal(ConsoleTestSettings.MinimumCellCount, report.GetProperty("minimumCellCount").GetInt32());
        Assert.Equal(JsonValueKind.Null, Cell(report, "migrant_smuggling", "HU").ValueKind); // 1: under 3
        Assert.Equal(JsonValueKind.Null, Cell(report, "migrant_smuggling", "RS").ValueKind); // 4, but 5 − 4 would reveal HU
        Assert.Equal(5, Total(report, "migrant_smuggling"));
        Assert.Equal(JsonValueKind.Null, Cell(report, "cyber_incident", "BA").ValueKind);
        Assert.Null(Total(report, "cyber_incident")); // 1: under 3 itself
        var text = report.GetRawText();
        Assert.DoesNotContain("Horgoš", text, StringComparison.Ordinal);
        Assert.DoesNotContain("summary", text, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Counts_at_or_over_the_minimum_are_shown_and_each_alert_counts_once_in_its_total()
    {
        var ministry = await AgencyAsync("Ministry of Interior", "RS", Scopes.AlertsWrite, Scopes.StatisticsRead);
        for (var i = 0; i < 3; i++)
        {
            await ministry.PublishAsync(Alert("green", ["RS", "HU"]));
        }

        var report = await ReportAsync(ministry);

        Assert.Equal(3, Cell(report, "migrant_smuggling", "RS").GetInt64());
        Assert.Equal(3, Cell(report, "migrant_smuggling", "HU").GetInt64());
        Assert.Equal(3, Total(report, "migrant_smuggling"));
        Assert.Equal(_day, report.GetProperty("alerts")[0].GetProperty("period").GetString());
        Assert.Equal("visible", report.GetProperty("coverage").GetString());
    }

    [Fact]
    public async Task An_outsider_counts_no_restricted_alert_the_named_partner_and_an_administrator_count_them()
    {
        var serbia = await AgencyAsync("Border Police Directorate", "RS", Scopes.AlertsWrite, Scopes.StatisticsRead);
        var hungary = await AgencyAsync("Hungarian Police", "HU", Scopes.StatisticsRead);
        var croatia = await AgencyAsync("Croatian Police", "HR", Scopes.StatisticsRead);
        var administrator = await AgencyAsync("Operations", "RS", Scopes.AgenciesAdmin, Scopes.StatisticsRead);
        for (var i = 0; i < 3; i++)
        {
            await serbia.PublishAsync(Alert("green", ["RS"]));
            await serbia.PublishAsync(Alert("red", ["RS"], audience: [hungary.Id]));
        }

        Assert.Equal(3, Total(await ReportAsync(croatia), "migrant_smuggling"));
        Assert.Equal(6, Total(await ReportAsync(hungary), "migrant_smuggling"));
        Assert.Equal(6, Total(await ReportAsync(serbia), "migrant_smuggling"));
        var all = await ReportAsync(administrator);
        Assert.Equal("all", all.GetProperty("coverage").GetString());
        Assert.True(Total(all, "migrant_smuggling") >= 6);
    }

    [Fact]
    public async Task Deliveries_and_feedback_are_counted_per_partner_for_the_originator_only()
    {
        await using var partners = new PartnerRig();
        var serbia = await AgencyAsync("Border Police Directorate", "RS", Scopes.AlertsWrite, Scopes.StatisticsRead);
        var hungary = await AgencyAsync("Hungarian Police", "HU", Scopes.AlertsRead, Scopes.SubscriptionsManage, Scopes.StatisticsRead);
        var (receiver, _) = await partners.SubscribedReceiverAsync(hungary);
        var alerts = new List<Guid>();
        for (var i = 0; i < 3; i++)
        {
            alerts.Add(await serbia.PublishAsync(Alert("amber+strict", ["RS"], audience: [hungary.Id])));
        }

        await receiver.WaitForAsync(3);
        foreach (var alert in alerts)
        {
            var feedback = await hungary.Client.PostAsync($"/api/v1/alerts/{alert}/feedback", Samples.Json(new JsonObject { ["kind"] = "hit" }), Ct);
            Assert.Equal(HttpStatusCode.Created, feedback.StatusCode);
        }

        await DeliveryTestSettings.EventuallyAsync(async () =>
            (await ReportAsync(serbia)).GetProperty("deliveryTotals").GetProperty("delivered") is { ValueKind: JsonValueKind.Number } total
            && total.GetInt64() == 3, "three deliveries recorded as delivered");
        var report = await ReportAsync(serbia);

        var delivered = Assert.Single(report.GetProperty("deliveries").EnumerateArray());
        Assert.Equal(hungary.Id, delivered.GetProperty("agencyId").GetGuid());
        Assert.Equal(3, delivered.GetProperty("delivered").GetInt64());
        Assert.Equal(0, delivered.GetProperty("failed").GetInt64());
        var feedbackRow = Assert.Single(report.GetProperty("feedback").EnumerateArray());
        Assert.Equal(3, feedbackRow.GetProperty("hits").GetInt64());
        Assert.Equal(0, feedbackRow.GetProperty("actioned").GetInt64());
        var hungarysView = await ReportAsync(hungary);
        Assert.Empty(hungarysView.GetProperty("deliveries").EnumerateArray());
        Assert.Empty(hungarysView.GetProperty("feedback").EnumerateArray());
    }

    [Fact]
    public async Task Accept_text_csv_answers_the_same_counts_as_a_csv_download_with_suppressed_cells_marked()
    {
        var ministry = await AgencyAsync("Ministry of Interior", "RS", Scopes.AlertsWrite, Scopes.StatisticsRead);
        for (var i = 0; i < 3; i++)
        {
            await ministry.PublishAsync(Alert("green", ["RS"]));
        }

        await ministry.PublishAsync(Alert("green", ["BA"], cyber: true));
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/statistics?from={_day}&to={_day}&period=day");
        request.Headers.Accept.ParseAdd("text/csv");

        var response = await ministry.Client.SendAsync(request, Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/csv", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("attachment", response.Content.Headers.ContentDisposition?.DispositionType);
        var lines = (await response.Content.ReadAsStringAsync(Ct)).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("section,period,category,country,agency,measure,value", lines[0]);
        Assert.Contains($"alerts,{_day},migrant_smuggling,RS,,published,3", lines);
        Assert.Contains($"alerts,{_day},cyber_incident,BA,,published,<3", lines);
        Assert.Contains($"alerts,{_day},cyber_incident,,,published_total,<3", lines);
    }

    [Fact]
    public async Task Two_monthly_ranges_a_day_apart_count_the_same_whole_month_so_their_difference_reveals_no_suppressed_day()
    {
        if (app.Clock.GetUtcNow().AddDays(1).Month != app.Clock.GetUtcNow().Month)
        {
            app.Advance(TimeSpan.FromDays(1));
            _day = app.Clock.GetUtcNow().ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        }

        var ministry = await AgencyAsync("Ministry of Interior", "RS", Scopes.AlertsWrite, Scopes.StatisticsRead);
        for (var i = 0; i < 3; i++)
        {
            await ministry.PublishAsync(Alert("green", ["RS"]));
        }

        app.Advance(TimeSpan.FromDays(1));
        var nextDay = app.Clock.GetUtcNow().ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        await ministry.PublishAsync(Alert("green", ["RS"])); // 1 on the next day: suppressed when that day is asked for
        var month = nextDay[..7];

        async Task<(long? Count, string From, string To)> MonthAsync(string from, string to)
        {
            var response = await ministry.Client.GetAsync($"/api/v1/statistics?from={from}&to={to}&period=month", Ct);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var report = await response.ReadJsonAsync();
            var cell = report.GetProperty("alerts").EnumerateArray()
                .Single(c => c.GetProperty("period").GetString() == month && c.GetProperty("category").GetString() == "migrant_smuggling"
                    && c.GetProperty("country").GetString() == "RS").GetProperty("count");
            return (cell.ValueKind == JsonValueKind.Null ? null : cell.GetInt64(), report.GetProperty("from").GetString()!, report.GetProperty("to").GetString()!);
        }

        var upToTheDay = await MonthAsync(_day, _day);
        var upToTheNextDay = await MonthAsync(_day, nextDay);

        Assert.Equal(upToTheDay, upToTheNextDay);
        Assert.Equal(month + "-01", upToTheDay.From);
    }

    [Fact]
    public async Task A_range_too_wide_a_bad_date_or_an_unknown_period_is_a_400_naming_the_field()
    {
        var ministry = await AgencyAsync("Ministry of Interior", "RS", Scopes.StatisticsRead);
        (string Query, string Field)[] cases =
        [
            ("from=2026-01-01&to=2026-04-30&period=day", "to"),
            ("from=2023-01-01&to=2026-01-31&period=month", "to"),
            ("from=2026-03-01&to=2026-02-01", "to"),
            ("from=2026-02-30&to=2026-03-01", "from"),
            ("to=2026-03-01", "from"),
            ("from=2026-03-01", "to"),
            ("from=2026-03-01&to=2026-03-02&period=week", "period"),
            ("from=9999-12-01&to=9999-12-31&period=day", "from"),
        ];

        foreach (var (query, field) in cases)
        {
            var response = await ministry.Client.GetAsync($"/api/v1/statistics?{query}", Ct);
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{query}: {(int)response.StatusCode}");
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            var errors = (await response.ReadJsonAsync()).GetProperty("errors");
            Assert.True(errors.TryGetProperty(field, out _), $"{query}: {errors}");
        }
    }

    [Fact]
    public async Task Reading_statistics_needs_the_statistics_scope_and_not_alert_content_rights()
    {
        var reader = await AgencyAsync("Europol liaison", "NL", Scopes.AlertsRead);
        var reporting = await AgencyAsync("Ministry reporting tool", "RS", Scopes.StatisticsRead);

        Assert.Equal(HttpStatusCode.Forbidden, (await reader.Client.GetAsync($"/api/v1/statistics?from={_day}&to={_day}", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await reporting.Client.GetAsync("/api/v1/alerts", Ct)).StatusCode);
    }
}

public sealed class StatisticsTestsOnSqlite(ConsoleSqliteFixture app) : StatisticsTests<ConsoleSqliteFixture>(app), IClassFixture<ConsoleSqliteFixture>;

public sealed class StatisticsTestsOnPostgres(ConsolePostgresFixture app) : StatisticsTests<ConsolePostgresFixture>(app), IClassFixture<ConsolePostgresFixture>;
