using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using IntelSharing.Api.Infrastructure.Security;
using IntelSharing.IntegrationTests.Infrastructure;

namespace IntelSharing.IntegrationTests.Lists;

/// <summary>
/// Every list of the API answers <c>{items, nextCursor}</c> and pages by one rule: walking it a few items at a time
/// returns each item once, a cursor issued by another list is refused naming <c>cursor</c>, and a parameter the list
/// does not take is refused naming it. One case per list that returned a bare array before (issue 11, item 10), plus
/// alert versions, which had items but no paging.
/// </summary>
public abstract class ListPagingTests(ApiFixture app)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static TheoryData<string> Lists => ["agencies", "own keys", "agency keys", "subscriptions", "sharing groups", "feedback", "alert versions"];

    /// <summary>A list under test: who reads it, where, and the ids the test put there (the list may hold others too).</summary>
    private sealed record Listed(HttpClient Reader, string Path, IReadOnlyList<Guid> Mine);

    [Theory]
    [MemberData(nameof(Lists))]
    public async Task Walking_a_list_two_at_a_time_returns_every_item_exactly_once(string list)
    {
        var listed = await ArrangeAsync(list);

        var (walked, pages) = await WalkAsync(listed.Reader, listed.Path, limit: 2);
        var (whole, _) = await WalkAsync(listed.Reader, listed.Path, limit: 200);

        Assert.True(pages >= 2, $"{list}: {walked.Count} items came in {pages} page(s); the walk never followed a cursor.");
        Assert.Equal(walked.Count, walked.Distinct().Count());
        Assert.Equal(whole, walked);
        Assert.Equal(listed.Mine, walked.Where(listed.Mine.Contains));
    }

    [Theory]
    [MemberData(nameof(Lists))]
    public async Task A_cursor_issued_by_another_list_is_refused_naming_cursor(string list)
    {
        var listed = await ArrangeAsync(list);
        var foreign = await ForeignCursorAsync(list == "agencies" ? "/api/v1/sharing-groups" : "/api/v1/agencies");

        var response = await listed.Reader.GetAsync($"{listed.Path}{Join(listed.Path)}cursor={Uri.EscapeDataString(foreign)}", Ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.ReadJsonAsync();
        Assert.Equal(["cursor"], problem.GetProperty("errors").EnumerateObject().Select(e => e.Name));
    }

    [Theory]
    [MemberData(nameof(Lists))]
    public async Task A_tampered_cursor_is_refused_naming_cursor(string list)
    {
        var listed = await ArrangeAsync(list);
        var (_, cursor) = await FirstPageAsync(listed.Reader, listed.Path);
        Assert.NotNull(cursor);
        var tampered = (cursor[0] == 'A' ? 'B' : 'A') + cursor[1..];

        var response = await listed.Reader.GetAsync($"{listed.Path}{Join(listed.Path)}cursor={tampered}", Ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(["cursor"], (await response.ReadJsonAsync()).GetProperty("errors").EnumerateObject().Select(e => e.Name));
    }

    [Theory]
    [MemberData(nameof(Lists))]
    public async Task An_unknown_query_parameter_is_refused_naming_it(string list)
    {
        var listed = await ArrangeAsync(list);

        var response = await listed.Reader.GetAsync($"{listed.Path}{Join(listed.Path)}limt=2", Ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var errors = (await response.ReadJsonAsync()).GetProperty("errors");
        Assert.Equal(["limt"], errors.EnumerateObject().Select(e => e.Name));
        Assert.Contains("limit", errors.GetProperty("limt")[0].GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Lists))]
    public async Task A_limit_beyond_the_maximum_is_refused_naming_limit(string list)
    {
        var listed = await ArrangeAsync(list);

        var response = await listed.Reader.GetAsync($"{listed.Path}{Join(listed.Path)}limit=201", Ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(["limit"], (await response.ReadJsonAsync()).GetProperty("errors").EnumerateObject().Select(e => e.Name));
    }

    private async Task<Listed> ArrangeAsync(string list)
    {
        switch (list)
        {
            case "agencies":
            {
                var reader = await app.CreateAgencyAsync("Border Police Directorate");
                var more = new[] { await app.CreateAgencyAsync("Hungarian Police", "HU"), await app.CreateAgencyAsync("Croatian Border Police", "HR") };
                return new(reader.Client, "/api/v1/agencies", [reader.Id, .. more.Select(a => a.Id)]);
            }

            case "own keys":
            case "agency keys":
            {
                var operations = await app.CreateOperatorAsync();
                var partner = await app.CreateAgencyAsync("Hungarian Police", "HU");
                var keys = new List<Guid> { await OnlyKeyAsync(partner) };
                for (var i = 0; i < 2; i++)
                {
                    var issued = await operations.Client.PostAsync($"/api/v1/agencies/{partner.Id}/keys",
                        Samples.Json(new JsonObject { ["name"] = $"SIS gateway {i}", ["scopes"] = new JsonArray("alerts:read") }), Ct);
                    Assert.Equal(HttpStatusCode.Created, issued.StatusCode);
                    keys.Add((await issued.ReadJsonAsync()).GetProperty("id").GetGuid());
                }

                return list == "own keys"
                    ? new(partner.Client, "/api/v1/agencies/me/keys", keys)
                    : new(operations.Client, $"/api/v1/agencies/{partner.Id}/keys", keys);
            }

            case "subscriptions":
            {
                var partner = await app.CreateAgencyAsync("Hungarian Police", "HU", scopes: [Scopes.AlertsRead, Scopes.SubscriptionsManage]);
                var ids = new List<Guid>();
                for (var i = 0; i < 3; i++)
                {
                    var created = await partner.Client.PostAsync("/api/v1/subscriptions",
                        Samples.Json(new JsonObject { ["url"] = $"https://intake{i}.police.hu.example/hooks", ["description"] = $"Budapest operations centre {i}" }), Ct);
                    Assert.Equal(HttpStatusCode.Created, created.StatusCode);
                    ids.Add((await created.ReadJsonAsync()).GetProperty("subscription").GetProperty("id").GetGuid());
                }

                return new(partner.Client, "/api/v1/subscriptions", ids);
            }

            case "sharing groups":
            {
                var operations = await app.CreateOperatorAsync();
                var ids = new List<Guid>();
                for (var i = 0; i < 3; i++)
                {
                    var created = await operations.Client.PostAsync("/api/v1/sharing-groups", Samples.Json(new JsonObject
                    {
                        ["name"] = $"Western Balkans route {Guid.NewGuid():N}",
                        ["description"] = "Border police along the route",
                        ["members"] = new JsonArray(),
                    }), Ct);
                    Assert.Equal(HttpStatusCode.Created, created.StatusCode);
                    ids.Add((await created.ReadJsonAsync()).GetProperty("id").GetGuid());
                }

                return new(operations.Client, "/api/v1/sharing-groups", ids);
            }

            case "feedback":
            {
                var originator = await app.CreateAgencyAsync("Serbian Ministry of Interior");
                var created = await originator.Client.PostAsync("/api/v1/alerts", Samples.Json(Samples.CyberAlert()), Ct);
                Assert.Equal(HttpStatusCode.Created, created.StatusCode);
                var alertId = (await created.ReadJsonAsync()).GetProperty("id").GetGuid();
                var ids = new List<Guid>();
                foreach (var (name, country) in new[] { ("Hungarian Police", "HU"), ("Croatian Border Police", "HR"), ("CERT-RO", "RO") })
                {
                    var partner = await app.CreateAgencyAsync(name, country);
                    var answered = await partner.Client.PostAsync($"/api/v1/alerts/{alertId}/feedback", Samples.Json(new JsonObject { ["kind"] = "hit" }), Ct);
                    Assert.Equal(HttpStatusCode.Created, answered.StatusCode);
                    ids.Add((await answered.ReadJsonAsync()).GetProperty("id").GetGuid());
                }

                return new(originator.Client, $"/api/v1/alerts/{alertId}/feedback", ids);
            }

            case "alert versions":
            {
                var originator = await app.CreateAgencyAsync("Serbian Ministry of Interior");
                var created = await originator.Client.PostAsync("/api/v1/alerts", Samples.Json(Samples.CyberAlert()), Ct);
                Assert.Equal(HttpStatusCode.Created, created.StatusCode);
                var alertId = (await created.ReadJsonAsync()).GetProperty("id").GetGuid();
                var etag = created.Headers.ETag!.Tag;
                for (var i = 0; i < 2; i++)
                {
                    var update = Samples.CyberAlert();
                    update["title"] = $"Phishing wave against e-government portal, update {i + 1}";
                    using var request = new HttpRequestMessage(HttpMethod.Put, $"/api/v1/alerts/{alertId}") { Content = Samples.Json(update) };
                    request.Headers.TryAddWithoutValidation("If-Match", etag);
                    var updated = await originator.Client.SendAsync(request, Ct);
                    Assert.Equal(HttpStatusCode.OK, updated.StatusCode);
                    etag = updated.Headers.ETag!.Tag;
                }

                // Versions share the alert's id; the walk is checked on the version numbers instead.
                return new(originator.Client, $"/api/v1/alerts/{alertId}/versions", [VersionId(1), VersionId(2), VersionId(3)]);
            }

            default:
                throw new ArgumentOutOfRangeException(nameof(list), list, "No such list under test.");
        }
    }

    private static async Task<Guid> OnlyKeyAsync(TestAgency agency)
    {
        var listed = await (await agency.Client.GetAsync("/api/v1/agencies/me/keys", Ct)).ReadJsonAsync();
        return Assert.Single(listed.GetProperty("items").EnumerateArray()).GetProperty("id").GetGuid();
    }

    private async Task<string> ForeignCursorAsync(string path)
    {
        var operations = await app.CreateOperatorAsync();
        if (path.Contains("sharing-groups", StringComparison.Ordinal))
        {
            for (var i = 0; i < 2; i++)
            {
                await operations.Client.PostAsync(path, Samples.Json(new JsonObject { ["name"] = $"Danube {Guid.NewGuid():N}", ["members"] = new JsonArray() }), Ct);
            }
        }
        else
        {
            await app.CreateAgencyAsync("Europol liaison", "NL");
        }

        var (_, cursor) = await FirstPageAsync(operations.Client, path, limit: 1);
        return Assert.IsType<string>(cursor);
    }

    private static async Task<(JsonElement Items, string? NextCursor)> FirstPageAsync(HttpClient reader, string path, int limit = 2)
    {
        var response = await reader.GetAsync($"{path}{Join(path)}limit={limit}", Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var page = await response.ReadJsonAsync();
        Assert.Equal(["items", "nextCursor"], page.EnumerateObject().Select(p => p.Name));
        return (page.GetProperty("items"), page.GetProperty("nextCursor").GetString());
    }

    private static async Task<(List<Guid> Ids, int Pages)> WalkAsync(HttpClient reader, string path, int limit)
    {
        var ids = new List<Guid>();
        string? cursor = null;
        var pages = 0;
        do
        {
            var response = await reader.GetAsync($"{path}{Join(path)}limit={limit}{(cursor is null ? string.Empty : "&cursor=" + Uri.EscapeDataString(cursor))}", Ct);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var page = await response.ReadJsonAsync();
            var items = page.GetProperty("items").EnumerateArray().ToList();
            Assert.InRange(items.Count, 0, limit);
            ids.AddRange(items.Select(IdOf));
            cursor = page.GetProperty("nextCursor").GetString();
            pages++;
            Assert.True(pages < 1_000, "the walk does not end");
        }
        while (cursor is not null);

        return (ids, pages);
    }

    private static Guid IdOf(JsonElement item) =>
        item.TryGetProperty("version", out var version) && item.TryGetProperty("category", out _) ? VersionId(version.GetInt32()) : item.GetProperty("id").GetGuid();

    private static Guid VersionId(int version) => new(version, 0, 0, new byte[8]);

    private static string Join(string path) => path.Contains('?', StringComparison.Ordinal) ? "&" : "?";
}

public sealed class ListPagingTestsOnSqlite(SqliteApiFixture app) : ListPagingTests(app), IClassFixture<SqliteApiFixture>;

public sealed class ListPagingTestsOnPostgres(PostgresApiFixture app) : ListPagingTests(app), IClassFixture<PostgresApiFixture>;
