using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using IntelSharing.IntegrationTests.Infrastructure;

namespace IntelSharing.IntegrationTests.Alerts;

/// <summary>
/// "Bad input gets a precise 4xx problem response and changes nothing; no request produces a 500" (PRODUCT.md),
/// held against a corpus of the mistakes partner systems actually make: each case states the status, the problem
/// type and, for a 400, the field the client must fix.
/// </summary>
public abstract class InvalidRequestCorpusTests(ApiFixture app)
{
    private const string Alerts = "/api/v1/alerts";
    private const string Validation = "urn:intelsharing:problem:validation";
    private const string Malformed = "urn:intelsharing:problem:malformed-request";
    private const int OneMebibyte = 1024 * 1024;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>What a case may need from the running app: a real cursor is issued by the API itself before the snapshot.</summary>
    public sealed record Context(string? Cursor);

    /// <param name="Status">The expected status.</param>
    /// <param name="Type">The expected problem type URN.</param>
    /// <param name="Field">For a 400, the key that must appear in <c>errors</c>.</param>
    /// <param name="Request">Builds the request.</param>
    /// <param name="NeedsCursor">Whether the case needs a cursor the API issued.</param>
    /// <param name="Anonymous">Send without the agency's key (the request sets its own Authorization).</param>
    private sealed record Case(
        HttpStatusCode Status, string Type, string? Field, Func<Context, HttpRequestMessage> Request, bool NeedsCursor = false, bool Anonymous = false);

    private static readonly string InFuture = DateTimeOffset.UtcNow.AddMonths(3).ToString("O");
    private static readonly string FurtherInFuture = DateTimeOffset.UtcNow.AddYears(1).ToString("O");

    private static readonly Dictionary<string, Case> Corpus = new()
    {
        // --- The body is not JSON for this operation ---
        ["malformed JSON"] = Bad(Malformed, "body", Post(Raw("""{ "category": "migrant_smuggling", "title": """))),
        ["empty body"] = Bad(Malformed, "body", Post(Raw(string.Empty))),
        ["JSON null as the body"] = Bad(Malformed, "body", Post(Raw("null"))),
        ["JSON array as the body"] = Bad(Malformed, "body", Post(Raw("[]"))),
        ["number for the title"] = Bad(Malformed, "title", Post(Smuggling(a => a["title"] = 42))),
        ["string for estimatedPeople"] = Bad(Malformed, "smuggling.estimatedPeople", Post(Smuggling(a => a["smuggling"]!["estimatedPeople"] = "40"))),
        ["unknown severity 'urgent'"] = Bad(Malformed, "severity", Post(Smuggling(a => a["severity"] = "urgent"))),
        ["tlp in upper case 'AMBER'"] = Bad(Malformed, "tlp", Post(Smuggling(a => a["tlp"] = "AMBER"))),
        ["integer for the severity enum"] = Bad(Malformed, "severity", Post(Smuggling(a => a["severity"] = 3))),
        ["integer for the information enum"] = Bad(Malformed, "evaluation.information", Post(Smuggling(a => a["evaluation"]!["information"] = 2))),
        ["unknown property"] = Bad(Malformed, "titel", Post(Smuggling(a => a["titel"] = "Typo of title"))),
        ["unknown nested property"] = Bad(Malformed, "handling.condition", Post(Smuggling(a => a["handling"]!["condition"] = "Typo of conditions"))),
        ["duplicate property"] = Bad(Malformed, "title", Post(Raw(Samples.SmugglingAlert().ToJsonString().Replace("\"title\":", "\"title\":\"First\",\"title\":", StringComparison.Ordinal)))),
        ["deep nesting"] = Bad(Malformed, "title", Post(Raw($$"""{ "title": {{new string('[', 200)}}{{new string(']', 200)}} }"""))),
        ["null inside the countries list"] = Bad(Validation, "countries[1]", Post(Smuggling(a => a["countries"] = new JsonArray("RS", null)))),

        // --- Transport: media type and size ---
        ["no Content-Type"] = new(HttpStatusCode.UnsupportedMediaType, "urn:intelsharing:problem:unsupported-media-type", null,
            Post(() => WithoutContentType(Samples.SmugglingAlert().ToJsonString()))),
        ["text/plain body"] = new(HttpStatusCode.UnsupportedMediaType, "urn:intelsharing:problem:unsupported-media-type", null,
            Post(() => new StringContent(Samples.SmugglingAlert().ToJsonString(), Encoding.UTF8, "text/plain"))),
        ["body over 1 MiB with Content-Length"] = new(HttpStatusCode.RequestEntityTooLarge, "urn:intelsharing:problem:payload-too-large", null,
            Post(Raw(OversizedAlert()))),
        ["body over 1 MiB chunked, without Content-Length"] = new(HttpStatusCode.RequestEntityTooLarge, "urn:intelsharing:problem:payload-too-large", null,
            _ => Chunked(OversizedAlert())),

        // --- The alert breaks a rule ---
        ["missing category"] = Bad(Validation, "category", Post(Smuggling(a => a.Remove("category")))),
        ["missing title"] = Bad(Validation, "title", Post(Smuggling(a => a.Remove("title")))),
        ["missing countries"] = Bad(Validation, "countries", Post(Smuggling(a => a.Remove("countries")))),
        ["title over 200 characters"] = Bad(Validation, "title", Post(Smuggling(a => a["title"] = new string('T', 201)))),
        ["summary over 8000 characters"] = Bad(Validation, "summary", Post(Smuggling(a => a["summary"] = new string('S', 8001)))),
        ["more than 500 indicators"] = Bad(Validation, "indicators", Post(Smuggling(a => a["indicators"] =
            new JsonArray([.. Enumerable.Range(0, 501).Select(i => (JsonNode)new JsonObject { ["type"] = "vehicle_plate", ["value"] = $"SU {i:D4}-AB" })])))),
        ["handling H3 without conditions"] = Bad(Validation, "handling.conditions", Post(Smuggling(a => a["handling"] = new JsonObject { ["code"] = "H3" }))),
        ["persons on a green alert"] = Bad(Validation, "tlp", Post(Cyber(a =>
        {
            a["persons"] = Persons();
            a["reviewAt"] = InFuture;
            a["expiresAt"] = FurtherInFuture;
        }))),
        ["persons without reviewAt and expiresAt"] = Bad(Validation, "reviewAt", Post(Smuggling(a => a["persons"] = Persons()))),
        ["expiresAt before reviewAt"] = Bad(Validation, "expiresAt", Post(Smuggling(a =>
        {
            a["persons"] = Persons();
            a["reviewAt"] = FurtherInFuture;
            a["expiresAt"] = InFuture;
        }))),
        ["lower-case country 'rs'"] = Bad(Validation, "countries[0]", Post(Smuggling(a => a["countries"] = new JsonArray("rs", "HU")))),
        ["retired country code 'YU'"] = Bad(Validation, "countries[1]", Post(Smuggling(a => a["countries"] = new JsonArray("RS", "YU")))),
        ["smuggling alert carrying a cyber section"] = Bad(Validation, "cyber", Post(Smuggling(a => a["cyber"] = Samples.CyberAlert()["cyber"]!.DeepClone()))),
        ["smuggling alert without its smuggling section"] = Bad(Validation, "smuggling", Post(Smuggling(a => a.Remove("smuggling")))),
        ["cyber alert without its cyber section"] = Bad(Validation, "cyber", Post(Cyber(a => a.Remove("cyber")))),
        ["crossing point without countries"] = Bad(Validation, "smuggling.crossingPoints[0].countries",
            Post(Smuggling(a => a["smuggling"]!["crossingPoints"] = new JsonArray(new JsonObject { ["name"] = "Horgoš–Röszke" })))),
        ["ATT&CK id T15660"] = Bad(Validation, "cyber.attackTechniques[1]", Post(Cyber(a => a["cyber"]!["attackTechniques"] = new JsonArray("T1566", "T15660")))),
        ["CVE id without the year"] = Bad(Validation, "cyber.cves[0]", Post(Cyber(a => a["cyber"]!["cves"] = new JsonArray("CVE-3400")))),
        ["IBAN with a wrong checksum"] = Bad(Validation, "indicators[2].value", Post(Smuggling(a => a["indicators"]![2]!["value"] = "RS35 2600 0560 1001 6113 78"))),
        ["IMO number with a wrong check digit"] = Bad(Validation, "indicators[3].value",
            Post(Smuggling(a => a["indicators"]!.AsArray().Add(new JsonObject { ["type"] = "vessel_imo", ["value"] = "IMO 9074728" })))),
        ["phone number without '+'"] = Bad(Validation, "indicators[0].value", Post(Smuggling(a => a["indicators"]![0]!["value"] = "064 123 4567"))),
        ["ipv4 '1.2.3'"] = Bad(Validation, "indicators[1].value", Post(Cyber(a => a["indicators"]![1]!["value"] = "1.2.3"))),
        ["sha256 of the wrong length"] = Bad(Validation, "indicators[2].value", Post(Cyber(a => a["indicators"]![2]!["value"] = "9F86D081884C7D659A2FEAA0C55AD015"))),
        ["unknown indicator type"] = Bad(Malformed, "indicators[0].type", Post(Smuggling(a => a["indicators"]![0]!["type"] = "imei"))),
        ["amber+strict without an audience"] = Bad(Validation, "audience", Post(Smuggling(a => a["tlp"] = "amber+strict"))),
        ["audience naming an unknown agency"] = Bad(Validation, "audience.agencies[0]", Post(Smuggling(a =>
        {
            a["tlp"] = "red";
            a["audience"] = new JsonObject { ["agencies"] = new JsonArray(Guid.CreateVersion7().ToString()) };
        }))),
        ["audience id that is not a GUID"] = Bad(Malformed, "audience.agencies[0]", Post(Smuggling(a =>
        {
            a["tlp"] = "red";
            a["audience"] = new JsonObject { ["agencies"] = new JsonArray("hungarian-police") };
        }))),
        ["Idempotency-Key with a space"] = Bad(Validation, "Idempotency-Key", Post(Smuggling(_ => { }), ("Idempotency-Key", "retry 1"))),
        ["Idempotency-Key over 255 characters"] = Bad(Validation, "Idempotency-Key", Post(Smuggling(_ => { }), ("Idempotency-Key", new string('k', 256)))),

        // --- Listing ---
        ["list with limit=0"] = Bad(Validation, "limit", Get($"{Alerts}?limit=0")),
        ["list with limit=abc"] = Bad(Validation, "limit", Get($"{Alerts}?limit=abc")),
        ["list with limit=201"] = Bad(Validation, "limit", Get($"{Alerts}?limit=201")),
        ["list with limit=-1"] = Bad(Validation, "limit", Get($"{Alerts}?limit=-1")),
        ["list with category=foo"] = Bad(Validation, "category", Get($"{Alerts}?category=foo")),
        ["list with severity=urgent"] = Bad(Validation, "severity", Get($"{Alerts}?severity=high,urgent")),
        ["list with minSeverity=HIGH"] = Bad(Validation, "minSeverity", Get($"{Alerts}?minSeverity=HIGH")),
        ["list with country=rs"] = Bad(Validation, "country", Get($"{Alerts}?country=rs")),
        ["list with updatedAfter=yesterday"] = Bad(Validation, "updatedAfter", Get($"{Alerts}?updatedAfter=yesterday")),
        ["list with updatedAfter without an offset"] = Bad(Validation, "updatedAfter", Get($"{Alerts}?updatedAfter=2026-11-01T00:00:00")),
        ["list with updatedAfter and an unencoded '+'"] = Bad(Validation, "updatedAfter", Get($"{Alerts}?updatedAfter=2026-11-01T00:00:00+01:00")),
        ["list with a tampered cursor"] = new(HttpStatusCode.BadRequest, Validation, "cursor",
            context => Get($"{Alerts}?limit=1&cursor={Tamper(context.Cursor!)}")(context), NeedsCursor: true),
        ["list with a cursor reused with other filters"] = new(HttpStatusCode.BadRequest, Validation, "cursor",
            context => Get($"{Alerts}?limit=1&category=cyber_incident&cursor={context.Cursor}")(context), NeedsCursor: true),
        ["list with a garbage cursor"] = Bad(Validation, "cursor", Get($"{Alerts}?cursor=not-a-cursor")),

        // --- Addressing and authentication ---
        ["read with an id that is not a GUID"] = new(HttpStatusCode.NotFound, "urn:intelsharing:problem:not-found", null, Get($"{Alerts}/not-a-guid")),
        ["read an alert that does not exist"] = new(HttpStatusCode.NotFound, "urn:intelsharing:problem:not-found", null, Get($"{Alerts}/{Guid.CreateVersion7()}")),
        ["DELETE on the alerts collection"] = new(HttpStatusCode.MethodNotAllowed, "urn:intelsharing:problem:method-not-allowed", null,
            _ => new HttpRequestMessage(HttpMethod.Delete, Alerts)),
        ["malformed bearer key"] = new(HttpStatusCode.Unauthorized, "urn:intelsharing:problem:unauthenticated", null, _ =>
        {
            var request = new HttpRequestMessage(HttpMethod.Get, Alerts);
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "isk_not-a-real-key");
            return request;
        }, Anonymous: true),
        ["Basic instead of Bearer"] = new(HttpStatusCode.Unauthorized, "urn:intelsharing:problem:unauthenticated", null, _ =>
        {
            var request = new HttpRequestMessage(HttpMethod.Get, Alerts);
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String("mup:lozinka"u8));
            return request;
        }, Anonymous: true),
    };

    public static TheoryData<string> Cases => new(Corpus.Keys);

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Each_invalid_request_gets_its_4xx_problem_with_the_field_named_and_changes_nothing(string name)
    {
        var @case = Corpus[name];
        var agency = await app.CreateAgencyAsync("Border Police Directorate");
        var context = new Context(@case.NeedsCursor ? await IssueCursorAsync(agency) : null);
        var client = @case.Anonymous ? app.ClientWithKey(null) : agency.Client;
        var before = await app.CountRowsAsync();

        using var request = @case.Request(context);
        var response = await client.SendAsync(request, Ct);
        var text = await response.Content.ReadAsStringAsync(Ct);

        Assert.True((int)response.StatusCode < 500, $"{name}: {(int)response.StatusCode} {text}");
        Assert.True(@case.Status == response.StatusCode, $"{name}: expected {(int)@case.Status}, got {(int)response.StatusCode} {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(text);
        Assert.Equal(@case.Type, problem.RootElement.GetProperty("type").GetString());
        Assert.Equal((int)@case.Status, problem.RootElement.GetProperty("status").GetInt32());
        if (@case.Field is not null)
        {
            Assert.True(problem.RootElement.TryGetProperty("errors", out var errors), $"{name}: no 'errors' in {text}");
            Assert.True(errors.TryGetProperty(@case.Field, out var messages), $"{name}: '{@case.Field}' not named in {errors}");
            Assert.All(messages.EnumerateArray(), m => Assert.False(string.IsNullOrWhiteSpace(m.GetString())));
        }

        Assert.Equal(before, await app.CountRowsAsync());
    }

    /// <summary>Two alerts, then a first page of one: the API's own cursor for the rest.</summary>
    private static async Task<string> IssueCursorAsync(TestAgency agency)
    {
        for (var i = 0; i < 2; i++)
        {
            Assert.Equal(HttpStatusCode.Created, (await agency.Client.PostAsync(Alerts, Samples.Json(Samples.SmugglingAlert()), Ct)).StatusCode);
        }

        var page = await (await agency.Client.GetAsync($"{Alerts}?limit=1", Ct)).ReadJsonAsync();
        return page.GetProperty("nextCursor").GetString()!;
    }

    private static Case Bad(string type, string field, Func<Context, HttpRequestMessage> request) => new(HttpStatusCode.BadRequest, type, field, request);

    /// <summary>Content is built per request: a sent request disposes its content, and each case runs once per provider.</summary>
    private static Func<Context, HttpRequestMessage> Post(Func<HttpContent> content, params (string Name, string Value)[] headers) => _ =>
    {
        var request = new HttpRequestMessage(HttpMethod.Post, Alerts) { Content = content() };
        foreach (var (header, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(header, value);
        }

        return request;
    };

    private static Func<Context, HttpRequestMessage> Get(string pathAndQuery) => _ => new HttpRequestMessage(HttpMethod.Get, pathAndQuery);

    private static Func<HttpContent> Raw(string json) => () => new StringContent(json, Encoding.UTF8, "application/json");

    private static Func<HttpContent> Smuggling(Action<JsonObject> mutate) => () =>
    {
        var alert = Samples.SmugglingAlert();
        mutate(alert);
        return Samples.Json(alert);
    };

    private static Func<HttpContent> Cyber(Action<JsonObject> mutate) => () =>
    {
        var alert = Samples.CyberAlert();
        mutate(alert);
        return Samples.Json(alert);
    };

    private static JsonArray Persons() =>
        new(new JsonObject { ["fullName"] = "Marko Petrović", ["category"] = "suspect", ["nationality"] = "RS" });

    private static ByteArrayContent WithoutContentType(string body)
    {
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
        content.Headers.ContentType = null;
        return content;
    }

    private static string OversizedAlert()
    {
        var alert = Samples.SmugglingAlert();
        alert["summary"] = new string('S', OneMebibyte + 1);
        return alert.ToJsonString();
    }

    private static HttpRequestMessage Chunked(string body)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, Alerts) { Content = new UnknownLengthContent(Encoding.UTF8.GetBytes(body)) };
        request.Headers.TransferEncodingChunked = true;
        return request;
    }

    /// <summary>Changes one character in the middle of the cursor, keeping it valid base64url.</summary>
    private static string Tamper(string cursor)
    {
        var middle = cursor.Length / 2;
        return cursor[..middle] + (cursor[middle] == 'A' ? 'B' : 'A') + cursor[(middle + 1)..];
    }

    /// <summary>A body whose length the client does not declare, as a streaming client sends it.</summary>
    private sealed class UnknownLengthContent : HttpContent
    {
        private readonly byte[] _bytes;

        public UnknownLengthContent(byte[] bytes)
        {
            _bytes = bytes;
            Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        }

        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => stream.WriteAsync(_bytes).AsTask();

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}

public sealed class InvalidRequestCorpusTestsOnSqlite(SqliteApiFixture app) : InvalidRequestCorpusTests(app), IClassFixture<SqliteApiFixture>;

public sealed class InvalidRequestCorpusTestsOnPostgres(PostgresApiFixture app) : InvalidRequestCorpusTests(app), IClassFixture<PostgresApiFixture>;
