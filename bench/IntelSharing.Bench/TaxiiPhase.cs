using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace IntelSharing.Bench;

/// <summary>
/// One TAXII request kind at one stored size: requests per second, latency, PostgreSQL's plan for its query, and the
/// load-independent cost of one request: the API's and PostgreSQL's CPU milliseconds and the statements it ran.
/// </summary>
public sealed record TaxiiRow(long StoredAlerts, string Request, int Connections, double PerSecond, Latencies Latency, long Failed, bool PlanUsesIndex, string Plan)
{
    public double ApiCpuMs { get; init; } = double.NaN;

    public double PostgresCpuMs { get; init; } = double.NaN;

    public double Statements { get; init; } = double.NaN;

    /// <summary>Alerts (with their stored objects) the statements that read stix_renderings returned per request, and their execution ms per request.</summary>
    public double AlertsRead { get; init; } = double.NaN;

    public double ReadMs { get; init; } = double.NaN;

    /// <summary>The mean size of a response's body, bytes.</summary>
    public double ResponseBytes { get; init; } = double.NaN;
}

/// <summary>The no-op Kestrel answering a fixed body of a TAXII response's size: the machine's ceiling for such a response.</summary>
public sealed record TaxiiBytesCeiling(string Request, int Bytes, int Connections, double PerSecond, Latencies Latency, long Failed);

public sealed class TaxiiResults
{
    public List<TaxiiRow> Rows { get; set; } = [];

    public List<TaxiiBytesCeiling> Ceilings { get; set; } = [];

    /// <summary>Objects in one alert's export that the object index records (all but those every alert carries).</summary>
    public double IndexedObjectsPerAlert { get; set; }

    /// <summary>A published alert's stored STIX objects (stix_renderings, ADR 36): bytes of JSON, and as PostgreSQL stores them (compressed).</summary>
    public double RenderedBytesPerAlert { get; set; }

    public double StoredRenderingBytesPerAlert { get; set; }
}

/// <summary>
/// bench/run.sh --only taxii (docs/benchmarks.md, "TAXII"): a page of 100 objects and one object by id through the TAXII
/// server at 1,000, 10,000 and 100,000 stored alerts (1,000 and 10,000 in --quick), as a partner that may see them all.
/// Twenty cyber alerts are published through the API; the rest are copies of one of them, made in SQL with their own
/// ids (in the document too, so their objects are their own) and as many object-index rows as a real alert has, with
/// random keys. A page starts at a random added_after among the copies (a keyset seek deep into the collection); an
/// object by id is a random object of the published alerts. The plans are PostgreSQL's, after ANALYZE, for the shape of
/// the two queries in Features/Taxii/GetTaxiiObjects.cs.
/// </summary>
public sealed class TaxiiPhase(SuiteOptions options, Postgres postgres, SuiteResults results)
{
    private const string Database = "bench_taxii";
    private const int Connections = 16;
    private const int Published = 20;

    private static void Log(string line) => Console.WriteLine($"[{DateTime.UtcNow:HH:mm:ss}] {line}");

    public async Task RunAsync()
    {
        results.Taxii = new TaxiiResults();
        await postgres.CreateDatabaseAsync(Database);
        var settings = HostProcess.ApiSettings(postgres.ApiConnectionString(Database), dispatcher: false);
        settings["Correlation__Enabled"] = "false";
        var key = await HostProcess.BootstrapAdminAsync(options.ApiDll, settings);
        var api = HostProcess.Start(options.ApiDll, [], settings);
        try
        {
            await api.WaitUntilReadyAsync(TimeSpan.FromSeconds(90));
            var community = new Community(api.BaseAddress, key);
            var cert = await community.CertAsync();
            var reader = await community.PartnerAsync(0);
            using var client = new HttpClient { BaseAddress = api.BaseAddress };
            var objectIds = await PublishAsync(client, cert);
            var indexed = objectIds.Count / (double)Published;
            results.Taxii.IndexedObjectsPerAlert = indexed;
            var rendering = (await postgres.RowsAsync(Database, "SELECT avg(octet_length(objects))::float8, avg(pg_column_size(objects))::float8 FROM stix_renderings"))[0];
            results.Taxii.RenderedBytesPerAlert = double.Parse(rendering[0], CultureInfo.InvariantCulture);
            results.Taxii.StoredRenderingBytesPerAlert = double.Parse(rendering[1], CultureInfo.InvariantCulture);
            Log($"TAXII: a published alert's stored STIX objects: {results.Taxii.RenderedBytesPerAlert:F0} bytes of JSON, {results.Taxii.StoredRenderingBytesPerAlert:F0} bytes as stored");
            var collection = await CyberCollectionAsync(client, reader);

            // Copies are dated one second apart before the newest published alert, so that pages deep in the collection are theirs.
            var newest = DateTimeOffset.Parse((await postgres.RowsAsync(Database,
                "SELECT to_char(max(updated_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') FROM alerts"))[0][0], CultureInfo.InvariantCulture);
            long stored = Published;
            foreach (var size in options.Quick ? new long[] { 1_000, 10_000 } : [1_000, 10_000, 100_000])
            {
                await postgres.ExecuteAsync(Database, Inv(
                    $"""
                    WITH template AS (SELECT * FROM alerts WHERE category = 'cyber_incident' ORDER BY updated_at DESC LIMIT 1),
                    copies AS (
                        INSERT INTO alerts (id, originator_id, category, severity, severity_rank, tlp, handling_code, has_audience,
                                            version, status, created_at, updated_at, review_at, expires_at, document)
                        SELECT f.id, t.originator_id, t.category, t.severity, t.severity_rank, t.tlp, t.handling_code, t.has_audience,
                               t.version, t.status, t.created_at - f.g * interval '1 second', t.updated_at - f.g * interval '1 second',
                               t.review_at, t.expires_at, jsonb_set(t.document::jsonb, ARRAY['id'], to_jsonb(f.id::text))::json
                        FROM template t, (SELECT g, gen_random_uuid() AS id FROM generate_series({stored + 1}, {size}) g) f
                        RETURNING id)
                    INSERT INTO stix_object_alerts (object_key, alert_id)
                    SELECT gen_random_uuid(), c.id FROM copies c, generate_series(1, {Math.Round(indexed)});
                    ANALYZE alerts;
                    ANALYZE stix_object_alerts;
                    """));
                stored = size;

                // The copies were made in SQL without their stored STIX objects (ADR 36): the API renders what has none
                // in the background after it starts, so it is restarted, and measured once it has rendered them all.
                await api.DisposeAsync();
                api = HostProcess.Start(options.ApiDll, [], settings);
                await api.WaitUntilReadyAsync(TimeSpan.FromSeconds(90));
                await WaitUntilRenderedAsync(size);

                // The sweep has just written a rendering per copy: vacuumed and analysed now, so that autovacuum's pass over
                // them does not land in the measured window (a collection that has stood a while, as a partner meets it).
                await postgres.ExecuteAsync(Database, "VACUUM ANALYZE stix_renderings");
                await postgres.ExecuteAsync(Database, "VACUUM ANALYZE alerts");
                await postgres.ExecuteAsync(Database, "VACUUM ANALYZE stix_object_alerts");

                var random = new Random((int)size);
                string Timestamp(long secondsBefore) => newest.AddSeconds(-secondsBefore).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
                await MeasureAsync(api, reader, size, "page of 100 objects",
                    () => $"{collection}objects/?limit=100&added_after={Uri.EscapeDataString(Timestamp(random.NextInt64(100, size)))}",
                    $"EXPLAIN SELECT a.id FROM alerts a WHERE a.category = 'cyber_incident' AND a.updated_at > '{Timestamp(size / 2)}' ORDER BY a.updated_at, a.id LIMIT 101",
                    "ix_alerts_updated");
                var sample = objectIds[random.Next(objectIds.Count)];
                await MeasureAsync(api, reader, size, "object by id", () => $"{collection}objects/{objectIds[random.Next(objectIds.Count)]}/",
                    $"""
                    EXPLAIN SELECT a.id FROM stix_object_alerts s JOIN alerts a ON a.id = s.alert_id
                    WHERE s.object_key = '{sample[(sample.IndexOf("--", StringComparison.Ordinal) + 2)..]}' AND a.category = 'cyber_incident'
                    ORDER BY a.updated_at DESC, a.id DESC LIMIT 20
                    """,
                    "stix_object_alerts_pkey");
            }
        }
        finally
        {
            await api.DisposeAsync();
        }

        await CeilingsAsync();
    }

    /// <summary>
    /// The same bytes with no work: the no-op host (L_http's Kestrel, no database, no key, no policy) answering a fixed
    /// body of each request's mean response size at the largest store, through the same generator and connections. What
    /// this machine does with the least a response of that size needs, so that "of L_read" can be read against it.
    /// </summary>
    private async Task CeilingsAsync()
    {
        var bench = typeof(TaxiiPhase).Assembly.Location;
        await using var host = HostProcess.Start(bench, ["noop-host"], new Dictionary<string, string> { ["ASPNETCORE_ENVIRONMENT"] = "Production" });
        await host.WaitUntilReadyAsync(TimeSpan.FromSeconds(30));
        foreach (var request in results.Taxii!.Rows.Select(r => r.Request).Distinct().ToList())
        {
            var bytes = (int)Math.Round(results.Taxii.Rows.Where(r => r.Request == request).MaxBy(r => r.StoredAlerts)!.ResponseBytes);
            using var generator = new LoadGenerator(host.BaseAddress, Connections);
            HttpRequestMessage Request(long _) => new(HttpMethod.Get, $"/bytes/{bytes}");
            await generator.ClosedLoopAsync(Request, HttpStatusCode.OK, TimeSpan.Zero, options.Warmup);
            var run = await generator.ClosedLoopAsync(Request, HttpStatusCode.OK, options.Warmup, options.Window);
            results.Taxii.Ceilings.Add(new TaxiiBytesCeiling(request, bytes, Connections, run.PerSecond, run.Latency, run.Failed));
            Log($"TAXII ceiling for a {request} ({bytes:N0} bytes from the no-op host): {run.PerSecond:F0}/s, p50 {run.Latency.P50:F2} ms, p99 {run.Latency.P99:F2} ms, failed {run.Failed}");
        }
    }

    private async Task WaitUntilRenderedAsync(long size)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        const string Unrendered = """
            SELECT count(*) FROM alerts a LEFT JOIN stix_renderings r ON r.alert_id = a.id AND r.version = a.version
            WHERE r.alert_id IS NULL AND a.status = 'active'
            """;
        while (await postgres.ScalarAsync<long>(Database, Unrendered) is var left and > 0)
        {
            if (clock.Elapsed > TimeSpan.FromMinutes(20))
            {
                throw new TimeoutException($"The API had not rendered the STIX objects of {left:N0} of {size:N0} alerts after 20 minutes.");
            }

            await Task.Delay(TimeSpan.FromSeconds(2));
        }

        Log($"TAXII: the API rendered the STIX objects of the copies up to {size:N0} alerts in {clock.Elapsed.TotalSeconds:F0} s");
    }

    private async Task MeasureAsync(HostProcess api, Member reader, long size, string name, Func<string> path, string explain, string index)
    {
        var plan = string.Join('\n', (await postgres.RowsAsync(Database, explain)).Select(r => r[0]));
        using var generator = new LoadGenerator(api.BaseAddress, Connections);
        HttpRequestMessage Request(long _)
        {
            var message = new HttpRequestMessage(HttpMethod.Get, path());
            message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", reader.Key);
            message.Headers.Accept.ParseAdd("application/taxii+json;version=2.1");
            return message;
        }

        // The API was just restarted (see RunAsync): a warm-up outside the counters, so CPU per request is not JIT's. Three
        // times the usual: a profile of the 10,000 page with the usual 3 s put the JIT's tiering thread at a fifth of the
        // API's CPU in the measured window.
        await generator.ClosedLoopAsync(Request, HttpStatusCode.OK, TimeSpan.Zero, 3 * options.Warmup);
        var postmaster = await postgres.PostmasterPidAsync();
        await postgres.ResetStatementsAsync(Database);
        var before = await postgres.CountersAsync(Database, api.Id, postmaster);
        long bytes = 0;
        var run = await generator.ClosedLoopAsync(Request, HttpStatusCode.OK, options.Warmup, options.Window,
            (_, response) => Interlocked.Add(ref bytes, response.Content.Headers.ContentLength ?? 0));

        // The counters bracket the warm-up too, so they are divided by every request completed, not only the window's.
        var after = await postgres.CountersAsync(Database, api.Id, postmaster);
        var statements = await postgres.StatementsAvailableAsync() ? (await postgres.StatementsAsync(Database)).Sum(s => s.Calls) : -1;
        var per = after.Per(before, run.Completed, statements);

        // The statements that read alerts with their stored objects: how many rows (alerts, each some 20 KB of objects) a
        // request reads, and their execution time, both load-independent beside requests/s.
        var reads = (await postgres.StatementCostsAsync(Database)).Where(c => c.Query.Contains("stix_renderings", StringComparison.Ordinal) && c.Query.TrimStart().StartsWith("SELECT", StringComparison.OrdinalIgnoreCase)).ToList();
        var usesIndex = plan.Contains(index, StringComparison.Ordinal) && !plan.Contains("Seq Scan", StringComparison.Ordinal);
        results.Taxii!.Rows.Add(new TaxiiRow(size, name, Connections, run.PerSecond, run.Latency, run.Failed, usesIndex, plan)
        {
            ApiCpuMs = per.ClientCpuMs,
            PostgresCpuMs = per.PostgresCpuMs,
            Statements = per.Statements,
            AlertsRead = reads.Sum(c => c.Rows) / (double)Math.Max(1, run.Completed),
            ReadMs = reads.Sum(c => c.TotalMs) / Math.Max(1, run.Completed),
            ResponseBytes = Interlocked.Read(ref bytes) / (double)Math.Max(1, run.Completed),
        });
        Log($"TAXII {name} at {size:N0} alerts: {run.PerSecond:F0}/s, p50 {run.Latency.P50:F2} ms, p99 {run.Latency.P99:F2} ms, failed {run.Failed}; " +
            $"API {per.ClientCpuMs:F2} ms CPU/request, PG {per.PostgresCpuMs:F2}, {per.Statements:F2} statements, alerts read {reads.Sum(c => c.Rows) / (double)Math.Max(1, run.Completed):F1} in {reads.Sum(c => c.TotalMs) / Math.Max(1, run.Completed):F3} ms; plan: {plan.Split('\n')[0]}");
    }

    /// <summary>Publishes the cyber alerts that object-by-id asks for, and returns the ids of their own objects.</summary>
    private static async Task<List<string>> PublishAsync(HttpClient client, Member cert)
    {
        var ids = new List<string>();
        var bodies = AlertBodies.Many(Published * 2).Where((_, i) => !AlertBodies.IsSmuggling(i)).Take(Published);
        foreach (var body in bodies)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/alerts") { Content = new ByteArrayContent(body) };
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", cert.Key);
            var response = await client.SendAsync(request);
            var text = await response.Content.ReadAsStringAsync();
            if (response.StatusCode != HttpStatusCode.Created)
            {
                throw new InvalidOperationException($"Publishing a TAXII benchmark alert failed: {(int)response.StatusCode} {text}");
            }

            using var stix = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/alerts/{JsonDocument.Parse(text).RootElement.GetProperty("id").GetGuid()}/stix");
            stix.Headers.Authorization = new AuthenticationHeaderValue("Bearer", cert.Key);
            var bundle = JsonDocument.Parse(await (await client.SendAsync(stix)).Content.ReadAsStringAsync()).RootElement;
            ids.AddRange(bundle.GetProperty("objects").EnumerateArray()
                .Where(o => o.GetProperty("type").GetString() is not ("marking-definition" or "extension-definition" or "identity"))
                .Select(o => o.GetProperty("id").GetString()!));
        }

        return ids;
    }

    private static async Task<string> CyberCollectionAsync(HttpClient client, Member reader)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/taxii2/api/collections/");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", reader.Key);
        var collections = JsonDocument.Parse(await (await client.SendAsync(request)).Content.ReadAsStringAsync()).RootElement;
        var id = collections.GetProperty("collections").EnumerateArray().Single(c => c.GetProperty("alias").GetString() == "cyber_incident").GetProperty("id").GetString();
        return $"/taxii2/api/collections/{id}/";
    }

    /// <summary>Marks text with numbers: the project builds with InvariantGlobalization, so interpolation already formats them invariantly.</summary>
    private static string Inv(string text) => text;
}
