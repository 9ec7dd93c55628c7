using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Nodes;
using Dapper;
using IntelSharing.Api.Domain;
using IntelSharing.Api.Features.Feed;
using IntelSharing.Api.Infrastructure.Security;
using IntelSharing.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace IntelSharing.IntegrationTests.Feed;

/// <summary>The change feed (GET /api/v1/feed): no change missed or repeated under concurrent commits, the sharing policy at read time, the event stream.</summary>
public abstract class FeedTests<TFixture>(TFixture app) where TFixture : ApiFixture
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private Task<TestAgency> AgencyAsync(string name, string country = "RS") =>
        app.CreateAgencyAsync(name, country, AgencyKind.Police, Scopes.AlertsRead, Scopes.AlertsWrite);

    /// <summary>Positions what has committed, as the background sequencer does a moment after each commit.</summary>
    private Task<int> PositionAsync() => app.Services.GetRequiredService<FeedSequencer>().PositionAsync(Ct);

    private static async Task<(List<JsonElement> Items, long Next)> PageAsync(TestAgency reader, long after, int limit = ReadFeed.MaxLimit)
    {
        var response = await reader.Client.GetAsync($"/api/v1/feed?after={after}&limit={limit}", Ct);
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync(Ct));
        var page = await response.ReadJsonAsync();
        return ([.. page.GetProperty("items").EnumerateArray()], page.GetProperty("nextCursor").GetInt64());
    }

    /// <summary>Every change the reader may see after <paramref name="after"/>, and the cursor to continue from.</summary>
    private async Task<(List<JsonElement> Items, long Next)> ReadAllAsync(TestAgency reader, long after = 0)
    {
        await PositionAsync();
        var items = new List<JsonElement>();
        while (true)
        {
            var (page, next) = await PageAsync(reader, after);
            items.AddRange(page);
            if (next == after)
            {
                return (items, next);
            }

            after = next;
        }
    }

    private static Guid AlertOf(JsonElement change) => change.GetProperty("alertId").GetGuid();

    private static string TypeOf(JsonElement change) => change.GetProperty("type").GetString()!;

    private static JsonObject Green() => Samples.CyberAlert();

    private static async Task UpdateAsync(TestAgency originator, Guid id, int currentVersion, JsonObject alert)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, $"/api/v1/alerts/{id}") { Content = Samples.Json(alert) };
        request.Headers.TryAddWithoutValidation("If-Match", $"\"{currentVersion}\"");
        var response = await originator.Client.SendAsync(request, Ct);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"update failed: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(Ct)}");
    }

    [Fact]
    public async Task Concurrent_writers_and_a_concurrent_reader_see_every_change_exactly_once_in_order_per_alert()
    {
        const int Writers = 4;
        const int AlertsPerWriter = 100;
        const int VersionsPerAlert = 5;
        var writers = await Task.WhenAll(Enumerable.Range(1, Writers).Select(i => AgencyAsync($"Regional CERT {i}")));
        var reader = await AgencyAsync("National CERT", "HU");
        var (_, start) = await ReadAllAsync(reader);

        var writing = true;
        var seen = new List<JsonElement>();
        var consumer = Task.Run(async () =>
        {
            var after = start;
            while (true)
            {
                var stillWriting = Volatile.Read(ref writing);
                if (!stillWriting)
                {
                    // Everything has committed: let the sequencer finish, then drain.
                    await PositionAsync();
                }

                var (page, next) = await PageAsync(reader, after, limit: 50);
                foreach (var change in page)
                {
                    Assert.True(change.GetProperty("position").GetInt64() > after, $"position {change.GetProperty("position")} handed out after cursor {after}");
                    after = change.GetProperty("position").GetInt64();
                    seen.Add(change);
                }

                Assert.True(next >= after, "the cursor never moves back");
                if (!stillWriting && next == after && page.Count == 0)
                {
                    return;
                }

                after = next;
            }
        }, Ct);

        var written = await Task.WhenAll(writers.Select(writer => Task.Run(async () =>
        {
            var ids = new List<Guid>();
            for (var a = 0; a < AlertsPerWriter; a++)
            {
                var alert = Green();
                var id = await writer.PublishAsync(alert);
                for (var version = 2; version <= VersionsPerAlert; version++)
                {
                    alert["summary"] = $"Revision {version} of the phishing campaign report.";
                    await UpdateAsync(writer, id, version - 1, alert);
                }

                ids.Add(id);
            }

            return ids;
        }, Ct)));
        Volatile.Write(ref writing, false);
        await consumer.WaitAsync(TimeSpan.FromMinutes(2), Ct);

        var expected = written.SelectMany(ids => ids).ToHashSet();
        var ours = seen.Where(c => expected.Contains(AlertOf(c))).ToList();
        Assert.Equal(Writers * AlertsPerWriter * VersionsPerAlert, ours.Count);
        Assert.Equal(ours.Count, ours.Select(c => c.GetProperty("position").GetInt64()).Distinct().Count());
        foreach (var alert in ours.GroupBy(AlertOf))
        {
            Assert.Equal(Enumerable.Range(1, VersionsPerAlert), alert.Select(c => c.GetProperty("alertVersion").GetInt32()));
            Assert.Equal(["alert.published", "alert.updated", "alert.updated", "alert.updated", "alert.updated"], alert.Select(TypeOf));
        }
    }

    /// <summary>
    /// PostgreSQL only (FeedTestsOnPostgres): SQLite has one writer at a time, so a transaction cannot commit behind a
    /// later one and there is no late commit to show.
    /// </summary>
    protected async Task ALateCommitAppearsAfterTheCursorAReaderAlreadyPassedAsync()
    {
        var originator = await AgencyAsync("Border Police Directorate");
        var partner = await AgencyAsync("Hungarian Police", "HU");
        var first = await originator.PublishAsync(Green());
        var (_, cursor) = await ReadAllAsync(originator);

        // A writer whose change is inserted first but commits last: feedback on the first alert, held open.
        var feedbackId = Guid.CreateVersion7();
        await using var connection = await app.Database.OpenAsync(Ct);
        await using var late = await connection.BeginTransactionAsync(Ct);
        await connection.ExecuteAsync(new CommandDefinition(
            """
            INSERT INTO alert_feedback (id, alert_id, alert_version, agency_id, kind, note, created_at)
            VALUES (@feedbackId, @first, 1, @partner, 'hit', NULL, @now)
            """,
            new { feedbackId, first, partner = partner.Id, now = DateTimeOffset.UtcNow }, late, cancellationToken: Ct));

        var second = await originator.PublishAsync(Green());
        var (before, passed) = await ReadAllAsync(originator, cursor);
        Assert.Equal([second], before.Select(AlertOf));

        await late.CommitAsync(Ct);
        var (after, _) = await ReadAllAsync(originator, passed);
        var change = Assert.Single(after);
        Assert.Equal("alert.feedback", TypeOf(change));
        Assert.Equal(feedbackId, change.GetProperty("feedbackId").GetGuid());
        Assert.True(change.GetProperty("position").GetInt64() > passed);
    }

    [Fact]
    public async Task An_outsider_never_sees_a_restricted_alert_or_feedback_on_others_alerts_in_the_feed()
    {
        var originator = await AgencyAsync("Border Police Directorate");
        var partner = await AgencyAsync("Hungarian Police", "HU");
        var outsider = await AgencyAsync("Customs Administration", "HR");
        var (_, outsiderStart) = await ReadAllAsync(outsider);
        var (_, partnerStart) = await ReadAllAsync(partner);

        var restricted = new List<Guid>();
        foreach (var tlp in new[] { "amber", "amber+strict", "red" })
        {
            restricted.Add(await originator.PublishAsync(TestData.SmugglingAlert(tlp, [partner.Id])));
        }

        var open = await originator.PublishAsync(Green());
        var feedback = await partner.Client.PostAsync($"/api/v1/alerts/{open}/feedback", Samples.Json(new JsonObject { ["kind"] = "hit" }), Ct);
        Assert.Equal(HttpStatusCode.Created, feedback.StatusCode);
        var revoke = await originator.Client.PostAsync($"/api/v1/alerts/{restricted[0]}/revoke", Samples.Json(new JsonObject { ["reason"] = "Duplicate of an earlier report." }), Ct);
        Assert.Equal(HttpStatusCode.OK, revoke.StatusCode);

        var (outsiderSees, _) = await ReadAllAsync(outsider, outsiderStart);
        Assert.Equal([(open, "alert.published")], outsiderSees.Select(c => (AlertOf(c), TypeOf(c))));

        var (partnerSees, _) = await ReadAllAsync(partner, partnerStart);
        Assert.Equal(
            [.. restricted.Select(id => (id, "alert.published")), (open, "alert.published"), (restricted[0], "alert.revoked")],
            partnerSees.Select(c => (AlertOf(c), TypeOf(c))));

        var (originatorSees, _) = await ReadAllAsync(originator, partnerStart);
        Assert.Contains(originatorSees, c => TypeOf(c) == "alert.feedback" && AlertOf(c) == open);
    }

    [Fact]
    public async Task Narrowing_the_audience_tells_the_dropped_agency_alert_withdrawn_then_hides_later_changes_and_sharing_shows_them()
    {
        var originator = await AgencyAsync("Border Police Directorate");
        var kept = await AgencyAsync("Hungarian Police", "HU");
        var dropped = await AgencyAsync("Croatian Border Police", "HR");
        var added = await AgencyAsync("Europol EMSC", "NL");
        var (_, keptStart) = await ReadAllAsync(kept);
        var (_, droppedStart) = await ReadAllAsync(dropped);
        var (_, addedStart) = await ReadAllAsync(added);

        var alert = TestData.SmugglingAlert("amber+strict", [kept.Id, dropped.Id]);
        var id = await originator.PublishAsync(alert);
        var (droppedSaw, droppedCursor) = await ReadAllAsync(dropped, droppedStart);
        Assert.Equal([id], droppedSaw.Select(AlertOf));

        alert["audience"] = new JsonObject { ["agencies"] = new JsonArray(kept.Id.ToString()) };
        await UpdateAsync(originator, id, 1, alert);
        var share = await originator.Client.PostAsync($"/api/v1/alerts/{id}/share",
            Samples.Json(new JsonObject { ["agencies"] = new JsonArray(added.Id.ToString()) }), Ct);
        Assert.True(share.StatusCode == HttpStatusCode.OK, await share.Content.ReadAsStringAsync(Ct));

        var withdrawn = Assert.Single((await ReadAllAsync(dropped, droppedCursor)).Items);
        Assert.Equal((id, "alert.withdrawn", 2), (AlertOf(withdrawn), TypeOf(withdrawn), withdrawn.GetProperty("alertVersion").GetInt32()));
        Assert.Equal(HttpStatusCode.NotFound, (await dropped.Client.GetAsync($"/api/v1/alerts/{id}", Ct)).StatusCode);
        Assert.Equal([1, 2, 3], (await ReadAllAsync(kept, keptStart)).Items.Select(c => c.GetProperty("alertVersion").GetInt32()));
        var addedSees = (await ReadAllAsync(added, addedStart)).Items;
        Assert.Contains(addedSees, c => AlertOf(c) == id && c.GetProperty("alertVersion").GetInt32() == 3);
    }

    [Fact]
    public async Task A_stricter_marking_withdraws_the_alert_from_every_agency_it_drops_with_no_content_and_tells_no_one_else()
    {
        var originator = await AgencyAsync("Border Police Directorate");
        var kept = await AgencyAsync("Hungarian Police", "HU");
        var partner = await AgencyAsync("Croatian Border Police", "HR");
        var (_, keptStart) = await ReadAllAsync(kept);
        var (_, partnerStart) = await ReadAllAsync(partner);
        var (_, originatorStart) = await ReadAllAsync(originator);

        var alert = TestData.SmugglingAlert("green");
        var id = await originator.PublishAsync(alert);
        alert["tlp"] = "red";
        alert["audience"] = new JsonObject { ["agencies"] = new JsonArray(kept.Id.ToString()) };
        await UpdateAsync(originator, id, 1, alert);
        var bystander = await AgencyAsync("Bulgarian Border Police", "BG");
        alert["summary"] = "The group moved to a farm near Kelebija.";
        await UpdateAsync(originator, id, 2, alert);

        // Read after the fact, the alert's own changes are decided against the red alert it is now: only the withdrawal shows.
        var partnerSees = (await ReadAllAsync(partner, partnerStart)).Items.Where(c => AlertOf(c) == id).ToList();
        var withdrawn = Assert.Single(partnerSees);
        Assert.Equal(("alert.withdrawn", 2), (TypeOf(withdrawn), withdrawn.GetProperty("alertVersion").GetInt32()));
        Assert.Equal(["position", "type", "alertId", "alertVersion", "occurredAt"], withdrawn.EnumerateObject().Select(p => p.Name));
        Assert.DoesNotContain((await ReadAllAsync(kept, keptStart)).Items, c => TypeOf(c) == "alert.withdrawn");
        Assert.DoesNotContain((await ReadAllAsync(originator, originatorStart)).Items, c => TypeOf(c) == "alert.withdrawn");
        Assert.DoesNotContain((await ReadAllAsync(bystander)).Items, c => AlertOf(c) == id);
    }

    [Fact]
    public async Task A_position_that_is_not_a_whole_number_or_a_limit_out_of_range_returns_400_naming_it()
    {
        var reader = await AgencyAsync("National CERT");
        foreach (var (query, field) in new[] { ("after=-1", "after"), ("after=abc", "after"), ("after=99999999999999999999", "after"), ("limit=0", "limit"), ("limit=501", "limit") })
        {
            var response = await reader.Client.GetAsync($"/api/v1/feed?{query}", Ct);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.True((await response.ReadJsonAsync()).GetProperty("errors").TryGetProperty(field, out _), query);
        }

        using var stream = new HttpRequestMessage(HttpMethod.Get, "/api/v1/feed");
        stream.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        stream.Headers.TryAddWithoutValidation("Last-Event-ID", "not-a-position");
        var streamed = await reader.Client.SendAsync(stream, Ct);
        Assert.Equal(HttpStatusCode.BadRequest, streamed.StatusCode);
        Assert.True((await streamed.ReadJsonAsync()).GetProperty("errors").TryGetProperty("after", out _));
    }

    [Fact]
    public async Task An_event_stream_consumer_that_disconnects_and_resumes_with_last_event_id_sees_the_same_sequence()
    {
        var originator = await AgencyAsync("Border Police Directorate");
        var reader = await AgencyAsync("Hungarian Police", "HU");
        var (_, start) = await ReadAllAsync(reader);
        for (var i = 0; i < 30; i++)
        {
            await originator.PublishAsync(Green());
        }

        await PositionAsync();
        var streamed = new List<FeedStreamEvent>();
        await using (var first = await FeedStream.OpenAsync(reader.Client, $"/api/v1/feed?after={start}&limit=7", lastEventId: null, Ct))
        {
            streamed.AddRange(await first.ReadEventsAsync(12, Ct));
        }

        var publishing = Task.Run(async () =>
        {
            for (var i = 0; i < 10; i++)
            {
                await originator.PublishAsync(Green());
            }
        }, Ct);
        await using (var resumed = await FeedStream.OpenAsync(reader.Client, "/api/v1/feed?limit=7", streamed[^1].Id, Ct))
        {
            streamed.AddRange(await resumed.ReadEventsAsync(28, Ct));
        }

        await publishing;
        var (paged, _) = await ReadAllAsync(reader, start);
        Assert.Equal(40, paged.Count);
        Assert.Equal(
            paged.Select(c => (c.GetProperty("position").GetInt64().ToString(System.Globalization.CultureInfo.InvariantCulture), TypeOf(c), AlertOf(c))),
            streamed.Select(e => (e.Id, e.Type, JsonDocument.Parse(e.Data).RootElement.GetProperty("alertId").GetGuid())));
    }

    [Fact]
    public async Task An_idle_event_stream_sends_a_heartbeat_comment_each_interval()
    {
        var reader = await AgencyAsync("National CERT");
        var (_, head) = await ReadAllAsync(reader);
        await using var stream = await FeedStream.OpenAsync(reader.Client, $"/api/v1/feed?after={head}", lastEventId: null, Ct);
        var comment = await stream.ReadCommentAsync(Ct).WaitAsync(TimeSpan.FromSeconds(30), Ct);
        Assert.Equal("heartbeat", comment);
    }

    [Fact]
    public async Task An_open_event_stream_ends_when_its_key_is_revoked_and_serves_nothing_published_after()
    {
        var originator = await AgencyAsync("Border Police Directorate");
        var reader = await AgencyAsync("Hungarian Police", "HU");
        var operations = await app.CreateAgencyAsync("Operations", "RS", AgencyKind.Operator, Scopes.AgenciesAdmin);
        var (_, head) = await ReadAllAsync(reader);
        await using var stream = await FeedStream.OpenAsync(reader.Client, $"/api/v1/feed?after={head}", lastEventId: null, Ct);
        await originator.PublishAsync(Green());
        Assert.Single(await stream.ReadEventsAsync(1, Ct));

        Guid keyId;
        await using (var connection = await app.Database.OpenAsync(Ct))
        {
            keyId = await connection.QuerySingleAsync<Guid>("SELECT id FROM api_keys WHERE agency_id = @Id", new { reader.Id });
        }

        Assert.Equal(HttpStatusCode.NoContent, (await operations.Client.DeleteAsync($"/api/v1/agencies/{reader.Id}/keys/{keyId}", Ct)).StatusCode);
        var after = await originator.PublishAsync(Green());
        await PositionAsync();

        var ended = await Record.ExceptionAsync(() => stream.ReadEventsAsync(1, Ct));
        Assert.True(ended is InvalidOperationException, $"the stream went on serving a revoked key: {ended?.GetType().Name ?? "an event"} (alert {after})");
    }

    [Fact]
    public async Task An_agency_holding_its_limit_of_event_streams_is_answered_429_until_one_closes()
    {
        var reader = await AgencyAsync("National CERT");
        var open = new List<FeedStream>();
        for (var i = 0; i < FeedFixtures.MaxStreamsPerAgency; i++)
        {
            open.Add(await FeedStream.OpenAsync(reader.Client, "/api/v1/feed", lastEventId: null, Ct));
        }

        using var refused = new HttpRequestMessage(HttpMethod.Get, "/api/v1/feed");
        refused.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        var answer = await reader.Client.SendAsync(refused, HttpCompletionOption.ResponseHeadersRead, Ct);
        Assert.Equal(HttpStatusCode.TooManyRequests, answer.StatusCode);
        Assert.Equal("application/problem+json", answer.Content.Headers.ContentType?.MediaType);

        var other = await AgencyAsync("Hungarian Police", "HU");
        await using (await FeedStream.OpenAsync(other.Client, "/api/v1/feed", lastEventId: null, Ct))
        {
            // Another agency's streams are counted apart.
        }

        await open[0].DisposeAsync();
        await DeliveryTestSettings.EventuallyAsync(async () =>
        {
            using var again = new HttpRequestMessage(HttpMethod.Get, "/api/v1/feed");
            again.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
            var response = await reader.Client.SendAsync(again, HttpCompletionOption.ResponseHeadersRead, Ct);
            var ok = response.StatusCode == HttpStatusCode.OK;
            response.Dispose();
            return ok;
        }, "a stream to open once one of the agency's streams closed");

        foreach (var stream in open.Skip(1))
        {
            await stream.DisposeAsync();
        }
    }
}

/// <summary>One event of a feed stream.</summary>
public sealed record FeedStreamEvent(string Id, string Type, string Data);

/// <summary>A Server-Sent Events reader over a real HTTP response: the parts of the format the feed uses.</summary>
public sealed class FeedStream : IAsyncDisposable
{
    private readonly HttpResponseMessage _response;
    private readonly StreamReader _reader;

    private FeedStream(HttpResponseMessage response, StreamReader reader)
    {
        _response = response;
        _reader = reader;
    }

    public static async Task<FeedStream> OpenAsync(HttpClient client, string path, string? lastEventId, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        if (lastEventId is not null)
        {
            request.Headers.TryAddWithoutValidation("Last-Event-ID", lastEventId);
        }

        // The server sends its headers before the first change: a stream that withholds them fails here instead of hanging.
        using var headers = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        headers.CancelAfter(TimeSpan.FromSeconds(30));
        var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, headers.Token);
        // The body is read for the message only when the stream was refused: an interpolated message is evaluated
        // before Assert.True looks at the condition, and reading an open stream to its end never returns.
        if (response.StatusCode != HttpStatusCode.OK)
        {
            Assert.Fail($"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync(cancellationToken)}");
        }

        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        return new FeedStream(response, new StreamReader(await response.Content.ReadAsStreamAsync(cancellationToken)));
    }

    public async Task<List<FeedStreamEvent>> ReadEventsAsync(int count, CancellationToken cancellationToken)
    {
        var events = new List<FeedStreamEvent>();
        string? id = null, type = null, data = null;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(TimeSpan.FromSeconds(60));
        while (events.Count < count)
        {
            var line = await _reader.ReadLineAsync(deadline.Token) ?? throw new InvalidOperationException("The stream ended.");
            if (line.Length == 0)
            {
                if (data is not null)
                {
                    events.Add(new FeedStreamEvent(id!, type!, data));
                }

                (id, type, data) = (null, null, null);
            }
            else if (line.StartsWith("id: ", StringComparison.Ordinal))
            {
                id = line[4..];
            }
            else if (line.StartsWith("event: ", StringComparison.Ordinal))
            {
                type = line[7..];
            }
            else if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                data = line[6..];
            }
        }

        return events;
    }

    /// <summary>The text of the next comment line (": text").</summary>
    public async Task<string> ReadCommentAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var line = await _reader.ReadLineAsync(cancellationToken) ?? throw new InvalidOperationException("The stream ended.");
            if (line.StartsWith(": ", StringComparison.Ordinal))
            {
                return line[2..];
            }
        }
    }

    public ValueTask DisposeAsync()
    {
        _reader.Dispose();
        _response.Dispose();
        return ValueTask.CompletedTask;
    }
}

public static class FeedFixtures
{
    public const int HeartbeatSeconds = 1;
    public const int MaxStreamsPerAgency = 2;

    public static IEnumerable<KeyValuePair<string, string>> Settings =>
    [
        new("Feed:HeartbeatSeconds", HeartbeatSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        new("Feed:MaxStreamsPerAgency", MaxStreamsPerAgency.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        // Thousands of writes from a handful of agencies in one test.
        new("RateLimits:PerAgencyPermits", "1000000"),
    ];
}

/// <summary>On Kestrel: the event stream is tested over a real HTTP connection, as partners read it.</summary>
public sealed class FeedSqliteFixture : SqliteApiFixture
{
    public FeedSqliteFixture() => UseKestrel(options => options.Listen(System.Net.IPAddress.Loopback, 0));

    protected override IEnumerable<KeyValuePair<string, string>> Settings => FeedFixtures.Settings;
}

public sealed class FeedPostgresFixture : PostgresApiFixture
{
    public FeedPostgresFixture() => UseKestrel(options => options.Listen(System.Net.IPAddress.Loopback, 0));

    protected override IEnumerable<KeyValuePair<string, string>> Settings => FeedFixtures.Settings;
}

public sealed class FeedTestsOnSqlite(FeedSqliteFixture app) : FeedTests<FeedSqliteFixture>(app), IClassFixture<FeedSqliteFixture>;

public sealed class FeedTestsOnPostgres(FeedPostgresFixture app) : FeedTests<FeedPostgresFixture>(app), IClassFixture<FeedPostgresFixture>
{
    [Fact]
    public Task A_change_that_commits_late_appears_after_the_cursor_a_reader_already_passed() => ALateCommitAppearsAfterTheCursorAReaderAlreadyPassedAsync();
}
