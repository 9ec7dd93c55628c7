using System.Globalization;
using System.Net;

namespace IntelSharing.Bench;

/// <summary>What a search costs: the API's figures and PostgreSQL's own time per search, over a store of many alerts.</summary>
/// <param name="Api">The closed loop's figures, with the API's and PostgreSQL's counters per search.</param>
/// <param name="StoredAlerts">Active alerts in the store searched.</param>
/// <param name="PostgresExecMsPerSearch">pg_stat_statements: execution time of every statement the searches ran ÷ searches.</param>
/// <param name="Statements">Each statement's share per search.</param>
/// <param name="Plan">EXPLAIN (ANALYZE, BUFFERS) of bench/sql/search-alerts.sql for the broadest word.</param>
/// <param name="Ranked">The same searches with <c>sort=relevance</c> (ADR 41): the newest 200 matches ranked, first page of 20.</param>
public sealed record SearchResult(ClosedLoopRow Api, long StoredAlerts, double PostgresExecMsPerSearch, List<StatementRow> Statements, string Plan, RankedSearchResult? Ranked = null);

/// <summary>What a ranked search (<c>sort=relevance</c>) costs, measured like <see cref="SearchResult"/>.</summary>
public sealed record RankedSearchResult(ClosedLoopRow Api, double PostgresExecMsPerSearch, List<StatementRow> Statements);

public static partial class Suite
{
    private const string ReadDatabase = "bench_reads";
    private const string SearchDatabase = "bench_search";

    /// <summary>The words the search phase cycles through: places of the route in either alphabet, with and without accents.</summary>
    private static readonly string[] SearchWords = ["Preševo", "Шид", "Horgos Roszke", "Kelebija", "refrigerated truck", "Niš Belgrade", "Kübekháza", "Табановце"];

    private sealed partial class Bench
    {
        // Per-read and per-search counters need more than a smoke test's seconds: JIT and background rounds would be
        // most of what they count. These phases are short anyway.
        private TimeSpan Warmup => TimeSpan.FromSeconds(Math.Max(5, options.Warmup.TotalSeconds));

        private TimeSpan Window => TimeSpan.FromSeconds(Math.Max(10, options.Window.TotalSeconds));

        /// <summary>
        /// bench/run.sh --only reads: GET /api/v1/alerts/{id} against a store of alerts (published through the API, then
        /// copied in SQL), with each statement's share per read; then, with the API stopped, the read's SQL at the database
        /// without and with its audit records (bench/sql/read-alert*.sql), and L_read.
        /// </summary>
        public async Task ReadsAsync()
        {
            // Correlation off: its worker would still be matching the stored alerts, and its transactions are not a read's.
            var (api, community) = await StartApiAsync(ReadDatabase, dispatcher: false, fresh: true, correlation: false);
            Member reader;
            await using (api)
            {
                var border = await community.BorderPoliceAsync();
                var cert = await community.CertAsync();
                reader = await community.PartnerAsync(0);
                await StoreAlertsAsync(api, ReadDatabase, border, cert, options.Quick ? 20_000 : 100_000);
                var ids = (await postgres.RowsAsync(ReadDatabase, "SELECT id::text FROM alerts ORDER BY random() LIMIT 20000")).Select(r => Guid.Parse(r[0])).ToArray();

                using var generator = new LoadGenerator(api.BaseAddress, 16);
                await generator.ClosedLoopAsync(n => Read(ids[n % ids.Length], reader), HttpStatusCode.OK, TimeSpan.Zero, Warmup);
                var auditedBefore = await postgres.ScalarAsync<long>(ReadDatabase, "SELECT count(*) FROM audit_records WHERE action = 'alert.read'");
                var (run, per, statements) = await MeasuredAsync(ReadDatabase, api.Id, async () =>
                {
                    var r = await generator.ClosedLoopAsync(n => Read(ids[n % ids.Length], reader), HttpStatusCode.OK, Warmup, Window);
                    return (r, r.Completed);
                });
                var audited = await postgres.ScalarAsync<long>(ReadDatabase, "SELECT count(*) FROM audit_records WHERE action = 'alert.read'") - auditedBefore;
                // Every transaction of the run that committed a write was a commit group of read records (the reads
                // themselves autocommit, and COMMIT is sent only for an explicit transaction), bar the odd sealing round.
                var groups = statements.Where(s => s.Query.Trim().Equals("COMMIT", StringComparison.OrdinalIgnoreCase)).Sum(s => s.Calls);
                var groupSize = groups > 0 ? audited / (double)groups : 1;
                results.Read = new ReadResult(Row(run, per)) { Statements = Rows(statements, per.Units), AuditGroupSize = groupSize };
                Log($"reads c=16 over {ids.Length:N0} alerts: {run.PerSecond:F0}/s, p99 {run.Latency.P99:F1} ms; API {per.ClientCpuMs:F2} ms CPU/read, PG {per.PostgresCpuMs:F2}, " +
                    $"{per.RoundTrips:F2} round trips, {per.Statements:F2} statements, {per.Commits:F2} commits, {per.WalSyncs:F3} WAL flushes; {groupSize:F1} audit records per commit group");
            }

            // L_read: the document by primary key, prepared, on the primary-key-only table, over 20,000 documents of median size.
            const int ReadRows = 20_000;
            var document = await MedianDocumentAsync(ReadDatabase);
            var limits = await LimitsAsync();
            await postgres.ExecuteAsync(limits,
                $"""
                INSERT INTO limit_alerts (id, doc)
                SELECT CAST(lpad(to_hex(n), 32, '0') AS uuid), CAST('{document.Replace("'", "''", StringComparison.Ordinal)}' AS json)
                FROM generate_series(CAST(1 AS bigint), {ReadRows}) AS n
                ON CONFLICT (id) DO NOTHING
                """);
            var readLimitScript = Path.Combine(options.SqlDirectory, "limit-read.sql");
            var readLimitVariables = new Dictionary<string, string> { ["rows"] = ReadRows.ToString(CultureInfo.InvariantCulture) };
            await _pgbench.RunAsync(limits, readLimitScript, 16, Warmup, readLimitVariables, Pgbench.Protocol.Prepared);
            var readLimit = await PgbenchMeasuredAsync(limits, readLimitScript, 16, readLimitVariables, Pgbench.Protocol.Prepared);
            Log($"L_read c=16: {readLimit.Tps:F0} reads/s (pgbench, primary-key SELECT, prepared); PG {readLimit.Per!.PostgresCpuMs:F3} ms CPU/read");

            // The audit cost of a read at the database (issues 4 and 9): the read's SELECT alone, then the same SELECTs
            // mixed with the commit groups of their audit records in the proportion the API's run showed.
            var group = Math.Max(1, (int)Math.Round(results.Read!.AuditGroupSize ?? 1));
            var variables = new Dictionary<string, string>
            {
                ["prefix"] = reader.Prefix,
                ["reader"] = reader.Id.ToString(),
                ["group"] = group.ToString(CultureInfo.InvariantCulture),
                ["alert"] = (await postgres.ScalarAsync<string>(ReadDatabase, "SELECT id::text FROM alerts ORDER BY created_at DESC LIMIT 1"))!,
            };
            var readScript = Path.Combine(options.SqlDirectory, "read-alert.sql");
            await _pgbench.RunAsync(ReadDatabase, readScript, 16, Warmup, variables);
            var without = await PgbenchMeasuredAsync(ReadDatabase, readScript, 16, variables, Pgbench.Protocol.Prepared);
            const int Reads = 1000;
            var mix = new List<(string, int)>
            {
                (readScript, Reads),
                (Path.Combine(options.SqlDirectory, "read-audit-group.sql"), Math.Max(1, (int)Math.Round(Reads / (double)group))),
                // The sealer links the records into the chain later, 500 per round (Audit__SealBatchSize): 2 rounds per 1,000 reads.
                (Path.Combine(options.SqlDirectory, "read-audit-seal.sql"), Reads / 500),
            };
            var (with, withPer, _) = await MeasuredAsync(ReadDatabase, null, async () =>
            {
                var r = await _pgbench.RunMixAsync(ReadDatabase, mix, 16, Window, variables);
                return (r, r.Transactions);
            });
            results.Read = results.Read with { WithoutAudit = without, WithAudit = with with { Per = withPer }, Limit = readLimit, AuditedReadShare = Reads / (double)mix.Sum(m => m.Item2) };
            var read = results.Read;
            Log($"reads at the database, 16 clients: {without.Tps:F0}/s without audit records, {read.AuditedReadsPerSecond:F0}/s with them in groups of {group} (x{read.CostRatio:F2}); " +
                $"PG CPU per read x{read.CpuCostRatio:F2}, WAL {withPer.WalBytes / read.AuditedReadShare:F0} bytes and {withPer.WalSyncs / read.AuditedReadShare:F3} flushes per read");
        }

        /// <summary>
        /// bench/run.sh --only search: GET /api/v1/alerts?q=… over a store of 100,000 alerts (a few hundred published through
        /// the API, copied in SQL), first pages of 20, with PostgreSQL's execution time per search and the plan.
        /// </summary>
        public async Task SearchAsync()
        {
            var (api, community) = await StartApiAsync(SearchDatabase, dispatcher: false, fresh: true, correlation: false);
            await using (api)
            {
                var border = await community.BorderPoliceAsync();
                var cert = await community.CertAsync();
                var reader = await community.PartnerAsync(0);
                const int Stored = 100_000;
                await StoreAlertsAsync(api, SearchDatabase, border, cert, Stored);

                using var generator = new LoadGenerator(api.BaseAddress, 16);
                await generator.ClosedLoopAsync(n => Search(SearchWords[n % SearchWords.Length], reader), HttpStatusCode.OK, TimeSpan.Zero, Warmup);
                var (run, per, statements) = await MeasuredAsync(SearchDatabase, api.Id, async () =>
                {
                    var r = await generator.ClosedLoopAsync(n => Search(SearchWords[n % SearchWords.Length], reader), HttpStatusCode.OK, Warmup, Window);
                    return (r, r.Completed);
                });
                var execMs = statements.Sum(s => s.TotalMs) / Math.Max(1, per.Units);

                // Ranked: each search walks the newest 200 matches (Search__RelevanceCandidates) and ranks them; what that costs
                // against a page newest first is the price of sort=relevance.
                await generator.ClosedLoopAsync(n => Search(SearchWords[n % SearchWords.Length], reader, ranked: true), HttpStatusCode.OK, TimeSpan.Zero, Warmup);
                var (rankedRun, rankedPer, rankedStatements) = await MeasuredAsync(SearchDatabase, api.Id, async () =>
                {
                    var r = await generator.ClosedLoopAsync(n => Search(SearchWords[n % SearchWords.Length], reader, ranked: true), HttpStatusCode.OK, Warmup, Window);
                    return (r, r.Completed);
                });
                var rankedExecMs = rankedStatements.Sum(s => s.TotalMs) / Math.Max(1, rankedPer.Units);

                // The plan of the broadest word of the list (it matches most alerts), as the API's statement runs it.
                var script = await File.ReadAllTextAsync(Path.Combine(options.SqlDirectory, "search-alerts.sql"));
                var sql = string.Join('\n', script.Split('\n').Where(l => !l.TrimStart().StartsWith("--", StringComparison.Ordinal)))
                    .Replace(":reader", $"'{reader.Id}'", StringComparison.Ordinal)
                    .Replace(":words", "'presevo'", StringComparison.Ordinal)
                    .Replace(":take", "21", StringComparison.Ordinal);
                var plan = string.Join('\n', (await postgres.RowsAsync(SearchDatabase, "EXPLAIN (ANALYZE, BUFFERS) " + sql.TrimEnd().TrimEnd(';'))).Select(r => r[0]));
                results.SearchCost = new SearchResult(Row(run, per), Stored, execMs, Rows(statements, per.Units), plan,
                    new RankedSearchResult(Row(rankedRun, rankedPer), rankedExecMs, Rows(rankedStatements, rankedPer.Units)));
                Log($"searches c=16 over {Stored:N0} alerts (q=, first page of 20): {run.PerSecond:F0}/s, p99 {run.Latency.P99:F1} ms, failed {run.Failed}; " +
                    $"PG {execMs:F2} ms execution/search, {per.PostgresCpuMs:F2} ms CPU/search; API {per.ClientCpuMs:F2} ms CPU/search, {per.RoundTrips:F1} round trips");
                Log($"ranked searches (sort=relevance) c=16: {rankedRun.PerSecond:F0}/s, p99 {rankedRun.Latency.P99:F1} ms, failed {rankedRun.Failed}; " +
                    $"PG {rankedExecMs:F2} ms execution/search, {rankedPer.PostgresCpuMs:F2} ms CPU/search; API {rankedPer.ClientCpuMs:F2} ms CPU/search, {rankedPer.RoundTrips:F1} round trips");
            }
        }

        /// <summary>
        /// A store of <paramref name="count"/> alerts: 512 published through the API (the benchmark's bodies: green or amber
        /// without an audience, smuggling and cyber), then copied in SQL under new ids and earlier change times — the alert
        /// row, its countries and its search text, as a publication writes them — and vacuumed and analysed.
        /// </summary>
        private async Task StoreAlertsAsync(HostProcess api, string database, Member border, Member cert, int count)
        {
            const int Published = 512;
            using (var generator = new LoadGenerator(api.BaseAddress, 16))
            {
                var published = await generator.CountAsync(n => Submit(n, border, cert), HttpStatusCode.Created, Published);
                if (published != Published)
                {
                    throw new InvalidOperationException($"Only {published} of {Published} alerts were published.");
                }
            }

            await postgres.ExecuteAsync(database, string.Create(CultureInfo.InvariantCulture,
                $$"""
                CREATE TABLE bench_copies AS
                SELECT CAST(lpad(to_hex(CAST(extract(epoch FROM now() - g * interval '1 second') * 1000000 AS bigint)), 14, '0') || left(md5(CAST(g AS text)), 18) AS uuid) AS id,
                       s.id AS source, now() - g * interval '1 second' AS at
                FROM generate_series(1, {{count - Published}}) g
                JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM alerts) s ON s.n = g % {{Published}};
                INSERT INTO alerts (id, originator_id, category, severity, severity_rank, tlp, handling_code, has_audience, version, status,
                                    created_at, updated_at, review_at, expires_at, document)
                SELECT c.id, a.originator_id, a.category, a.severity, a.severity_rank, a.tlp, a.handling_code, a.has_audience, a.version, a.status,
                       c.at, c.at, a.review_at, a.expires_at, CAST(jsonb_set(CAST(a.document AS jsonb), '{id}', to_jsonb(CAST(c.id AS text))) AS json)
                FROM bench_copies c JOIN alerts a ON a.id = c.source;
                INSERT INTO alert_countries (alert_id, country) SELECT c.id, x.country FROM bench_copies c JOIN alert_countries x ON x.alert_id = c.source;
                INSERT INTO alert_search (alert_id, title, body) SELECT c.id, x.title, x.body FROM bench_copies c JOIN alert_search x ON x.alert_id = c.source;
                DROP TABLE bench_copies;
                """));
            await postgres.ExecuteAsync(database, "VACUUM ANALYZE");
            Log($"{database}: {count:N0} alerts stored ({Published} published through the API, the rest copied in SQL)");
        }
    }
}
