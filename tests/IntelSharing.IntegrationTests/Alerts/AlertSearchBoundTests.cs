using System.Text.Json;
using System.Text.Json.Nodes;
using IntelSharing.IntegrationTests.Infrastructure;
using static IntelSharing.IntegrationTests.Alerts.AlertSearchRequests;

namespace IntelSharing.IntegrationTests.Alerts;

/// <summary>
/// What bounds the cost of one search, with the bounds lowered so that a handful of alerts reaches them: a ranked search
/// ranks only the newest <c>Search__RelevanceCandidates</c> matches the caller may see, and on SQLite a page of a walk
/// newest first reads at most <c>Search__SqliteMaxAlertsWalked</c> alerts the caller may see (ADR 41).
/// </summary>
public abstract class AlertSearchBoundTests<TFixture>(TFixture app)
    where TFixture : ApiFixture, IClockedFixture
{
    public const int Candidates = 3;
    public const int AlertsWalked = 5;

    public static readonly IReadOnlyList<KeyValuePair<string, string>> Settings =
    [
        new("Search:RelevanceCandidates", Candidates.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        new("Search:SqliteMaxAlertsWalked", AlertsWalked.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        new("Search:SqliteWalkFromMatches", "1"),
    ];

    [Fact]
    public async Task A_ranked_search_ranks_only_the_newest_matches_the_caller_may_see()
    {
        var originator = await app.CreateAgencyAsync("Border Police Directorate");
        var member = await app.CreateAgencyAsync("Hungarian Police", "HU");
        var outsider = await app.CreateAgencyAsync("Croatian Border Police", "HR");
        var marker = Marker();
        app.Clock.Advance(TimeSpan.FromMinutes(1));
        var oldTitleHit = await SubmitAsync(originator, Smuggling(marker, title: $"Kelebija crossing used again {marker}", summary: "Seen by a patrol."));
        var bodyHits = new List<Guid>();
        for (var i = 0; i < 4; i++)
        {
            app.Clock.Advance(TimeSpan.FromMinutes(1));
            bodyHits.Add(await SubmitAsync(originator, Smuggling(marker, title: $"Van stopped {marker}", summary: "The group crossed near Kelebija.")));
        }

        var hidden = new List<Guid>();
        for (var i = 0; i < Candidates; i++)
        {
            // Newest of all and title hits, for the member only: they would fill an outsider's candidates if the policy
            // decided after the ranking.
            app.Clock.Advance(TimeSpan.FromMinutes(1));
            var alert = Smuggling(marker, title: $"Kelebija informant {marker}", summary: "Informant near Kelebija.");
            alert["tlp"] = "red";
            alert["audience"] = new JsonObject { ["agencies"] = new JsonArray(member.Id.ToString()) };
            hidden.Add(await SubmitAsync(originator, alert));
        }

        // The old title hit would rank first, but only the newest three matches are ranked.
        Assert.Equal(Enumerable.Reverse(bodyHits).Take(Candidates), await SearchAsync(outsider, $"kelebija {marker}", limit: 1, filters: "&sort=relevance"));
        Assert.Equal(Enumerable.Reverse(hidden), await SearchAsync(member, $"kelebija {marker}", limit: 2, filters: "&sort=relevance"));
        Assert.Contains(oldTitleHit, await SearchAsync(outsider, $"kelebija {marker}"));
    }

    /// <summary>SQLite only (a [Fact] in <see cref="AlertSearchBoundTestsOnSqlite"/>): PostgreSQL bounds a search by time (Search__TimeoutMilliseconds).</summary>
    protected async Task A_walk_that_meets_no_match_within_its_bound_answers_an_empty_page_with_a_cursor_that_continues_it()
    {
        var agency = await app.CreateAgencyAsync("Border Police Directorate");
        var marker = Marker();
        app.Clock.Advance(TimeSpan.FromMinutes(1));
        var match = await SubmitAsync(agency, Smuggling(marker, summary: "Group waiting near Kelebija."));
        for (var i = 0; i < 2 * AlertsWalked; i++)
        {
            // Newer alerts the caller sees that hold the marker but not the word: a walk newest first reads them all before the match.
            app.Clock.Advance(TimeSpan.FromMinutes(1));
            await SubmitAsync(agency, Smuggling(marker, summary: "Group waiting near Horgoš."));
        }

        var pages = new List<List<Guid>>();
        var found = await SearchAsync(agency, $"kelebija {marker}", limit: 20, onPage: pages.Add);

        // Each of the first two pages read its five alerts, found nothing, and said where to go on; the third reached the match.
        Assert.Equal([match], found);
        Assert.True(pages.Count >= 3, $"{pages.Count} pages");
        Assert.Empty(pages[0]);
        Assert.Empty(pages[1]);
        Assert.Equal([match], pages[2]);

        // A ranked search ranks the matches among the alerts one page may read, and ends there.
        var ranked = JsonDocument.Parse(await RawSearchAsync(agency, $"kelebija {marker}", limit: 20, filters: "&sort=relevance")).RootElement;
        Assert.Empty(ranked.GetProperty("items").EnumerateArray());
        Assert.Equal(JsonValueKind.Null, ranked.GetProperty("nextCursor").ValueKind);
    }
}

public sealed class AlertSearchBoundTestsOnSqlite(AlertSearchBoundTestsOnSqlite.BoundFixture app)
    : AlertSearchBoundTests<AlertSearchBoundTestsOnSqlite.BoundFixture>(app), IClassFixture<AlertSearchBoundTestsOnSqlite.BoundFixture>
{
    [Fact]
    public Task A_walk_that_meets_no_match_within_its_bound_answers_an_empty_page_with_a_cursor_that_continues_it_on_sqlite() =>
        A_walk_that_meets_no_match_within_its_bound_answers_an_empty_page_with_a_cursor_that_continues_it();

    public sealed class BoundFixture : ClockedSqliteApiFixture
    {
        protected override IEnumerable<KeyValuePair<string, string>> Settings => AlertSearchBoundTests<BoundFixture>.Settings;
    }
}

public sealed class AlertSearchBoundTestsOnPostgres(AlertSearchBoundTestsOnPostgres.BoundFixture app)
    : AlertSearchBoundTests<AlertSearchBoundTestsOnPostgres.BoundFixture>(app), IClassFixture<AlertSearchBoundTestsOnPostgres.BoundFixture>
{
    public sealed class BoundFixture : ClockedPostgresApiFixture
    {
        protected override IEnumerable<KeyValuePair<string, string>> Settings => AlertSearchBoundTests<BoundFixture>.Settings;
    }
}
