using System.Globalization;
using System.Net;
using System.Net.Http.Headers;

namespace IntelSharing.Bench;

/// <summary>Indicator look-ups at a stored size (rows in alert_indicators), through GET /api/v1/indicators.</summary>
public sealed record IndicatorLookupRow(long StoredIndicators, int Connections, double PerSecond, Latencies Latency, long Failed, bool PlanUsesIndex, string Plan);

/// <summary>Ingest with the correlation worker off and on (Correlation__Enabled), the same bodies and connections.</summary>
public sealed record CorrelationIngestRow(bool Correlation, int Connections, double PerSecond, Latencies Latency, long Failed, double ApiCpuMsPerAlert, long PendingAtEnd);

public sealed class IndicatorResults
{
    public List<IndicatorLookupRow> Lookups { get; set; } = [];

    public List<CorrelationIngestRow> Ingest { get; set; } = [];

    /// <summary>Ingest alerts/s with correlation on ÷ off (the issue's budget: at least 0.85).</summary>
    public double? IngestRatio { get; set; }
}

/// <summary>
/// bench/run.sh --only indicators (docs/benchmarks.md, "Indicator search and correlation"): look-ups per second and
/// latency at 10k, 100k and 1M stored indicators (10k and 100k in --quick), with PostgreSQL's plan for the look-up,
/// and ingest with correlation off and on.
/// </summary>
public sealed class IndicatorPhase(SuiteOptions options, Postgres postgres, SuiteResults results)
{
    private const string LookupDatabase = "bench_indicators";
    private const string CorrelationDatabase = "bench_correlation";
    private const int Connections = 16;

    private static void Log(string line) => Console.WriteLine($"[{DateTime.UtcNow:HH:mm:ss}] {line}");

    public async Task RunAsync()
    {
        results.Indicators = new IndicatorResults();
        await LookupsAsync();
        await IngestAsync(correlation: false);
        await IngestAsync(correlation: true);
        var off = results.Indicators.Ingest.FirstOrDefault(r => !r.Correlation);
        var on = results.Indicators.Ingest.FirstOrDefault(r => r.Correlation);
        if (off is not null && on is not null && off.PerSecond > 0)
        {
            results.Indicators.IngestRatio = on.PerSecond / off.PerSecond;
        }
    }

    private async Task<(HostProcess Api, Community Community)> StartAsync(string database, bool correlation)
    {
        await postgres.CreateDatabaseAsync(database);
        var settings = HostProcess.ApiSettings(postgres.ApiConnectionString(database), dispatcher: false);
        settings["Correlation__Enabled"] = correlation ? "true" : "false";
        var key = await HostProcess.BootstrapAdminAsync(options.ApiDll, settings);
        var api = HostProcess.Start(options.ApiDll, [], settings);
        await api.WaitUntilReadyAsync(TimeSpan.FromSeconds(90));
        return (api, new Community(api.BaseAddress, key));
    }

    private async Task LookupsAsync()
    {
        var (api, community) = await StartAsync(LookupDatabase, correlation: false);
        await using (api)
        {
            var cert = await community.CertAsync();
            var reader = await community.PartnerAsync(0);

            // One green cyber alert published through the API; the stored indicators are added to it in bulk, each a
            // distinct domain keyed exactly as the API keys it (SHA-256 of "type:value").
            var body = AlertBodies.Many(256).Select((b, i) => (b, i)).First(x => !AlertBodies.IsSmuggling(x.i)).b;
            using (var client = new HttpClient { BaseAddress = api.BaseAddress })
            {
                var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/alerts") { Content = new ByteArrayContent(body) };
                request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", cert.Key);
                var response = await client.SendAsync(request);
                if (response.StatusCode != HttpStatusCode.Created)
                {
                    throw new InvalidOperationException($"Seeding the look-up alert failed: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                }
            }

            await postgres.ExecuteAsync(LookupDatabase, "UPDATE alerts SET tlp = 'green', has_audience = false");
            long stored = 0;
            foreach (var size in options.Quick ? new long[] { 10_000, 100_000 } : [10_000, 100_000, 1_000_000])
            {
                await postgres.ExecuteAsync(LookupDatabase, string.Create(CultureInfo.InvariantCulture,
                    $"""
                    INSERT INTO alert_indicators (alert_id, value_key, type, value, version, seen_at)
                    SELECT (SELECT id FROM alerts LIMIT 1), sha256(convert_to('domain:bench-' || g || '.example.net', 'UTF8')), 'domain', 'bench-' || g || '.example.net', 1, now()
                    FROM generate_series({stored + 1}, {size}) g;
                    ANALYZE alert_indicators;
                    """));
                stored = size;
                var plan = string.Join('\n', (await postgres.RowsAsync(LookupDatabase,
                    "EXPLAIN SELECT i.alert_id FROM alert_indicators i WHERE i.value_key IN (sha256(convert_to('domain:bench-7.example.net', 'UTF8')))")).Select(r => r[0]));

                var random = new Random(size.GetHashCode());
                using var generator = new LoadGenerator(api.BaseAddress, Connections);
                var run = await generator.ClosedLoopAsync(_ =>
                {
                    var message = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/indicators?type=domain&value=bench-{random.NextInt64(1, size + 1)}.example.net");
                    message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", reader.Key);
                    return message;
                }, HttpStatusCode.OK, options.Warmup, options.Window);
                var usesIndex = plan.Contains("ix_alert_indicators_value", StringComparison.Ordinal) || plan.Contains("alert_indicators_pkey", StringComparison.Ordinal);
                results.Indicators!.Lookups.Add(new IndicatorLookupRow(size, Connections, run.PerSecond, run.Latency, run.Failed, usesIndex, plan));
                Log($"indicator look-ups at {size:N0} stored: {run.PerSecond:F0}/s, p50 {run.Latency.P50:F2} ms, p99 {run.Latency.P99:F2} ms, failed {run.Failed}; plan: {plan.Split('\n')[0]}");
            }
        }
    }

    private async Task IngestAsync(bool correlation)
    {
        var database = CorrelationDatabase + (correlation ? "_on" : "_off");
        var bodies = AlertBodies.Many(256);
        var (api, community) = await StartAsync(database, correlation);
        await using (api)
        {
            var border = await community.BorderPoliceAsync();
            var cert = await community.CertAsync();
            HttpRequestMessage Submit(long n)
            {
                var index = (int)(n % bodies.Length);
                var message = new HttpRequestMessage(HttpMethod.Post, "/api/v1/alerts") { Content = new ByteArrayContent(bodies[index]) };
                message.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", AlertBodies.IsSmuggling(index) ? border.Key : cert.Key);
                return message;
            }

            using var generator = new LoadGenerator(api.BaseAddress, Connections);
            var cpu = api.CpuTime;
            var run = await generator.ClosedLoopAsync(Submit, HttpStatusCode.Created, options.Warmup, options.Window);
            var cpuMs = (api.CpuTime - cpu).TotalMilliseconds / Math.Max(1, run.Completed);
            var pending = await postgres.ScalarAsync<long>(database, "SELECT count(*) FROM correlation_pending");
            results.Indicators!.Ingest.Add(new CorrelationIngestRow(correlation, Connections, run.PerSecond, run.Latency, run.Failed, cpuMs, pending));
            Log($"ingest with correlation {(correlation ? "on" : "off")} c={Connections}: {run.PerSecond:F0} alerts/s, p99 {run.Latency.P99:F1} ms, " +
                $"API {cpuMs:F2} ms CPU/alert, {pending} versions still queued for correlation");
        }
    }
}
