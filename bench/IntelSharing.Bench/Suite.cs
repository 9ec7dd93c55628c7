using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Runtime.InteropServices;

namespace IntelSharing.Bench;

/// <summary>
/// The benchmark of issues 5 and 9, phase by phase, on one machine in one run: ingest (closed and open loop) and reads
/// against the API, then the machine's limits beside it — L_http (no-op Kestrel host, same generator, connections and
/// payload), L_db and L_read (pgbench, prepared, of the minimal write and the one primary-key read on primary-key-only
/// tables) and, as a diagnostic, E_sql's pgbench of the product's own SQL — then SQLite against its own minimal
/// write, the delivery drain beside L_drain (signed no-op POSTs from this process), and the end-to-end rate and latency.
/// A phase that fails is reported as such; the others still run.
/// </summary>
public static partial class Suite
{
    private const string IngestDatabase = "bench_ingest";
    private const string DrainDatabase = "bench_drain";
    private const string EndToEndDatabase = "bench_e2e";
    private const string LimitsDatabase = "bench_limits";
    private const int OpenLoopAndEndToEndConnections = 64;

    public static async Task<int> RunAsync(SuiteOptions options)
    {
        var clock = Stopwatch.StartNew();
        var postgres = new Postgres(options.AdminConnection);
        if (options.Only == "replicas")
        {
            return await ReplicasAsync(options, postgres);
        }

        var results = new SuiteResults
        {
            StartedAt = DateTimeOffset.UtcNow.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture),
            Mode = options.Quick ? "quick (smoke test: short windows, one connection count, smaller outbox)" : "full",
            Commit = options.Commit,
            Machine = await Machine.DescribeAsync(postgres),
        };
        results.Settings = await SettingsAsync(postgres, options);
        var postmaster = await postgres.PostmasterPidAsync();
        var bench = new Bench(options, postgres, postmaster, results);

        if (options.Runs("ingest"))
        {
            await bench.PhaseAsync("ingest, reads and limits", bench.IngestAndLimitsAsync);
        }

        if (options.Runs("reads"))
        {
            await bench.PhaseAsync("reads and the cost of auditing them", bench.ReadsAsync);
        }

        if (options.Runs("search"))
        {
            await bench.PhaseAsync("full-text search", bench.SearchAsync);
        }

        if (options.Runs("sqlite"))
        {
            await bench.PhaseAsync("SQLite, the embedded default", bench.SqliteAsync);
        }

        if (options.Runs("drain"))
        {
            await bench.PhaseAsync("delivery drain", bench.DrainAsync);
        }

        if (options.Runs("e2e"))
        {
            await bench.EndToEndAsync();
        }

        if (options.Runs("indicators"))
        {
            await bench.PhaseAsync("indicator search and correlation", () => new IndicatorPhase(options, postgres, results).RunAsync());
        }

        if (options.Runs("taxii"))
        {
            await bench.PhaseAsync("TAXII pages and object by id", () => new TaxiiPhase(options, postgres, results).RunAsync());
        }

        if (options.Runs("console"))
        {
            await bench.PhaseAsync("console pages at volume", () => new ConsolePhase(options, postgres, results).RunAsync());
        }

        results.Machine["load average at the end"] = Machine.LoadAverage();
        results.DurationSeconds = Math.Round(clock.Elapsed.TotalSeconds);
        // A smoke test or a single phase must not overwrite the committed results of the last full run.
        var name = options.Quick ? "quick" : options.Only is not null ? "partial" : "latest";
        Directory.CreateDirectory(options.OutputDirectory);
        await File.WriteAllTextAsync(Path.Combine(options.OutputDirectory, name + ".json"), Report.Json(results));
        var markdown = Report.Markdown(results);
        await File.WriteAllTextAsync(Path.Combine(options.OutputDirectory, name + ".md"), markdown);
        Console.WriteLine();
        Console.WriteLine(markdown);
        return results.Errors.Count == 0 ? 0 : 1;
    }

    /// <summary>
    /// The fault run of several replicas (ReplicaPhase): asserted, not a benchmark, so it is not one of the full run's
    /// phases and writes its own files (replicas.md and .json; replicas-quick.* for the small form).
    /// </summary>
    private static async Task<int> ReplicasAsync(SuiteOptions options, Postgres postgres)
    {
        var machine = await Machine.DescribeAsync(postgres);
        var startedAt = DateTimeOffset.UtcNow.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture);
        ReplicaResult result;
        try
        {
            result = await new ReplicaPhase(options, postgres).RunAsync();
        }
        catch (Exception ex)
        {
            Console.Error.WriteLine($"The replicas run could not complete: {ex}");
            return 1;
        }

        result.StartedAt = startedAt;
        result.Commit = options.Commit;
        result.Mode = options.Quick ? "small form (--quick)" : "full form";
        machine["load average at the end"] = Machine.LoadAverage();
        result.Machine = machine;
        var name = options.Quick ? "replicas-quick" : "replicas";
        Directory.CreateDirectory(options.OutputDirectory);
        await File.WriteAllTextAsync(Path.Combine(options.OutputDirectory, name + ".json"), result.Json());
        var markdown = result.Markdown();
        await File.WriteAllTextAsync(Path.Combine(options.OutputDirectory, name + ".md"), markdown);
        Console.WriteLine();
        Console.WriteLine(markdown);
        return result.Violations.Count == 0 ? 0 : 1;
    }

    private static async Task<Dictionary<string, string>> SettingsAsync(Postgres postgres, SuiteOptions options)
    {
        var settings = new Dictionary<string, string>();
        foreach (var name in new[] { "synchronous_commit", "fsync", "full_page_writes", "wal_level", "shared_buffers", "max_connections", "shared_preload_libraries" })
        {
            settings[$"postgres {name}"] = await postgres.ScalarAsync<string>("postgres", $"SELECT current_setting('{name}')") ?? string.Empty;
        }

        settings["API build"] = "Release, ASPNETCORE_ENVIRONMENT=Production, Logging Warning";
        settings["API rate limit"] = "RateLimits__PerAgencyPermits=1000000 per 60 s (default 600): raised for the load";
        settings["API delivery"] = "Delivery__AllowHttp=true, Delivery__AllowedPrivateNetworks__0=127.0.0.0/8 (loopback receivers); other Delivery settings default";
        settings["closed-loop connections"] = string.Join(", ", options.Connections);
        settings["warm-up / window"] = $"{options.Warmup.TotalSeconds} s / {options.Window.TotalSeconds} s per closed-loop run and pgbench run";
        settings["request"] = "POST /api/v1/alerts, Bearer key, Idempotency-Key (a new UUID each), 1–2 KB alerts alternating migrant_smuggling / cyber_incident";
        return settings;
    }

    private sealed partial class Bench(SuiteOptions options, Postgres postgres, int postmaster, SuiteResults results)
    {
        private readonly byte[][] _bodies = AlertBodies.Many(256);
        private readonly Pgbench _pgbench = new(options.Pgbench, postgres);
        private bool _limitsCreated;

        public async Task PhaseAsync(string name, Func<Task> phase)
        {
            Log($"== {name}");
            try
            {
                await phase();
            }
            catch (Exception ex)
            {
                // One line: the report lists failures as bullets (pgbench's reasons are gathered into one line already).
                results.Errors.Add($"{name}: {ex.GetType().Name}: {ex.Message.ReplaceLineEndings(" ")}");
                Log($"!! {name} failed: {ex}");
            }
        }

        private static void Log(string line) => Console.WriteLine($"[{DateTime.UtcNow:HH:mm:ss}] {line}");

        /// <summary>The primary-key-only tables of limit-schema.sql, in their own database, created once per run.</summary>
        private async Task<string> LimitsAsync()
        {
            if (!_limitsCreated)
            {
                await postgres.CreateDatabaseAsync(LimitsDatabase);
                await postgres.ExecuteAsync(LimitsDatabase, await File.ReadAllTextAsync(Path.Combine(options.SqlDirectory, "limit-schema.sql")));
                _limitsCreated = true;
            }

            return LimitsDatabase;
        }

        /// <summary>A stored alert document of median size: what L_read reads and L_drain sends.</summary>
        private async Task<string> MedianDocumentAsync(string database) =>
            await postgres.ScalarAsync<string>(database, "SELECT document::text FROM alerts ORDER BY length(document::text) LIMIT 1 OFFSET (SELECT count(*) / 2 FROM alerts)")
            ?? throw new InvalidOperationException($"No alert stored in {database}.");

        /// <summary>The webhook body around a document, as Outbox.Payload builds it.</summary>
        private static string Payload(string document) =>
            "{\"type\":\"alert.published\",\"timestamp\":\"" + DateTime.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture) + "\",\"data\":" + document + "}";

        private Dictionary<string, string> Api(string database, bool dispatcher) => HostProcess.ApiSettings(postgres.ApiConnectionString(database), dispatcher);

        private async Task<(HostProcess Api, Community Community)> StartApiAsync(string database, bool dispatcher, bool fresh, bool correlation = true)
        {
            if (fresh)
            {
                await postgres.CreateDatabaseAsync(database);
            }

            var settings = Api(database, dispatcher);
            settings["Correlation__Enabled"] = correlation ? "true" : "false";
            var key = fresh ? await HostProcess.BootstrapAdminAsync(options.ApiDll, settings) : string.Empty;
            var api = HostProcess.Start(options.ApiDll, [], settings);
            await api.WaitUntilReadyAsync(TimeSpan.FromSeconds(90));
            return (api, new Community(api.BaseAddress, key));
        }

        private HttpRequestMessage Submit(long sequence, Member border, Member cert)
        {
            var index = (int)(sequence % _bodies.Length);
            var message = new HttpRequestMessage(HttpMethod.Post, "/api/v1/alerts") { Content = new ByteArrayContent(_bodies[index]) };
            message.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", AlertBodies.IsSmuggling(index) ? border.Key : cert.Key);
            message.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString());
            return message;
        }

        private static Guid CreatedId(HttpResponseMessage response) =>
            response.Headers.Location is { } location && Guid.TryParse(location.OriginalString.AsSpan(location.OriginalString.LastIndexOf('/') + 1), out var id) ? id : Guid.Empty;

        /// <summary>Brackets a run with the database counters, pg_stat_statements and the server process's CPU.</summary>
        private async Task<(T Result, PerUnit Per, List<(long Calls, double TotalMs, string Query)> Statements)> MeasuredAsync<T>(
            string database, int? serverPid, Func<Task<(T Result, long Units)>> run)
        {
            await postgres.ResetStatementsAsync(database);
            var before = await postgres.CountersAsync(database, serverPid, postmaster);
            var (result, units) = await run();
            var after = await postgres.CountersAsync(database, serverPid, postmaster);
            var statements = await postgres.StatementsAsync(database);
            var total = await postgres.StatementsAvailableAsync() ? statements.Sum(s => s.Calls) : -1;
            return (result, after.Per(before, units, total), statements);
        }

        public async Task IngestAndLimitsAsync()
        {
            results.Settings["request bodies"] =
                $"{_bodies.Length} alerts of {_bodies.Min(b => b.Length)}–{_bodies.Max(b => b.Length)} bytes (mean {_bodies.Average(b => b.Length):F0})";
            await using var receivers = new ReceiverSet(3);
            var (api, community) = await StartApiAsync(IngestDatabase, dispatcher: false, fresh: true);
            Member border, cert;
            var partners = new List<(Member Partner, Guid Subscription)>();
            await using (api)
            {
                border = await community.BorderPoliceAsync();
                cert = await community.CertAsync();
                for (var i = 0; i < 3; i++)
                {
                    var partner = await community.PartnerAsync(i);
                    partners.Add((partner, await community.SubscribeAsync(partner, receivers[i].Url, "Benchmark: all alerts")));
                }

                var created = new ConcurrentQueue<Guid>();
                void Keep(long _, HttpResponseMessage response)
                {
                    if (created.Count < 20_000)
                    {
                        created.Enqueue(CreatedId(response));
                    }
                }

                Log("warming the API up (JIT, pools)");
                using (var warm = new LoadGenerator(api.BaseAddress, 16))
                {
                    await warm.ClosedLoopAsync(n => Submit(n, border, cert), HttpStatusCode.Created, TimeSpan.Zero, options.Warmup * 2, Keep);
                }

                results.AlertCost = await AlertCostAsync(api, border, cert);

                foreach (var connections in options.Connections)
                {
                    using var generator = new LoadGenerator(api.BaseAddress, connections);
                    var (run, per, statements) = await MeasuredAsync(IngestDatabase, api.Id, async () =>
                    {
                        var r = await generator.ClosedLoopAsync(n => Submit(n, border, cert), HttpStatusCode.Created, options.Warmup, options.Window, Keep);
                        return (r, r.Completed);
                    });
                    results.Ingest.Add(Row(run, per));
                    Log($"ingest c={connections}: {run.PerSecond:F0} alerts/s, p99 {run.Latency.P99:F1} ms, failed {run.Failed}; " +
                        $"API {per.ClientCpuMs:F2} ms CPU/alert, PG {per.PostgresCpuMs:F2}, {per.RoundTrips:F1} round trips, {per.Statements:F1} statements, {per.Commits:F2} commits");
                    if (connections == options.Connections[^1] || results.StatementsPerAlert.Count == 0)
                    {
                        results.StatementsPerAlert = Rows(statements, per.Units);
                    }
                }

                var best = results.Ingest.MaxBy(r => r.PerSecond)!;
                var openRate = Math.Max(10, Math.Round(best.PerSecond * 0.5));
                using (var generator = new LoadGenerator(api.BaseAddress, Math.Max(OpenLoopAndEndToEndConnections, options.Connections.Max())))
                {
                    var run = await generator.OpenLoopAsync(n => Submit(n, border, cert), HttpStatusCode.Created, openRate, options.Warmup, options.OpenLoopWindow, Keep);
                    results.OpenLoop = new OpenLoopResult(openRate, run.PerSecond, run.Connections, run.Seconds, run.Latency, run.Failed, run.Failures, 0.5);
                    Log($"open loop at {openRate}/s: achieved {run.PerSecond:F0}/s, p50 {run.Latency.P50:F2} ms, p99 {run.Latency.P99:F2} ms, p99.9 {run.Latency.P999:F2} ms, failed {run.Failed}");
                }
            }

            await HttpLimitAsync(border, cert);
            await DbLimitAsync(border, partners);
        }

        private static HttpRequestMessage Search(string words, Member reader, bool ranked = false)
        {
            var message = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/alerts?limit=20&q={Uri.EscapeDataString(words)}{(ranked ? "&sort=relevance" : string.Empty)}");
            message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", reader.Key);
            return message;
        }

        private static HttpRequestMessage Read(Guid id, Member reader)
        {
            var message = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/alerts/{id}");
            message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", reader.Key);
            return message;
        }

        private static ClosedLoopRow Row(RunResult run, PerUnit per) => new(run.Connections, run.PerSecond, run.Latency, run.Failed, run.Failures, per);

        private async Task HttpLimitAsync(Member border, Member cert)
        {
            var bench = typeof(Suite).Assembly.Location;
            await using var host = HostProcess.Start(bench, ["noop-host"], new Dictionary<string, string> { ["ASPNETCORE_ENVIRONMENT"] = "Production" });
            await host.WaitUntilReadyAsync(TimeSpan.FromSeconds(30));
            results.Http.AddRange(await ClosedLoopsAsync(host, HttpStatusCode.NoContent, border, cert, "L_http"));
        }

        /// <summary>
        /// Warm-up, then the closed loop at each connection count against a host whose only cost worth counting is its
        /// own CPU (the no-op host; the API on SQLite, which has its database inside it).
        /// </summary>
        private async Task<List<ClosedLoopRow>> ClosedLoopsAsync(HostProcess host, HttpStatusCode expected, Member border, Member cert, string name)
        {
            using (var warm = new LoadGenerator(host.BaseAddress, 16))
            {
                await warm.ClosedLoopAsync(n => Submit(n, border, cert), expected, TimeSpan.Zero, options.Warmup * 2);
            }

            var rows = new List<ClosedLoopRow>();
            foreach (var connections in options.Connections)
            {
                using var generator = new LoadGenerator(host.BaseAddress, connections);
                var cpu = host.CpuTime;
                var run = await generator.ClosedLoopAsync(n => Submit(n, border, cert), expected, options.Warmup, options.Window);
                var perRequest = (host.CpuTime - cpu).TotalMilliseconds / Math.Max(1, run.Completed);
                rows.Add(new ClosedLoopRow(connections, run.PerSecond, run.Latency, run.Failed, run.Failures,
                    new PerUnit(run.Completed, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, perRequest, double.NaN)));
                Log($"{name} c={connections}: {run.PerSecond:F0} requests/s, p99 {run.Latency.P99:F2} ms, failed {run.Failed}; {perRequest:F3} ms CPU/request");
            }

            return rows;
        }

        private async Task DbLimitAsync(Member border, List<(Member Partner, Guid Subscription)> partners)
        {
            // A real stored smuggling alert with three countries, of median size, and its webhook payload.
            var candidates = await postgres.RowsAsync(IngestDatabase,
                $"""
                SELECT a.document::text, string_agg(c.country, ' ' ORDER BY c.country)
                FROM alerts a JOIN alert_countries c ON c.alert_id = a.id
                WHERE a.originator_id = '{border.Id}'
                GROUP BY a.id, a.document::text HAVING count(*) = 3 LIMIT 200
                """);
            var (document, countries) = candidates.Select(r => (r[0], r[1].Split(' '))).OrderBy(r => r.Item1.Length).ElementAt(candidates.Count / 2);
            var payload = Payload(document);
            results.Settings["L_db document"] = $"a stored smuggling alert of {document.Length} characters (median of those with 3 countries); webhook payload {payload.Length}";
            var variables = new Dictionary<string, string>
            {
                ["prefix"] = border.Prefix,
                ["agency"] = border.Id.ToString(),
                ["doc"] = document,
                ["payload"] = payload,
                ["c1"] = countries[0],
                ["c2"] = countries[1],
                ["c3"] = countries[2],
            };
            for (var i = 0; i < 3; i++)
            {
                variables[$"s{i + 1}"] = partners[i].Subscription.ToString();
                variables[$"p{i + 1}"] = partners[i].Partner.Id.ToString();
            }

            // L_db: the minimal write, prepared, into the primary-key-only tables; the same document and subscriptions.
            var limits = await LimitsAsync();
            var limitVariables = new Dictionary<string, string> { ["doc"] = document };
            for (var i = 0; i < 3; i++)
            {
                limitVariables[$"s{i + 1}"] = partners[i].Subscription.ToString();
            }

            var limitScript = Path.Combine(options.SqlDirectory, "limit-ingest.sql");
            var productScript = Path.Combine(options.SqlDirectory, "ingest-alert.sql");
            await _pgbench.RunAsync(limits, limitScript, 16, options.Warmup, limitVariables, Pgbench.Protocol.Prepared);
            await _pgbench.RunAsync(IngestDatabase, productScript, 16, options.Warmup, variables);
            foreach (var connections in options.Connections)
            {
                try
                {
                    await LimitsAtAsync(connections);
                }
                catch (PgbenchAbortedException aborted)
                {
                    // The other connection counts still run: one aborted pgbench costs its own row, not the phase's results.
                    results.Errors.Add($"L_db and E_sql at {connections} connections: {aborted.Message}");
                    Log($"!! L_db and E_sql at {connections} connections: {aborted.Message}");
                }
            }

            async Task LimitsAtAsync(int connections)
            {
                var limit = await PgbenchMeasuredAsync(limits, limitScript, connections, limitVariables, Pgbench.Protocol.Prepared);
                results.LimitDb.Add(limit);
                Log($"L_db c={connections}: {limit.Tps:F0} alerts/s (pgbench, minimal write, prepared), latency {limit.LatencyAverageMs:F2} ms; " +
                    $"PG {limit.Per!.PostgresCpuMs:F2} ms CPU/alert, {limit.Per.Commits:F2} commits, {limit.Per.WalSyncs:F2} WAL syncs/alert");
                var sql = await PgbenchMeasuredAsync(IngestDatabase, productScript, connections, variables, Pgbench.Protocol.Prepared);
                results.ProductSql.Add(sql);
                Log($"E_sql's pgbench c={connections}: {sql.Tps:F0} alerts/s (the product's SQL), latency {sql.LatencyAverageMs:F2} ms; PG {sql.Per!.PostgresCpuMs:F2} ms CPU/alert");
                var http = results.Http.FirstOrDefault(h => h.Connections == connections);
                var ingest = results.Ingest.FirstOrDefault(h => h.Connections == connections);
                if (http is not null && ingest is not null)
                {
                    results.Efficiency.Add(EfficiencyRow.Of(connections, http.PerSecond, limit.Tps, ingest.PerSecond, sql.Tps));
                }
            }
        }

        private async Task<PgbenchResult> PgbenchMeasuredAsync(string database, string script, int clients, IReadOnlyDictionary<string, string> variables, Pgbench.Protocol protocol)
        {
            var (run, per, _) = await MeasuredAsync(database, null, async () =>
            {
                var r = await _pgbench.RunAsync(database, script, clients, options.Window, variables, protocol);
                return (r, r.Transactions);
            });
            return run with { Per = per };
        }

        public async Task DrainAsync()
        {
            await using var receivers = new ReceiverSet(options.DrainPartners);
            var (api, community) = await StartApiAsync(DrainDatabase, dispatcher: false, fresh: true);
            var subscriptions = new List<(Member Partner, Guid Id)>();
            Member border, cert;
            await using (api)
            {
                border = await community.BorderPoliceAsync();
                cert = await community.CertAsync();
                for (var p = 0; p < options.DrainPartners; p++)
                {
                    var partner = await community.PartnerAsync(p);
                    for (var s = 0; s < options.DrainSubscriptionsPerPartner; s++)
                    {
                        subscriptions.Add((partner, await community.SubscribeAsync(partner, receivers[p].Url, $"Benchmark: desk {s + 1}")));
                    }
                }

                Log($"pre-filling the outbox: {options.DrainAlerts} alerts × {subscriptions.Count} subscriptions, dispatcher off");
                await PrefillAsync(api, border, cert);
            }

            var queued = await QueuedAsync();
            Log($"outbox holds {queued} pending deliveries; starting the API with the dispatcher on");
            receivers.Clear();
            var (drainer, drainerCommunity) = await StartApiAsync(DrainDatabase, dispatcher: true, fresh: false);
            await using (drainer)
            {
                var (cold, statements) = await DrainMeasuredAsync(drainer, receivers, queued, Stopwatch.GetTimestamp());
                results.Drain = cold with { Subscriptions = subscriptions.Count, Partners = options.DrainPartners, Statements = statements };
                Log($"drain: {cold.Delivered} of {queued} delivered in {cold.FirstToLastSeconds:F1} s = {cold.PerSecond:F0}/s (second half {cold.SecondHalfPerSecond:F0}/s); {cold.LeftInOutbox} left; API {cold.Per.ClientCpuMs:F3} ms CPU/delivery");

                // The same backlog again in the instance that has just drained one (a partner back after an outage, not a
                // restart): every subscription paused, as many alerts queued through the same API, then every one resumed.
                foreach (var (partner, id) in subscriptions)
                {
                    await drainerCommunity.SetSubscriptionAsync(partner, id, "pause");
                }

                await PrefillAsync(drainer, border, cert);
                var queuedAgain = await QueuedAsync();
                receivers.Clear();
                var resumed = Stopwatch.GetTimestamp();
                foreach (var (partner, id) in subscriptions)
                {
                    await drainerCommunity.SetSubscriptionAsync(partner, id, "resume");
                }

                var (warm, _) = await DrainMeasuredAsync(drainer, receivers, queuedAgain, resumed);
                results.Drain = results.Drain with { Running = warm with { Subscriptions = subscriptions.Count, Partners = options.DrainPartners } };
                Log($"drain in the running instance: {warm.Delivered} of {queuedAgain} delivered in {warm.FirstToLastSeconds:F1} s = {warm.PerSecond:F0}/s (second half {warm.SecondHalfPerSecond:F0}/s); {warm.LeftInOutbox} left; API {warm.Per.ClientCpuMs:F3} ms CPU/delivery");
            }

            await DrainLimitAsync(receivers, queued);
        }

        /// <summary>Queues <see cref="SuiteOptions.DrainAlerts"/> alerts through <paramref name="api"/>, each for every subscription.</summary>
        private async Task PrefillAsync(HostProcess api, Member border, Member cert)
        {
            using var generator = new LoadGenerator(api.BaseAddress, 16);
            var started = Stopwatch.GetTimestamp();
            var submitted = await generator.CountAsync(n => Submit(n, border, cert), HttpStatusCode.Created, options.DrainAlerts);
            if (submitted != options.DrainAlerts)
            {
                throw new InvalidOperationException($"Only {submitted} of {options.DrainAlerts} alerts were accepted while pre-filling.");
            }

            Log($"pre-filled {submitted} alerts in {Stopwatch.GetElapsedTime(started).TotalSeconds:F1} s");

            // The outbox went from empty to its full size within seconds; autovacuum would analyse it within its naptime
            // (a minute). Without statistics the planner takes the table for empty and plans the claim accordingly.
            await postgres.ExecuteAsync(DrainDatabase, "ANALYZE");
        }

        private Task<long> QueuedAsync() => postgres.ScalarAsync<long>(DrainDatabase, "SELECT count(*) FROM deliveries WHERE state = 'pending'");

        /// <summary>Waits until the receivers have every queued delivery (or the time limit), measuring from <paramref name="start"/>.</summary>
        private async Task<(DrainResult Result, List<StatementRow> Statements)> DrainMeasuredAsync(HostProcess drainer, ReceiverSet receivers, long queued, long start)
        {
            var (emptied, per, statements) = await MeasuredAsync(DrainDatabase, drainer.Id, async () =>
            {
                var limit = TimeSpan.FromSeconds(options.Quick ? 90 : 240);
                var until = Stopwatch.GetTimestamp() + (long)(limit.TotalSeconds * Stopwatch.Frequency);
                while (receivers.Distinct < queued && Stopwatch.GetTimestamp() < until)
                {
                    await Task.Delay(100);
                }

                return (Stopwatch.GetElapsedTime(start), (long)receivers.Distinct);
            });

            var arrivals = receivers.All.Select(r => r.ArrivedAt).Order().ToArray();
            var span = arrivals.Length > 1 ? Stopwatch.GetElapsedTime(arrivals[0], arrivals[^1]).TotalSeconds : double.NaN;
            var half = arrivals.Length / 2;
            double? secondHalf = arrivals.Length > 3
                ? (arrivals.Length - 1 - half) / Stopwatch.GetElapsedTime(arrivals[half], arrivals[^1]).TotalSeconds
                : null;
            var left = await postgres.ScalarAsync<long>(DrainDatabase, "SELECT count(*) FROM deliveries WHERE state IN ('pending', 'in_flight', 'failed')");
            var result = new DrainResult(queued, receivers.Distinct, receivers.Requests - receivers.Distinct, span, (arrivals.Length - 1) / span,
                emptied.TotalSeconds, left, 0, 0, 32, per) { SecondHalfPerSecond = secondHalf };
            return (result, Rows(statements, per.Units));
        }

        /// <summary>L_drain, right after the drain, to the same receivers: as many signed no-op deliveries as the drain had queued.</summary>
        private async Task DrainLimitAsync(ReceiverSet receivers, long count)
        {
            var limits = await LimitsAsync();
            var body = System.Text.Encoding.UTF8.GetBytes(Payload(await MedianDocumentAsync(DrainDatabase)));
            await DrainLimit.FillAsync(postgres.ConnectionString(limits), count);
            await postgres.ExecuteAsync(limits, "VACUUM ANALYZE limit_deliveries");
            using var limit = new DrainLimit(Enumerable.Range(0, options.DrainPartners).Select(p => receivers[p].Url).ToList(), body);
            await limit.WarmUpAsync();
            receivers.Clear();
            var ((seconds, batches, failed), per, _) = await MeasuredAsync(limits, Environment.ProcessId, async () =>
            {
                var outcome = await limit.RunAsync(postgres.ConnectionString(limits), count);
                return (outcome, count);
            });
            var delivered = await postgres.ScalarAsync<long>(limits, "SELECT count(*) FROM limit_deliveries WHERE state = 'delivered'");
            results.DrainLimit = new DrainLimitResult(count, receivers.Distinct, seconds, delivered / seconds, options.DrainPartners, DrainLimit.BatchSize,
                DrainLimit.BatchesInFlight * DrainLimit.SendsPerBatch, batches, per);
            Log($"L_drain: {delivered} of {count} signed no-op deliveries recorded delivered in {seconds:F1} s = {delivered / seconds:F0}/s " +
                $"({receivers.Distinct} received, {failed} failed, {batches} batch updates); benchmark process {per.ClientCpuMs:F3} ms CPU/delivery (receivers included), PG {per.PostgresCpuMs:F3}");
        }

        /// <summary>
        /// The embedded default: the API on a SQLite file (its own pragmas, dispatcher off) under the same closed loop,
        /// beside SQLite's own minimal write (SqliteLimit) from this process on a file in the same folder.
        /// </summary>
        public async Task SqliteAsync()
        {
            var directory = Directory.CreateTempSubdirectory("intelsharing-bench-sqlite-");
            try
            {
                var sqlite = new SqliteResult { Pragmas = SqliteLimit.Pragmas };
                results.Sqlite = sqlite;
                var file = Path.Combine(directory.FullName, "intelsharing.db");
                var settings = HostProcess.SqliteApiSettings(file, dispatcher: false);
                var key = await HostProcess.BootstrapAdminAsync(options.ApiDll, settings);
                await using var receivers = new ReceiverSet(3);
                var subscriptions = new List<Guid>();
                Member border, cert;
                var api = HostProcess.Start(options.ApiDll, [], settings);
                await using (api)
                {
                    await api.WaitUntilReadyAsync(TimeSpan.FromSeconds(90));
                    var community = new Community(api.BaseAddress, key);
                    border = await community.BorderPoliceAsync();
                    cert = await community.CertAsync();
                    for (var i = 0; i < 3; i++)
                    {
                        subscriptions.Add(await community.SubscribeAsync(await community.PartnerAsync(i), receivers[i].Url, "Benchmark: all alerts"));
                    }

                    sqlite.Ingest.AddRange(await ClosedLoopsAsync(api, HttpStatusCode.Created, border, cert, "SQLite ingest (API CPU includes SQLite's)"));
                }

                if (results.Http.Count == 0)
                {
                    await HttpLimitAsync(border, cert);
                }

                var document = await SqliteLimit.MedianDocumentAsync(file);
                foreach (var connections in options.Connections)
                {
                    var limit = await SqliteLimit.RunAsync(Path.Combine(directory.FullName, "limit.db"), document, subscriptions, connections, options.Warmup, options.Window);
                    sqlite.Limit.Add(limit);
                    Log($"L_db on SQLite c={connections}: {limit.PerSecond:F0} alerts/s (minimal write, {SqliteLimit.Pragmas}), {limit.Busy} busy");
                    var http = results.Http.FirstOrDefault(h => h.Connections == connections);
                    var ingest = sqlite.Ingest.FirstOrDefault(h => h.Connections == connections);
                    if (http is not null && ingest is not null)
                    {
                        sqlite.Efficiency.Add(EfficiencyRow.Of(connections, http.PerSecond, limit.PerSecond, ingest.PerSecond));
                    }
                }
            }
            finally
            {
                directory.Delete(recursive: true);
            }
        }

        /// <summary>
        /// First at the target rate (1,000 alerts/s unless --e2e-rate says otherwise): is it sustained with delivery on?
        /// Then the latency at half of it — half the target when the target was sustained; otherwise half of what the
        /// ingest and drain figures say the machine sustains (1 / (1/ingest + 3/drain)), so the latency of a system
        /// that keeps up is measured too, and reported against the target it falls short of.
        /// </summary>
        public async Task EndToEndAsync()
        {
            var target = options.EndToEndRate;
            await PhaseAsync($"end to end at {target}/s", () => EndToEndAtAsync(target));
            var half = target / 2;
            if (results.EndToEnd.LastOrDefault() is not { Sustained: true })
            {
                // Ingest and delivery share the machine: an alert costs one ingest and three deliveries of its capacity.
                var ingest = results.Ingest.Count > 0 ? results.Ingest.Max(i => i.PerSecond) : double.NaN;
                var drain = results.Drain is { PerSecond: > 0 } d ? d.PerSecond : double.NaN;
                var sustainable = 1 / (1 / ingest + 3 / drain);
                if (double.IsFinite(sustainable) && sustainable < target)
                {
                    half = sustainable / 2;
                }
            }

            half = Math.Max(5, Math.Round(half));
            await PhaseAsync($"end to end at {half}/s", () => EndToEndAtAsync(half));
        }

        /// <summary>Deliveries in the end-to-end database not yet delivered, cancelled or dead: the outbox's backlog.</summary>
        private Task<long> BacklogAsync() =>
            postgres.ScalarAsync<long>(EndToEndDatabase, "SELECT count(*) FROM deliveries WHERE state IN ('pending', 'in_flight', 'failed')");

        private async Task EndToEndAtAsync(double rate)
        {
            await using var receivers = new ReceiverSet(3);
            var (api, community) = await StartApiAsync(EndToEndDatabase, dispatcher: true, fresh: true);
            await using (api)
            {
                var border = await community.BorderPoliceAsync();
                var cert = await community.CertAsync();
                for (var i = 0; i < 3; i++)
                {
                    await community.SubscribeAsync(await community.PartnerAsync(i), receivers[i].Url, "Benchmark: all alerts");
                }

                // Each rate starts on its own fresh database: nothing queued by an earlier phase can be ahead of it.
                var atStart = await BacklogAsync();
                if (atStart != 0)
                {
                    throw new InvalidOperationException($"The outbox of the fresh database holds {atStart} undelivered deliveries before the run.");
                }

                // The warm-up: alerts back to back until the JIT has compiled the intake and send paths at their final
                // tier, then the same rate for the pools and for the partners to earn their concurrency; then its own
                // deliveries are let out (bounded): the measured alerts queue behind nothing but each other.
                using var generator = new LoadGenerator(api.BaseAddress, OpenLoopAndEndToEndConnections);
                var jitWarmup = Stopwatch.GetTimestamp();
                await generator.CountAsync(n => Submit(n, border, cert), HttpStatusCode.Created, options.EndToEndJitWarmupAlerts);
                Log($"end to end at {rate}/s: {options.EndToEndJitWarmupAlerts:N0} alerts back to back in {Stopwatch.GetElapsedTime(jitWarmup).TotalSeconds:F1} s");
                await generator.OpenLoopAsync(n => Submit(n, border, cert), HttpStatusCode.Created, rate, TimeSpan.Zero, options.Warmup, drainLimit: options.EndToEndWait);
                var warmedUp = await BacklogAsync();
                // The warm-up's work after commit too (correlation matched 6,000 versions, feed positions): left queued,
                // it ran inside the measured window, and its PostgreSQL time was charged to the measured alerts.
                var backgroundLeft = await QuietAsync(EndToEndDatabase, options.EndToEndWait);
                var drainedBy = DateTime.UtcNow + options.EndToEndWait;
                var backlog = warmedUp;
                while (backlog > 0 && DateTime.UtcNow < drainedBy)
                {
                    await Task.Delay(250);
                    backlog = await BacklogAsync();
                }

                Log($"end to end at {rate}/s: backlog at start {atStart}, after the warm-up {warmedUp}, when the measured window starts {backlog}; " +
                    $"versions waiting for correlation or feed positions then {backgroundLeft}");
                var created = new ConcurrentDictionary<Guid, long>();
                var (run, per, _) = await MeasuredAsync(EndToEndDatabase, api.Id, async () =>
                {
                    var r = await generator.OpenLoopAsync(n => Submit(n, border, cert), HttpStatusCode.Created, rate, TimeSpan.Zero, options.EndToEndWindow,
                        (_, response) => created[CreatedId(response)] = Stopwatch.GetTimestamp(),
                        options.EndToEndWait);

                    // Let the outbox empty (bounded): undelivered ones are reported, not ignored.
                    var expected = created.Count * 3;
                    var until = DateTime.UtcNow + options.EndToEndWait;
                    while (receivers.All.Count(x => created.ContainsKey(x.AlertId)) < expected && DateTime.UtcNow < until)
                    {
                        await Task.Delay(250);
                    }

                    return (r, r.Completed);
                });

                var latencies = new List<double>();
                foreach (var receipt in receivers.All)
                {
                    if (created.TryGetValue(receipt.AlertId, out var at))
                    {
                        latencies.Add((receipt.ArrivedAt - at) * 1000.0 / Stopwatch.Frequency);
                    }
                }

                // Not received is not failed: the ledger says whether the rest was still queued or had failed at the partner.
                var states = (await postgres.RowsAsync(EndToEndDatabase, "SELECT state, COUNT(*) FROM deliveries GROUP BY state ORDER BY state"))
                    .ToDictionary(row => row[0], row => long.Parse(row[1], CultureInfo.InvariantCulture));
                var result = new EndToEndResult(rate, run.PerSecond, run.Seconds, 3, created.Count, created.Count * 3L, latencies.Count,
                    Latencies.From(latencies), run.Latency, run.Failed, run.Failures, per)
                {
                    DeliveriesByState = states,
                    BacklogAfterWarmup = warmedUp,
                    JitWarmupAlerts = options.EndToEndJitWarmupAlerts,
                    BackgroundAtMeasuredStart = backgroundLeft,
                    BacklogAtMeasuredStart = backlog,
                };
                results.EndToEnd.Add(result);
                Log($"end to end at {rate}/s: achieved {run.PerSecond:F0}/s, {latencies.Count} of {created.Count * 3} delivered, " +
                    $"p50 {result.Latency.P50:F1} ms, p99 {result.Latency.P99:F1} ms; submit p99 {run.Latency.P99:F1} ms, {run.Failed} not acknowledged {string.Join(", ", run.Failures.Select(f => $"{f.Key}: {f.Value}"))}; " +
                    $"deliveries by state: {string.Join(", ", states.Select(s => $"{s.Key} {s.Value}"))}");
            }
        }

        /// <summary>
        /// Issue 9's "where does every millisecond go": a fixed number of alerts at 16 connections, the counters read only
        /// once the work they cause after their commit (correlation, feed positions) is done, so a worker that falls behind
        /// in a timed window cannot hide its cost. Load-independent figures: statements, rows, WAL bytes, execution and CPU
        /// ms per alert, each statement attributed to its issuer.
        /// </summary>
        private async Task<AlertCostResult> AlertCostAsync(HostProcess api, Member border, Member cert)
        {
            const int connections = 16;
            var count = options.Quick ? 2_000 : 10_000;
            var limit = TimeSpan.FromSeconds(options.Quick ? 60 : 180);
            await QuietAsync(IngestDatabase, limit);
            await postgres.ResetStatementsAsync(IngestDatabase);
            var before = await postgres.CountersAsync(IngestDatabase, api.Id, postmaster);
            var clock = Stopwatch.StartNew();
            long stored;
            using (var generator = new LoadGenerator(api.BaseAddress, connections))
            {
                stored = await generator.CountAsync(n => Submit(n, border, cert), HttpStatusCode.Created, count);
            }

            var submitted = clock.Elapsed.TotalSeconds;
            var left = await QuietAsync(IngestDatabase, limit);
            var quiet = clock.Elapsed.TotalSeconds;
            var after = await postgres.CountersAsync(IngestDatabase, api.Id, postmaster);
            var statements = await postgres.StatementCostsAsync(IngestDatabase);
            var per = after.Per(before, stored, statements.Count == 0 ? -1 : statements.Sum(s => s.Calls));
            double Per(double value) => value / Math.Max(1, stored);
            var result = new AlertCostResult(stored, connections, submitted, quiet, left, per)
            {
                Issuers = statements.GroupBy(s => StatementIssuers.Of(Squeeze(s.Query)))
                    .Select(g => new IssuerRow(g.Key, Per(g.Sum(s => s.Calls)), Per(g.Sum(s => s.TotalMs)), Per(g.Sum(s => s.Rows)), Per(g.Sum(s => s.WalBytes))))
                    .OrderByDescending(i => i.ExecutionMs).ToList(),
                Statements = statements.Select(s => new StatementCostRow(StatementIssuers.Of(Squeeze(s.Query)), Per(s.Calls), s.TotalMs / Math.Max(1, s.Calls),
                    Per(s.TotalMs), Per(s.Rows), Per(s.WalBytes), Squeeze(s.Query))).OrderByDescending(s => s.ExecutionMs).ToList(),
            };
            Log($"cost per alert ({stored} alerts, quiet after {quiet:F1} s, {left} left queued): API {per.ClientCpuMs:F2} ms CPU, PG {per.PostgresCpuMs:F2} ms CPU, " +
                $"{per.Statements:F1} statements, {per.Commits:F2} commits, {per.WalBytes:N0} WAL bytes");
            return result;
        }

        /// <summary>Waits (bounded) until no version waits for correlation and every feed change has its position; returns what is left.</summary>
        private async Task<long> QuietAsync(string database, TimeSpan limit)
        {
            var clock = Stopwatch.StartNew();
            while (true)
            {
                var left = await postgres.ScalarAsync<long>(database,
                    "SELECT (SELECT count(*) FROM correlation_pending) + (SELECT count(*) FROM feed_changes WHERE position IS NULL)");
                if (left == 0 || clock.Elapsed > limit)
                {
                    return left;
                }

                await Task.Delay(200);
            }
        }

        /// <summary>Statements per unit of work, with the database time each took on average: where the time goes.</summary>
        private static List<StatementRow> Rows(List<(long Calls, double TotalMs, string Query)> statements, long units) =>
            statements.Select(s => new StatementRow(s.Calls / (double)Math.Max(1, units), s.TotalMs / Math.Max(1, s.Calls), s.TotalMs / Math.Max(1, units), Squeeze(s.Query))).ToList();

        private static string Squeeze(string query) => string.Join(' ', query.Split((char[])[' ', '\n', '\r', '\t'], StringSplitOptions.RemoveEmptyEntries));
    }

    /// <summary>Loopback partner endpoints, one per partner agency (each its own authority, as partners are).</summary>
    private sealed class ReceiverSet : IAsyncDisposable
    {
        private readonly List<PartnerReceiver> _receivers = [];

        public ReceiverSet(int count)
        {
            for (var i = 0; i < count; i++)
            {
                _receivers.Add(PartnerReceiver.StartAsync().GetAwaiter().GetResult());
            }
        }

        public PartnerReceiver this[int index] => _receivers[index];

        public long Distinct => _receivers.Sum(r => (long)r.Distinct);

        public long Requests => _receivers.Sum(r => r.Requests);

        public List<PartnerReceiver.Receipt> All => _receivers.SelectMany(r => r.Receipts).ToList();

        public void Clear() => _receivers.ForEach(r => r.Clear());

        public async ValueTask DisposeAsync()
        {
            foreach (var receiver in _receivers)
            {
                await receiver.DisposeAsync();
            }
        }
    }
}

/// <summary>The machine, as the results must state it.</summary>
public static class Machine
{
    public static async Task<Dictionary<string, string>> DescribeAsync(Postgres postgres)
    {
        var memory = File.ReadLines("/proc/meminfo").First(l => l.StartsWith("MemTotal", StringComparison.Ordinal));
        var model = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':')[1].Trim() ?? "unknown";
        var data = await postgres.ScalarAsync<string>("postgres", "SELECT current_setting('data_directory')");
        return new Dictionary<string, string>
        {
            ["cpus (nproc)"] = Environment.ProcessorCount.ToString(CultureInfo.InvariantCulture),
            ["cpu model"] = model,
            ["memory"] = $"{long.Parse(memory.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024} MiB",
            ["disk (PostgreSQL data)"] = Disk(data!),
            ["os"] = RuntimeInformation.OSDescription,
            [".NET"] = RuntimeInformation.FrameworkDescription,
            ["PostgreSQL"] = await postgres.ScalarAsync<string>("postgres", "SHOW server_version") ?? "unknown",
            ["load average at the start"] = LoadAverage(),
        };
    }

    public static string LoadAverage() => string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) + " (1, 5, 15 min)";

    private static string Disk(string path)
    {
        try
        {
            var start = new ProcessStartInfo("df", ["-h", "--output=source,fstype,size", path]) { RedirectStandardOutput = true, UseShellExecute = false };
            using var process = Process.Start(start)!;
            var lines = process.StandardOutput.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries);
            process.WaitForExit();
            var device = string.Join(' ', lines[^1].Split(' ', StringSplitOptions.RemoveEmptyEntries));
            var name = Path.GetFileName(lines[^1].Split(' ')[0]);
            var rotational = File.Exists($"/sys/block/{name}/queue/rotational") ? File.ReadAllText($"/sys/block/{name}/queue/rotational").Trim() == "1" ? ", rotational" : ", non-rotational" : string.Empty;
            return device + rotational;
        }
        catch (Exception ex) when (ex is IOException or System.ComponentModel.Win32Exception)
        {
            return "unknown";
        }
    }
}
