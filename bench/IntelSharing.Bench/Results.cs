namespace IntelSharing.Bench;

/// <summary>Everything one run measured; written as latest.json and rendered as latest.md.</summary>
public sealed class SuiteResults
{
    public string StartedAt { get; set; } = string.Empty;

    public double DurationSeconds { get; set; }

    public string Mode { get; set; } = string.Empty;

    public string Commit { get; set; } = string.Empty;

    public Dictionary<string, string> Machine { get; set; } = [];

    public Dictionary<string, string> Settings { get; set; } = [];

    public List<ClosedLoopRow> Ingest { get; set; } = [];

    /// <summary>Indicator look-ups by stored size, and ingest with correlation off and on (IndicatorPhase).</summary>
    public IndicatorResults? Indicators { get; set; }

    /// <summary>TAXII pages of 100 objects and object by id by stored alerts (TaxiiPhase).</summary>
    public TaxiiResults? Taxii { get; set; }

    /// <summary>Each console page's time at 100,000 alerts and 1,000,000 deliveries (ConsolePhase).</summary>
    public ConsoleResults? Console { get; set; }

    public List<ClosedLoopRow> Http { get; set; } = [];

    /// <summary>L_db: pgbench of the minimal durable write per alert (limit-ingest.sql), at each connection count.</summary>
    public List<PgbenchResult> LimitDb { get; set; } = [];

    /// <summary>E_sql's divisor, a diagnostic: pgbench replaying the product's own SQL per alert (ingest-alert.sql).</summary>
    public List<PgbenchResult> ProductSql { get; set; } = [];

    public List<EfficiencyRow> Efficiency { get; set; } = [];

    public OpenLoopResult? OpenLoop { get; set; }

    public List<StatementRow> StatementsPerAlert { get; set; } = [];

    /// <summary>A fixed number of alerts, measured until the background work they cause is done: where every millisecond goes.</summary>
    public AlertCostResult? AlertCost { get; set; }

    public ReadResult? Read { get; set; }

    /// <summary>GET /api/v1/alerts?q=… (first page of 20) over a store of 100,000 alerts (the search phase).</summary>
    public SearchResult? SearchCost { get; set; }

    public DrainResult? Drain { get; set; }

    /// <summary>L_drain: signed no-op POSTs from the benchmark process to the drain's receivers, with batched state updates.</summary>
    public DrainLimitResult? DrainLimit { get; set; }

    /// <summary>The embedded default, measured against its own minimal write.</summary>
    public SqliteResult? Sqlite { get; set; }

    public List<EndToEndResult> EndToEnd { get; set; } = [];

    public List<string> Errors { get; set; } = [];
}

public sealed record ClosedLoopRow(int Connections, double PerSecond, Latencies Latency, long Failed, IReadOnlyDictionary<string, long> Failures, PerUnit Per);

/// <summary>
/// The ratios at one connection count: L_ingest = 1 / (1/L_http + 1/L_db), E = measured / limit. ProductSql and ESql
/// (ingest ÷ pgbench of the product's own SQL) are a diagnostic, absent on SQLite.
/// </summary>
public sealed record EfficiencyRow(
    int Connections, double LHttp, double LDb, double LIngest, double Ingest, double EIngest, double EHttp, double EDb, double? ProductSql = null, double? ESql = null)
{
    public static EfficiencyRow Of(int connections, double lHttp, double lDb, double ingest, double? productSql = null)
    {
        var limit = 1 / (1 / lHttp + 1 / lDb);
        return new EfficiencyRow(connections, lHttp, lDb, limit, ingest, ingest / limit, ingest / lHttp, ingest / lDb, productSql, productSql is { } sql ? ingest / sql : null);
    }
}

public sealed record OpenLoopResult(double TargetRate, double AchievedRate, int Connections, double Seconds, Latencies Latency, long Failed, IReadOnlyDictionary<string, long> Failures, double FractionOfMax);

/// <summary>A statement's calls per unit of work, its mean execution time, and its execution time per unit (all pg_stat_statements).</summary>
public sealed record StatementRow(double PerUnit, double MeanMs, double MsPerUnit, string Query);

/// <summary>
/// <paramref name="Alerts"/> submitted at <paramref name="Connections"/> connections, the counters read once the correlation
/// queue and the feed's unpositioned changes were empty again (or <paramref name="QuietAfterSeconds"/> ran out with
/// <paramref name="LeftQueued"/> still queued): the alert's whole cost, its request and the background work after it.
/// </summary>
public sealed record AlertCostResult(long Alerts, int Connections, double SubmitSeconds, double QuietAfterSeconds, long LeftQueued, PerUnit Per)
{
    public List<IssuerRow> Issuers { get; init; } = [];

    public List<StatementCostRow> Statements { get; init; } = [];
}

/// <summary>Per alert, one issuer's share: statements, execution ms, rows and WAL bytes.</summary>
public sealed record IssuerRow(string Issuer, double Statements, double ExecutionMs, double Rows, double WalBytes);

/// <summary>Per alert, one statement's calls, execution ms, rows and WAL bytes, with its mean execution and issuer.</summary>
public sealed record StatementCostRow(string Issuer, double Calls, double MeanMs, double ExecutionMs, double Rows, double WalBytes, string Query);

/// <summary>
/// The reads phase. The pgbench parts stay null until their runs complete: a pgbench that aborts leaves them so, and the
/// report prints what the API's run measured and names the abort under the phase that failed.
/// </summary>
public sealed record ReadResult(ClosedLoopRow Api, PgbenchResult? WithoutAudit = null, PgbenchResult? WithAudit = null)
{
    /// <summary>Each statement's share per read in the API's run (pg_stat_statements).</summary>
    public List<StatementRow> Statements { get; init; } = [];

    /// <summary>Read audit records per commit group in the API's run: what the trace's mix reproduces.</summary>
    public double? AuditGroupSize { get; init; }

    /// <summary>The share of the audited trace's transactions that are reads (the rest are commit groups of their records).</summary>
    public double? AuditedReadShare { get; init; }

    /// <summary>Reads per second in the audited trace.</summary>
    public double? AuditedReadsPerSecond => WithAudit is null ? null : WithAudit.Tps * (AuditedReadShare ?? 1);

    /// <summary>PostgreSQL CPU per read in the audited trace ÷ per read alone: a load-independent form of the same ratio.</summary>
    public double? CpuCostRatio => WithAudit?.Per is { } with && WithoutAudit?.Per is { PostgresCpuMs: > 0 } without
        ? with.PostgresCpuMs / (AuditedReadShare ?? 1) / without.PostgresCpuMs
        : null;

    /// <summary>L_read: pgbench of the one primary-key SELECT a read needs, on the minimal table.</summary>
    public PgbenchResult? Limit { get; init; }

    /// <summary>Reads through the API ÷ L_read.</summary>
    public double? OfLimit => Limit is { Tps: > 0 } limit ? Api.PerSecond / limit.Tps : null;

    /// <summary>How many reads without the audit INSERT the database does in the time of one audited read.</summary>
    public double? CostRatio => WithoutAudit is null || AuditedReadsPerSecond is not > 0 ? null : WithoutAudit.Tps / AuditedReadsPerSecond;
}

public sealed record DrainResult(
    long Queued, long Delivered, long Duplicates, double FirstToLastSeconds, double PerSecond, double ReadyToEmptySeconds, long LeftInOutbox,
    int Subscriptions, int Partners, int Workers, PerUnit Per)
{
    /// <summary>
    /// The rate over the second half of the receipts, which has been faster than the first in every run. Not for the
    /// fresh process's JIT, as was thought: drained again in a running instance (<see cref="Running"/>) the rate was no
    /// better (docs/benchmarks.md). Null in results written before it was measured.
    /// </summary>
    public double? SecondHalfPerSecond { get; init; }

    public List<StatementRow> Statements { get; init; } = [];

    /// <summary>
    /// The same backlog drained again by the instance that has just drained this one — every subscription paused while
    /// as many alerts queued through it, then resumed, as when partners come back after an outage — so its code is
    /// compiled and its connections open, as L_drain's sender is after its warm-up. Null in results written before.
    /// </summary>
    public DrainResult? Running { get; init; }
}

public sealed record EndToEndResult(
    double TargetRate, double AchievedRate, double Seconds, int Partners, long Alerts, long ExpectedDeliveries, long Delivered,
    Latencies Latency, Latencies SubmitLatency, long SubmitFailed, IReadOnlyDictionary<string, long> SubmitFailures, PerUnit Per)
{
    /// <summary>
    /// Every delivery in the database when the run stopped waiting, by state (delivered, pending, in_flight, failed, dead,
    /// cancelled): whether what was not received by then was still queued or had failed.
    /// </summary>
    public IReadOnlyDictionary<string, long> DeliveriesByState { get; init; } = new Dictionary<string, long>();

    /// <summary>Undelivered deliveries right after the warm-up (the phase starts on a fresh, empty database).</summary>
    public long? BacklogAfterWarmup { get; init; }

    /// <summary>Alerts the fresh process took back to back before its warm-up at the rate (the JIT's warm-up).</summary>
    public int JitWarmupAlerts { get; init; }

    /// <summary>Versions still waiting for correlation, and feed changes for their position, when the measured window started.</summary>
    public long? BackgroundAtMeasuredStart { get; init; }

    /// <summary>Undelivered deliveries when the measured window started: the queue the first measured alert met.</summary>
    public long? BacklogAtMeasuredStart { get; init; }

    /// <summary>Longest a submit may wait for its answer, at p99 from its intended send, for the rate to count as kept up.</summary>
    public const double SustainedSubmitP99Ms = 1_000;

    /// <summary>Longest 201 → receipt, at p99, for the rate to count as kept up: a quarter of the 20 s window.</summary>
    public const double SustainedReceiptP99Ms = 5_000;

    /// <summary>
    /// Kept up: accepted the scheduled rate (within 3 %), no submit failed, every measured alert reached every partner —
    /// and neither queue grew through the window: submits answered within a second and deliveries received within five
    /// seconds, at p99. Without the latency bounds a rate counted as sustained whenever everything was answered and
    /// delivered before the run stopped waiting, however long it queued (1,000/s "met" with submits waiting 16 s).
    /// </summary>
    public bool Sustained => AchievedRate >= 0.97 * TargetRate && SubmitFailed == 0 && Delivered == ExpectedDeliveries
                             && SubmitLatency.P99 <= SustainedSubmitP99Ms && Latency.P99 <= SustainedReceiptP99Ms;
}

public sealed record DrainLimitResult(long Sent, long Received, double Seconds, double PerSecond, int Partners, int BatchSize, int InFlight, long Batches, PerUnit Per);

public sealed record SqliteLimitRow(int Clients, double Seconds, long Alerts, double PerSecond, long Busy);

public sealed class SqliteResult
{
    public string Pragmas { get; set; } = string.Empty;

    public List<ClosedLoopRow> Ingest { get; set; } = [];

    public List<SqliteLimitRow> Limit { get; set; } = [];

    public List<EfficiencyRow> Efficiency { get; set; } = [];
}
