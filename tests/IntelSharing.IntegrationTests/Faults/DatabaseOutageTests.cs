using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Dapper;
using IntelSharing.Api.Domain;
using IntelSharing.Api.Infrastructure.Persistence;
using IntelSharing.Api.Infrastructure.Security;
using IntelSharing.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace IntelSharing.IntegrationTests.Faults;

/// <summary>The API on a PostgreSQL cluster of its own, which the test stops (-m immediate) and starts again.</summary>
public class OutageFixture : ApiFixture
{
    public PostgresCluster Cluster { get; private set; } = null!;

    public ServerErrorLog ServerErrors { get; } = new();

    public override DatabaseProvider Provider => DatabaseProvider.Postgres;

    protected override IEnumerable<KeyValuePair<string, string>> Settings =>
    [
        .. DeliveryTestSettings.Loopback,
        new("Delivery:AttemptTimeout", "00:00:05"),
        new("Delivery:PollInterval", "00:00:00.500"),
        // The load is far above an agency's per-minute budget; a 429 is not what this test is about.
        new("RateLimits:PerAgencyPermits", "1000000"),
    ];

    protected override void ConfigureServices(IServiceCollection services) => services.CaptureServerErrors(ServerErrors);

    protected override async Task<string?> ProvisionAsync()
    {
        Cluster = await PostgresCluster.StartDedicatedAsync();
        if (Cluster.AdminConnectionString is null)
        {
            MarkUnavailable(Cluster.UnavailableReason!);
            return null;
        }

        return await Cluster.CreateDatabaseAsync("outage");
    }

    protected override async Task CleanUpAsync()
    {
        if (Cluster is not null)
        {
            await Cluster.DisposeAsync();
        }
    }
}

/// <summary>
/// PostgreSQL stopped with <c>pg_ctl -m immediate</c> while clients submit, read and list alerts and probes ask
/// /health/ready, then started again: while it is down every API answer is 503 problem+json with Retry-After,
/// never 500, and readiness is 503; once it is back the API serves again with nobody touching it, every alert
/// acknowledged before, during or after is readable, and unanswered submissions retried with their
/// Idempotency-Key give one alert each. Reduced: one outage; full: three.
/// </summary>
[Collection(nameof(FaultCollection))]
public sealed class DatabaseOutageTests(OutageFixture app) : IClassFixture<OutageFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private enum Operation
    {
        Submit,
        Read,
        List,
        Ready,
        Live,
    }

    private sealed record Observation(Operation Operation, long Started, long Ended, int? Status, string? MediaType, string? ProblemType, bool RetryAfter, string? Key, string? Error);

    [Fact]
    public async Task Stopping_postgres_under_load_answers_503_with_retry_after_never_500_and_the_service_resumes_losing_nothing_acknowledged()
    {
        app.RequireDatabase();
        var outages = FaultRuns.Size(1, 3);
        var answersDuringOutage = FaultRuns.Size(60, 600);
        var outageMilliseconds = FaultRuns.Size(3_000, 20_000);
        var originator = await app.CreateAgencyAsync("Border Police Directorate", "RS", AgencyKind.BorderGuard, Scopes.AlertsWrite, Scopes.AlertsRead);
        var partner = await app.CreateAgencyAsync("Hungarian National Police", "HU", AgencyKind.Police, Scopes.AlertsRead, Scopes.SubscriptionsManage);
        await using var receiver = await PartnerReceiver.StartAsync();
        Assert.Equal(HttpStatusCode.Created, (await partner.Client.PostAsync("/api/v1/subscriptions", Samples.Json(new JsonObject { ["url"] = receiver.Url }), Ct)).StatusCode);

        var observations = new ConcurrentQueue<Observation>();
        var acknowledged = new ConcurrentDictionary<string, Guid>();
        using var stop = new CancellationTokenSource();
        var clock = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, 6).Select(w => Task.Run(() => LoadAsync(w, originator.Key, clock, observations, acknowledged, stop.Token))).ToList();
        var windows = new List<(long Down, long Up)>();
        try
        {
            await UntilAsync(() => acknowledged.Count >= 20, "20 alerts acknowledged before the outage", TimeSpan.FromSeconds(60));
            for (var outage = 0; outage < outages; outage++)
            {
                await app.Cluster.StopAsync("immediate");
                var down = clock.ElapsedMilliseconds;

                // The outage is the scenario: it lasts at least this long, and until enough answers came back during it.
                await UntilAsync(
                    () => clock.ElapsedMilliseconds - down >= outageMilliseconds && observations.Count(o => o.Started > down) >= answersDuringOutage,
                    $"{answersDuringOutage} answers during an outage of at least {outageMilliseconds} ms", TimeSpan.FromSeconds(180));
                var up = clock.ElapsedMilliseconds;
                await app.Cluster.StartAsync();
                windows.Add((down, up));

                // Nobody restarts or tells the API anything: it must find the database again by itself.
                var before = acknowledged.Count;
                await UntilAsync(() => acknowledged.Count >= before + 20, "20 alerts acknowledged after the restart", TimeSpan.FromSeconds(120));
                var recovered = observations.Where(o => o.Started > up && o.Operation == Operation.Submit && o.Status == 201).Min(o => o.Ended) - up;
                FaultRuns.Report($"Outage {outage + 1}: down {up - down} ms, {observations.Count(o => o.Started > down && o.Ended < up)} answers while down; " +
                    $"first acknowledged submission {recovered} ms after the server was back.");
            }
        }
        finally
        {
            await stop.CancelAsync();
            await Task.WhenAll(workers);
        }

        var all = observations.ToList();
        var errors = string.Join(" | ", app.ServerErrors.Drain());
        Assert.True(all.All(o => o.Status is not >= 500 || o.Status == 503), $"Server errors other than 503: {Describe(all.Where(o => o.Status is >= 500 and not 503))}; the server logged: {errors}");
        Assert.All(all.Where(o => o.Status == 503 && o.Operation is Operation.Submit or Operation.Read or Operation.List), o =>
        {
            Assert.Equal("application/problem+json", o.MediaType);
            Assert.Equal("urn:intelsharing:problem:service-unavailable", o.ProblemType);
            Assert.True(o.RetryAfter, "503 without Retry-After");
        });

        // Strictly inside an outage (sent after the stop completed, answered before the start began).
        var whileDown = all.Where(o => windows.Any(w => o.Started > w.Down && o.Ended < w.Up)).ToList();
        Assert.Contains(whileDown, o => o.Operation == Operation.Submit);
        Assert.All(whileDown.Where(o => o.Operation is not Operation.Live), o => Assert.True(o.Status == 503, $"{o.Operation} while the database was down: {o.Status} {o.Error}"));
        Assert.All(whileDown.Where(o => o.Operation is Operation.Live), o => Assert.Equal(200, o.Status));
        Assert.Contains(whileDown, o => o.Operation == Operation.Ready);

        // Resumed without intervention: the last answers of the run are successes again.
        var lastUp = windows[^1].Up;
        Assert.All(all.Where(o => o.Operation == Operation.Submit && o.Started > lastUp).OrderBy(o => o.Started).TakeLast(10), o => Assert.Equal(201, o.Status));
        using var client = app.ClientWithKey(originator.Key);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/ready", Ct)).StatusCode);

        // Nothing acknowledged is lost; what was never acknowledged, retried with its key, becomes exactly one alert.
        foreach (var (key, id) in acknowledged)
        {
            var read = await client.GetAsync($"/api/v1/alerts/{id}", Ct);
            Assert.True(read.StatusCode == HttpStatusCode.OK, $"Alert {id} (Idempotency-Key {key}) was acknowledged but reads {(int)read.StatusCode}.");
        }

        var unanswered = all.Where(o => o.Operation == Operation.Submit && o.Status != 201).Select(o => o.Key!).Distinct().ToList();
        await Parallel.ForEachAsync(unanswered, new ParallelOptions { MaxDegreeOfParallelism = 4, CancellationToken = Ct }, async (key, token) =>
        {
            var retried = await SubmitAsync(client, key, token);
            Assert.Equal(HttpStatusCode.Created, retried.StatusCode);
            acknowledged[key] = (await retried.ReadJsonAsync()).GetProperty("id").GetGuid();
        });

        await using (var connection = await app.Database.OpenAsync(Ct))
        {
            Assert.Equal(acknowledged.Count, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM alerts WHERE originator_id = @id", new { id = originator.Id }));
        }

        var ids = acknowledged.Values.ToHashSet();
        await DeliveryTestSettings.EventuallyAsync(
            () => Task.FromResult(ids.IsSubsetOf(receiver.Received.Select(r => r.Json.GetProperty("data").GetProperty("id").GetGuid()))),
            "every acknowledged alert at the partner", TimeSpan.FromSeconds(120));

        FaultRuns.Report($"{all.Count} requests; {whileDown.Count} while down (all 503 with Retry-After, /health/live 200); " +
            $"{acknowledged.Count} alerts acknowledged ({unanswered.Count} after a retry with the same key), all readable and all delivered.");
    }

    /// <summary>One client: submits, reads what it got back, lists, and probes health, recording every answer.</summary>
    private async Task LoadAsync(int worker, string key, Stopwatch clock, ConcurrentQueue<Observation> observations, ConcurrentDictionary<string, Guid> acknowledged, CancellationToken stop)
    {
        // Probes come without a key, as kubelet sends them; API calls with the agency's key.
        using var client = app.ClientWithKey(worker == 0 ? null : key);
        client.Timeout = TimeSpan.FromSeconds(60);
        var random = new Random(worker);
        for (var i = 0; !stop.IsCancellationRequested; i++)
        {
            var operation = (worker, i % 6) switch
            {
                (0, _) => i % 2 == 0 ? Operation.Ready : Operation.Live,
                (_, < 3) => Operation.Submit,
                (_, < 5) => Operation.Read,
                _ => Operation.List,
            };
            var idempotencyKey = operation == Operation.Submit ? $"outage-{worker}-{i}" : null;
            var known = acknowledged.Values.ToList();
            var started = clock.ElapsedMilliseconds;
            try
            {
                using var response = operation switch
                {
                    Operation.Submit => await SubmitAsync(client, idempotencyKey!, CancellationToken.None),
                    Operation.Read when known.Count > 0 => await client.GetAsync($"/api/v1/alerts/{known[random.Next(known.Count)]}", CancellationToken.None),
                    Operation.Ready => await client.GetAsync("/health/ready", CancellationToken.None),
                    Operation.Live => await client.GetAsync("/health/live", CancellationToken.None),
                    _ => await client.GetAsync("/api/v1/alerts?limit=5", CancellationToken.None),
                };
                var body = await response.Content.ReadAsStringAsync(CancellationToken.None);
                var mediaType = response.Content.Headers.ContentType?.MediaType;
                if (operation == Operation.Submit && response.StatusCode == HttpStatusCode.Created)
                {
                    acknowledged[idempotencyKey!] = JsonDocument.Parse(body).RootElement.GetProperty("id").GetGuid();
                }

                observations.Enqueue(new Observation(operation, started, clock.ElapsedMilliseconds, (int)response.StatusCode, mediaType,
                    mediaType == "application/problem+json" ? JsonDocument.Parse(body).RootElement.GetProperty("type").GetString() : null,
                    response.Headers.RetryAfter is not null, idempotencyKey, null));
                if (operation is Operation.Ready or Operation.Live)
                {
                    // Probes come periodically, not in a tight loop (kubelet: seconds; here compressed).
                    await Task.Delay(TimeSpan.FromMilliseconds(50), CancellationToken.None);
                }
                else if (response.Headers.RetryAfter is not null)
                {
                    // A client that honours Retry-After waits before its next call; compressed from seconds to a
                    // tenth so that the test stays short while the API still sees calls throughout the outage.
                    await Task.Delay(TimeSpan.FromMilliseconds(100), CancellationToken.None);
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                observations.Enqueue(new Observation(operation, started, clock.ElapsedMilliseconds, null, null, null, false, idempotencyKey, ex.Message));
            }
        }
    }

    private static async Task<HttpResponseMessage> SubmitAsync(HttpClient client, string idempotencyKey, CancellationToken token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/alerts") { Content = Samples.Json(Samples.CyberAlert()) };
        request.Headers.Add("Idempotency-Key", idempotencyKey);
        return await client.SendAsync(request, token);
    }

    private static Task UntilAsync(Func<bool> condition, string what, TimeSpan within) =>
        DeliveryTestSettings.EventuallyAsync(() => Task.FromResult(condition()), what, within);

    private static string Describe(IEnumerable<Observation> observations) =>
        string.Join("; ", observations.Take(5).Select(o => $"{o.Operation} {o.Status} {o.ProblemType}"));
}
