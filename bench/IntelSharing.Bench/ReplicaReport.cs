using System.Globalization;
using System.Text;
using System.Text.Json;

namespace IntelSharing.Bench;

/// <summary>What the replicas run measured and which promises it found broken; written as replicas[-quick].json and .md.</summary>
public sealed class ReplicaResult
{
    public string StartedAt { get; set; } = string.Empty;

    public string Mode { get; set; } = string.Empty;

    public string Commit { get; set; } = string.Empty;

    public Dictionary<string, string> Machine { get; set; } = [];

    public double DurationSeconds { get; set; }

    public int Alerts { get; set; }

    public int Connections { get; set; }

    public double LeaseSeconds { get; set; }

    public double DowntimeSeconds { get; set; }

    public double LoadSeconds { get; set; }

    public double RestartedAfterSeconds { get; set; }

    public SortedDictionary<string, long> Answers { get; set; } = [];

    public SortedDictionary<string, long> AcknowledgedByReplica { get; set; } = [];

    public long RetriesAfterFailure { get; set; }

    public long RetriesAnsweredByAnotherReplica { get; set; }

    public long DeliberateReplays { get; set; }

    public long DeliberateReplaysMarkedReplayed { get; set; }

    public long DeliberateReplaysOnAnotherReplica { get; set; }

    public long ConcurrentPairs { get; set; }

    /// <summary>Requests nginx could not connect to one replica with and passed to the next (nothing had been sent).</summary>
    public long PassedOnByNginx { get; set; }

    public long KeysAcknowledged { get; set; }

    public long AlertsStored { get; set; }

    public long IdempotencyKeysStored { get; set; }

    public double DeliveriesCompleteAfterLoadSeconds { get; set; }

    public List<ReplicaPartnerResult> Partners { get; set; } = [];

    public Dictionary<string, long> DeliveryStates { get; set; } = [];

    public int InFlightAtKill { get; set; }

    public int OrphanedByKill { get; set; }

    public double OrphansResentAfterLeaseSecondsMax { get; set; }

    public double LongestOverdueInFlightSeconds { get; set; }

    public double RevocationCommitMilliseconds { get; set; }

    public Dictionary<string, double> RevocationRefusedAfterMilliseconds { get; set; } = [];

    public List<string> Violations { get; set; } = [];

    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true };

    public string Json() => JsonSerializer.Serialize(this, JsonOptions) + "\n";

    public string Markdown()
    {
        static string N(double value) => value.ToString("N0", CultureInfo.InvariantCulture);
        static string F(double value) => value.ToString("F1", CultureInfo.InvariantCulture);
        var md = new StringBuilder();
        md.AppendLine(CultureInfo.InvariantCulture, $"# Three replicas behind nginx ({Mode})");
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"Commit {Commit}, started {StartedAt}, {F(DurationSeconds)} s in all. `bench/run.sh --only replicas` (docs/robustness.md).");
        md.AppendLine();
        md.AppendLine(Violations.Count == 0 ? "**Every assertion held.**" : $"**{Violations.Count} violations:**");
        foreach (var violation in Violations)
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"- {violation}");
        }

        md.AppendLine();
        md.AppendLine("| Machine | |");
        md.AppendLine("|---|---|");
        foreach (var (name, value) in Machine)
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"| {name} | {value} |");
        }

        md.AppendLine();
        md.AppendLine("| Load | |");
        md.AppendLine("|---|---|");
        md.AppendLine(CultureInfo.InvariantCulture, $"| alerts (one Idempotency-Key each) | {N(Alerts)} through nginx, {Connections} client connections, in {F(LoadSeconds)} s ({N(Alerts / LoadSeconds)}/s — not a throughput figure on a shared machine) |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| answers | {string.Join(", ", Answers.Select(a => $"{a.Key} × {N(a.Value)}"))} |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| 201s by replica (nginx `$upstream_addr`) | {string.Join(", ", AcknowledgedByReplica.Select(a => $"{a.Key}: {N(a.Value)}"))} |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| requests nginx passed to the next replica (connection refused, nothing sent) | {N(PassedOnByNginx)} |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| kill -9 | replica 2 at half the alerts; restarted on its port, ready {F(RestartedAfterSeconds)} s after the kill ({F(DowntimeSeconds)} s down, then start-up) |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| retries after a failed answer (same key) | {N(RetriesAfterFailure)}, of which {N(RetriesAnsweredByAnotherReplica)} acknowledged by another replica than the one that failed |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| the same request sent again after its 201 | {N(DeliberateReplays)}: {N(DeliberateReplaysMarkedReplayed)} marked `Idempotent-Replayed`, {N(DeliberateReplaysOnAnotherReplica)} answered by another replica |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| the same key sent twice at once | {N(ConcurrentPairs)} pairs |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| stored | {N(KeysAcknowledged)} keys acknowledged; {N(AlertsStored)} alerts and {N(IdempotencyKeysStored)} idempotency keys in the database |");
        md.AppendLine();
        md.AppendLine("| Partner | Subscribes to | Expected | Received | Missing | Duplicate requests | Not explained by the kill |");
        md.AppendLine("|---|---|---|---|---|---|---|");
        foreach (var p in Partners)
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"| {p.Partner} | {p.Categories} | {N(p.Expected)} | {N(p.Received)} | {N(p.Missing)} | {N(p.Duplicates)} | {N(p.Unexplained)} |");
        }

        md.AppendLine();
        md.AppendLine("| Delivery after the kill | |");
        md.AppendLine("|---|---|");
        md.AppendLine(CultureInfo.InvariantCulture, $"| lease (`Delivery__Lease`) | {F(LeaseSeconds)} s |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| in flight at the kill (all replicas) | {N(InFlightAtKill)}, of which {N(OrphanedByKill)} held by the killed replica (delivered only after their lease ended) |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| orphans re-sent after their lease ended | at most {F(OrphansResentAfterLeaseSecondsMax)} s after |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| longest any delivery stayed in flight past its lease (sampled every 0.5 s) | {F(LongestOverdueInFlightSeconds)} s |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| every delivery received | {F(DeliveriesCompleteAfterLoadSeconds)} s after the last submission |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| ledger at the end (alert.published) | {string.Join(", ", DeliveryStates.Select(s => $"{s.Key} {N(s.Value)}"))} |");
        md.AppendLine();
        var refusals = string.Join(", ", RevocationRefusedAfterMilliseconds.Select(r => $"{r.Key} {F(r.Value)} ms"));
        md.AppendLine(CultureInfo.InvariantCulture,
            $"Key revoked through replica 0 (`DELETE` answered in {F(RevocationCommitMilliseconds)} ms); refused by the others for every request sent later than, counted from that answer: {refusals} (bound 1,000 ms; a probe sent every 10 ms, up to four at once, each timed from when it was sent).");
        return md.ToString();
    }
}

public sealed record ReplicaPartnerResult(int Partner, string Categories, long Expected, long Received, long Missing, long Duplicates, long Unexplained);
