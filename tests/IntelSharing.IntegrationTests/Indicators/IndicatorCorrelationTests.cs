using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Dapper;
using IntelSharing.Api.Domain;
using IntelSharing.Api.Infrastructure.Persistence;
using IntelSharing.Api.Infrastructure.Security;
using IntelSharing.IntegrationTests.Infrastructure;

namespace IntelSharing.IntegrationTests.Indicators;

/// <summary>Loopback delivery on the real clock, and a correlation worker that looks for work every 100 ms.</summary>
public static class CorrelationTestSettings
{
    public static readonly KeyValuePair<string, string>[] Settings =
    [
        .. DeliveryTestSettings.Loopback,
        new("Correlation:Enabled", "true"),
        new("Correlation:PollIntervalMilliseconds", "100"),
        new("Correlation:MaxAlertsPerValue", "10"),
    ];
}

public sealed class CorrelationSqliteFixture : SqliteApiFixture
{
    protected override IEnumerable<KeyValuePair<string, string>> Settings => CorrelationTestSettings.Settings;
}

public sealed class CorrelationPostgresFixture : PostgresApiFixture
{
    protected override IEnumerable<KeyValuePair<string, string>> Settings => CorrelationTestSettings.Settings;
}

/// <summary>
/// Indicator search, correlation views and correlation events under the sharing policy (docs/sharing.md, "Indicator
/// search and correlation"): each caller learns exactly what it may see; a hidden match answers like no match and is
/// told to the hidden alert's owner instead; revocation and narrowing withdraw correlations.
/// </summary>
public abstract class IndicatorCorrelationTests(ApiFixture app)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private const string Purpose = "Investigation 2026/RS-114: Subotica smuggling cell";

    /// <summary>A Serbian mobile number no other test uses, in E.164 and in the spelling an officer would type.</summary>
    private static (string E164, string Typed) NewPhone()
    {
        var digits = Random.Shared.Next(1_000_000, 9_999_999).ToString(System.Globalization.CultureInfo.InvariantCulture);
        return ($"+38164{digits}", $"+381 64 {digits[..3]} {digits[3..]}");
    }

    private static JsonObject AlertCarrying(string tlp, string phone, IEnumerable<Guid>? audience = null)
    {
        var alert = TestData.SmugglingAlert(tlp, agencies: audience);
        alert["indicators"] = new JsonArray(new JsonObject { ["type"] = "phone", ["value"] = phone, ["description"] = "Driver's phone" });
        return alert;
    }

    private static async Task<HashSet<Guid>> SearchAsync(TestAgency caller, string phone)
    {
        var response = await caller.Client.SendAsync(TestData.Get($"/api/v1/indicators?type=phone&value={Uri.EscapeDataString(phone)}&limit=200", Purpose), Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.ReadJsonAsync()).GetProperty("items").EnumerateArray().Select(i => i.GetProperty("alert").GetProperty("id").GetGuid()).ToHashSet();
    }

    private static async Task<HashSet<Guid>> CorrelatedAsync(TestAgency caller, Guid alertId)
    {
        var response = await caller.Client.GetAsync($"/api/v1/alerts/{alertId}/correlations?limit=200", Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.ReadJsonAsync()).GetProperty("items").EnumerateArray().Select(i => i.GetProperty("matchedAlert").GetProperty("id").GetGuid()).ToHashSet();
    }

    private Task<TestAgency> AgencyAsync(string name, string country) =>
        app.CreateAgencyAsync(name, country, AgencyKind.Police, Scopes.AlertsRead, Scopes.AlertsWrite, Scopes.SubscriptionsManage);

    private static IEnumerable<JsonElement> DataOf(PartnerReceiver receiver, string type) =>
        receiver.Received.Where(r => r.Type == type).Select(r => r.Json.GetProperty("data"));

    [Fact]
    public async Task Search_correlation_views_and_events_reveal_exactly_what_the_policy_allows_for_each_tlp_audience_and_caller()
    {
        await using var rig = new PartnerRig();
        var originator = await AgencyAsync("MUP RS Border Police Directorate", "RS");
        var named = await AgencyAsync("Hungarian National Police", "HU");
        var outsider = await AgencyAsync("Slovenian Police", "SI");
        var (originatorInbox, _) = await rig.SubscribedReceiverAsync(originator);
        var (namedInbox, _) = await rig.SubscribedReceiverAsync(named);
        var (outsiderInbox, _) = await rig.SubscribedReceiverAsync(outsider);
        var (phone, typed) = NewPhone();

        var published = new List<(Guid Id, bool NamedSees, bool OutsiderSees)>();
        foreach (var (tlp, audience, namedSees, outsiderSees) in TestData.PolicyTable)
        {
            published.Add((await originator.PublishAsync(AlertCarrying(tlp, phone, audience ? [named.Id] : null)), namedSees, outsiderSees));
        }

        var namedProbe = await named.PublishAsync(AlertCarrying("green", typed));
        var outsiderProbe = await outsider.PublishAsync(AlertCarrying("green", typed));
        var ours = published.Select(p => p.Id).ToHashSet();
        var seenBy = new Dictionary<TestAgency, HashSet<Guid>>
        {
            [originator] = ours,
            [named] = published.Where(p => p.NamedSees).Select(p => p.Id).ToHashSet(),
            [outsider] = published.Where(p => p.OutsiderSees).Select(p => p.Id).ToHashSet(),
        };

        foreach (var (caller, expected) in seenBy)
        {
            var found = await SearchAsync(caller, typed);
            Assert.Equal(expected.Order(), found.Intersect(ours).Order());
            Assert.Contains(namedProbe, found);
            Assert.Contains(outsiderProbe, found);
        }

        Assert.Equal(seenBy[named].Order(), (await CorrelatedAsync(named, namedProbe)).Intersect(ours).Order());
        Assert.Equal(seenBy[outsider].Order(), (await CorrelatedAsync(outsider, outsiderProbe)).Intersect(ours).Order());

        // Events: the outsider is told of the three alerts it may see, and of nothing else; the originator is told that the
        // outsider holds the number for each of the three it may not see, naming the outsider and not its alert.
        var hiddenFromOutsider = ours.Except(seenBy[outsider]).ToHashSet();
        HashSet<Guid> ToldAbout(PartnerReceiver inbox, Guid probe) => DataOf(inbox, "alert.correlated").Where(d => d.GetProperty("alertId").GetGuid() == probe)
            .Select(d => d.GetProperty("matchedAlert").GetProperty("id").GetGuid()).Where(ours.Contains).ToHashSet();
        await DeliveryTestSettings.EventuallyAsync(
            () => Task.FromResult(DataOf(originatorInbox, "alert.correlation_hidden").Count() >= hiddenFromOutsider.Count
                                  && ToldAbout(outsiderInbox, outsiderProbe).Count >= seenBy[outsider].Count
                                  && ToldAbout(namedInbox, namedProbe).Count >= seenBy[named].Count),
            "the correlation events of both probes");

        var toOutsider = ToldAbout(outsiderInbox, outsiderProbe);
        Assert.Equal(seenBy[outsider].Order(), toOutsider.Order());
        Assert.All(outsiderInbox.Received, r => Assert.All(hiddenFromOutsider, id => Assert.DoesNotContain(id.ToString(), r.Body, StringComparison.Ordinal)));

        Assert.Equal(seenBy[named].Order(), ToldAbout(namedInbox, namedProbe).Order());
        Assert.DoesNotContain(DataOf(namedInbox, "alert.correlation_hidden"), d => ours.Contains(d.GetProperty("alertId").GetGuid()));

        var hiddenNotices = DataOf(originatorInbox, "alert.correlation_hidden").ToList();
        Assert.Equal(hiddenFromOutsider.Order(), hiddenNotices.Select(d => d.GetProperty("alertId").GetGuid()).Order());
        Assert.All(hiddenNotices, d =>
        {
            Assert.Equal(outsider.Id, d.GetProperty("agency").GetProperty("id").GetGuid());
            Assert.Equal(phone, d.GetProperty("indicators")[0].GetProperty("value").GetString());
            Assert.DoesNotContain(outsiderProbe.ToString(), d.GetRawText(), StringComparison.Ordinal);
        });

        // The hidden view on the red alert: the outsider is listed (it may not see the alert), the named agency is not (it may).
        var red = published[^1].Id;
        var hidden = await originator.Client.GetAsync($"/api/v1/alerts/{red}/correlations/hidden", Ct);
        Assert.Equal(HttpStatusCode.OK, hidden.StatusCode);
        var hiddenAgencies = (await hidden.ReadJsonAsync()).GetProperty("items").EnumerateArray().Select(i => i.GetProperty("agency").GetProperty("id").GetGuid()).ToList();
        Assert.Equal([outsider.Id], hiddenAgencies);
        Assert.Equal(HttpStatusCode.Forbidden, (await named.Client.GetAsync($"/api/v1/alerts/{red}/correlations/hidden", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await outsider.Client.GetAsync($"/api/v1/alerts/{red}/correlations/hidden", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await outsider.Client.GetAsync($"/api/v1/alerts/{red}/correlations", Ct)).StatusCode);
    }

    [Fact]
    public async Task A_hidden_match_answers_like_no_match_at_all_and_tells_the_hidden_alerts_owner_who_may_then_share()
    {
        await using var rig = new PartnerRig();
        var owner = await AgencyAsync("MUP RS Criminal Police Directorate", "RS");
        var named = await AgencyAsync("Europol EMSC", "NL");
        var asker = await AgencyAsync("Croatian Border Police", "HR");
        var (ownerInbox, _) = await rig.SubscribedReceiverAsync(owner);
        var (askerInbox, _) = await rig.SubscribedReceiverAsync(asker);
        var (held, heldTyped) = NewPhone();
        var (nowhere, nowhereTyped) = NewPhone();
        var red = await owner.PublishAsync(AlertCarrying("red", held, [named.Id]));

        async Task<(HttpStatusCode, string)> Answer(string uri)
        {
            var response = await asker.Client.SendAsync(TestData.Get(uri, Purpose), Ct);
            return (response.StatusCode, await response.Content.ReadAsStringAsync(Ct));
        }

        Assert.Equal(await Answer($"/api/v1/indicators?type=phone&value={Uri.EscapeDataString(nowhereTyped)}"),
                     await Answer($"/api/v1/indicators?type=phone&value={Uri.EscapeDataString(heldTyped)}"));
        var search = new JsonObject { ["indicators"] = new JsonArray(new JsonObject { ["type"] = "phone", ["value"] = heldTyped }) };
        var post = await asker.Client.SendAsync(new HttpRequestMessage(HttpMethod.Post, "/api/v1/indicators/search") { Content = Samples.Json(search) }.WithPurpose(Purpose), Ct);
        Assert.Equal(HttpStatusCode.OK, post.StatusCode);
        Assert.Equal("{\"items\":[],\"nextCursor\":null}", await post.Content.ReadAsStringAsync(Ct));

        var probe = await asker.PublishAsync(AlertCarrying("green", heldTyped));
        var blank = await asker.PublishAsync(AlertCarrying("green", nowhere));
        await DeliveryTestSettings.EventuallyAsync(
            () => Task.FromResult(DataOf(ownerInbox, "alert.correlation_hidden").Any(d => d.GetProperty("alertId").GetGuid() == red)),
            "alert.correlation_hidden to the red alert's owner");

        var notice = DataOf(ownerInbox, "alert.correlation_hidden").Single(d => d.GetProperty("alertId").GetGuid() == red);
        Assert.Equal(asker.Id, notice.GetProperty("agency").GetProperty("id").GetGuid());
        Assert.Equal(held, notice.GetProperty("indicators")[0].GetProperty("value").GetString());
        Assert.Equal(await Answer($"/api/v1/alerts/{blank}/correlations"), await Answer($"/api/v1/alerts/{probe}/correlations"));

        // The asker was told nothing: no delivery of any kind names its probe's counterpart, nor any correlation at all.
        await using (var connection = await app.Database.OpenAsync(Ct))
        {
            Assert.Equal(0, await connection.ExecuteScalarAsync<long>(
                "SELECT COUNT(*) FROM deliveries d JOIN events e ON e.id = d.event_id WHERE d.agency_id = @asker AND e.type LIKE 'alert.correlat%'",
                new { asker = asker.Id }));
        }

        var hidden = await owner.Client.GetAsync($"/api/v1/alerts/{red}/correlations/hidden", Ct);
        Assert.Contains(asker.Id, (await hidden.ReadJsonAsync()).GetProperty("items").EnumerateArray().Select(i => i.GetProperty("agency").GetProperty("id").GetGuid()));

        // The owner decides to share: the asker is then told, and finds the alert.
        var share = await owner.Client.PostAsync($"/api/v1/alerts/{red}/share", Samples.Json(new JsonObject { ["agencies"] = new JsonArray(asker.Id.ToString()) }), Ct);
        Assert.Equal(HttpStatusCode.OK, share.StatusCode);
        await DeliveryTestSettings.EventuallyAsync(
            () => Task.FromResult(DataOf(askerInbox, "alert.correlated").Any(d => d.GetProperty("matchedAlert").GetProperty("id").GetGuid() == red)),
            "alert.correlated to the asker once the alert is shared with it");
        Assert.Contains(red, await SearchAsync(asker, heldTyped));
        Assert.Contains(red, await CorrelatedAsync(asker, probe));
    }

    [Fact]
    public async Task Correlation_events_reach_only_the_subscriptions_whose_event_types_categories_severity_and_countries_take_them()
    {
        await using var rig = new PartnerRig();
        var owner = await AgencyAsync("MUP RS Border Police Directorate", "RS");
        var named = await AgencyAsync("Hungarian Police", "HU");
        var outsider = await AgencyAsync("Croatian Border Police", "HR");
        // The owner's smuggling alert (high, RS/HU/MK) seen by each of its subscriptions' filters.
        var (everything, everythingId) = await rig.SubscribedReceiverAsync(owner);
        var (askedForIt, askedForItId) = await rig.SubscribedReceiverAsync(owner, s =>
        {
            s["eventTypes"] = new JsonArray("alert.correlated", "alert.correlation_hidden");
            s["categories"] = new JsonArray("migrant_smuggling");
            s["countries"] = new JsonArray("HU");
        });
        var (_, publishedOnlyId) = await rig.SubscribedReceiverAsync(owner, s => s["eventTypes"] = new JsonArray("alert.published"));
        var (_, cyberOnlyId) = await rig.SubscribedReceiverAsync(owner, s => s["categories"] = new JsonArray("cyber_incident"));
        var (_, criticalOnlyId) = await rig.SubscribedReceiverAsync(owner, s => s["minSeverity"] = "critical");
        var (_, elsewhereId) = await rig.SubscribedReceiverAsync(owner, s => s["countries"] = new JsonArray("DE", "AT"));
        var (namedInbox, _) = await rig.SubscribedReceiverAsync(named, s => s["eventTypes"] = new JsonArray("alert.correlated"));
        var (outsiderInbox, _) = await rig.SubscribedReceiverAsync(outsider, s => s["eventTypes"] = new JsonArray("alert.correlated"));

        var (phone, _) = NewPhone();
        var amber = await owner.PublishAsync(AlertCarrying("amber", phone, [named.Id]));
        var hungarian = await named.PublishAsync(AlertCarrying("green", phone));
        await DeliveryTestSettings.EventuallyAsync(
            () => Task.FromResult(DataOf(everything, "alert.correlated").Any(d => d.GetProperty("matchedAlert").GetProperty("id").GetGuid() == hungarian)
                && DataOf(askedForIt, "alert.correlated").Any(d => d.GetProperty("matchedAlert").GetProperty("id").GetGuid() == hungarian)
                && DataOf(namedInbox, "alert.correlated").Any(d => d.GetProperty("matchedAlert").GetProperty("id").GetGuid() == amber)),
            "alert.correlated to the owner's unfiltered and matching subscriptions, and to the named partner");

        // The outsider may not see the amber alert: its own correlated alert is told of the green one only, and the
        // amber alert's owner hears of the outsider's alert as a hidden correlation, on the subscriptions that take it.
        await outsider.PublishAsync(AlertCarrying("green", phone));
        await DeliveryTestSettings.EventuallyAsync(
            () => Task.FromResult(DataOf(everything, "alert.correlation_hidden").Any(d => d.GetProperty("agency").GetProperty("id").GetGuid() == outsider.Id)
                && DataOf(askedForIt, "alert.correlation_hidden").Any(d => d.GetProperty("agency").GetProperty("id").GetGuid() == outsider.Id)
                && DataOf(outsiderInbox, "alert.correlated").Any(d => d.GetProperty("matchedAlert").GetProperty("id").GetGuid() == hungarian)),
            "alert.correlation_hidden to the owner and alert.correlated of the green alert to the outsider");
        Assert.DoesNotContain(DataOf(outsiderInbox, "alert.correlated"), d => d.GetProperty("matchedAlert").GetProperty("id").GetGuid() == amber);
        Assert.All(outsiderInbox.Received, r => Assert.Equal("alert.correlated", r.Type));
        Assert.All(namedInbox.Received, r => Assert.Equal("alert.correlated", r.Type));

        // Each event queued all the owner's subscriptions' deliveries in one transaction: those the filters leave out were
        // never queued, so they can never be sent.
        await using var connection = await app.Database.OpenAsync(Ct);
        var correlationEvents = (await connection.QueryAsync<(Guid, string)>(
            """
            SELECT d.subscription_id, e.type FROM deliveries d JOIN events e ON e.id = d.event_id
            WHERE d.agency_id = @owner AND e.type IN ('alert.correlated', 'alert.correlation_hidden')
            """,
            new { owner = owner.Id })).ToList();
        (Guid, string)[] expected =
            [(askedForItId, "alert.correlated"), (askedForItId, "alert.correlation_hidden"), (everythingId, "alert.correlated"), (everythingId, "alert.correlation_hidden")];
        Assert.Equal(expected.Order(), correlationEvents.Distinct().Order());
        Assert.DoesNotContain(correlationEvents, e => e.Item1 == publishedOnlyId || e.Item1 == cyberOnlyId || e.Item1 == criticalOnlyId || e.Item1 == elsewhereId);
    }

    [Fact]
    public async Task Revoking_or_narrowing_an_alert_withdraws_its_correlations_from_search_views_and_unsent_events()
    {
        await using var rig = new PartnerRig();
        var owner = await AgencyAsync("MUP RS Border Police Directorate", "RS");
        var partner = await AgencyAsync("Hungarian National Police", "HU");
        var other = await AgencyAsync("Austrian Federal Police", "AT");
        var (partnerInbox, partnerSubscription) = await rig.SubscribedReceiverAsync(partner);
        var (phone, typed) = NewPhone();
        var narrowed = await owner.PublishAsync(AlertCarrying("amber", phone, [partner.Id]));
        var revoked = await owner.PublishAsync(AlertCarrying("green", phone));

        // Paused, the partner's subscription queues the correlation events without sending them.
        Assert.Equal(HttpStatusCode.OK, (await partner.Client.PostAsync($"/api/v1/subscriptions/{partnerSubscription}/pause", null, Ct)).StatusCode);
        var probe = await partner.PublishAsync(AlertCarrying("green", typed));
        await DeliveryTestSettings.EventuallyAsync(async () =>
        {
            await using var connection = await app.Database.OpenAsync(Ct);
            return await connection.ExecuteScalarAsync<long>(
                "SELECT COUNT(*) FROM deliveries d JOIN events e ON e.id = d.event_id WHERE d.subscription_id = @partnerSubscription AND e.type = 'alert.correlated'",
                new { partnerSubscription }) == 2;
        }, "two alert.correlated queued for the paused subscription");
        Assert.Equal(new[] { narrowed, revoked }.Order(), (await CorrelatedAsync(partner, probe)).Order());

        var current = await owner.Client.GetAsync($"/api/v1/alerts/{narrowed}", Ct);
        var update = AlertCarrying("amber", phone, [other.Id]);
        var put = new HttpRequestMessage(HttpMethod.Put, $"/api/v1/alerts/{narrowed}") { Content = Samples.Json(update) };
        put.Headers.TryAddWithoutValidation("If-Match", current.Headers.ETag!.Tag);
        Assert.Equal(HttpStatusCode.OK, (await owner.Client.SendAsync(put, Ct)).StatusCode);
        var revoke = await owner.Client.PostAsync($"/api/v1/alerts/{revoked}/revoke", Samples.Json(new JsonObject { ["reason"] = "Number belonged to an uninvolved taxi firm." }), Ct);
        Assert.Equal(HttpStatusCode.OK, revoke.StatusCode);

        Assert.Empty(await CorrelatedAsync(partner, probe));
        Assert.Equal([probe], await SearchAsync(partner, typed));
        Assert.DoesNotContain(revoked, await SearchAsync(owner, typed));

        Assert.Equal(HttpStatusCode.OK, (await partner.Client.PostAsync($"/api/v1/subscriptions/{partnerSubscription}/resume", null, Ct)).StatusCode);
        await DeliveryTestSettings.EventuallyAsync(async () =>
        {
            await using var connection = await app.Database.OpenAsync(Ct);
            return await connection.ExecuteScalarAsync<long>(
                "SELECT COUNT(*) FROM deliveries d JOIN events e ON e.id = d.event_id WHERE d.subscription_id = @partnerSubscription AND e.type = 'alert.correlated' AND d.state = 'cancelled'",
                new { partnerSubscription }) == 2;
        }, "both queued alert.correlated cancelled at send time");
        Assert.DoesNotContain(partnerInbox.Received, r => r.Type == "alert.correlated");
    }

    [Fact]
    public async Task A_value_carried_by_more_alerts_than_the_threshold_is_searchable_but_not_correlated()
    {
        await using var rig = new PartnerRig();
        var bank = await AgencyAsync("MUP RS Financial Investigations Unit", "RS");
        var asker = await AgencyAsync("Bulgarian Border Police", "BG");
        var (askerInbox, _) = await rig.SubscribedReceiverAsync(asker);
        var (common, _) = NewPhone();
        var (rare, _) = NewPhone();
        for (var i = 0; i < 10; i++)
        {
            await bank.PublishAsync(AlertCarrying("green", common));
        }

        var rareAlert = await bank.PublishAsync(AlertCarrying("green", rare));
        var overCorrelating = await asker.PublishAsync(AlertCarrying("green", common));
        var probe = await asker.PublishAsync(AlertCarrying("green", rare));

        // Versions are matched in the order they were published: once the later probe is told, the eleventh carrier was handled.
        await DeliveryTestSettings.EventuallyAsync(
            () => Task.FromResult(DataOf(askerInbox, "alert.correlated").Any(d => d.GetProperty("alertId").GetGuid() == probe)),
            "alert.correlated for the rare value");
        Assert.Equal(rareAlert, DataOf(askerInbox, "alert.correlated").Single(d => d.GetProperty("alertId").GetGuid() == probe).GetProperty("matchedAlert").GetProperty("id").GetGuid());
        Assert.DoesNotContain(DataOf(askerInbox, "alert.correlated"), d => d.GetProperty("alertId").GetGuid() == overCorrelating);
        Assert.Equal(11, (await SearchAsync(asker, common)).Count);
        Assert.Equal(10, (await CorrelatedAsync(asker, overCorrelating)).Count);
    }

    [Fact]
    public async Task Searches_name_the_field_at_fault_need_a_purpose_for_personal_indicators_and_are_bounded()
    {
        var caller = await AgencyAsync("National CERT of the Republic of Serbia", "RS");

        async Task<JsonElement> Problem(HttpRequestMessage request)
        {
            var response = await caller.Client.SendAsync(request, Ct);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            return (await response.ReadJsonAsync()).GetProperty("errors");
        }

        Assert.True((await Problem(TestData.Get("/api/v1/indicators?type=telephone&value=1"))).TryGetProperty("type", out _));
        Assert.True((await Problem(TestData.Get("/api/v1/indicators?type=ipv4&value=010.1.1.1"))).TryGetProperty("value", out _));
        Assert.True((await Problem(TestData.Get("/api/v1/indicators?type=domain&value=example.com&limit=0"))).TryGetProperty("limit", out _));
        Assert.True((await Problem(TestData.Get("/api/v1/indicators?type=phone&value=%2B381641234567"))).TryGetProperty("x-purpose", out _));

        var tooMany = new JsonArray(Enumerable.Range(0, 101).Select(i => (JsonNode)new JsonObject { ["type"] = "md5", ["value"] = $"{i:x32}" }).ToArray());
        Assert.True((await Problem(new HttpRequestMessage(HttpMethod.Post, "/api/v1/indicators/search") { Content = Samples.Json(new JsonObject { ["indicators"] = tooMany }) }))
            .TryGetProperty("indicators", out _));
        var oneBad = new JsonArray(new JsonObject { ["type"] = "domain", ["value"] = "example.com" }, new JsonObject { ["type"] = "sha256", ["value"] = "abc" });
        Assert.True((await Problem(new HttpRequestMessage(HttpMethod.Post, "/api/v1/indicators/search") { Content = Samples.Json(new JsonObject { ["indicators"] = oneBad }) }))
            .TryGetProperty("indicators[1].value", out _));

        var cyber = Samples.CyberAlert();
        var id = await caller.PublishAsync(cyber);
        var found = await caller.Client.GetAsync("/api/v1/indicators?type=domain&value=EUPRAVA-LOGIN.Example.COM.", Ct);
        Assert.Equal(HttpStatusCode.OK, found.StatusCode);
        var item = (await found.ReadJsonAsync()).GetProperty("items").EnumerateArray().Single(i => i.GetProperty("alert").GetProperty("id").GetGuid() == id);
        Assert.Equal("euprava-login.example.com", item.GetProperty("matched")[0].GetProperty("value").GetString());
    }

    [Fact]
    public async Task A_lookup_by_indicator_goes_through_the_index()
    {
        app.RequireDatabase();
        await using var connection = await app.Database.OpenAsync(Ct);
        var key = new byte[32];
        string plan;
        if (app.Provider == DatabaseProvider.Postgres)
        {
            // Without statistics on a near-empty table PostgreSQL may prefer a sequential scan; what matters is that the index serves the lookup.
            await using var transaction = await connection.BeginTransactionAsync(Ct);
            await connection.ExecuteAsync("SET LOCAL enable_seqscan = off", transaction: transaction);
            plan = string.Join('\n', await connection.QueryAsync<string>(
                "EXPLAIN SELECT i.alert_id FROM alert_indicators i WHERE i.value_key IN (@key)", new { key }, transaction));
        }
        else
        {
            plan = string.Join('\n', (await connection.QueryAsync("EXPLAIN QUERY PLAN SELECT i.alert_id FROM alert_indicators i WHERE i.value_key IN (@key)", new { key }))
                .Select(r => (string)((IDictionary<string, object>)r)["detail"]));
        }

        Assert.Contains("ix_alert_indicators_value", plan, StringComparison.Ordinal);
    }
}

public sealed class IndicatorCorrelationTestsOnSqlite(CorrelationSqliteFixture app) : IndicatorCorrelationTests(app), IClassFixture<CorrelationSqliteFixture>;

public sealed class IndicatorCorrelationTestsOnPostgres(CorrelationPostgresFixture app) : IndicatorCorrelationTests(app), IClassFixture<CorrelationPostgresFixture>;
