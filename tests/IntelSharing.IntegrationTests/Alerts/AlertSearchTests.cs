using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Dapper;
using IntelSharing.Api.Features.Alerts;
using IntelSharing.Api.Infrastructure.Persistence;
using IntelSharing.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using static IntelSharing.IntegrationTests.Alerts.AlertSearchRequests;

namespace IntelSharing.IntegrationTests.Alerts;

/// <summary>
/// GET /api/v1/alerts?q=: full-text search across Cyrillic and Latin, accents and case, with the filters, the
/// keyset cursor and the sharing policy of the list, newest change first. Tests share the class's database, so each one puts a word of its
/// own (a marker) in its alerts and in its searches, and asserts on its own alerts.
/// </summary>
public abstract class AlertSearchTests<TFixture>(TFixture app)
    where TFixture : ApiFixture, IClockedFixture
{
    private const string Purpose = "Investigation 2026/114 into the Kurdish-route network";

    [Fact]
    public async Task Beograd_in_Cyrillic_or_Latin_and_in_any_case_finds_the_same_alerts()
    {
        var agency = await app.CreateAgencyAsync("Border Police Directorate");
        var marker = Marker();
        var cyrillicTitle = await SubmitAsync(agency, Smuggling(marker, title: "Кријумчари окупљају групу у Београду и Београд као чвориште"));
        var latinSummary = await SubmitAsync(agency, Smuggling(marker, summary: "Transport organised from a safe house in Beograd towards the northern border."));
        var elsewhere = await SubmitAsync(agency, Smuggling(marker, summary: "Transport organised from Niš towards the northern border."));

        foreach (var spelling in new[] { "Београд", "Beograd", "beograd", "BEOGRAD", "БЕОГРАД" })
        {
            var found = await SearchAsync(agency, $"{spelling} {marker}");
            Assert.Equal(new[] { cyrillicTitle, latinSummary }.Order(), found.Order());
        }

        Assert.DoesNotContain(elsewhere, await SearchAsync(agency, $"Beograd {marker}"));
    }

    [Fact]
    public async Task Diacritics_fold_so_Sid_and_Djordje_Dorde_find_alerts_written_either_way()
    {
        var agency = await app.CreateAgencyAsync("Border Police Directorate");
        var marker = Marker();
        var withDiacritics = await SubmitAsync(agency, Smuggling(marker, summary: "Đorđe's group collects people at the railway station in Šid."));
        var withDigraph = await SubmitAsync(agency, Smuggling(marker, summary: "The driver, Djordje, waits near the Sid crossing."));
        var withoutDiacritics = await SubmitAsync(agency, Smuggling(marker, summary: "Dorde keeps the vehicles in a yard in Sid."));
        var cyrillic = await SubmitAsync(agency, Smuggling(marker, summary: "Ђорђе возач чека код Шида и у Шид."));
        Guid[] all = [withDiacritics, withDigraph, withoutDiacritics, cyrillic];

        foreach (var spelling in new[] { "Đorđe", "Djordje", "Dorde", "DJORDJE", "Ђорђе", "đorđe" })
        {
            Assert.Equal(all.Order(), (await SearchAsync(agency, $"{spelling} {marker}")).Order());
        }

        foreach (var spelling in new[] { "Šid", "Sid", "SID", "Шид" })
        {
            Assert.Equal(all.Order(), (await SearchAsync(agency, $"{spelling} {marker}")).Order());
        }
    }

    [Fact]
    public async Task Place_names_on_the_route_are_found_without_their_accents_and_in_Cyrillic()
    {
        var agency = await app.CreateAgencyAsync("Border Police Directorate");
        var marker = Marker();
        // The sample names Preševo and Subotica on the route and Horgoš–Röszke as the crossing point.
        var alert = await SubmitAsync(agency, Smuggling(marker));

        foreach (var place in new[] { "Preševo", "Presevo", "PRESEVO", "Прешево", "Subotica", "Суботица", "Horgoš", "Horgos", "Хоргош", "Röszke", "Roszke", "RÖSZKE", "Horgoš–Röszke" })
        {
            Assert.Equal([alert], await SearchAsync(agency, $"{place} {marker}"));
        }
    }

    [Fact]
    public async Task A_search_lists_the_newest_change_first_and_a_walk_one_at_a_time_keeps_that_order()
    {
        var agency = await app.CreateAgencyAsync("Border Police Directorate");
        var marker = Marker();
        var published = new List<Guid>();
        for (var i = 0; i < 6; i++)
        {
            // Title and summary hits alike: the order is the change time alone.
            app.Clock.Advance(TimeSpan.FromMinutes(1));
            published.Add(await SubmitAsync(agency, i % 2 == 0
                ? Smuggling(marker, title: $"Truck seen leaving Subotica {marker}", summary: "Seen by a patrol.")
                : Smuggling(marker, title: $"Truck seen on the motorway {marker}", summary: "A patrol saw it leaving Subotica.")));
        }

        // An update is a change: the oldest alert becomes the newest.
        app.Clock.Advance(TimeSpan.FromMinutes(1));
        await UpdateAsync(agency, published[0], Smuggling(marker, title: $"Truck seen leaving Subotica again {marker}", summary: "Seen by a patrol."));

        var expected = Enumerable.Reverse(published.Skip(1)).Prepend(published[0]).ToList();
        Assert.Equal(expected, await SearchAsync(agency, $"subotica {marker}"));
        Assert.Equal(expected, await SearchAsync(agency, $"subotica {marker}", limit: 1));
        Assert.Equal(expected, await SearchAsync(agency, $"subotica {marker}", limit: 4));
    }

    [Fact]
    public async Task Alerts_changed_in_the_same_instant_are_paged_by_id_without_gaps_or_repeats()
    {
        var agency = await app.CreateAgencyAsync("Border Police Directorate");
        var marker = Marker();
        app.Clock.Advance(TimeSpan.FromMinutes(1));
        var published = new List<Guid>();
        for (var i = 0; i < 5; i++)
        {
            // The clock stands still: five alerts share one change time, so only the id orders them.
            published.Add(await SubmitAsync(agency, Smuggling(marker)));
        }

        var whole = await SearchAsync(agency, $"horgos {marker}");
        Assert.Equal(published.Order(), whole.Order());
        Assert.Equal(whole, await SearchAsync(agency, $"horgos {marker}", limit: 1));
        Assert.Equal(whole, await SearchAsync(agency, $"horgos {marker}", limit: 2));
    }

    [Fact]
    public async Task An_outsiders_pages_over_many_hidden_matches_hold_only_the_alerts_it_may_see_and_end()
    {
        var originator = await app.CreateAgencyAsync("Border Police Directorate");
        var member = await app.CreateAgencyAsync("Hungarian Police", "HU");
        var outsider = await app.CreateAgencyAsync("Croatian Border Police", "HR");
        var marker = Marker();
        var visible = new List<Guid>();
        var hidden = new List<Guid>();
        var published = new List<Guid>();
        for (var i = 0; i < 24; i++)
        {
            // Mostly red alerts for the member only, newest of all, with a green one every eighth: an outsider's walk
            // passes many matches it may not see before it reaches each one it may.
            app.Clock.Advance(TimeSpan.FromMinutes(1));
            var alert = Smuggling(marker, summary: "Informant near Kelebija.");
            if (i % 8 == 0)
            {
                alert["tlp"] = "green";
                visible.Add(await SubmitAsync(originator, alert));
                published.Add(visible[^1]);
            }
            else
            {
                alert["tlp"] = "red";
                alert["audience"] = new JsonObject { ["agencies"] = new JsonArray(member.Id.ToString()) };
                hidden.Add(await SubmitAsync(originator, alert));
                published.Add(hidden[^1]);
            }
        }

        var pages = new List<List<Guid>>();
        var walked = await SearchAsync(outsider, $"kelebija {marker}", limit: 2, onPage: pages.Add);

        Assert.Equal(Enumerable.Reverse(visible), walked);
        Assert.All(pages, page => Assert.InRange(page.Count, 0, 2));
        Assert.Equal(2, pages.Count);
        Assert.Empty(walked.Intersect(hidden));
        Assert.Equal(Enumerable.Reverse(published), await SearchAsync(member, $"kelebija {marker}", limit: 5));
    }

    [Fact]
    public async Task Alerts_published_during_a_search_walk_do_not_make_it_skip_or_repeat_the_alerts_that_were_there_before()
    {
        var agency = await app.CreateAgencyAsync("Border Police Directorate");
        var marker = Marker();
        for (var i = 0; i < 4; i++)
        {
            app.Clock.Advance(TimeSpan.FromMinutes(1));
            await SubmitAsync(agency, Smuggling(marker, title: i % 2 == 0 ? $"Kelebija {marker}" : $"Border {marker}", summary: "Crossing at Kelebija."));
        }

        var before = await SearchAsync(agency, $"kelebija {marker}");
        var walked = await SearchAsync(agency, $"kelebija {marker}", limit: 1, afterEachPage: async _ =>
        {
            app.Clock.Advance(TimeSpan.FromMinutes(1));
            await SubmitAsync(agency, Smuggling(marker, title: $"Kelebija {marker}", summary: "Crossing at Kelebija."));
        });

        Assert.Equal(walked.Count, walked.Distinct().Count());
        Assert.Equal(before, walked.Where(before.Contains));
    }

    [Fact]
    public async Task Search_combines_with_category_severity_and_country_filters()
    {
        var agency = await app.CreateAgencyAsync("National CERT");
        var marker = Marker();
        var smuggling = await SubmitAsync(agency, Smuggling(marker, summary: "Payments for the Horgoš crossing through a phishing-funded wallet."));
        var cyber = Samples.CyberAlert();
        cyber["title"] = $"Phishing kit used by the Horgoš network {marker}";
        cyber["severity"] = "critical";
        var cyberAlert = await SubmitAsync(agency, cyber);

        Assert.Equal([cyberAlert], await SearchAsync(agency, $"horgos {marker}", filters: "&category=cyber_incident"));
        Assert.Equal([smuggling], await SearchAsync(agency, $"horgos {marker}", filters: "&severity=high&country=HU"));
        Assert.Equal([cyberAlert], await SearchAsync(agency, $"horgos {marker}", filters: "&minSeverity=critical"));
        Assert.Empty(await SearchAsync(agency, $"horgos {marker}", filters: "&country=HR"));
    }

    [Fact]
    public async Task An_outsider_never_finds_a_restricted_alert_by_its_words_nor_learns_of_it_from_the_page()
    {
        var originator = await app.CreateAgencyAsync("Border Police Directorate");
        var member = await app.CreateAgencyAsync("Hungarian Police", "HU");
        var outsider = await app.CreateAgencyAsync("Croatian Border Police", "HR");
        var marker = Marker();
        var secret = Marker();

        async Task<Guid> Marked(string tlp, bool audience, string summary)
        {
            var alert = Smuggling(marker, summary: summary);
            alert["tlp"] = tlp;
            if (audience)
            {
                alert["audience"] = new JsonObject { ["agencies"] = new JsonArray(member.Id.ToString()) };
            }

            return await SubmitAsync(originator, alert);
        }

        var amberToAll = await Marked("amber", audience: false, "Safe house near Kelebija.");
        var amberToMember = await Marked("amber", audience: true, $"Informant {secret} near Kelebija.");
        var strictToMember = await Marked("amber+strict", audience: true, $"Informant {secret} near Kelebija.");
        var redToMember = await Marked("red", audience: true, $"Informant {secret} near Kelebija.");

        Assert.Equal(new[] { amberToAll, amberToMember, strictToMember, redToMember }.Order(), (await SearchAsync(member, $"kelebija {marker}")).Order());
        Assert.Equal([amberToAll], await SearchAsync(outsider, $"kelebija {marker}"));
        Assert.Empty(await SearchAsync(outsider, $"{secret} {marker}"));

        // The same answer as for words nobody wrote: no item, no next page that a hidden hit would have caused.
        var hidden = await RawSearchAsync(outsider, $"{secret} {marker}", limit: 1);
        var nothing = await RawSearchAsync(outsider, $"{Marker()} {marker}", limit: 1);
        Assert.Equal(nothing, hidden);
        var onePage = JsonDocument.Parse(await RawSearchAsync(outsider, $"kelebija {marker}", limit: 1)).RootElement;
        Assert.Equal(JsonValueKind.Null, onePage.GetProperty("nextCursor").ValueKind);
    }

    [Theory]
    [InlineData("newest")]
    [InlineData("relevance")]
    public async Task A_search_finds_exactly_what_the_policy_allows_for_each_tlp_audience_and_caller(string sort)
    {
        var originator = await app.CreateAgencyAsync("Border Police Directorate");
        var named = await app.CreateAgencyAsync("Hungarian Police", "HU");
        var outsider = await app.CreateAgencyAsync("Slovenian Police", "SI");
        var marker = Marker();

        var published = new List<(Guid Id, bool NamedSees, bool OutsiderSees)>();
        foreach (var (tlp, audience, namedSees, outsiderSees) in TestData.PolicyTable)
        {
            app.Clock.Advance(TimeSpan.FromMinutes(1));
            var alert = Smuggling(marker, summary: "Informant near Kelebija.");
            alert["tlp"] = tlp;
            if (audience)
            {
                alert["audience"] = new JsonObject { ["agencies"] = new JsonArray(named.Id.ToString()) };
            }

            published.Add((await SubmitAsync(originator, alert), namedSees, outsiderSees));
        }

        var seenBy = new (TestAgency Caller, IEnumerable<Guid> Expected)[]
        {
            (originator, published.Select(p => p.Id)),
            (named, published.Where(p => p.NamedSees).Select(p => p.Id)),
            (outsider, published.Where(p => p.OutsiderSees).Select(p => p.Id)),
        };
        foreach (var (caller, expected) in seenBy)
        {
            Assert.Equal(expected.Order(), (await SearchAsync(caller, $"kelebija {marker}", limit: 2, filters: $"&sort={sort}")).Order());
        }
    }

    [Fact]
    public async Task Hostile_q_is_searched_as_plain_words_and_never_fails_the_request()
    {
        var agency = await app.CreateAgencyAsync("Border Police Directorate");
        var marker = Marker();
        var alert = await SubmitAsync(agency, Smuggling(marker, summary: "The group moves from Subotica by truck."));

        // Engine syntax is no syntax here: each stays the literal word it spells.
        Assert.Equal([alert], await SearchAsync(agency, $"\"Subotica {marker}"));
        Assert.Equal([alert], await SearchAsync(agency, $"Subotica* {marker}"));
        Assert.Equal([alert], await SearchAsync(agency, $"-Subotica {marker}"));
        Assert.Equal([alert], await SearchAsync(agency, $"^Subotica {marker}:*"));
        Assert.Equal([alert], await SearchAsync(agency, $"!Subotica & {marker} | <->"));
        Assert.Empty(await SearchAsync(agency, $"Subotica OR {Marker()} {marker}"));
        Assert.Empty(await SearchAsync(agency, $"NEAR(Subotica {marker})"));
        Assert.Empty(await SearchAsync(agency, $"title:Subotica {marker}"));

        foreach (var q in new[]
                 {
                     "\"", "\"\"", "'", "*", "-", ":", "NEAR", "NEAR(a b, 3)", "a AND NOT b", "{title body}: x", "x:*", "(((", "a) OR (b",
                     "'; DROP TABLE alerts; --", "\\", "%_%", "&|!<->", "\u0000", "🙂", "Х'; SELECT 1; --", "ǅorđe ǆ ǈ",
                 })
        {
            var response = await agency.Client.GetAsync($"{AlertsPath}?q={Uri.EscapeDataString(q)}", Ct);
            Assert.True(
                response.StatusCode is HttpStatusCode.OK || (response.StatusCode is HttpStatusCode.BadRequest && await NamesField(response, "q")),
                $"q={q} answered {(int)response.StatusCode}");
        }
    }

    [Fact]
    public async Task An_alert_with_a_word_too_long_to_index_is_stored_and_found_by_its_other_words()
    {
        var agency = await app.CreateAgencyAsync("National CERT");
        var marker = Marker();
        // A pasted blob: one "word" of 3,000 letters, longer than PostgreSQL accepts as a lexeme.
        var blob = string.Concat(Enumerable.Repeat("QUJDREVGR0g", 273));

        var id = await SubmitAsync(agency, Smuggling(marker, summary: $"Payload seen near Subotica: {blob}"));

        Assert.Equal([id], await SearchAsync(agency, $"Subotica {marker}"));
    }

    [Theory]
    [InlineData("", "at least one word")]
    [InlineData("*** --- \"\"", "at least one word")]
    [InlineData("one two three four five six seven eight nine", "at most 8 different words")]
    public async Task A_q_without_words_or_with_too_many_is_a_400_naming_q(string q, string message)
    {
        var agency = await app.CreateAgencyAsync("Border Police Directorate");

        var response = await agency.Client.GetAsync($"{AlertsPath}?q={Uri.EscapeDataString(q)}", Ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var errors = (await response.ReadJsonAsync()).GetProperty("errors");
        Assert.Contains(message, errors.GetProperty("q")[0].GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_q_longer_than_200_characters_is_a_400_naming_q()
    {
        var agency = await app.CreateAgencyAsync("Border Police Directorate");

        var response = await agency.Client.GetAsync($"{AlertsPath}?q={new string('a', AlertSearch.MaxQueryLength + 1)}", Ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True(await NamesField(response, "q"));
    }

    /// <summary>PostgreSQL only (a [Fact] in <see cref="AlertSearchTestsOnPostgres"/>): SQLite has no statement timeout, there a search is bounded by its word limits only (docs/search.md).</summary>
    protected async Task A_search_beyond_the_time_bound_is_a_503_naming_q_and_the_next_one_is_answered()
    {
        var agency = await app.CreateAgencyAsync("Border Police Directorate");
        var marker = Marker();
        var alert = await SubmitAsync(agency, Smuggling(marker));

        // A search that cannot finish in time, made certain: another session holds the search index's table, so the
        // search waits on its lock — statement_timeout counts the wait, as it counts a long ranking.
        var started = System.Diagnostics.Stopwatch.StartNew();
        HttpResponseMessage response;
        await using (var holder = await app.Database.OpenAsync(Ct))
        await using (var transaction = await holder.BeginTransactionAsync(Ct))
        {
            await holder.ExecuteAsync("LOCK TABLE alert_search IN ACCESS EXCLUSIVE MODE", transaction: transaction);
            response = await agency.Client.GetAsync($"{AlertsPath}?q={Uri.EscapeDataString($"Horgoš {marker}")}", Ct);
        }

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.ReadJsonAsync();
        Assert.Equal("urn:intelsharing:problem:search-timed-out", problem.GetProperty("type").GetString());
        Assert.True(problem.GetProperty("errors").TryGetProperty("q", out _));
        Assert.InRange(started.Elapsed, TimeSpan.FromMilliseconds(new SearchOptions().TimeoutMilliseconds), TimeSpan.FromSeconds(30));

        // The connection the timed-out search used went back to the pool unharmed.
        Assert.Equal([alert], await SearchAsync(agency, $"Horgoš {marker}"));
    }

    [Fact]
    public async Task A_search_cursor_only_continues_the_same_search()
    {
        var agency = await app.CreateAgencyAsync("Border Police Directorate");
        var marker = Marker();
        await SubmitAsync(agency, Smuggling(marker));
        await SubmitAsync(agency, Smuggling(marker));
        var first = JsonDocument.Parse(await RawSearchAsync(agency, $"Subotica {marker}", limit: 1)).RootElement;
        var cursor = Uri.EscapeDataString(first.GetProperty("nextCursor").GetString()!);

        var sameWordsOtherScript = await agency.Client.GetAsync($"{AlertsPath}?limit=1&q={Uri.EscapeDataString($"СУБОТИЦА {marker}")}&cursor={cursor}", Ct);
        var otherWords = await agency.Client.GetAsync($"{AlertsPath}?limit=1&q={Uri.EscapeDataString($"Horgos {marker}")}&cursor={cursor}", Ct);
        var noSearch = await agency.Client.GetAsync($"{AlertsPath}?limit=1&cursor={cursor}", Ct);

        Assert.Equal(HttpStatusCode.OK, sameWordsOtherScript.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, otherWords.StatusCode);
        Assert.True(await NamesField(otherWords, "cursor"));
        Assert.Equal(HttpStatusCode.BadRequest, noSearch.StatusCode);
        Assert.True(await NamesField(noSearch, "cursor"));
    }

    [Fact]
    public async Task An_update_reindexes_the_alert_under_its_new_words_only()
    {
        var agency = await app.CreateAgencyAsync("Border Police Directorate");
        var marker = Marker();
        var submitted = await agency.Client.PostAsync(AlertsPath, Samples.Json(Smuggling(marker, summary: "Group waiting near Kelebija.")), Ct);
        var id = (await submitted.ReadJsonAsync()).GetProperty("id").GetGuid();

        using var update = new HttpRequestMessage(HttpMethod.Put, $"{AlertsPath}/{id}") { Content = Samples.Json(Smuggling(marker, summary: "Group moved on to Bački Breg.")) };
        update.Headers.TryAddWithoutValidation("If-Match", submitted.Headers.ETag!.Tag);
        Assert.Equal(HttpStatusCode.OK, (await agency.Client.SendAsync(update, Ct)).StatusCode);

        Assert.Empty(await SearchAsync(agency, $"Kelebija {marker}"));
        Assert.Equal([id], await SearchAsync(agency, $"Backi Breg {marker}"));
    }

    [Fact]
    public async Task A_revoked_alert_stays_in_the_list_as_a_tombstone_but_is_no_longer_found_by_its_words()
    {
        var agency = await app.CreateAgencyAsync("Border Police Directorate");
        var marker = Marker();
        var id = await SubmitAsync(agency, Smuggling(marker));

        var revoke = await agency.Client.PostAsync($"{AlertsPath}/{id}/revoke", Samples.Json(new JsonObject { ["reason"] = $"Source withdrew the Subotica report {marker}." }), Ct);

        Assert.Equal(HttpStatusCode.OK, revoke.StatusCode);
        Assert.Empty(await SearchAsync(agency, $"Subotica {marker}"));
        var listed = await (await agency.Client.GetAsync($"{AlertsPath}?limit=200", Ct)).ReadJsonAsync();
        Assert.Contains(listed.GetProperty("items").EnumerateArray(), i => i.GetProperty("id").GetGuid() == id && i.GetProperty("status").GetString() == "revoked");
    }

    [Fact]
    public async Task An_expired_alert_is_no_longer_found_by_its_words()
    {
        var agency = await app.CreateAgencyAsync("Border Police Directorate");
        agency.Client.DefaultRequestHeaders.Add("X-Purpose", Purpose);
        var marker = Marker();
        var alert = Smuggling(marker);
        alert["persons"] = new JsonArray(new JsonObject { ["fullName"] = "Dragan Petrović", ["category"] = "suspect", ["nationality"] = "RS" });
        alert["reviewAt"] = app.Clock.GetUtcNow().AddDays(30).ToString("O");
        alert["expiresAt"] = app.Clock.GetUtcNow().AddDays(60).ToString("O");
        var id = await SubmitAsync(agency, alert);
        Assert.Equal([id], await SearchAsync(agency, $"Subotica {marker}"));

        app.Clock.Advance(TimeSpan.FromDays(61));
        await app.Services.GetRequiredService<ExpirePersonalData>().PurgeDueAsync(Ct);

        Assert.Empty(await SearchAsync(agency, $"Subotica {marker}"));
    }

    [Fact]
    public async Task Alerts_stored_before_search_existed_are_found_once_the_server_starts_on_the_migrated_database()
    {
        var agency = await app.CreateAgencyAsync("Border Police Directorate");
        var marker = Marker();
        var id = await SubmitAsync(agency, Smuggling(marker, summary: "Older report from Horgoš."));
        await using (var connection = await app.Database.OpenAsync(Ct))
        {
            // Back to the schema before migration 15, with this alert stored.
            var drop = app.Provider == DatabaseProvider.Postgres ? "DROP TABLE alert_search" : "DROP TABLE alert_search_fts; DROP TABLE alert_search";
            await connection.ExecuteAsync($"{drop}; DELETE FROM schema_migrations WHERE version = 15");
        }

        await app.Services.GetRequiredService<Migrator>().MigrateAsync(Ct);
        Assert.Empty(await SearchAsync(agency, $"Horgos {marker}"));

        // What a start does after the migrations, however they were applied (at start, `migrate`, or `migration-sql`
        // out of band); twice, as two instances starting together would.
        await AlertSearch.BackfillAsync(app.Database, Ct);
        await AlertSearch.BackfillAsync(app.Database, Ct);

        Assert.Equal([id], await SearchAsync(agency, $"Horgos {marker}"));
    }

    [Fact]
    public async Task Ranked_by_relevance_the_alert_with_the_words_in_its_title_comes_first_then_the_one_that_repeats_them()
    {
        var agency = await app.CreateAgencyAsync("Border Police Directorate");
        var marker = Marker();
        app.Clock.Advance(TimeSpan.FromMinutes(1));
        var inTitle = await SubmitAsync(agency, Smuggling(marker, title: "Van stopped at Kelebija with 14 people", summary: "Driver arrested."));
        app.Clock.Advance(TimeSpan.FromMinutes(1));
        var repeated = await SubmitAsync(agency, Smuggling(marker, title: "Van stopped on the border", summary: "Kelebija again: the third van at Kelebija this week, all from Kelebija's truck stop."));
        app.Clock.Advance(TimeSpan.FromMinutes(1));
        var once = await SubmitAsync(agency, Smuggling(marker, title: "Van stopped on the motorway", summary: "The group had crossed near Kelebija."));

        Assert.Equal([inTitle, repeated, once], await SearchAsync(agency, $"kelebija {marker}", filters: "&sort=relevance"));
        Assert.Equal([once, repeated, inTitle], await SearchAsync(agency, $"kelebija {marker}"));
        Assert.Equal([once, repeated, inTitle], await SearchAsync(agency, $"kelebija {marker}", filters: "&sort=newest"));
    }

    [Fact]
    public async Task Paging_through_a_ranked_search_serves_every_match_once_in_the_order_of_one_page()
    {
        var agency = await app.CreateAgencyAsync("Border Police Directorate");
        var marker = Marker();
        var published = new List<Guid>();
        for (var i = 0; i < 7; i++)
        {
            // Title and summary hits, and alerts changed in the same instant (the clock moves every other alert).
            if (i % 2 == 0)
            {
                app.Clock.Advance(TimeSpan.FromMinutes(1));
            }

            published.Add(await SubmitAsync(agency, i % 3 == 0
                ? Smuggling(marker, title: $"Truck seen leaving Subotica {marker}", summary: "Seen by a patrol.")
                : Smuggling(marker, title: $"Truck seen on the motorway {marker}", summary: "A patrol saw it leaving Subotica.")));
        }

        var whole = await SearchAsync(agency, $"subotica {marker}", filters: "&sort=relevance");

        Assert.Equal(published.Order(), whole.Order());
        Assert.Equal(whole, await SearchAsync(agency, $"subotica {marker}", limit: 1, filters: "&sort=relevance"));
        Assert.Equal(whole, await SearchAsync(agency, $"subotica {marker}", limit: 2, filters: "&sort=relevance"));
        Assert.Equal(whole, await SearchAsync(agency, $"subotica {marker}", limit: 3, filters: "&sort=relevance"));
    }

    [Fact]
    public async Task Alerts_published_during_a_ranked_walk_neither_repeat_nor_hide_the_ranked_ones()
    {
        var agency = await app.CreateAgencyAsync("Border Police Directorate");
        var marker = Marker();
        for (var i = 0; i < 4; i++)
        {
            app.Clock.Advance(TimeSpan.FromMinutes(1));
            await SubmitAsync(agency, Smuggling(marker, title: i % 2 == 0 ? $"Kelebija {marker}" : $"Border {marker}", summary: "Crossing at Kelebija."));
        }

        var before = await SearchAsync(agency, $"kelebija {marker}", filters: "&sort=relevance");
        var walked = await SearchAsync(agency, $"kelebija {marker}", limit: 1, filters: "&sort=relevance", afterEachPage: async _ =>
        {
            // Newer alerts ranked first and last: the walk keeps ranking the alerts it started with, so neither is served.
            app.Clock.Advance(TimeSpan.FromMinutes(1));
            await SubmitAsync(agency, Smuggling(marker, title: $"Kelebija {marker}", summary: "Crossing at Kelebija."));
            await SubmitAsync(agency, Smuggling(marker, title: "Van on the border", summary: "Crossing at Kelebija."));
        });

        Assert.Equal(before, walked);
    }

    [Fact]
    public async Task An_outsiders_ranked_search_for_words_only_hidden_alerts_hold_is_the_answer_to_words_nobody_wrote()
    {
        var originator = await app.CreateAgencyAsync("Border Police Directorate");
        var member = await app.CreateAgencyAsync("Hungarian Police", "HU");
        var outsider = await app.CreateAgencyAsync("Croatian Border Police", "HR");
        var marker = Marker();
        var secret = Marker();
        var visible = await SubmitAsync(originator, Smuggling(marker, summary: "Safe house near Kelebija."));
        var hidden = new List<Guid>();
        foreach (var tlp in new[] { "amber", "amber+strict", "red" })
        {
            app.Clock.Advance(TimeSpan.FromMinutes(1));
            var alert = Smuggling(marker, title: $"Informant {secret} near Kelebija", summary: $"Informant {secret} near Kelebija.");
            alert["tlp"] = tlp;
            alert["audience"] = new JsonObject { ["agencies"] = new JsonArray(member.Id.ToString()) };
            hidden.Add(await SubmitAsync(originator, alert));
        }

        // The hidden alerts hold the words in their titles and would rank first; the outsider's ranking never meets them.
        Assert.Equal([visible], await SearchAsync(outsider, $"kelebija {marker}", filters: "&sort=relevance"));
        Assert.Equal([.. Enumerable.Reverse(hidden), visible], await SearchAsync(member, $"kelebija {marker}", filters: "&sort=relevance"));
        Assert.Equal(
            await RawSearchAsync(outsider, $"{Marker()} {marker}", limit: 1, filters: "&sort=relevance"),
            await RawSearchAsync(outsider, $"{secret} {marker}", limit: 1, filters: "&sort=relevance"));
        var onePage = JsonDocument.Parse(await RawSearchAsync(outsider, $"kelebija {marker}", limit: 1, filters: "&sort=relevance")).RootElement;
        Assert.Equal(JsonValueKind.Null, onePage.GetProperty("nextCursor").ValueKind);
    }

    [Theory]
    [InlineData("oldest")]
    [InlineData("RELEVANCE")]
    [InlineData("")]
    [InlineData("relevance,newest")]
    public async Task An_unknown_sort_is_a_400_naming_sort_with_the_orders_there_are(string sort)
    {
        var agency = await app.CreateAgencyAsync("Border Police Directorate");

        var response = await agency.Client.GetAsync($"{AlertsPath}?q=Subotica&sort={Uri.EscapeDataString(sort)}", Ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var errors = (await response.ReadJsonAsync()).GetProperty("errors");
        Assert.Equal("sort must be newest or relevance.", errors.GetProperty("sort")[0].GetString());
    }

    [Fact]
    public async Task A_sort_without_q_is_a_400_naming_sort()
    {
        var agency = await app.CreateAgencyAsync("Border Police Directorate");

        var response = await agency.Client.GetAsync($"{AlertsPath}?sort=relevance", Ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var errors = (await response.ReadJsonAsync()).GetProperty("errors");
        Assert.Equal("sort orders a search: it needs q.", errors.GetProperty("sort")[0].GetString());
    }

    [Fact]
    public async Task A_ranked_cursor_only_continues_the_same_ranked_search()
    {
        var agency = await app.CreateAgencyAsync("Border Police Directorate");
        var marker = Marker();
        await SubmitAsync(agency, Smuggling(marker));
        await SubmitAsync(agency, Smuggling(marker));
        var ranked = JsonDocument.Parse(await RawSearchAsync(agency, $"Subotica {marker}", limit: 1, filters: "&sort=relevance")).RootElement;
        var rankedCursor = Uri.EscapeDataString(ranked.GetProperty("nextCursor").GetString()!);
        var newest = JsonDocument.Parse(await RawSearchAsync(agency, $"Subotica {marker}", limit: 1)).RootElement;
        var newestCursor = Uri.EscapeDataString(newest.GetProperty("nextCursor").GetString()!);
        var q = Uri.EscapeDataString($"Subotica {marker}");

        var sameWordsOtherScript = await agency.Client.GetAsync($"{AlertsPath}?limit=1&sort=relevance&q={Uri.EscapeDataString($"СУБОТИЦА {marker}")}&cursor={rankedCursor}", Ct);
        var otherWords = await agency.Client.GetAsync($"{AlertsPath}?limit=1&sort=relevance&q={Uri.EscapeDataString($"Horgos {marker}")}&cursor={rankedCursor}", Ct);
        var newestWithRankedCursor = await agency.Client.GetAsync($"{AlertsPath}?limit=1&q={q}&cursor={rankedCursor}", Ct);
        var rankedWithNewestCursor = await agency.Client.GetAsync($"{AlertsPath}?limit=1&sort=relevance&q={q}&cursor={newestCursor}", Ct);

        Assert.Equal(HttpStatusCode.OK, sameWordsOtherScript.StatusCode);
        foreach (var refused in new[] { otherWords, newestWithRankedCursor, rankedWithNewestCursor })
        {
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            Assert.True(await NamesField(refused, "cursor"));
        }
    }
}

public sealed class AlertSearchTestsOnSqlite(ClockedSqliteApiFixture app) : AlertSearchTests<ClockedSqliteApiFixture>(app), IClassFixture<ClockedSqliteApiFixture>;

/// <summary>
/// SQLite chooses between two plans by counting the matches (ADR 35); a test's few alerts take the sorted one, so this
/// class runs every search test again with the walk newest first chosen from the first match.
/// </summary>
public sealed class AlertSearchTestsOnSqliteWalking(AlertSearchTestsOnSqliteWalking.WalkingFixture app)
    : AlertSearchTests<AlertSearchTestsOnSqliteWalking.WalkingFixture>(app), IClassFixture<AlertSearchTestsOnSqliteWalking.WalkingFixture>
{
    public sealed class WalkingFixture : ClockedSqliteApiFixture
    {
        protected override IEnumerable<KeyValuePair<string, string>> Settings => [new("Search:SqliteWalkFromMatches", "1")];
    }
}

public sealed class AlertSearchTestsOnPostgres(ClockedPostgresApiFixture app) : AlertSearchTests<ClockedPostgresApiFixture>(app), IClassFixture<ClockedPostgresApiFixture>
{
    [Fact]
    public Task A_search_the_database_cannot_finish_within_the_time_bound_is_a_503_naming_q_and_the_next_one_is_answered() =>
        A_search_beyond_the_time_bound_is_a_503_naming_q_and_the_next_one_is_answered();
}

/// <summary>The requests of the search tests: alerts marked with a word of their own, and searches followed to their end.</summary>
internal static class AlertSearchRequests
{
    public const string AlertsPath = "/api/v1/alerts";

    public static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A word no other test uses: letters and digits only, so it folds to itself.</summary>
    public static string Marker() => "op" + Guid.NewGuid().ToString("N")[..12];

    public static JsonObject Smuggling(string marker, string? title = null, string? summary = null)
    {
        var alert = Samples.SmugglingAlert();
        alert["title"] = title ?? $"Group of about 40 expected at Horgoš–Röszke tonight ({marker})";
        if (summary is not null)
        {
            alert["summary"] = summary;
            // The sample's route and crossing name Preševo, Subotica and Horgoš–Röszke; a test that writes its own text
            // searches that text only.
            alert["smuggling"]!["route"] = new JsonArray(new JsonObject { ["place"] = "Gevgelija", ["country"] = "MK" });
            alert["smuggling"]!["crossingPoints"] = new JsonArray();
        }

        alert["smuggling"]!["networkNames"] = new JsonArray(marker);
        return alert;
    }

    public static async Task UpdateAsync(TestAgency agency, Guid id, JsonObject alert)
    {
        var current = await agency.Client.GetAsync($"{AlertsPath}/{id}", Ct);
        using var update = new HttpRequestMessage(HttpMethod.Put, $"{AlertsPath}/{id}") { Content = Samples.Json(alert) };
        update.Headers.TryAddWithoutValidation("If-Match", current.Headers.ETag!.Tag);
        Assert.Equal(HttpStatusCode.OK, (await agency.Client.SendAsync(update, Ct)).StatusCode);
    }

    public static async Task<Guid> SubmitAsync(TestAgency agency, JsonObject alert)
    {
        var response = await agency.Client.PostAsync(AlertsPath, Samples.Json(alert), Ct);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.ReadJsonAsync()).GetProperty("id").GetGuid();
    }

    public static async Task<string> RawSearchAsync(TestAgency agency, string q, int limit, string filters = "")
    {
        var response = await agency.Client.GetAsync($"{AlertsPath}?limit={limit}&q={Uri.EscapeDataString(q)}{filters}", Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsStringAsync(Ct);
    }

    /// <summary>Every id the search returns, following nextCursor to the end.</summary>
    public static async Task<List<Guid>> SearchAsync(
        TestAgency agency, string q, int limit = 200, string filters = "", Func<int, Task>? afterEachPage = null, Action<List<Guid>>? onPage = null)
    {
        var ids = new List<Guid>();
        string? cursor = null;
        for (var page = 0; ; page++)
        {
            Assert.True(page < 100, "The walk does not end.");
            var url = $"{AlertsPath}?limit={limit}&q={Uri.EscapeDataString(q)}{filters}" + (cursor is null ? string.Empty : $"&cursor={Uri.EscapeDataString(cursor)}");
            var response = await agency.Client.GetAsync(url, Ct);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{url} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(Ct)}");
            var body = await response.ReadJsonAsync();
            var items = body.GetProperty("items").EnumerateArray().ToList();
            Assert.All(items, i => Assert.Equal("active", i.GetProperty("status").GetString()));
            var pageIds = items.Select(i => i.GetProperty("id").GetGuid()).ToList();
            onPage?.Invoke(pageIds);
            ids.AddRange(pageIds);
            var next = body.GetProperty("nextCursor");
            cursor = next.ValueKind == JsonValueKind.Null ? null : next.GetString();
            if (afterEachPage is not null)
            {
                await afterEachPage(page);
            }

            if (cursor is null)
            {
                return ids;
            }
        }
    }

    public static async Task<bool> NamesField(HttpResponseMessage response, string field) =>
        response.Content.Headers.ContentType?.MediaType == "application/problem+json"
        && (await response.ReadJsonAsync()).GetProperty("errors").TryGetProperty(field, out _);
}
