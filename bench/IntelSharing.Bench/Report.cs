using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace IntelSharing.Bench;

/// <summary>Renders a run as JSON (every figure) and as markdown (the summary with targets, then the detail).</summary>
public static class Report
{
    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static string Json(SuiteResults results) => JsonSerializer.Serialize(results, JsonOptions) + "\n";

    public static async Task<int> RewriteAsync(string json, string markdown)
    {
        var results = JsonSerializer.Deserialize<SuiteResults>(await File.ReadAllTextAsync(json), JsonOptions)!;
        await File.WriteAllTextAsync(markdown, Markdown(results));
        return 0;
    }

    public static string Markdown(SuiteResults r)
    {
        var md = new StringBuilder();
        md.AppendLine("# IntelSharing benchmark results").AppendLine();
        md.AppendLine(Inv($"Run {r.StartedAt}, commit `{r.Commit}`, mode: {r.Mode}, {r.DurationSeconds:F0} s. Command: `bench/run.sh{(r.Mode.StartsWith("quick", StringComparison.Ordinal) ? " --quick" : string.Empty)}`."));
        md.AppendLine("Everything on loopback on one machine; the API and PostgreSQL share its CPUs with the load generator, the partner receivers and pgbench.").AppendLine();

        md.AppendLine("Each headline ratio divides by a limit of the machine measured in the same run, not by the product's own SQL: " +
            "L_http (a no-op POST on the same Kestrel), L_db and L_read (pgbench, prepared, of the minimal write and the one primary-key read on tables " +
            "with only a primary key), L_drain (signed no-op POSTs to the same receivers with one UPDATE per batch). docs/benchmarks.md says how each is measured.").AppendLine();
        Headline(md, r);
        md.AppendLine();
        if (r.Errors.Count > 0)
        {
            md.AppendLine("**Phases that failed:**").AppendLine();
            r.Errors.ForEach(e => md.AppendLine($"- {e}"));
            md.AppendLine();
        }

        if (r.Indicators is { } indicators)
        {
            IndicatorSection(md, indicators);
        }

        if (r.Taxii is { } taxii)
        {
            TaxiiSection(md, taxii, r.Read?.Limit);
        }

        if (r.Console is { } console)
        {
            ConsoleSection(md, console);
        }

        md.AppendLine("## Closed loop: limits and ingest side by side").AppendLine();
        md.AppendLine("| connections | L_http req/s | L_db alerts/s | L_ingest | ingest alerts/s | E_ingest | E_http | E_db | pgbench of the product's SQL | E_sql | ingest p50 / p99 ms | failed |");
        md.AppendLine("|---|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var ingest in r.Ingest)
        {
            var e = r.Efficiency.FirstOrDefault(x => x.Connections == ingest.Connections);
            md.AppendLine(Inv($"| {ingest.Connections} | {N(e?.LHttp)} | {N(e?.LDb)} | {N(e?.LIngest)} | {ingest.PerSecond:N0} | {F(e?.EIngest)} | {F(e?.EHttp)} | {F(e?.EDb)} | {N(e?.ProductSql)} | {F(e?.ESql)} | {ingest.Latency.P50:F1} / {ingest.Latency.P99:F1} | {ingest.Failed} |"));
        }

        md.AppendLine().AppendLine("| pgbench, clients | script | protocol | transactions/s | latency avg ms | PostgreSQL CPU ms per transaction | commits | WAL flushes | WAL bytes | failed |");
        md.AppendLine("|---|---|---|---|---|---|---|---|---|---|");
        foreach (var (db, protocol) in r.LimitDb.Select(d => (d, "prepared")).Concat(r.ProductSql.Select(d => (d, "prepared"))).Concat(
            r.Read?.Limit is { } readLimit ? [(readLimit, "prepared")] : []).Concat(
            r.Read?.WithoutAudit is { } readSql ? [(readSql, "prepared")] : []))
        {
            md.AppendLine(Inv($"| {db.Clients} | `{db.Script}` | {protocol} | {db.Tps:N0} | {db.LatencyAverageMs:F2} | {F(db.Per?.PostgresCpuMs)} | {F(db.Per?.Commits)} | {F(db.Per?.WalSyncs)} | {N(db.Per?.WalBytes)} | {db.Failed} |"));
        }

        md.AppendLine().AppendLine("| connections | per alert: API CPU ms | PostgreSQL CPU ms | round trips | statements | commits | WAL flushes | WAL bytes |");
        md.AppendLine("|---|---|---|---|---|---|---|---|");
        foreach (var ingest in r.Ingest)
        {
            md.AppendLine(Inv($"| {ingest.Connections} | {ingest.Per.ClientCpuMs:F2} | {ingest.Per.PostgresCpuMs:F2} | {ingest.Per.RoundTrips:F1} | {ingest.Per.Statements:F1} | {ingest.Per.Commits:F2} | {ingest.Per.WalSyncs:F2} | {ingest.Per.WalBytes:N0} |"));
        }

        md.AppendLine().AppendLine("| connections | L_http p50 / p99 ms | no-op host CPU ms/request |");
        md.AppendLine("|---|---|---|");
        foreach (var http in r.Http)
        {
            md.AppendLine(Inv($"| {http.Connections} | {http.Latency.P50:F2} / {http.Latency.P99:F2} | {http.Per.ClientCpuMs:F3} |"));
        }

        if (r.OpenLoop is { } o)
        {
            md.AppendLine().AppendLine("## Open loop (latency from the intended send time)").AppendLine();
            md.AppendLine(Inv($"{o.TargetRate:N0} alerts/s scheduled over {o.Seconds:F0} s on up to {o.Connections} connections; {o.AchievedRate:N0}/s completed; " +
                $"p50 {o.Latency.P50:F2}, p90 {o.Latency.P90:F2}, p99 {o.Latency.P99:F2}, p99.9 {o.Latency.P999:F2}, max {o.Latency.Max:F2} ms; {o.Failed} failed {Failures(o.Failures)}."));
        }

        if (r.Drain is { } drain)
        {
            md.AppendLine().AppendLine("## Delivery drain").AppendLine();
            md.AppendLine(Inv($"{drain.Queued:N0} pending deliveries ({drain.Subscriptions} subscriptions of {drain.Partners} partners, each partner its own loopback endpoint), " +
                $"dispatcher defaults ({drain.Workers} workers). {drain.Delivered:N0} received (distinct webhook-ids), {drain.Duplicates} duplicates, {drain.LeftInOutbox} left undelivered. " +
                $"First to last receipt {drain.FirstToLastSeconds:F1} s = **{drain.PerSecond:N0}/s**{(drain.SecondHalfPerSecond is { } warm ? $" (the second half of the receipts: {warm:N0}/s)" : "")}; API ready to outbox empty {drain.ReadyToEmptySeconds:F1} s. " +
                $"Per delivery: API CPU {drain.Per.ClientCpuMs:F3} ms, PostgreSQL CPU {drain.Per.PostgresCpuMs:F3} ms, {drain.Per.RoundTrips:F2} round trips, {drain.Per.Statements:F2} statements, {drain.Per.Commits:F2} commits."));
            if (drain.Running is { } running)
            {
                md.AppendLine().AppendLine(Inv($"Then in the same instance, as when partners come back after an outage: every subscription paused, {running.Queued:N0} more deliveries queued through it, every subscription resumed. " +
                    $"{running.Delivered:N0} received, {running.Duplicates} duplicates, {running.LeftInOutbox} left undelivered. First to last receipt {running.FirstToLastSeconds:F1} s = **{running.PerSecond:N0}/s**" +
                    $"{(running.SecondHalfPerSecond is { } half ? $" (second half {half:N0}/s)" : "")}; first resume to outbox empty {running.ReadyToEmptySeconds:F1} s. " +
                    $"Per delivery: API CPU {running.Per.ClientCpuMs:F3} ms, PostgreSQL CPU {running.Per.PostgresCpuMs:F3} ms, {running.Per.RoundTrips:F2} round trips, {running.Per.Statements:F2} statements, {running.Per.Commits:F2} commits."));
            }

            md.AppendLine();
            Statements(md, "delivery", drain.Statements);
        }

        if (r.DrainLimit is { } ld)
        {
            md.AppendLine().AppendLine(Inv($"L_drain, right after: {ld.Sent:N0} signed no-op deliveries from the benchmark process to the same {ld.Partners} receivers " +
                $"(HMAC-SHA256 per request, {ld.InFlight} in flight, batches of {ld.BatchSize} each recorded by one multi-row UPDATE and commit on a primary-key-only table): " +
                $"{ld.Received:N0} received, recorded in {ld.Seconds:F1} s = **{ld.PerSecond:N0}/s**, {ld.Batches:N0} batch updates. " +
                $"Per delivery: benchmark process CPU (sender and receivers) {ld.Per.ClientCpuMs:F3} ms, PostgreSQL CPU {ld.Per.PostgresCpuMs:F3} ms, {ld.Per.Commits:F3} commits."));
        }

        if (r.EndToEnd.Count > 0)
        {
            md.AppendLine().AppendLine("## End to end").AppendLine();
        }

        foreach (var e2e in r.EndToEnd)
        {
            md.AppendLine(Inv($"- {e2e.TargetRate:N0} alerts/s scheduled for {e2e.Seconds:F0} s (on a fresh database and process, after a warm-up of {e2e.JitWarmupAlerts:N0} alerts back to back and then the rate; backlog after it {N(e2e.BacklogAfterWarmup)}, when measuring started {N(e2e.BacklogAtMeasuredStart)}, with {N(e2e.BackgroundAtMeasuredStart)} versions waiting for correlation or feed positions), {e2e.AchievedRate:N0}/s accepted, {e2e.SubmitFailed} submits not acknowledged {Failures(e2e.SubmitFailures)}; {e2e.Alerts:N0} alerts measured, " +
                $"{e2e.Delivered:N0} of {e2e.ExpectedDeliveries:N0} deliveries received (all deliveries when the run stopped waiting: {States(e2e.DeliveriesByState)}). 201 → receipt: p50 {e2e.Latency.P50:F1}, p90 {e2e.Latency.P90:F1}, p99 {e2e.Latency.P99:F1}, " +
                $"p99.9 {e2e.Latency.P999:F1}, max {e2e.Latency.Max:F1} ms. Submit latency (from intended send): p50 {e2e.SubmitLatency.P50:F1}, p99 {e2e.SubmitLatency.P99:F1} ms. " +
                $"Per alert with delivery: API CPU {e2e.Per.ClientCpuMs:F2} ms, PostgreSQL CPU {e2e.Per.PostgresCpuMs:F2} ms, {e2e.Per.RoundTrips:F1} round trips."));
        }

        if (r.Sqlite is { } lite)
        {
            md.AppendLine().AppendLine("## SQLite, the embedded default").AppendLine();
            md.AppendLine(Inv($"The API on a SQLite file (dispatcher off) beside SQLite's own minimal write from the benchmark process (one BEGIN IMMEDIATE transaction per alert: the alert row and three delivery rows, primary keys only), both with the product's pragmas: `{lite.Pragmas}`.")).AppendLine();
            md.AppendLine("| connections | L_http req/s | L_db (SQLite) alerts/s | L_ingest | ingest alerts/s | E_ingest | E_db | ingest p50 / p99 ms | API CPU ms per alert | failed · busy |");
            md.AppendLine("|---|---|---|---|---|---|---|---|---|---|");
            foreach (var ingest in lite.Ingest)
            {
                var e = lite.Efficiency.FirstOrDefault(x => x.Connections == ingest.Connections);
                var limit = lite.Limit.FirstOrDefault(x => x.Clients == ingest.Connections);
                md.AppendLine(Inv($"| {ingest.Connections} | {N(e?.LHttp)} | {N(limit?.PerSecond)} | {N(e?.LIngest)} | {ingest.PerSecond:N0} | {F(e?.EIngest)} | {F(e?.EDb)} | {ingest.Latency.P50:F1} / {ingest.Latency.P99:F1} | {ingest.Per.ClientCpuMs:F2} | {ingest.Failed} · {limit?.Busy} |"));
            }
        }

        if (r.Read is { } rd)
        {
            md.AppendLine().AppendLine("## Reads and the cost of auditing them").AppendLine();
            md.AppendLine(Inv($"GET /api/v1/alerts/{{id}} (random alerts of the store, partner key), 16 connections: {rd.Api.PerSecond:N0}/s, p50 {rd.Api.Latency.P50:F2}, p99 {rd.Api.Latency.P99:F2} ms; " +
                $"per read: API CPU {rd.Api.Per.ClientCpuMs:F2} ms, PostgreSQL CPU {rd.Api.Per.PostgresCpuMs:F2} ms, {rd.Api.Per.RoundTrips:F2} round trips, {rd.Api.Per.Statements:F2} statements, " +
                $"{rd.Api.Per.Commits:F2} commits, {rd.Api.Per.WalSyncs:F3} WAL flushes, {rd.Api.Per.WalBytes:N0} WAL bytes; {rd.AuditGroupSize:F1} audit records per commit group."));
            if (rd.WithoutAudit is not null && rd.WithAudit is not null)
            {
                md.AppendLine().AppendLine(Inv($"pgbench, prepared, 16 clients: the read's SELECT (`read-alert.sql`) {rd.WithoutAudit.Tps:N0}/s; mixed with the commit groups of its audit records (`{rd.WithAudit.Script}`) {rd.AuditedReadsPerSecond:N0} reads/s: an audited read costs the database ×{rd.CostRatio:F2} in reads/s, " +
                    $"×{rd.CpuCostRatio:F2} in PostgreSQL CPU per read ({F(rd.WithoutAudit.Per?.PostgresCpuMs)} → {F(rd.WithAudit.Per?.PostgresCpuMs / rd.AuditedReadShare)} ms); per audited read {N(rd.WithAudit.Per?.WalBytes / rd.AuditedReadShare)} WAL bytes, {rd.WithAudit.Per?.WalSyncs / rd.AuditedReadShare:F3} WAL flushes."));
            }

            if (rd.Limit is { } lr)
            {
                md.AppendLine().AppendLine(Inv($"L_read, pgbench prepared, 16 clients: the document by primary key {lr.Tps:N0}/s ({lr.LatencyAverageMs:F2} ms); reads through the API are {rd.OfLimit:F2} of it."));
            }

            if (rd.Statements.Count > 0)
            {
                md.AppendLine();
                Statements(md, "read", rd.Statements);
            }
        }

        if (r.SearchCost is { } search)
        {
            md.AppendLine().AppendLine("## Full-text search").AppendLine();
            md.AppendLine(Inv($"GET /api/v1/alerts?q=… (first page of 20; words such as Preševo, Шид, Horgos Roszke over {search.StoredAlerts:N0} stored alerts; partner key), 16 connections: {search.Api.PerSecond:N0}/s, p50 {search.Api.Latency.P50:F2}, p99 {search.Api.Latency.P99:F2} ms; " +
                $"per search: PostgreSQL execution {search.PostgresExecMsPerSearch:F2} ms, PostgreSQL CPU {search.Api.Per.PostgresCpuMs:F2} ms, API CPU {search.Api.Per.ClientCpuMs:F2} ms, {search.Api.Per.RoundTrips:F1} round trips, failed {search.Api.Failed}."));
            if (search.Ranked is { } ranked)
            {
                md.AppendLine().AppendLine(Inv($"Ranked (`sort=relevance`, the newest 200 matches ranked, first page of 20), same words and connections: {ranked.Api.PerSecond:N0}/s, p50 {ranked.Api.Latency.P50:F2}, p99 {ranked.Api.Latency.P99:F2} ms; " +
                    $"per search: PostgreSQL execution {ranked.PostgresExecMsPerSearch:F2} ms, PostgreSQL CPU {ranked.Api.Per.PostgresCpuMs:F2} ms, API CPU {ranked.Api.Per.ClientCpuMs:F2} ms, {ranked.Api.Per.RoundTrips:F1} round trips, failed {ranked.Api.Failed}."));
                if (ranked.Statements.Count > 0)
                {
                    md.AppendLine();
                    Statements(md, "ranked search", ranked.Statements);
                }
            }

            md.AppendLine().AppendLine("`EXPLAIN (ANALYZE, BUFFERS)` of `bench/sql/search-alerts.sql` for `presevo`:").AppendLine().AppendLine("```").AppendLine(search.Plan).AppendLine("```");
            if (search.Statements.Count > 0)
            {
                md.AppendLine();
                Statements(md, "search", search.Statements);
            }
        }

        if (r.AlertCost is { } cost)
        {
            md.AppendLine().AppendLine("## Cost per alert, to quiet (request and the background work after it)").AppendLine();
            md.AppendLine(Inv($"{cost.Alerts:N0} alerts at {cost.Connections} connections, submitted in {cost.SubmitSeconds:F1} s; the correlation queue and the feed's unpositioned changes were " +
                (cost.LeftQueued == 0 ? $"empty {cost.QuietAfterSeconds:F1} s after the first submit" : $"**not empty** after {cost.QuietAfterSeconds:F1} s ({cost.LeftQueued:N0} left)") +
                $". Per alert: API CPU {cost.Per.ClientCpuMs:F2} ms, PostgreSQL CPU {cost.Per.PostgresCpuMs:F2} ms, {cost.Per.RoundTrips:F1} round trips, {cost.Per.Statements:F1} statements, " +
                $"{cost.Per.Commits:F2} commits, {cost.Per.WalSyncs:F2} WAL flushes, {cost.Per.WalBytes:N0} WAL bytes."));
            md.AppendLine().AppendLine("| issuer | statements per alert | execution ms per alert | rows per alert | WAL bytes per alert |").AppendLine("|---|---|---|---|---|");
            foreach (var issuer in cost.Issuers)
            {
                md.AppendLine(Inv($"| {issuer.Issuer} | {issuer.Statements:F2} | {issuer.ExecutionMs:F3} | {issuer.Rows:F1} | {issuer.WalBytes:N0} |"));
            }

            md.AppendLine().AppendLine("| issuer | calls per alert | mean ms | execution ms per alert | rows per alert | WAL bytes per alert | statement |").AppendLine("|---|---|---|---|---|---|---|");
            foreach (var s in cost.Statements.Take(15))
            {
                md.AppendLine(Inv($"| {s.Issuer} | {s.Calls:F2} | {s.MeanMs:F3} | {s.ExecutionMs:F3} | {s.Rows:F1} | {s.WalBytes:N0} | `{Truncate(s.Query, 120)}` |"));
            }
        }

        if (r.StatementsPerAlert.Count > 0)
        {
            md.AppendLine().AppendLine("## Statements per alert (pg_stat_statements, ingest at the largest connection count)").AppendLine();
            Statements(md, "alert", r.StatementsPerAlert);
        }

        md.AppendLine().AppendLine("## Machine and settings").AppendLine();
        foreach (var (key, value) in r.Machine.Concat(r.Settings))
        {
            md.AppendLine($"- {key}: {value}");
        }

        return md.ToString();
    }

    /// <summary>The issue-9 targets, each against its limit, with met or missed.</summary>
    private static void Headline(StringBuilder md, SuiteResults r)
    {
        if (r.LimitDb.Count == 0 && r.Efficiency.Count > 0)
        {
            // A results file from before issue 9, rendered again: its L_db was the product's own SQL.
            md.AppendLine("**This run predates issue 9's limits: its L_db below is pgbench of the product's own SQL (today's E_sql divisor), not the minimal write, so its E_ingest is not comparable with later runs.**").AppendLine();
        }

        md.AppendLine("| Figure | Measured | Target | |");
        md.AppendLine("|---|---|---|---|");
        if (r.Efficiency.MaxBy(e => e.Ingest) is { } best)
        {
            md.AppendLine(Inv($"| L_http (no-op POST, {best.Connections} connections) | {best.LHttp:N0} requests/s | | |"));
            md.AppendLine(Inv($"| L_db (pgbench, prepared: the alert row with its document and 3 delivery rows, primary keys only, {best.Connections} clients) | {best.LDb:N0} alerts/s | | |"));
            md.AppendLine(Inv($"| L_ingest = 1 / (1/L_http + 1/L_db) | {best.LIngest:N0} alerts/s | | |"));
            md.AppendLine(Inv($"| ingest, closed loop, {best.Connections} connections (the best count) | {best.Ingest:N0} alerts/s | | |"));
            md.AppendLine(Inv($"| **E_ingest** = ingest / L_ingest | **{best.EIngest:F2}** | ≥ 0.65 | {Met(best.EIngest >= 0.65)} |"));
            // The stricter reading: the best ingest against the best limits at any connection count.
            var bestHttp = r.Efficiency.Max(e => e.LHttp);
            var bestDb = r.Efficiency.Max(e => e.LDb);
            var strict = best.Ingest * (1 / bestHttp + 1 / bestDb);
            md.AppendLine(Inv($"| E_ingest against the best limits at any connection count ({bestHttp:N0} and {bestDb:N0}/s) | {strict:F2} | ≥ 0.65 | {Met(strict >= 0.65)} |"));
            md.AppendLine(Inv($"| E_http · E_db (ingest / each limit) | {best.EHttp:F2} · {best.EDb:F2} | | |"));
            md.AppendLine(Inv($"| E_sql = ingest / pgbench of the product's own SQL ({N(best.ProductSql)} alerts/s), a diagnostic | {F(best.ESql)} | | |"));
        }

        if (r.OpenLoop is { } open)
        {
            md.AppendLine(Inv($"| ingest latency, open loop at 50 % of the best ({open.TargetRate:N0}/s): p50 / p99 / p99.9 | {open.Latency.P50:F1} / **{open.Latency.P99:F1}** / {open.Latency.P999:F1} ms | p99 ≤ 10 ms | {Met(open.Latency.P99 <= 10 && open.Failed == 0)} |"));
        }

        if (r.Read is { } read)
        {
            if (read.Limit is { } limit)
            {
                md.AppendLine(Inv($"| reads: GET /api/v1/alerts/{{id}}, audited, 16 connections ÷ L_read (pgbench, prepared, the document by primary key: {limit.Tps:N0}/s) | {read.Api.PerSecond:N0}/s = **{read.OfLimit:F2} × L_read** | ≥ 0.5 × L_read | {Met(read.OfLimit >= 0.5)} |"));
            }

            if (read is { WithoutAudit: not null, WithAudit: not null })
            {
                md.AppendLine(Inv($"| audit cost of a read at the database: the read's SQL per second without ÷ with the commit groups of its audit records ({read.AuditGroupSize:F1} per group, as measured) | {read.WithoutAudit.Tps:N0} ÷ {read.AuditedReadsPerSecond:N0} = **×{read.CostRatio:F2}** (PostgreSQL CPU per read ×{read.CpuCostRatio:F2}) | ≤ ×1.25 | {Met(read.CostRatio <= 1.25)} |"));
            }
        }

        if (r.Drain is { } drain)
        {
            md.AppendLine(Inv($"| delivery drain after a restart: {drain.Queued:N0} queued deliveries to {drain.Partners} loopback partners, a fresh process | **{drain.PerSecond:N0} deliveries/s**{(drain.SecondHalfPerSecond is { } warm ? $"; second half {warm:N0}/s" : "")} | ≥ 5,000/s | {Met(drain.PerSecond >= 5000 && drain.LeftInOutbox == 0)} |"));
            if (drain.Running is { } running)
            {
                md.AppendLine(Inv($"| delivery drain in a running instance: {running.Queued:N0} more queued while its subscriptions were paused, then resumed | **{running.PerSecond:N0} deliveries/s**{(running.SecondHalfPerSecond is { } half ? $"; second half {half:N0}/s" : "")} | ≥ 5,000/s | {Met(running.PerSecond >= 5000 && running.LeftInOutbox == 0)} |"));
            }

            if (r.DrainLimit is { PerSecond: > 0 } limit)
            {
                md.AppendLine(Inv($"| drain / L_drain (signed no-op POSTs to the same receivers after a warm-up, one UPDATE per batch of {limit.BatchSize}: {limit.PerSecond:N0}/s): after a restart · running | {drain.PerSecond / limit.PerSecond:F2}{(drain.Running is { } again ? Inv($" · {again.PerSecond / limit.PerSecond:F2}") : "")} | | |"));
            }
        }

        // The first end-to-end run is at the target rate (is it sustained?), the second at half of it (the latency).
        if (r.EndToEnd.Count > 0)
        {
            var sustain = r.EndToEnd[0];
            md.AppendLine(Inv($"| end to end with delivery on, 3 partners: {sustain.TargetRate:N0} alerts/s scheduled | {sustain.AchievedRate:N0}/s accepted, {sustain.Delivered:N0} of {sustain.ExpectedDeliveries:N0} deliveries received ({Undone(sustain.DeliveriesByState)}), {sustain.SubmitFailed:N0} submits not acknowledged {Failures(sustain.SubmitFailures)}; submit p99 {sustain.SubmitLatency.P99:N0} ms, 201 → receipt p99 {sustain.Latency.P99:N0} ms | ≥ {EndToEndTarget:N0} alerts/s sustained (all answered and delivered; submit p99 ≤ {EndToEndResult.SustainedSubmitP99Ms:N0} ms, receipt p99 ≤ {EndToEndResult.SustainedReceiptP99Ms:N0} ms) | {Met(sustain.TargetRate >= EndToEndTarget && sustain.Sustained)} |"));
        }

        foreach (var e2e in r.EndToEnd.Skip(1))
        {
            md.AppendLine(Inv($"| end to end at {e2e.TargetRate:N0} alerts/s: 201 → partner receipt p50 / p99 | {e2e.Latency.P50:F0} / **{e2e.Latency.P99:F0}** ms ({e2e.Delivered:N0} of {e2e.ExpectedDeliveries:N0} delivered, {e2e.AchievedRate:N0}/s accepted) | p99 ≤ 250 ms at {EndToEndTarget / 2:N0}/s | {Met(e2e.TargetRate >= EndToEndTarget / 2 && e2e.Sustained && e2e.Latency.P99 <= 250)} |"));
        }

        if (r.Ingest.MaxBy(i => i.PerSecond) is { } top)
        {
            md.AppendLine(Inv($"| per alert ({top.Connections} connections): round trips · statements · commits · WAL flushes | {top.Per.RoundTrips:F1} · {top.Per.Statements:F1} · {top.Per.Commits:F2} · {top.Per.WalSyncs:F2} | | |"));
            md.AppendLine(Inv($"| API CPU per alert (diagnostic) | {top.Per.ClientCpuMs:F2} ms | ≤ 0.3 ms | {Met(top.Per.ClientCpuMs <= 0.3)} |"));
            md.AppendLine(Inv($"| PostgreSQL CPU per alert (diagnostic; the minimal write itself: {F(r.LimitDb.FirstOrDefault(d => d.Clients == top.Connections)?.Per?.PostgresCpuMs)} ms) | {top.Per.PostgresCpuMs:F2} ms | ≤ 0.3 ms | {Met(top.Per.PostgresCpuMs <= 0.3)} |"));
        }

        if (r.Sqlite?.Efficiency.MaxBy(e => e.Ingest) is { } lite)
        {
            md.AppendLine(Inv($"| SQLite (synchronous=FULL, WAL): ingest {lite.Ingest:N0}/s ÷ L_ingest {lite.LIngest:N0}/s (its own minimal write {lite.LDb:N0}/s), {lite.Connections} connections | E_ingest {lite.EIngest:F2} | (diagnostic) | |"));
        }
    }

    private const double EndToEndTarget = 1_000;

    private static void Statements(StringBuilder md, string unit, List<StatementRow> rows)
    {
        md.AppendLine($"| per {unit} | mean execution ms | execution ms per {unit} | statement |").AppendLine("|---|---|---|---|");
        foreach (var s in rows.Where(s => s.PerUnit >= 0.01).OrderByDescending(s => s.MsPerUnit))
        {
            md.AppendLine(Inv($"| {s.PerUnit:F2} | {s.MeanMs:F3} | {s.MsPerUnit:F3} | `{Truncate(s.Query, 140)}` |"));
        }
    }

    private static string Met(bool met) => met ? "met" : "**missed**";

    private static string N(double? value) => value is { } v ? v.ToString("N0", CultureInfo.InvariantCulture) : "–";

    private static string F(double? value) => value is { } v ? v.ToString("F2", CultureInfo.InvariantCulture) : "–";

    private static string Failures(IReadOnlyDictionary<string, long> failures) =>
        failures.Count == 0 ? string.Empty : "(" + string.Join(", ", failures.Select(f => $"{f.Key}: {f.Value}")) + ")";

    /// <summary>What the ledger says of the deliveries not made: still queued, or failed at the partner.</summary>
    private static string Undone(IReadOnlyDictionary<string, long> states) =>
        states.Count == 0 ? "ledger not read" :
        $"queued {states.GetValueOrDefault("pending") + states.GetValueOrDefault("in_flight"):N0}, failed or dead {states.GetValueOrDefault("failed") + states.GetValueOrDefault("dead"):N0}";

    private static string States(IReadOnlyDictionary<string, long> states) =>
        states.Count == 0 ? "not read" : string.Join(", ", states.Select(s => $"{s.Value:N0} {s.Key}"));

    private static string Truncate(string text, int length) => (text.Length <= length ? text : text[..length] + "…").Replace("|", "\\|", StringComparison.Ordinal);

    /// <summary>Marks text with numbers: the project builds with InvariantGlobalization, so interpolation already formats them invariantly.</summary>
    private static string Inv(string text) => text;
    private static void TaxiiSection(StringBuilder md, TaxiiResults taxii, PgbenchResult? lRead)
    {
        md.AppendLine("## TAXII").AppendLine();
        md.AppendLine(Inv($"A page of 100 objects (`objects/?limit=100&added_after=` a random time among the stored alerts) and one object by id (a random object of 20 published alerts) through the TAXII server, as a partner that may see every alert; {taxii.IndexedObjectsPerAlert:F1} object-index rows per alert; its stored STIX objects {taxii.RenderedBytesPerAlert:N0} bytes of JSON, {taxii.StoredRenderingBytesPerAlert:N0} as PostgreSQL stores them. The plan is PostgreSQL's for the shape of the query, after ANALYZE.")).AppendLine();
        md.AppendLine("| stored alerts | request | connections | requests/s | p50 / p99 ms | failed | of L_read | API CPU ms per request | PostgreSQL CPU ms per request | statements per request | alerts read per request (their query's ms) | plan uses the index |");
        md.AppendLine("|---|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var row in taxii.Rows)
        {
            var ofRead = lRead is { Tps: > 0 } limit ? Inv($"{row.PerSecond / limit.Tps:F2}") : "–";
            md.AppendLine(Inv($"| {row.StoredAlerts:N0} | {row.Request} | {row.Connections} | {row.PerSecond:N0} | {row.Latency.P50:F2} / {row.Latency.P99:F2} | {row.Failed} | {ofRead} | {row.ApiCpuMs:F2} | {row.PostgresCpuMs:F2} | {row.Statements:F1} | {row.AlertsRead:F1} ({row.ReadMs:F3}) | {(row.PlanUsesIndex ? "yes" : "**no**")}: `{ScanOf(row.Plan)}` |"));
        }

        foreach (var request in taxii.Rows.Select(r => r.Request).Distinct())
        {
            var rows = taxii.Rows.Where(r => r.Request == request).OrderBy(r => r.StoredAlerts).ToList();
            if (rows.Count > 1 && rows[^1].PerSecond > 0)
            {
                md.AppendLine().Append(Inv($"{request}: requests/s at {rows[0].StoredAlerts:N0} ÷ at {rows[^1].StoredAlerts:N0} alerts = **{rows[0].PerSecond / rows[^1].PerSecond:F2}** (issue 10: at most 1.5)."));
            }
        }

        if (taxii.Ceilings.Count > 0)
        {
            md.AppendLine().AppendLine().AppendLine(Inv($"The same bytes with no work at all — the no-op Kestrel of L_http answering a fixed body of each request's mean size at the largest store (no database, no key, no policy), same generator, {taxii.Ceilings[0].Connections} connections: what this machine does with the least such a response needs. Issue 10 asks each request for 0.3 × L_read{(lRead is { Tps: > 0 } l ? Inv($" = {0.3 * l.Tps:N0}/s") : string.Empty)}.")).AppendLine();
            md.AppendLine("| request | bytes | requests/s | p50 / p99 ms | failed | of L_read | the TAXII request ÷ this ceiling |");
            md.AppendLine("|---|---|---|---|---|---|---|");
            foreach (var ceiling in taxii.Ceilings)
            {
                var ofRead = lRead is { Tps: > 0 } limit ? Inv($"{ceiling.PerSecond / limit.Tps:F2}") : "–";
                var measured = taxii.Rows.Where(r => r.Request == ceiling.Request).MaxBy(r => r.StoredAlerts);
                var share = measured is not null && ceiling.PerSecond > 0 ? Inv($"{measured.PerSecond / ceiling.PerSecond:F2}") : "–";
                md.AppendLine(Inv($"| {ceiling.Request} | {ceiling.Bytes:N0} | {ceiling.PerSecond:N0} | {ceiling.Latency.P50:F2} / {ceiling.Latency.P99:F2} | {ceiling.Failed} | {ofRead} | {share} |"));
            }
        }

        md.AppendLine().AppendLine();
    }

    private static void ConsoleSection(StringBuilder md, ConsoleResults console)
    {
        md.AppendLine("## Console pages").AppendLine();
        md.AppendLine(Inv($"Issue 14: every console page under {console.TargetMs:F0} ms with 100,000 alerts and 1,000,000 deliveries stored. Stored here: {console.StoredAlerts:N0} alerts, {console.StoredDeliveries:N0} deliveries, {console.AttemptsInTheLastDay:N0} attempts in the last day; the published-results roll-up covered {console.RolledUpDays} closed days and {console.RolledUpHours} closed hours of today {console.RollupSeconds:F1} s after the seed. One signed-in session (deliveries:manage, statistics:read, audit:read) asks each page in turn; the time is the request's at the client on loopback; met when p99 is under the target. The costliest statement is pg_stat_statements' largest total time while the page was asked.")).AppendLine();
        md.AppendLine("| page | requests | p50 / p99 ms | target | costliest statement, mean ms | statement |");
        md.AppendLine("|---|---|---|---|---|---|");
        foreach (var row in console.Pages)
        {
            md.AppendLine(Inv($"| {row.Page} | {row.Requests} | {row.Latency.P50:F1} / {row.Latency.P99:F1} | {(row.Met ? "met" : "**missed**")} | {row.TopStatementMeanMs:F1} | `{Truncate(row.TopStatement, 140)}` |"));
        }

        md.AppendLine();
    }

    /// <summary>The plan line that says how the table is read (the first line is only the LIMIT).</summary>
    private static string ScanOf(string plan) =>
        (plan.Split('\n').FirstOrDefault(l => l.Contains("Scan", StringComparison.Ordinal)) ?? plan.Split('\n')[0]).Trim().TrimStart('-', '>', ' ').Split("  (cost=")[0];

    private static void IndicatorSection(StringBuilder md, IndicatorResults indicators)
    {
        md.AppendLine("## Indicator search and correlation").AppendLine();
        md.AppendLine("Look-ups through `GET /api/v1/indicators` (a random stored domain each, as a partner that may see the alert), by rows in `alert_indicators`; the plan is PostgreSQL's for the look-up after ANALYZE.").AppendLine();
        md.AppendLine("| stored indicators | connections | look-ups/s | p50 / p99 ms | failed | plan uses the index |");
        md.AppendLine("|---|---|---|---|---|---|");
        foreach (var row in indicators.Lookups)
        {
            md.AppendLine(Inv($"| {row.StoredIndicators:N0} | {row.Connections} | {row.PerSecond:N0} | {row.Latency.P50:F2} / {row.Latency.P99:F2} | {row.Failed} | {(row.PlanUsesIndex ? "yes" : "**no**")}: `{row.Plan.Split('\n')[0].Trim()}` |"));
        }

        md.AppendLine().AppendLine("| ingest, correlation | connections | alerts/s | p50 / p99 ms | failed | API CPU ms per alert | versions still queued at the end |");
        md.AppendLine("|---|---|---|---|---|---|---|");
        foreach (var row in indicators.Ingest)
        {
            md.AppendLine(Inv($"| {(row.Correlation ? "on" : "off")} | {row.Connections} | {row.PerSecond:N0} | {row.Latency.P50:F1} / {row.Latency.P99:F1} | {row.Failed} | {row.ApiCpuMsPerAlert:F2} | {row.PendingAtEnd:N0} |"));
        }

        if (indicators.IngestRatio is { } ratio)
        {
            md.AppendLine().AppendLine(Inv($"Ingest with correlation on ÷ off: **{ratio:F2}** (budget: at least 0.85)."));
        }

        md.AppendLine();
    }
}
