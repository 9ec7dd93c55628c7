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

    public List<ClosedLoopRow> Http { get; set; } = [];

    public List<PgbenchResult> Db { get; set; } = [];

    public List<EfficiencyRow> Efficiency { get; set; } = [];

    public OpenLoopResult? OpenLoop { get; set; }

    public List<StatementRow> StatementsPerAlert { get; set; } = [];

    public ReadResult? Read { get; set; }

    public DrainResult? Drain { get; set; }

    public List<EndToEndResult> EndToEnd { get; set; } = [];

    public List<string> Errors { get; set; } = [];
}

public sealed record ClosedLoopRow(int Connections, double PerSecond, Latencies Latency, long Failed, IReadOnlyDictionary<string, long> Failures, PerUnit Per);

/// <summary>The ratios at one connection count: L_ingest = 1 / (1/L_http + 1/L_db), E = measured / limit.</summary>
public sealed record EfficiencyRow(int Connections, double LHttp, double LDb, double LIngest, double Ingest, double EIngest, double EHttp, double EDb);

public sealed record OpenLoopResult(double TargetRate, double AchievedRate, int Connections, double Seconds, Latencies Latency, long Failed, IReadOnlyDictionary<string, long> Failures, double FractionOfMax);

/// <summary>A statement's calls per unit of work, its mean execution time, and its execution time per unit (all pg_stat_statements).</summary>
public sealed record StatementRow(double PerUnit, double MeanMs, double MsPerUnit, string Query);

public sealed record ReadResult(ClosedLoopRow Api, PgbenchResult WithoutAudit, PgbenchResult WithAudit)
{
    /// <summary>How many reads without the audit INSERT the database does in the time of one audited read.</summary>
    public double CostRatio => WithoutAudit.Tps / WithAudit.Tps;
}

public sealed record DrainResult(
    long Queued, long Delivered, long Duplicates, double FirstToLastSeconds, double PerSecond, double ReadyToEmptySeconds, long LeftInOutbox,
    int Subscriptions, int Partners, int Workers, PerUnit Per)
{
    public List<StatementRow> Statements { get; init; } = [];
}

public sealed record EndToEndResult(
    double TargetRate, double AchievedRate, double Seconds, int Partners, long Alerts, long ExpectedDeliveries, long Delivered,
    Latencies Latency, Latencies SubmitLatency, long SubmitFailed, IReadOnlyDictionary<string, long> SubmitFailures, PerUnit Per);
