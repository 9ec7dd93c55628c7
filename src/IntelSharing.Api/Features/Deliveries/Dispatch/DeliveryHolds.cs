using System.Data.Common;
using Dapper;
using IntelSharing.Api.Infrastructure.Persistence;
using IntelSharing.Api.Infrastructure.Time;

namespace IntelSharing.Api.Features.Deliveries.Dispatch;

/// <summary>
/// Keeps the deliveries no claim may take out of the claim's way (ADR 48). A paused subscription's queue and a
/// deactivated agency's notices wait for days and are the oldest rows due; read in due order, every claim walked all of
/// them before it reached a row it could send. Such rows are marked <c>held</c>, which takes them out of
/// <c>ix_deliveries_sendable</c>, and unmarked when their subscription and agency are active again. A partner whose
/// breaker is open here is not claimed from either; its due rows are deferred to when it may next be tried
/// (<see cref="PartnerBreakers.Deferrals"/>), which is also when they would next be sent.
/// </summary>
/// <remarks>
/// <para>One rule decides both: <see cref="SendableSql"/>, the claim's own filter. Whatever queued a row (a publication,
/// a retry, a replay, a put-back, the previous release after a rollback), the sweep finds it at the head of the queue,
/// where the claim would have walked it, so no path has to know about holds.</para>
/// <para>Held is a hint, never the decision: the claim still checks each row's subscription and agency, so a row not held
/// that should be is only walked past, and a row held that should not be waits. The latter is the one race: a sweep
/// that read a subscription as paused commits its holds after the resume released what was held. Resuming and
/// reactivating release at once, in their own transaction; the sweep also releases the held rows of every subscription
/// and agency changed within the last hour, each second, and of all of them when the instance starts.</para>
/// </remarks>
public sealed class DeliveryHolds(Database database, PartnerBreakers breakers, TimeProvider time, ILogger logger)
{
    /// <summary>Rows at the head of the queue a hold pass looks at.</summary>
    public const int Walk = 1_000;

    // Passes per run while each holds something: up to 20,000 rows a second, interleaved with claims.
    private const int PassesPerRun = 20;
    private static readonly TimeSpan ReleaseWindow = TimeSpan.FromHours(1);

    private readonly Cadence _sweeps = new(TimeSpan.FromSeconds(1));
    private bool _releasedAll;

    /// <summary>
    /// The claim's condition on delivery row <paramref name="d"/>, apart from a worker's passing limits (which are
    /// appended to the subscriptions' filter as <paramref name="subscriptionFilter"/>): its subscription is active, and
    /// its agency is active or the row carries alert content (claimed only to be refused: a deactivated agency's notices
    /// wait for it). Binds <c>@published</c> and <c>@updated</c> (<see cref="SendableParameters"/>).
    /// </summary>
    public static string SendableSql(string d, string subscriptionFilter = "") =>
        $"""
        {d}.subscription_id IN (SELECT s.id FROM subscriptions s WHERE s.status = 'active'{subscriptionFilter})
        AND {AgencySendableSql(d)}
        """;

    /// <summary>
    /// The part of <see cref="SendableSql"/> about row <paramref name="d"/>'s agency, for a caller that reads the rows
    /// of active subscriptions already: its agency is active, or the row carries alert content.
    /// </summary>
    public static string AgencySendableSql(string d) =>
        $"""
        (EXISTS (SELECT 1 FROM agencies a WHERE a.id = {d}.agency_id AND a.is_active)
             OR EXISTS (SELECT 1 FROM events ce WHERE ce.id = {d}.event_id AND ce.type IN (@published, @updated)))
        """;

    /// <summary>The parameters <see cref="SendableSql"/> binds.</summary>
    public static object SendableParameters => new { published = EventTypes.AlertPublished, updated = EventTypes.AlertUpdated };

    /// <summary>
    /// Holds and releases, and defers the due deliveries of the partners whose breaker is open here, at most every second;
    /// called from the dispatcher's loop before a claim.
    /// </summary>
    public async Task<Sweep?> RunAsync(CancellationToken cancellationToken)
    {
        if (!_sweeps.Due())
        {
            return null;
        }

        var statements = 1;

        var now = time.UtcNowMicros();
        var released = await ReleaseAsync(database, _releasedAll ? now - ReleaseWindow : null, cancellationToken);
        _releasedAll = true;
        var held = 0;
        for (var pass = 0; pass < PassesPerRun; pass++)
        {
            var heldNow = await HoldAsync(now, cancellationToken);
            statements++;
            held += heldNow;
            if (heldNow == 0)
            {
                break;
            }
        }

        // Only the partners whose breaker is open here and that have rows at the head of the queue, found by one walk of
        // it per pass: an agency with a thousand endpoints down costs one statement a second once their rows are moved,
        // not a thousand.
        var deferred = 0;
        var open = breakers.Deferrals();
        for (var pass = 0; pass < PassesPerRun && open.Count > 0; pass++)
        {
            var atTheHead = (await AuthoritiesAtTheHeadAsync(now, cancellationToken)).Where(open.ContainsKey).ToList();
            statements++;
            var deferredNow = 0;
            foreach (var authority in atTheHead)
            {
                deferredNow += await DeferAsync(authority, open[authority], now, cancellationToken);
                statements++;
            }

            deferred += deferredNow;
            if (deferredNow == 0)
            {
                break;
            }
        }

        if (held > 0 || released > 0 || deferred > 0)
        {
            logger.LogDebug("Held {Held} deliveries no claim may take, released {Released}, deferred {Deferred} of partners whose breaker is open.",
                held, released, deferred);
        }

        return new Sweep(held, released, deferred, statements);
    }

    /// <summary>What one run did, and how many statements it took.</summary>
    public sealed record Sweep(int Held, int Released, int Deferred, int Statements);

    /// <summary>The partner authorities with rows among the first <see cref="Walk"/> due rows not held.</summary>
    private async Task<IReadOnlyList<string>> AuthoritiesAtTheHeadAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        // A transaction only for InIndexOrder's SET LOCAL; it writes nothing (on SQLite a reader, not the writer's turn).
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var authorities = await connection.QueryAsync<string>(new CommandDefinition(
            database.Dialect.InIndexOrder(database.Dialect.WithoutTableScans(
                $"WITH {Head} SELECT DISTINCT s.authority FROM subscriptions s WHERE s.id IN (SELECT h.subscription_id FROM head h)")),
            new { now, walk = Walk }, transaction, cancellationToken: cancellationToken));
        await transaction.CommitAsync(cancellationToken);
        return authorities.AsList();
    }

    /// <summary>One hold pass: of the first <see cref="Walk"/> due rows not held, holds those no claim may take.</summary>
    public Task<int> HoldAsync(DateTimeOffset now, CancellationToken cancellationToken) => PassAsync(HoldStatement(now), cancellationToken);

    /// <summary>
    /// One deferral pass for a partner whose breaker is open here: of the first <see cref="Walk"/> due rows not held,
    /// those of its subscriptions are due again at <see cref="PartnerBreakers.Deferral.Until"/>. The claim leaves them
    /// alone while the breaker is open (<see cref="WorkerShares"/>), but walked past them on every claim: a partner down
    /// for a day has a day's deliveries due, in front of everyone else's. Nothing is deferred when any instance has
    /// delivered to the partner since this breaker opened: then the fault is this instance's (its egress, its resolver;
    /// ADR 34), and the others must go on sending.
    /// </summary>
    public Task<int> DeferAsync(string authority, PartnerBreakers.Deferral deferral, DateTimeOffset now, CancellationToken cancellationToken) =>
        PassAsync(DeferStatement(authority, deferral, now), cancellationToken);

    private async Task<int> PassAsync((string Sql, DynamicParameters Parameters) statement, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var write = await Database.BeginWriteAsync(connection, cancellationToken);
        var changed = await connection.ExecuteAsync(new CommandDefinition(
            database.Dialect.InIndexOrder(database.Dialect.WithoutTableScans(statement.Sql)), statement.Parameters, write.Transaction, cancellationToken: cancellationToken));
        await write.CommitAsync(cancellationToken);
        return changed;
    }

    /// <summary>
    /// The hold pass's UPDATE: reads <c>ix_deliveries_sendable</c> in due order as the claim does, stops after
    /// <see cref="Walk"/> rows, and locks only the rows it holds (skipping any a claim has), so it never waits on a claim
    /// and a claim never waits on it.
    /// </summary>
    internal (string Sql, DynamicParameters Parameters) HoldStatement(DateTimeOffset now)
    {
        var parameters = new DynamicParameters(SendableParameters);
        parameters.AddDynamicParams(new { now, walk = Walk });
        return (OfTheHead($"NOT ({SendableSql("h")})", "held = TRUE"), parameters);
    }

    /// <summary>The deferral pass's UPDATE: as <see cref="HoldStatement"/>, for one partner's rows, moving them to <c>@until</c>.</summary>
    internal (string Sql, DynamicParameters Parameters) DeferStatement(string authority, PartnerBreakers.Deferral deferral, DateTimeOffset now)
    {
        var parameters = new DynamicParameters(new { now, walk = Walk, authority, since = ClockExtensions.Truncate(deferral.Since), until = ClockExtensions.Truncate(deferral.Until) });
        const string Partner = "SELECT s.id FROM subscriptions s WHERE s.authority = @authority";
        return (OfTheHead(
            $"""
            h.subscription_id IN ({Partner})
            AND NOT EXISTS (SELECT 1 FROM delivery_attempts da
                            WHERE da.subscription_id IN ({Partner}) AND da.started_at >= @since
                              AND da.status_code BETWEEN 200 AND 299 AND da.error IS NULL)
            """,
            "next_attempt_at = @until", " AND r.next_attempt_at < @until"), parameters);
    }

    /// <summary>The first <see cref="Walk"/> due rows not held, in the claim's order: the CTE <c>head</c>, binding <c>@now</c> and <c>@walk</c>.</summary>
    private string Head =>
        $"""
        head AS (
            SELECT d.id, d.subscription_id, d.agency_id, d.event_id FROM deliveries d {database.Dialect.IndexedBy("ix_deliveries_sendable")}
            WHERE d.state IN ('{DeliveryStates.Pending}', '{DeliveryStates.Failed}') AND NOT d.held AND d.next_attempt_at <= @now
            ORDER BY d.next_attempt_at
            LIMIT @walk)
        """;

    /// <summary>
    /// An UPDATE of the rows among the first <see cref="Walk"/> due rows not held (<c>h</c>) that meet
    /// <paramref name="which"/>: the head read in the claim's order, each chosen row read and locked by primary key
    /// (skipping rows a claim has, <c>SqlDialect.LockedByKey</c>) with its state checked on the row as locked (a claim
    /// may have taken it since the head was read), then updated by primary key (<c>SqlDialect.KeyIn</c>). No condition
    /// on the state beside the ids in either lookup: with stale estimates PostgreSQL read <c>id IN (…) AND state IN (…)</c>
    /// through ix_deliveries_state_created, every waiting row (14,000 read for a walk of 1,000, caught by ClaimPlanTests),
    /// and with a plain <c>IN</c> it hash-joined the ids against a full read of the sendable index.
    /// </summary>
    private string OfTheHead(string which, string set, string alsoWhere = "") =>
        $"""
        WITH {Head},
        chosen AS (
            SELECT r.id FROM {database.Dialect.LockedByKey($"SELECT h.id FROM head h WHERE {which}", "deliveries", "r")}
            WHERE r.state IN ('{DeliveryStates.Pending}', '{DeliveryStates.Failed}'){alsoWhere})
        UPDATE deliveries SET {set}
        WHERE {database.Dialect.KeyIn("id", "SELECT id FROM chosen")}
        """;

    /// <summary>
    /// Releases the held rows of active subscriptions of active agencies: all of them (<paramref name="changedSince"/>
    /// null), or of those whose subscription or agency changed since then. Held rows of an active subscription whose
    /// agency is inactive stay held (its notices wait; its content is decided when the agency is back).
    /// </summary>
    public static async Task<int> ReleaseAsync(Database database, DateTimeOffset? changedSince, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var write = await Database.BeginWriteAsync(connection, cancellationToken);
        var released = await connection.ExecuteAsync(new CommandDefinition(
            ReleaseSql(database.Dialect, changedSince is null ? "" : " AND (s.updated_at >= @since OR a.updated_at >= @since)", sweeping: true),
            new { since = changedSince }, write.Transaction, cancellationToken: cancellationToken));
        await write.CommitAsync(cancellationToken);
        return released;
    }

    /// <summary>In the transaction that resumes a subscription: releases its held rows (if its agency is active).</summary>
    public static Task<int> ReleaseSubscriptionAsync(
        DbConnection connection, DbTransaction transaction, SqlDialect dialect, Guid subscriptionId, CancellationToken cancellationToken) =>
        connection.ExecuteAsync(new CommandDefinition(
            ReleaseSql(dialect, " AND s.id = @subscriptionId", sweeping: false), new { subscriptionId }, transaction, cancellationToken: cancellationToken));

    /// <summary>In the transaction that reactivates an agency: releases the held rows of its active subscriptions.</summary>
    public static Task<int> ReleaseAgencyAsync(
        DbConnection connection, DbTransaction transaction, SqlDialect dialect, Guid agencyId, CancellationToken cancellationToken) =>
        connection.ExecuteAsync(new CommandDefinition(
            ReleaseSql(dialect, " AND s.agency_id = @agencyId", sweeping: false), new { agencyId }, transaction, cancellationToken: cancellationToken));

    /// <summary>
    /// Held rows are found by subscription in <c>ix_deliveries_held</c>, which holds nothing else (never a scan of the
    /// table), and updated by primary key (<c>SqlDialect.KeyIn</c>, as the hold pass). The sweep skips rows another transaction has locked, so it never waits; a resume or reactivation waits
    /// for a sweep instead, which never waits in turn, so the two cannot deadlock.
    /// </summary>
    internal static string ReleaseSql(SqlDialect dialect, string subscriptionFilter, bool sweeping) =>
        dialect.WithoutTableScans(
            $"""
            UPDATE deliveries SET held = FALSE
            WHERE {dialect.KeyIn("id", $"""
                SELECT d.id FROM deliveries d {dialect.IndexedBy("ix_deliveries_held")}
                WHERE d.state IN ('{DeliveryStates.Pending}', '{DeliveryStates.Failed}') AND d.held
                  AND d.subscription_id IN (
                      SELECT s.id FROM subscriptions s JOIN agencies a ON a.id = s.agency_id
                      WHERE s.status = 'active' AND a.is_active{subscriptionFilter})
                {(sweeping ? dialect.ForUpdateSkipLocked("d") : "")}
                """)}
            """);
}
