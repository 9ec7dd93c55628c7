using System.Data.Common;
using System.Text;
using Dapper;
using IntelSharing.Api.Infrastructure.Persistence;
using IntelSharing.Api.Infrastructure.Time;

namespace IntelSharing.Api.Features.Deliveries.Dispatch;

/// <summary>
/// Takes due deliveries for this instance and gives back those it will not send now. A claim is a lease with a claim
/// token (PostgreSQL: FOR UPDATE SKIP LOCKED, so several instances never take the same row; SQLite: one writer at a
/// time): a killed process loses nothing, its leases expire and another worker reclaims the rows.
/// </summary>
public sealed class DeliveryClaims(Database database, DeliverySignal signal, TimeProvider time, DeliveryOptions options)
{
    /// <summary>The fewest rows of the queue's head a claim reads, while someone is at a limit, before it goes partner by partner.</summary>
    internal const int MinimumWalk = 256;

    private long _leasesCheckedAt = long.MinValue / 2;

    /// <summary>How often a claim also takes over expired leases: a quarter of the lease, at most every second.</summary>
    public static TimeSpan LeaseCheckEvery(TimeSpan lease) => TimeSpan.FromTicks(Math.Min(lease.Ticks / 4, TimeSpan.TicksPerSecond));

    /// <summary>A delivery given back unsent: pending if it was never attempted, else failed (due again as it was).</summary>
    public const string PutBackState = "CASE WHEN attempts = 0 THEN @pending ELSE @failed END";

    /// <summary>Claims up to <paramref name="max"/> due deliveries, skipping the partners in <paramref name="excluded"/>, in one transaction.</summary>
    public async Task<IReadOnlyList<ClaimedDelivery>> ClaimAsync(int max, WorkerShares.Exclusions excluded, CancellationToken cancellationToken)
    {
        var now = time.UtcNowMicros();
        var token = Guid.NewGuid();
        // Expired leases are looked for at most every LeaseCheckEvery of schedule time: they exist only after a process
        // died or stalled, and a lease runs for a minute, so looking on every claim (dozens a second) bought nothing.
        // A clock set back (schedule time is wall-clock time) counts as due too, or the check would wait for it to catch up.
        var sinceChecked = now.UtcTicks - Volatile.Read(ref _leasesCheckedAt);
        var checkLeases = sinceChecked >= LeaseCheckEvery(options.Lease).Ticks || sinceChecked < 0;
        if (checkLeases)
        {
            Volatile.Write(ref _leasesCheckedAt, now.UtcTicks);
        }

        await using var connection = await database.OpenAsync(cancellationToken);
        await using var write = await Database.BeginWriteAsync(connection, cancellationToken);
        var transaction = write.Transaction;
        var claimed = await ClaimIdsAsync(connection, transaction, max, excluded, now, token, checkLeases, cancellationToken);
        if (claimed.Length == 0)
        {
            await write.CommitAsync(cancellationToken);
            return [];
        }

        // By the ids the UPDATE returned (primary key), not by claim_token, which has no index: that was a scan of the outbox.
        var byId = new DynamicParameters(new { token });
        var rows = (await connection.QueryAsync<ClaimedDelivery>(new CommandDefinition(
            $"""
            SELECT d.id AS Id, d.subscription_id AS SubscriptionId, d.agency_id AS AgencyId, s.url AS Url, s.authority AS Authority,
                   s.secret AS Secret, s.previous_secret AS PreviousSecret, s.previous_secret_expires_at AS PreviousSecretExpiresAt, s.older_secrets AS OlderSecrets,
                   d.attempts AS Attempts, d.event_id AS EventId, e.type AS EventType, e.created_at AS EventCreatedAt,
                   -- The body once per event: a batch often holds one event's deliveries to many subscriptions.
                   CASE WHEN ROW_NUMBER() OVER (PARTITION BY d.event_id ORDER BY d.id) = 1 THEN e.payload END AS StoredPayload,
                   CASE WHEN ROW_NUMBER() OVER (PARTITION BY d.event_id ORDER BY d.id) = 1 THEN v.document END AS VersionDocument,
                   a.allowed_private_networks AS AllowedPrivateNetworks, d.claim_token AS Token,
                   {SendDecision.RefusalSql("e", "s", "al")} AS Refusal, e.alert_version AS EventVersion, al.version AS CurrentVersion,
                   e.trace_parent AS TraceParent
            FROM deliveries d
            JOIN subscriptions s ON s.id = d.subscription_id
            JOIN events e ON e.id = d.event_id
            JOIN agencies a ON a.id = d.agency_id
            LEFT JOIN alerts al ON al.id = e.alert_id
            LEFT JOIN alert_versions v ON v.alert_id = e.alert_id AND v.version = e.alert_version AND CAST(e.payload AS TEXT) = '{Outbox.PayloadOfVersion}'
            WHERE d.id IN {SqlLists.InPadded(byId, "c", claimed)} AND d.claim_token = @token
            """,
            byId, transaction, cancellationToken: cancellationToken))).ToList();

        // Every send is decided here, as of now, whatever queued it (publication, retry, replay, resume): ADR 0008.
        var refused = rows.Where(r => r.Refusal is not null).ToList();
        await SendDecision.CancelAsync(connection, transaction,
            refused.Select(r => new SendDecision.Refused(r.Id, r.SubscriptionId, r.AgencyId, r.Refusal!, r.EventVersion, r.CurrentVersion)).ToList(),
            token, time, cancellationToken);
        if (refused.Count == 0 && database.Dialect.CommitWithoutWaitingForFlush is { } noFlushWait)
        {
            // The claim loop is serial: waiting for this WAL flush held every worker's next batch. A claim lost in a crash
            // costs only a resend (at least once); a refusal is an outcome with its audit record, so that commit waits.
            await connection.ExecuteAsync(new CommandDefinition(noFlushWait, transaction: transaction, cancellationToken: cancellationToken));
        }

        await write.CommitAsync(cancellationToken);
        if (refused.Count > 0)
        {
            // Claim again at once rather than after the poll interval: refused rows took the places of sendable ones.
            signal.Notify();
        }

        return ClaimedDelivery.WithBodies(rows).Where(r => r.Refusal is null).ToList();
    }

    /// <summary>
    /// Marks up to <paramref name="max"/> due deliveries in flight under <paramref name="token"/> in the caller's write
    /// transaction and returns their ids: the head of the queue, and while someone is at a limit and the head's walk
    /// left the claim short, partner by partner for the rest (ADR 49).
    /// </summary>
    internal async Task<Guid[]> ClaimIdsAsync(
        DbConnection connection, DbTransaction? transaction, int max, WorkerShares.Exclusions excluded, DateTimeOffset now, Guid token, bool checkLeases,
        CancellationToken cancellationToken)
    {
        var claimed = await RunAsync(ClaimStatement(max, excluded, now, token, checkLeases));
        if (excluded.HoldBackAny && claimed.Length < max)
        {
            // The head of the queue, within its walk, had less than a batch for the partners with room: perhaps only
            // because little is due, perhaps because a partner at its limit has fallen behind and its backlog is the
            // head. Partner by partner for the rest: bounded by the subscriptions, whoever's backlog it is.
            claimed = [.. claimed, .. await RunAsync(ClaimStatement(max - claimed.Length, excluded, now, token, checkLeases: false, partnerByPartner: true))];
        }

        return claimed;

        // While someone is at a limit, every read is an index's: sequential scans are off, as for the hold pass; without,
        // heap reads priced dearer had PostgreSQL lock each candidate through a scan of the table.
        async Task<Guid[]> RunAsync((string Sql, DynamicParameters Parameters) statement) =>
            (await connection.QueryAsync<ClaimedId>(new CommandDefinition(
                database.Dialect.InIndexOrder(excluded.HoldBackAny ? database.Dialect.WithoutTableScans(statement.Sql) : statement.Sql),
                statement.Parameters, transaction, cancellationToken: cancellationToken))).Select(c => c.Id).ToArray();
    }

    /// <summary>
    /// The claim's UPDATE: marks up to <paramref name="max"/> due deliveries in flight under <paramref name="token"/> and
    /// returns their ids; with <paramref name="checkLeases"/> also those whose lease ended. From the head of the queue, at
    /// most a walk of it while someone is at a limit; <paramref name="partnerByPartner"/>, each subscription's first due
    /// rows instead (ADR 49). Separate so that its plan can be tested against the backlog that made the old one read
    /// everything (ADR 45).
    /// </summary>
    internal (string Sql, DynamicParameters Parameters) ClaimStatement(
        int max, WorkerShares.Exclusions excluded, DateTimeOffset now, Guid token, bool checkLeases, bool partnerByPartner = false)
    {
        var parameters = new DynamicParameters(new
        {
            now,
            token,
            leaseUntil = now + options.Lease,
            max,
            walk = Math.Max(4 * max, MinimumWalk),
            inFlight = DeliveryStates.InFlight,
            published = EventTypes.AlertPublished,
            updated = EventTypes.AlertUpdated,
        });

        var (excludedSubscriptions, excludedPartners, excludedDeliveries) = Exclusion(parameters, excluded, "d");

        // One partial index, read in its order and stopped at the limit (ADR 45): ix_deliveries_sendable holds only
        // pending and failed rows not held by next_attempt_at, ix_deliveries_leased only in-flight rows by lease_until. The caller
        // runs the statement through SqlDialect.InIndexOrder, which leaves each database no other plan: before, stale
        // estimates had PostgreSQL read the whole backlog and sort it on every claim (19 ms a claim at 20,000 queued).
        // The subscriptions a claim may take from are one set per statement (a hash or a temporary index), not a probe
        // per row read. The states are literals, not parameters, so a prepared statement can prove the partial indexes'
        // conditions.
        string Due(string name, string index, string condition, string order) =>
            $"""
            {name} AS (
                SELECT d.id, d.next_attempt_at FROM deliveries d {database.Dialect.IndexedBy(index)}
                WHERE {condition}
                  AND {DeliveryHolds.SendableSql("d", excludedSubscriptions)}{excludedDeliveries}
                ORDER BY {order}
                LIMIT @max
                {database.Dialect.ForUpdateSkipLocked("d")})
            """;
        static string Sendable(string d) =>
            $"{d}.state IN ('{DeliveryStates.Pending}', '{DeliveryStates.Failed}') AND NOT {d}.held AND {d}.next_attempt_at <= @now";

        // Rows no claim may take wait held, outside ix_deliveries_sendable (DeliveryHolds, ADR 48): a paused partner's
        // queue is the oldest due, and read in due order every claim walked all of it first. A partner at a limit here
        // is still sending, so its rows stay; but if it answers slowly it falls behind, and its backlog is then the
        // oldest due: read in due order, every claim walked all of it (ADR 49). So while anyone is at a limit, the claim
        // reads at most a walk of the head (four batches, at least 256 rows) and, when that leaves it short, takes the
        // first due rows of each subscription it may take from (partnerByPartner).
        string due;
        if (partnerByPartner)
        {
            // Each subscription's first due rows from ix_deliveries_waiting_by_subscription, in its order, stopped at the
            // limit (at most what one partner may have open). "held IS NOT TRUE", not "NOT held": PostgreSQL cannot
            // prove ix_deliveries_sendable's condition from it, so with stale estimates it cannot walk that index in due
            // order for each subscription instead. No more of one partner (authority) or agency than it may have open:
            // an agency's endpoints on one host are several subscriptions, and what a claim takes beyond that is put
            // back, a write per row. It reads at most the subscriptions and that many rows of each, whatever waits for
            // whom, and nothing at all when everyone who has work is at a limit. The rest of the claim's rule (an inactive
            // agency's notices wait) before the window and the limit, so that rows it refuses take no place.
            parameters.Add("perPartner", Math.Min(max, options.PerPartnerConcurrency));
            parameters.Add("perAgency", Math.Min(max, options.AgencyShare));
            var firstOfEach = database.Dialect.FirstRowsEach("deliveries", "p", "ix_deliveries_waiting_by_subscription",
                p => $"{p}.subscription_id = s.id AND {p}.state IN ('{DeliveryStates.Pending}', '{DeliveryStates.Failed}') AND {p}.next_attempt_at <= @now AND {p}.held IS NOT TRUE",
                "next_attempt_at", "@perPartner");
            due = Locked(
                $"""
                SELECT f.id FROM (
                    SELECT p.id, p.next_attempt_at,
                           ROW_NUMBER() OVER (PARTITION BY s.authority ORDER BY p.next_attempt_at) AS of_partner,
                           ROW_NUMBER() OVER (PARTITION BY s.agency_id ORDER BY p.next_attempt_at) AS of_agency
                    FROM subscriptions s
                    {firstOfEach}
                    WHERE s.status = 'active'{excludedPartners}
                      AND {DeliveryHolds.AgencySendableSql("p")}) f
                WHERE f.of_partner <= @perPartner AND f.of_agency <= @perAgency
                ORDER BY f.next_attempt_at
                LIMIT @max
                """);
        }
        else if (excluded.HoldBackAny)
        {
            // The head read in due order and cut at the walk, the rows the claim may take kept.
            var (_, _, excludedHeadRows) = Exclusion(parameters, excluded, "h");
            due = Locked(
                $"""
                SELECT h.id FROM (
                    SELECT h.id, h.next_attempt_at, h.subscription_id, h.agency_id, h.event_id FROM deliveries h {database.Dialect.IndexedBy("ix_deliveries_sendable")}
                    WHERE {Sendable("h")}
                    ORDER BY h.next_attempt_at
                    LIMIT @walk) h
                WHERE {DeliveryHolds.SendableSql("h", excludedSubscriptions)}{excludedHeadRows}
                ORDER BY h.next_attempt_at
                LIMIT @max
                """);
        }
        else
        {
            due = Due("due", "ix_deliveries_sendable", Sendable("d"), "d.next_attempt_at");
        }

        // Candidates read without locks: each is locked by primary key (skipped if a claim elsewhere has it) and checked
        // again as it is now.
        string Locked(string candidates) =>
            $"""
            due AS (
                SELECT d.id, d.next_attempt_at FROM {database.Dialect.LockedByKey(candidates, "deliveries", "d")}
                WHERE {Sendable("d")})
            """;

        var leases = checkLeases
            ? $",\n{Due("lease_expired", "ix_deliveries_leased", $"d.state = '{DeliveryStates.InFlight}' AND d.lease_until < @now", "d.lease_until")}"
            : "";
        var candidates = checkLeases
            ? "SELECT id, next_attempt_at FROM due UNION ALL SELECT id, next_attempt_at FROM lease_expired"
            : "SELECT id, next_attempt_at FROM due";
        return (
            $"""
            WITH {due}{leases}
            UPDATE deliveries SET state = @inFlight, claim_token = @token, lease_until = @leaseUntil, updated_at = @now
            WHERE id IN (
                SELECT x.id FROM ({candidates}) x
                ORDER BY x.next_attempt_at
                LIMIT @max)
            RETURNING id AS Id
            """,
            parameters);
    }

    /// <summary>
    /// Gives claimed deliveries back unsent, due at <paramref name="dueAt"/> (now when null); they are claimed again once
    /// their partner has room. Nothing is counted: they were not attempted.
    /// </summary>
    public async Task PutBackAsync(IReadOnlyList<ClaimedDelivery> released, DateTimeOffset? dueAt = null)
    {
        if (released.Count == 0)
        {
            return;
        }

        var now = time.UtcNowMicros();
        var parameters = new DynamicParameters(new
        {
            now,
            due = dueAt ?? now,
            keepDue = dueAt is null,
            pending = DeliveryStates.Pending,
            failed = DeliveryStates.Failed,
        });
        // One claim token per batch: put-backs of one claim share it; of several claims, each row is matched with its own.
        var rows = string.Join(" OR ", released.Select((r, i) =>
        {
            parameters.Add($"id{i}", r.Id);
            parameters.Add($"token{i}", r.Token);
            return $"(id = @id{i} AND claim_token = @token{i})";
        }));
        await using var connection = await database.OpenAsync(CancellationToken.None);
        await connection.ExecuteAsync(new CommandDefinition(
            $"""
            UPDATE deliveries SET state = {PutBackState},
                   next_attempt_at = CASE WHEN @keepDue THEN next_attempt_at ELSE @due END,
                   claim_token = NULL, lease_until = NULL, updated_at = @now
            WHERE {rows}
            """,
            parameters, cancellationToken: CancellationToken.None));
    }

    /// <summary>
    /// The claim's filter for whoever is at a limit of <see cref="WorkerShares"/>: their rows are not claimed at all, so a
    /// hostile agency's backlog never fills a batch that answering partners' deliveries are queued behind.
    /// </summary>
    private static (string Subscriptions, string Partners, string Deliveries) Exclusion(DynamicParameters parameters, WorkerShares.Exclusions excluded, string row)
    {
        // On the subscriptions a claim may take from (a set computed once per statement), and on the delivery row (alias
        // row) itself.
        // Partners: all of it on the subscriptions, for the claim that reads them partner by partner. There a rule left
        // to the delivery rows would let the earliest rows of partners it refuses fill every place, and the claim take
        // nothing (an agency's dozens of unproven endpoints, their rows the oldest, took every place in PartnerStarvationTests).
        var subscriptions = new StringBuilder();
        var partners = new StringBuilder();
        var deliveries = new StringBuilder();
        if (excluded.Authorities.Count > 0)
        {
            subscriptions.Append($" AND s.authority NOT IN {SqlLists.InPadded(parameters, "x", excluded.Authorities)}");
        }

        // Agency lists only when non-empty: an empty list is typed text, which PostgreSQL will not compare with uuid.
        if (excluded.Agencies.Count > 0)
        {
            var list = SqlLists.InPadded(parameters, "xa", excluded.Agencies);
            partners.Append($" AND s.agency_id NOT IN {list}");
            deliveries.Append($" AND {row}.agency_id NOT IN {list}");
        }

        if (excluded.ProvenOnly)
        {
            subscriptions.Append($" AND s.authority IN {SqlLists.InPadded(parameters, "p", excluded.Proven)}");
        }
        else if (excluded.ProvenOnlyAgencies.Count > 0)
        {
            var agencies = SqlLists.InPadded(parameters, "pa", excluded.ProvenOnlyAgencies);
            var proven = SqlLists.InPadded(parameters, "p", excluded.Proven);
            partners.Append($" AND (s.agency_id NOT IN {agencies} OR s.authority IN {proven})");
            deliveries.Append($" AND ({row}.agency_id NOT IN {agencies}")
                .Append($" OR {row}.subscription_id IN (SELECT ps.id FROM subscriptions ps WHERE ps.authority IN {proven}))");
        }

        return (subscriptions.ToString(), subscriptions.ToString() + partners, deliveries.ToString());
    }

    private sealed record ClaimedId
    {
        public Guid Id { get; init; }
    }
}
