using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using IntelSharing.IntegrationTests.Infrastructure;

namespace IntelSharing.IntegrationTests.Alerts;

/// <summary>
/// GET /api/v1/alerts: keyset pages, filters and the sharing policy. Agencies share the class's database, so every
/// test creates its own agencies and asserts on the alerts it created, plus properties every returned item must have.
/// </summary>
public abstract class ListAlertsTests(ApiFixture app)
{
    private const string Alerts = "/api/v1/alerts";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private sealed record Created(Guid Id, DateTimeOffset UpdatedAt);

    [Fact]
    public async Task Walking_the_list_two_at_a_time_returns_every_visible_alert_exactly_once_oldest_change_first()
    {
        var agency = await app.CreateAgencyAsync("Border Police Directorate");
        var mine = new List<Created>();
        for (var i = 0; i < 5; i++)
        {
            mine.Add(await SubmitAsync(agency, i % 2 == 0 ? Samples.SmugglingAlert() : Samples.CyberAlert()));
        }

        var walked = await WalkAsync(agency.Client, string.Empty, limit: 2);
        var everything = await WalkAsync(agency.Client, string.Empty, limit: 200);

        Assert.Equal(everything.Select(Id), walked.Select(Id));
        Assert.Equal(walked.Count, walked.Select(Id).Distinct().Count());
        AssertInChangeOrder(walked);
        Assert.Equal(mine.Select(c => c.Id), walked.Select(Id).Where(mine.Select(c => c.Id).Contains));
    }

    [Fact]
    public async Task Alerts_published_during_a_walk_do_not_make_it_skip_or_repeat_the_alerts_that_were_there_before()
    {
        var agency = await app.CreateAgencyAsync("Border Police Directorate");
        var partner = await app.CreateAgencyAsync("Hungarian Police", "HU");
        for (var i = 0; i < 5; i++)
        {
            await SubmitAsync(agency, Samples.SmugglingAlert());
        }

        var before = (await WalkAsync(agency.Client, string.Empty, limit: 200)).Select(Id).ToList();
        var arrived = new List<Guid>();

        var walked = await WalkAsync(agency.Client, string.Empty, limit: 2, afterEachPage: async page =>
        {
            // A new alert after each of the first three pages, from the agency itself and from a partner. Not after the
            // fourth: with only this test's alerts in the database that page can be the last one (no nextCursor, since
            // nothing newer existed when it was read), and an alert published after a walk ends is not part of it.
            if (page < 3)
            {
                arrived.Add((await SubmitAsync(page % 2 == 0 ? agency : partner, Samples.CyberAlert())).Id);
            }
        });

        var ids = walked.Select(Id).ToList();
        Assert.Equal(ids.Count, ids.Distinct().Count());
        Assert.Equal(before, ids.Where(before.Contains));
        AssertInChangeOrder(walked);
        // Newer changes sort after everything that existed, so a client following nextCursor reaches them too.
        Assert.Equal(arrived, ids.Skip(before.Count));
    }

    [Fact]
    public async Task Filtering_by_category_returns_exactly_the_alerts_of_that_category()
    {
        var agency = await app.CreateAgencyAsync("Border Police Directorate");
        var smuggling = new[] { await SubmitAsync(agency, Samples.SmugglingAlert()), await SubmitAsync(agency, Samples.SmugglingAlert()) };
        var cyber = new[] { await SubmitAsync(agency, Samples.CyberAlert()), await SubmitAsync(agency, Samples.CyberAlert()) };

        var cyberOnly = await WalkAsync(agency.Client, "&category=cyber_incident", limit: 200);
        var both = await WalkAsync(agency.Client, "&category=migrant_smuggling,cyber_incident", limit: 200);

        Assert.All(cyberOnly, item => Assert.Equal("cyber_incident", item.GetProperty("category").GetString()));
        Assert.Equal(cyber.Select(c => c.Id), Mine(cyberOnly, smuggling.Concat(cyber)));
        Assert.Equal(smuggling.Concat(cyber).Select(c => c.Id), Mine(both, smuggling.Concat(cyber)));
    }

    [Fact]
    public async Task Filtering_by_a_severity_list_or_a_minimum_severity_returns_exactly_the_matching_alerts()
    {
        var agency = await app.CreateAgencyAsync("National CERT");
        var bySeverity = new Dictionary<string, Created>();
        foreach (var severity in new[] { "low", "medium", "high", "critical" })
        {
            var alert = Samples.CyberAlert();
            alert["severity"] = severity;
            bySeverity[severity] = await SubmitAsync(agency, alert);
        }

        var listed = await WalkAsync(agency.Client, "&severity=low,critical", limit: 200);
        var atLeastHigh = await WalkAsync(agency.Client, "&minSeverity=high", limit: 200);
        var atLeastMedium = await WalkAsync(agency.Client, "&minSeverity=medium", limit: 200);

        Assert.All(listed, item => Assert.Contains(item.GetProperty("severity").GetString(), new[] { "low", "critical" }));
        Assert.Equal([bySeverity["low"].Id, bySeverity["critical"].Id], Mine(listed, bySeverity.Values));
        Assert.All(atLeastHigh, item => Assert.Contains(item.GetProperty("severity").GetString(), new[] { "high", "critical" }));
        Assert.Equal([bySeverity["high"].Id, bySeverity["critical"].Id], Mine(atLeastHigh, bySeverity.Values));
        Assert.Equal([bySeverity["medium"].Id, bySeverity["high"].Id, bySeverity["critical"].Id], Mine(atLeastMedium, bySeverity.Values));
    }

    [Fact]
    public async Task Filtering_by_a_country_list_returns_exactly_the_alerts_concerning_any_of_them()
    {
        var agency = await app.CreateAgencyAsync("Border Police Directorate");
        async Task<Created> Concerning(params string[] countries)
        {
            var alert = Samples.CyberAlert();
            alert["countries"] = new JsonArray([.. countries.Select(c => (JsonNode)c)]);
            return await SubmitAsync(agency, alert);
        }

        var serbiaHungary = await Concerning("RS", "HU");
        var croatia = await Concerning("HR");
        var bosniaMontenegro = await Concerning("BA", "ME");
        var kosovo = await Concerning("XK");
        Created[] mine = [serbiaHungary, croatia, bosniaMontenegro, kosovo];

        var listed = await WalkAsync(agency.Client, "&country=HR,XK", limit: 200);
        var montenegro = await WalkAsync(agency.Client, "&country=ME", limit: 200);

        Assert.All(listed, item => Assert.Contains(item.GetProperty("countries").EnumerateArray(), c => c.GetString() is "HR" or "XK"));
        Assert.Equal([croatia.Id, kosovo.Id], Mine(listed, mine));
        Assert.Equal([bosniaMontenegro.Id], Mine(montenegro, mine));
    }

    [Fact]
    public async Task Filtering_by_updated_after_returns_exactly_the_alerts_changed_after_that_instant()
    {
        var agency = await app.CreateAgencyAsync("Border Police Directorate");
        var first = await SubmitAsync(agency, Samples.SmugglingAlert());
        var second = await SubmitAsync(agency, Samples.SmugglingAlert());
        var third = await SubmitAsync(agency, Samples.CyberAlert());
        var since = Uri.EscapeDataString(first.UpdatedAt.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffffzzz", CultureInfo.InvariantCulture));

        var listed = await WalkAsync(agency.Client, $"&updatedAfter={since}", limit: 200);

        Assert.All(listed, item => Assert.True(item.GetProperty("updatedAt").GetDateTimeOffset() > first.UpdatedAt));
        Assert.Equal([second.Id, third.Id], Mine(listed, [first, second, third]));
    }

    [Fact]
    public async Task Filters_combine_and_pages_of_a_filtered_list_keep_the_filter()
    {
        var agency = await app.CreateAgencyAsync("National CERT");
        var matching = new List<Created>();
        var others = new List<Created>();
        for (var i = 0; i < 6; i++)
        {
            var alert = i % 2 == 0 ? Samples.CyberAlert() : Samples.SmugglingAlert();
            alert["severity"] = i < 3 ? "critical" : "low";
            (i % 2 == 0 && i < 3 ? matching : others).Add(await SubmitAsync(agency, alert));
        }

        var walked = await WalkAsync(agency.Client, "&category=cyber_incident&minSeverity=high&country=BA", limit: 1);

        Assert.All(walked, item =>
        {
            Assert.Equal("cyber_incident", item.GetProperty("category").GetString());
            Assert.Contains(item.GetProperty("severity").GetString(), new[] { "high", "critical" });
            Assert.Contains(item.GetProperty("countries").EnumerateArray(), c => c.GetString() == "BA");
        });
        Assert.Equal(matching.Select(c => c.Id), Mine(walked, matching.Concat(others)));
    }

    [Fact]
    public async Task An_agency_lists_and_reads_only_the_alerts_the_sharing_policy_lets_it_see()
    {
        var originator = await app.CreateAgencyAsync("Border Police Directorate");
        var member = await app.CreateAgencyAsync("Hungarian Police", "HU");
        var outsider = await app.CreateAgencyAsync("Croatian Border Police", "HR");

        async Task<Created> Marked(string tlp, bool audience)
        {
            var alert = tlp is "clear" or "green" ? Samples.CyberAlert() : Samples.SmugglingAlert();
            alert["tlp"] = tlp;
            if (audience)
            {
                alert["audience"] = new JsonObject { ["agencies"] = new JsonArray(member.Id.ToString()) };
            }

            return await SubmitAsync(originator, alert);
        }

        var clear = await Marked("clear", audience: false);
        var green = await Marked("green", audience: false);
        var amberToAll = await Marked("amber", audience: false);
        var amberToMember = await Marked("amber", audience: true);
        var strictToMember = await Marked("amber+strict", audience: true);
        var redToMember = await Marked("red", audience: true);
        Created[] all = [clear, green, amberToAll, amberToMember, strictToMember, redToMember];

        await AssertSeesExactly(originator, all, all);
        await AssertSeesExactly(member, all, all);
        await AssertSeesExactly(outsider, all, [clear, green, amberToAll]);
    }

    private static async Task AssertSeesExactly(TestAgency agency, Created[] all, Created[] visible)
    {
        var listed = await WalkAsync(agency.Client, string.Empty, limit: 200);
        Assert.Equal(visible.Select(c => c.Id), Mine(listed, all));

        foreach (var alert in all)
        {
            var read = await agency.Client.GetAsync($"{Alerts}/{alert.Id}", Ct);
            Assert.Equal(visible.Contains(alert) ? HttpStatusCode.OK : HttpStatusCode.NotFound, read.StatusCode);
        }
    }

    private static async Task<Created> SubmitAsync(TestAgency agency, JsonObject alert)
    {
        var response = await agency.Client.PostAsync(Alerts, Samples.Json(alert), Ct);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var body = await response.ReadJsonAsync();
        return new Created(body.GetProperty("id").GetGuid(), body.GetProperty("updatedAt").GetDateTimeOffset());
    }

    /// <summary>Follows nextCursor from the first page to the last, checking the shape of every page.</summary>
    private static async Task<List<JsonElement>> WalkAsync(HttpClient client, string filters, int limit, Func<int, Task>? afterEachPage = null)
    {
        var items = new List<JsonElement>();
        string? cursor = null;
        for (var page = 0; ; page++)
        {
            Assert.True(page < 1000, "The walk does not end.");
            var url = $"{Alerts}?limit={limit}{filters}" + (cursor is null ? string.Empty : $"&cursor={Uri.EscapeDataString(cursor)}");
            var response = await client.GetAsync(url, Ct);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var body = await response.ReadJsonAsync();
            var pageItems = body.GetProperty("items").EnumerateArray().ToList();
            var next = body.GetProperty("nextCursor");
            cursor = next.ValueKind == JsonValueKind.Null ? null : next.GetString();

            // A page with a next cursor is full; the last page may be short.
            Assert.True(cursor is null ? pageItems.Count <= limit : pageItems.Count == limit, $"page {page} has {pageItems.Count} items");
            items.AddRange(pageItems);
            if (afterEachPage is not null)
            {
                await afterEachPage(page);
            }

            if (cursor is null)
            {
                return items;
            }
        }
    }

    private static Guid Id(JsonElement item) => item.GetProperty("id").GetGuid();

    /// <summary>The ids of the given alerts in the order the list returned them.</summary>
    private static List<Guid> Mine(IEnumerable<JsonElement> listed, IEnumerable<Created> mine)
    {
        var ids = mine.Select(c => c.Id).ToHashSet();
        return listed.Select(Id).Where(ids.Contains).ToList();
    }

    private static void AssertInChangeOrder(List<JsonElement> items)
    {
        for (var i = 1; i < items.Count; i++)
        {
            var (previousTime, time) = (items[i - 1].GetProperty("updatedAt").GetDateTimeOffset(), items[i].GetProperty("updatedAt").GetDateTimeOffset());
            Assert.True(
                previousTime < time || (previousTime == time && string.CompareOrdinal(Id(items[i - 1]).ToString(), Id(items[i]).ToString()) < 0),
                $"item {i} ({Id(items[i])} at {time:O}) is listed after {Id(items[i - 1])} at {previousTime:O}");
        }
    }
}

public sealed class ListAlertsTestsOnSqlite(SqliteApiFixture app) : ListAlertsTests(app), IClassFixture<SqliteApiFixture>;

public sealed class ListAlertsTestsOnPostgres(PostgresApiFixture app) : ListAlertsTests(app), IClassFixture<PostgresApiFixture>;
