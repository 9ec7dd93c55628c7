using System.Text.Json.Nodes;
using Dapper;
using Microsoft.Extensions.Logging.Abstractions;
using IntelSharing.Api.Features.Deliveries.Dispatch;
using IntelSharing.Api.Infrastructure.Persistence;
using IntelSharing.IntegrationTests.Infrastructure;

namespace IntelSharing.IntegrationTests.Delivery;

/// <summary>
/// What one claim reads while a backlog waits (ADR 45). The old claim joined subscriptions; with the subscriptions table
/// never analysed (a table of fewer than 50 rows never is) and deliveries last analysed while the queue was short —
/// the normal state of a production database when a partner outage builds a backlog — PostgreSQL drove the claim from
/// subscriptions into a bitmap of every due delivery and sorted them all, on every claim: 6,000 rows read to take 32
/// here, 19 ms a claim at 20,000 queued in the end-to-end benchmark, so the drain slowed as the backlog grew.
/// </summary>
public abstract class ClaimPlanTests
{
    protected const int Backlog = 6_000;
    protected const int Take = 32;

    private static readonly WorkerShares.Exclusions NothingExcluded = new([], [], false, [], []);

    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A new database with the migrated schema (PostgreSQL: skips, or fails under INTELSHARING_REQUIRE_POSTGRES, when absent).</summary>
    protected abstract Task<Database> MigratedDatabaseAsync();

    /// <summary>The table statistics of a database whose queue was short when they were last gathered (PostgreSQL).</summary>
    protected virtual Task AnalyseDeliveriesAsync(Database database) => Task.CompletedTask;

    /// <summary>The number of delivery rows the claim read, from the database's own account of the statement.</summary>
    protected abstract Task AssertReadsOnlyWhatItTakesAsync(Database database, string sql, DynamicParameters parameters);

    /// <summary>That a hold pass reads at most its walk of the queue's head, and the rows it holds.</summary>
    protected abstract Task AssertHoldPassReadsAtMostItsWalkAsync(Database database, (string Sql, DynamicParameters Parameters) statement);

    /// <summary>That a claim reads the subscriptions once per statement, not once per delivery row it walks past.</summary>
    protected abstract Task AssertSubscriptionsReadOnceAsync(Database database, string sql, DynamicParameters parameters);

    /// <summary>
    /// That a claim statement made while someone is at a limit reads at most <paramref name="rows"/> delivery rows
    /// (PostgreSQL, counted from its plan), and every delivery row through an index that bounds what it reads: the head
    /// of the sendable index, a subscription's range, the primary key, expired leases (SQLite, from its plan).
    /// </summary>
    protected abstract Task AssertClaimReadsAtMostAsync(Database database, string sql, DynamicParameters parameters, int rows);

    /// <summary>The rows a claim statement reads at most: what it reads to find them, and three primary-key reads of each row it takes (to lock it, to find it for the update, the update).</summary>
    protected static int Reads(int found, int taken) => found + (3 * taken);

    /// <summary>What one partner may have open at once (DeliveryOptions' default): the most a claim takes of one subscription while someone is at a limit.</summary>
    protected static readonly int PerPartner = new DeliveryOptions().PerPartnerConcurrency;

    [Fact]
    public async Task A_claim_under_a_backlog_reads_only_the_rows_it_takes_and_takes_the_earliest_due()
    {
        await using var database = await MigratedDatabaseAsync();

        var (subscriptions, due) = await BacklogAsync(database);
        var claims = new DeliveryClaims(database, new DeliverySignal(), TimeProvider.System,
            new DeliveryOptions { Lease = TimeSpan.FromMinutes(1) });
        var now = DateTimeOffset.UtcNow;

        var (sql, parameters) = claims.ClaimStatement(Take, NothingExcluded, now, Guid.NewGuid(), checkLeases: true);
        await AssertReadsOnlyWhatItTakesAsync(database, sql, parameters);
        Assert.Equal(due.Take(Take).Select(d => d.Id).Order(), (await ClaimedAsync(database, sql, parameters)).Order());

        // One partner at its limit: nothing of its is taken, the next earliest of the others are, found within the
        // head's walk (its rows are one in three there).
        var excluded = subscriptions[0];
        var withExclusion = new WorkerShares.Exclusions([excluded.Authority], [], false, [], []);
        (sql, parameters) = claims.ClaimStatement(Take, withExclusion, now, Guid.NewGuid(), checkLeases: true);
        await AssertClaimReadsAtMostAsync(database, sql, parameters, Reads(DeliveryClaims.MinimumWalk, Take));
        Assert.Equal(due.Where(d => d.SubscriptionId != excluded.Id).Take(Take).Select(d => d.Id).Order(), await ClaimedAsync(database, claims, Take, withExclusion, now));

        // Every partner at its limit: nothing is taken; the head is read no further than the walk, and partner by
        // partner nothing of the backlog is read.
        var everyone = new WorkerShares.Exclusions(subscriptions.Select(s => s.Authority).ToList(), [], false, [], []);
        Assert.Empty(await ClaimedAsync(database, claims, Take, everyone, now));
        (sql, parameters) = claims.ClaimStatement(Take, everyone, now, Guid.NewGuid(), checkLeases: true);
        await AssertClaimReadsAtMostAsync(database, sql, parameters, DeliveryClaims.MinimumWalk);
        await AssertSubscriptionsReadOnceAsync(database, sql, parameters);
        (sql, parameters) = claims.ClaimStatement(Take, everyone, now, Guid.NewGuid(), checkLeases: false, partnerByPartner: true);
        await AssertClaimReadsAtMostAsync(database, sql, parameters, 0);
    }

    [Fact]
    public async Task A_slow_partners_backlog_due_before_everyones_is_not_walked_while_it_is_at_its_limit()
    {
        await using var database = await MigratedDatabaseAsync();
        var (subscriptions, due) = await BacklogAsync(database);
        // A fourth partner that answers, slowly: it is at its limit here, and has fallen a day behind, so its whole queue
        // fell due before anyone else's. It is sending, so nothing of its is held or deferred.
        var slow = new Subscription(Guid.NewGuid(), Guid.NewGuid(), "http://127.0.0.1:9006");
        List<Due> behind;
        await using (var connection = await database.OpenAsync(Ct))
        {
            await using var transaction = await connection.BeginTransactionAsync(Ct);
            await InsertPartnerAsync(connection, transaction, slow, "active", DateTimeOffset.UtcNow.AddHours(-3));
            behind = await InsertAsync(connection, transaction, [slow], Backlog, "pending", DateTimeOffset.UtcNow.AddHours(-2));
            await transaction.CommitAsync(Ct);
        }

        var holds = new DeliveryHolds(database, new PartnerBreakers(TimeProvider.System), TimeProvider.System, NullLogger.Instance);
        var claims = new DeliveryClaims(database, new DeliverySignal(), TimeProvider.System, new DeliveryOptions { Lease = TimeSpan.FromMinutes(1) });
        var now = DateTimeOffset.UtcNow;
        Assert.Equal(0, await holds.HoldAsync(now, Ct));

        // At its limit: the claim reads the head no further than its walk, takes nothing there, and then reads the
        // first due rows of each of the three others, not the 6,000 in front of them, and takes the earliest of each.
        var atLimit = new WorkerShares.Exclusions([slow.Authority], [], false, [], []);
        await AssertHeadThenPartnerByPartnerAsync(atLimit, 3);
        Assert.Equal(FirstOfEach(due), await ClaimedAsync(database, claims, Take, atLimit, now));

        // Its agency at its share, not the partner: the same.
        var agencyAtShare = new WorkerShares.Exclusions([], [slow.AgencyId], false, [], []);
        await AssertHeadThenPartnerByPartnerAsync(agencyAtShare, 3);
        Assert.Equal(FirstOfEach(due), await ClaimedAsync(database, claims, Take, agencyAtShare, now));

        // Its agency's unproven half full, its endpoint unproven (a hostile agency's dozens of endpoints that never
        // answer): the same. Refused on the subscriptions, its rows must not take the places of the others'.
        var unprovenHalfFull = new WorkerShares.Exclusions([], [], false, [slow.AgencyId], ["http://127.0.0.1:9001", "http://127.0.0.1:9002", "http://127.0.0.1:9003"]);
        await AssertHeadThenPartnerByPartnerAsync(unprovenHalfFull, 3);
        Assert.Equal(FirstOfEach(due), await ClaimedAsync(database, claims, Take, unprovenHalfFull, now));

        // The unproven pool full: only proven partners are taken.
        var provenOnly = new WorkerShares.Exclusions([], [], true, [], ["http://127.0.0.1:9001", "http://127.0.0.1:9002"]);
        await AssertHeadThenPartnerByPartnerAsync(provenOnly, 2);
        Assert.Equal(FirstOfEach(due.Where(d => d.SubscriptionId != due[2].SubscriptionId)), await ClaimedAsync(database, claims, Take, provenOnly, now));

        // The third partner's agency deactivated (its rows are notices, which wait for it; the sweep has not held them
        // yet): none of its rows is taken, nor takes the place of another's.
        await using (var connection = await database.OpenAsync(Ct))
        {
            await connection.ExecuteAsync("UPDATE agencies SET is_active = FALSE WHERE id = @AgencyId", subscriptions[2]);
        }

        await AssertHeadThenPartnerByPartnerAsync(atLimit, 3);
        Assert.Equal(FirstOfEach(due.Where(d => d.SubscriptionId != subscriptions[2].Id)), await ClaimedAsync(database, claims, Take, atLimit, now));
        await using (var connection = await database.OpenAsync(Ct))
        {
            await connection.ExecuteAsync("UPDATE agencies SET is_active = TRUE WHERE id = @AgencyId", subscriptions[2]);
        }

        // Someone else at a limit: the slow partner's backlog is the head, and the claim takes from it.
        var otherAtLimit = new WorkerShares.Exclusions(["http://127.0.0.1:9001"], [], false, [], []);
        Assert.Equal(behind.Take(Take).Select(d => d.Id).Order(), await ClaimedAsync(database, claims, Take, otherAtLimit, now));

        // A second subscription of the first partner, on the same host (one authority, one agency), its rows due before
        // the others': of the two together, no more than the partner may have open.
        var first = subscriptions[0];
        var twin = new Subscription(Guid.NewGuid(), first.AgencyId, first.Authority);
        List<Due> twins;
        await using (var connection = await database.OpenAsync(Ct))
        {
            await using var transaction = await connection.BeginTransactionAsync(Ct);
            await connection.ExecuteAsync(
                """
                INSERT INTO subscriptions (id, agency_id, url, authority, description, categories, min_severity_rank, countries, include_own_alerts, status, secret, created_at, updated_at)
                VALUES (@Id, @AgencyId, @Authority, @Authority, '', '', 0, '', FALSE, 'active', @secret, @created, @created)
                """,
                new { twin.Id, twin.AgencyId, twin.Authority, secret = new byte[] { 1 }, created = DateTimeOffset.UtcNow.AddHours(-3) }, transaction);
            twins = await InsertAsync(connection, transaction, [twin], 20, "pending", due[0].NextAttemptAt.AddMinutes(-1));
            await transaction.CommitAsync(Ct);
        }

        await AssertHeadThenPartnerByPartnerAsync(atLimit, 4);
        Assert.Equal(
            twins.Take(PerPartner).Concat(FirstOfEach(due.Where(d => d.SubscriptionId != first.Id)).Select(id => due.Single(d => d.Id == id))).Select(d => d.Id).Order(),
            await ClaimedAsync(database, claims, Take, atLimit, now));
        await using (var connection = await database.OpenAsync(Ct))
        {
            await connection.ExecuteAsync("DELETE FROM deliveries WHERE subscription_id = @Id", twin);
        }

        // With room again, the head of the queue is its backlog, read in due order as before.
        var (sql, parameters) = claims.ClaimStatement(Take, NothingExcluded, now, Guid.NewGuid(), checkLeases: true);
        await AssertReadsOnlyWhatItTakesAsync(database, sql, parameters);
        Assert.Equal(behind.Take(Take).Select(d => d.Id).Order(), (await ClaimedAsync(database, sql, parameters)).Order());

        // The head's walk reads at most its bound and takes nothing (the slow partner's rows fill it); partner by partner,
        // the first rows of each of the subscriptions it may take from, and three reads of each row taken.
        async Task AssertHeadThenPartnerByPartnerAsync(WorkerShares.Exclusions exclusions, int subscriptions)
        {
            var (head, headParameters) = claims.ClaimStatement(Take, exclusions, now, Guid.NewGuid(), checkLeases: true);
            await AssertClaimReadsAtMostAsync(database, head, headParameters, DeliveryClaims.MinimumWalk);
            var (byPartner, byPartnerParameters) = claims.ClaimStatement(Take, exclusions, now, Guid.NewGuid(), checkLeases: false, partnerByPartner: true);
            await AssertClaimReadsAtMostAsync(database, byPartner, byPartnerParameters, Reads(subscriptions * PerPartner, Math.Min(Take, subscriptions * PerPartner)));
        }
    }

    /// <summary>What a claim takes while someone is at a limit: the first <see cref="PerPartner"/> of each subscription, the earliest <see cref="Take"/> of those.</summary>
    private static List<Guid> FirstOfEach(IEnumerable<Due> due) =>
        due.GroupBy(d => d.SubscriptionId).SelectMany(g => g.OrderBy(d => d.NextAttemptAt).Take(PerPartner))
            .OrderBy(d => d.NextAttemptAt).Take(Take).Select(d => d.Id).Order().ToList();

    [Fact]
    public async Task A_paused_partners_older_backlog_is_held_out_of_the_claims_way_and_first_in_line_again_on_resume()
    {
        await using var database = await MigratedDatabaseAsync();
        var (_, due) = await BacklogAsync(database);
        // A fourth partner, paused for its maintenance, whose whole queue fell due before anyone else's.
        var paused = new Subscription(Guid.NewGuid(), Guid.NewGuid(), "http://127.0.0.1:9004");
        List<Due> waiting;
        await using (var connection = await database.OpenAsync(Ct))
        {
            await using var transaction = await connection.BeginTransactionAsync(Ct);
            await InsertPartnerAsync(connection, transaction, paused, "paused", DateTimeOffset.UtcNow.AddHours(-3));
            waiting = await InsertAsync(connection, transaction, [paused], Backlog, "pending", DateTimeOffset.UtcNow.AddHours(-2));
            await transaction.CommitAsync(Ct);
        }

        var holds = new DeliveryHolds(database, new PartnerBreakers(TimeProvider.System), TimeProvider.System, NullLogger.Instance);
        var claims = new DeliveryClaims(database, new DeliverySignal(), TimeProvider.System, new DeliveryOptions { Lease = TimeSpan.FromMinutes(1) });
        var now = DateTimeOffset.UtcNow;

        // Pass by pass, a walk of the head of the queue each, the paused partner's rows are held and no one else's.
        await AssertHoldPassReadsAtMostItsWalkAsync(database, holds.HoldStatement(now));
        var held = 0;
        for (var pass = await holds.HoldAsync(now, Ct); pass > 0; pass = await holds.HoldAsync(now, Ct))
        {
            Assert.True(pass <= DeliveryHolds.Walk);
            held += pass;
        }

        Assert.Equal(Backlog, held);
        Assert.Equal(Backlog, await HeldCountAsync(database, paused.Id));
        Assert.Equal(Backlog, await HeldCountAsync(database, null));

        // The claim reads only what it takes, as if nobody were paused, and takes the active partners' earliest due.
        var (sql, parameters) = claims.ClaimStatement(Take, NothingExcluded, now, Guid.NewGuid(), checkLeases: true);
        await AssertReadsOnlyWhatItTakesAsync(database, sql, parameters);
        Assert.Equal(due.Take(Take).Select(d => d.Id).Order(), (await ClaimedAsync(database, sql, parameters)).Order());

        // A sweep of the subscriptions changed lately leaves it held: the partner has not come back.
        Assert.Equal(0, await DeliveryHolds.ReleaseAsync(database, now.AddMinutes(-1), Ct));

        // Resumed: everything it waited for is released in the resume's transaction, and is first in line again.
        await using (var connection = await database.OpenAsync(Ct))
        {
            await using var transaction = await connection.BeginTransactionAsync(Ct);
            await connection.ExecuteAsync("UPDATE subscriptions SET status = 'active' WHERE id = @Id", paused, transaction);
            Assert.Equal(Backlog, await DeliveryHolds.ReleaseSubscriptionAsync(connection, transaction, database.Dialect, paused.Id, Ct));
            await transaction.CommitAsync(Ct);
        }

        Assert.Equal(0, await HeldCountAsync(database, null));
        (sql, parameters) = claims.ClaimStatement(Take, NothingExcluded, now, Guid.NewGuid(), checkLeases: true);
        await AssertReadsOnlyWhatItTakesAsync(database, sql, parameters);
        Assert.Equal(waiting.Take(Take).Select(d => d.Id).Order(), (await ClaimedAsync(database, sql, parameters)).Order());
    }

    [Fact]
    public async Task A_down_partners_due_backlog_is_deferred_to_its_trial_out_of_the_claims_way()
    {
        await using var database = await MigratedDatabaseAsync();
        var (_, due) = await BacklogAsync(database);
        // A fourth partner, down: its breaker is open here, and a day of its deliveries fell due before anyone else's.
        var down = new Subscription(Guid.NewGuid(), Guid.NewGuid(), "http://127.0.0.1:9005");
        await using (var connection = await database.OpenAsync(Ct))
        {
            await using var transaction = await connection.BeginTransactionAsync(Ct);
            await InsertPartnerAsync(connection, transaction, down, "active", DateTimeOffset.UtcNow.AddHours(-3));
            var rows = await InsertAsync(connection, transaction, [down], Backlog, "pending", DateTimeOffset.UtcNow.AddHours(-2));
            // One of its deliveries went through a minute ago, through another instance.
            await connection.ExecuteAsync(
                """
                INSERT INTO delivery_attempts (delivery_id, attempt, started_at, duration_ms, status_code, error, subscription_id)
                VALUES (@delivery, 1, @at, 12, 204, NULL, @Id)
                """,
                new { delivery = rows[0].Id, at = DateTimeOffset.UtcNow.AddMinutes(-1), down.Id }, transaction);
            await transaction.CommitAsync(Ct);
        }

        var holds = new DeliveryHolds(database, new PartnerBreakers(TimeProvider.System), TimeProvider.System, NullLogger.Instance);
        var claims = new DeliveryClaims(database, new DeliverySignal(), TimeProvider.System, new DeliveryOptions { Lease = TimeSpan.FromMinutes(1) });
        var now = DateTimeOffset.UtcNow;
        var trial = now.AddSeconds(30);

        // This instance's breaker opened two minutes ago, and another instance has delivered to the partner since: the
        // fault is this instance's own (ADR 34), and nothing is deferred for everyone.
        Assert.Equal(0, await holds.DeferAsync(down.Authority, new PartnerBreakers.Deferral(now.AddMinutes(-2), trial), now, Ct));

        // Opened a second ago, with nothing delivered since: the partner is down.
        var breakerOpen = new PartnerBreakers.Deferral(now.AddSeconds(-1), trial);

        await AssertHoldPassReadsAtMostItsWalkAsync(database, holds.DeferStatement(down.Authority, breakerOpen, now));
        var deferred = 0;
        for (var pass = await holds.DeferAsync(down.Authority, breakerOpen, now, Ct); pass > 0; pass = await holds.DeferAsync(down.Authority, breakerOpen, now, Ct))
        {
            Assert.True(pass <= DeliveryHolds.Walk);
            deferred += pass;
        }

        Assert.Equal(Backlog, deferred);
        await using (var connection = await database.OpenAsync(Ct))
        {
            // Only its rows moved, each to the trial, none attempted; nobody else's.
            Assert.Equal(Backlog, await connection.ExecuteScalarAsync<int>(
                "SELECT count(*) FROM deliveries WHERE subscription_id = @Id AND next_attempt_at = @trial AND attempts = 0 AND state = 'pending'",
                new { down.Id, trial = IntelSharing.Api.Infrastructure.Time.ClockExtensions.Truncate(trial) }));
            Assert.Equal(0, await connection.ExecuteScalarAsync<int>("SELECT count(*) FROM deliveries WHERE subscription_id <> @Id AND next_attempt_at > @now", new { down.Id, now }));
        }

        // Deferred, its rows are out of the head of the queue: a claim with room for everyone reads only what it takes.
        var (sql, parameters) = claims.ClaimStatement(Take, NothingExcluded, now, Guid.NewGuid(), checkLeases: true);
        await AssertReadsOnlyWhatItTakesAsync(database, sql, parameters);
        Assert.Equal(due.Take(Take).Select(d => d.Id).Order(), (await ClaimedAsync(database, sql, parameters)).Order());

        // While the breaker is open the claim excludes it, and takes the others' earliest from the head.
        var excluded = new WorkerShares.Exclusions([down.Authority], [], false, [], []);
        (sql, parameters) = claims.ClaimStatement(Take, excluded, now, Guid.NewGuid(), checkLeases: true);
        await AssertClaimReadsAtMostAsync(database, sql, parameters, Reads(Take, Take));
        Assert.Equal(due.Take(Take).Select(d => d.Id).Order(), await ClaimedAsync(database, claims, Take, excluded, now));

        // At the trial they are due again: a claim with room for everything then takes every row, its too.
        (sql, parameters) = claims.ClaimStatement(2 * Backlog, NothingExcluded, trial, Guid.NewGuid(), checkLeases: false);
        Assert.Equal(2 * Backlog, (await ClaimedAsync(database, sql, parameters)).Count);
    }

    [Fact]
    public async Task A_sweep_with_hundreds_of_partners_down_costs_statements_by_the_rows_it_moves_not_by_the_partners_down()
    {
        await using var database = await MigratedDatabaseAsync();
        await BacklogAsync(database);
        var down = new Subscription(Guid.NewGuid(), Guid.NewGuid(), "http://127.0.0.1:9006");
        await using (var connection = await database.OpenAsync(Ct))
        {
            await using var transaction = await connection.BeginTransactionAsync(Ct);
            await InsertPartnerAsync(connection, transaction, down, "active", DateTimeOffset.UtcNow.AddHours(-3));
            await InsertAsync(connection, transaction, [down], Backlog, "pending", DateTimeOffset.UtcNow.AddHours(-2));
            await transaction.CommitAsync(Ct);
        }

        // A hostile agency's 500 endpoints are down too, their breakers open here, with nothing of theirs due.
        var breakers = new PartnerBreakers(TimeProvider.System);
        for (var i = 0; i < 500; i++)
        {
            breakers.Opened($"https://endpoint-{i}.hostile.example", TimeSpan.FromSeconds(30));
        }

        breakers.Opened(down.Authority, TimeSpan.FromSeconds(30));
        var sweep = await new DeliveryHolds(database, breakers, TimeProvider.System, NullLogger.Instance).RunAsync(Ct);

        Assert.NotNull(sweep);
        Assert.Equal(Backlog, sweep.Deferred);
        Assert.Equal(0, sweep.Held);
        // The release and one hold pass, then per deferral pass one walk of the head and one UPDATE for the one partner
        // found there: six passes move a thousand rows each, a seventh finds none of theirs. Not a statement per breaker.
        var passes = (Backlog / DeliveryHolds.Walk) + 1;
        Assert.True(sweep.Statements <= 2 + (2 * passes), $"{sweep.Statements} statements for {passes} deferral passes");
    }

    [Fact]
    public async Task Rows_held_for_a_subscription_that_is_active_are_released_by_the_sweep_and_claimed()
    {
        await using var database = await MigratedDatabaseAsync();
        var (subscriptions, due) = await BacklogAsync(database);
        // What a sweep that read the subscription as paused leaves when it commits after the resume, or what the previous
        // release leaves after a rollback (it resumes without releasing): held rows of an active subscription.
        var stuck = due.Where(d => d.SubscriptionId == subscriptions[1].Id).Take(10).Select(d => d.Id).ToList();
        await using (var connection = await database.OpenAsync(Ct))
        {
            await connection.ExecuteAsync("UPDATE deliveries SET held = TRUE WHERE id = @id", stuck.Select(id => new { id }));
        }

        var claims = new DeliveryClaims(database, new DeliverySignal(), TimeProvider.System, new DeliveryOptions());
        var (sql, parameters) = claims.ClaimStatement(Backlog, NothingExcluded, DateTimeOffset.UtcNow, Guid.NewGuid(), checkLeases: false);
        Assert.Equal(Backlog - stuck.Count, (await ClaimedAsync(database, sql, parameters)).Count);

        // The subscriptions were created an hour ago: the sweep of lately changed ones misses them; the instance's
        // first sweep, of every active subscription, does not.
        Assert.Equal(0, await DeliveryHolds.ReleaseAsync(database, DateTimeOffset.UtcNow.AddMinutes(-1), Ct));
        await using (var connection = await database.OpenAsync(Ct))
        {
            await connection.ExecuteAsync("UPDATE subscriptions SET updated_at = @now WHERE id = @Id", new { subscriptions[1].Id, now = DateTimeOffset.UtcNow });
        }

        Assert.Equal(stuck.Count, await DeliveryHolds.ReleaseAsync(database, DateTimeOffset.UtcNow.AddMinutes(-1), Ct));
        (sql, parameters) = claims.ClaimStatement(Backlog, NothingExcluded, DateTimeOffset.UtcNow, Guid.NewGuid(), checkLeases: false);
        Assert.Equal(Backlog, (await ClaimedAsync(database, sql, parameters)).Count);

        await using (var connection = await database.OpenAsync(Ct))
        {
            await connection.ExecuteAsync("UPDATE deliveries SET held = TRUE WHERE id = @id", stuck.Select(id => new { id }));
        }

        Assert.Equal(stuck.Count, await DeliveryHolds.ReleaseAsync(database, changedSince: null, Ct));
    }

    [Fact]
    public async Task A_lease_that_ended_is_taken_over_when_leases_are_checked_and_a_live_one_never()
    {
        await using var database = await MigratedDatabaseAsync();

        var (_, due) = await BacklogAsync(database);
        var now = DateTimeOffset.UtcNow;
        var (ended, live) = (due[^1].Id, due[^2].Id);
        await using (var connection = await database.OpenAsync(Ct))
        {
            await connection.ExecuteAsync(
                "UPDATE deliveries SET state = 'in_flight', claim_token = @token, lease_until = @until WHERE id = @id",
                new[] { new { id = ended, token = Guid.NewGuid(), until = now.AddSeconds(-1) }, new { id = live, token = Guid.NewGuid(), until = now.AddMinutes(1) } });
        }

        var claims = new DeliveryClaims(database, new DeliverySignal(), TimeProvider.System, new DeliveryOptions());
        // With room for the whole backlog: the ended lease is taken with it when leases are looked at, and not otherwise.
        var (sql, parameters) = claims.ClaimStatement(Backlog, NothingExcluded, now, Guid.NewGuid(), checkLeases: true);
        var taken = await ClaimedAsync(database, sql, parameters);
        Assert.Contains(ended, taken);
        Assert.DoesNotContain(live, taken);
        (sql, parameters) = claims.ClaimStatement(Backlog, NothingExcluded, now, Guid.NewGuid(), checkLeases: false);
        taken = await ClaimedAsync(database, sql, parameters);
        Assert.DoesNotContain(ended, taken);
        Assert.DoesNotContain(live, taken);
        Assert.Equal(Backlog - 2, taken.Count);
    }

    [Fact]
    public async Task Ended_leases_are_still_taken_over_after_the_clock_is_set_back()
    {
        await using var database = await MigratedDatabaseAsync();

        var (_, due) = await BacklogAsync(database);
        var clock = new SettableClock(DateTimeOffset.UtcNow);
        var claims = new DeliveryClaims(database, new DeliverySignal(), clock, new DeliveryOptions());
        await claims.ClaimAsync(1, NothingExcluded, Ct);

        // The wall clock is stepped back an hour (NTP, an operator); a lease that had ended before that still ends.
        clock.Now = clock.Now.AddHours(-1);
        var ended = due[^1].Id;
        var staleToken = Guid.NewGuid();
        await using var connection = await database.OpenAsync(Ct);
        await connection.ExecuteAsync(
            "UPDATE deliveries SET state = 'in_flight', claim_token = @staleToken, lease_until = @until, next_attempt_at = @due WHERE id = @ended",
            new { ended, staleToken, until = clock.Now.AddHours(-2), due = clock.Now.AddHours(-3) });
        await claims.ClaimAsync(1, NothingExcluded, Ct);

        var token = await connection.ExecuteScalarAsync<Guid?>("SELECT claim_token FROM deliveries WHERE id = @ended", new { ended });
        Assert.NotNull(token);
        Assert.NotEqual(staleToken, token);
    }

    private sealed class SettableClock(DateTimeOffset now) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = now;

        public override DateTimeOffset GetUtcNow() => Now;
    }

    /// <summary>Claims as the dispatcher does (the head, then partner by partner when short) and rolls it back; the ids taken, in order.</summary>
    private static async Task<List<Guid>> ClaimedAsync(Database database, DeliveryClaims claims, int max, WorkerShares.Exclusions excluded, DateTimeOffset now)
    {
        await using var connection = await database.OpenAsync(Ct);
        await using var transaction = await connection.BeginTransactionAsync(Ct);
        var ids = await claims.ClaimIdsAsync(connection, transaction, max, excluded, now, Guid.NewGuid(), checkLeases: true, Ct);
        await transaction.RollbackAsync(Ct);
        return [.. ids.Order()];
    }

    /// <summary>Runs the claim's UPDATE and rolls it back, so each call sees the same backlog.</summary>
    private static async Task<List<Guid>> ClaimedAsync(Database database, string sql, DynamicParameters parameters)
    {
        await using var connection = await database.OpenAsync(Ct);
        await using var transaction = await connection.BeginTransactionAsync(Ct);
        var ids = (await connection.QueryAsync<Guid>(new CommandDefinition(sql, parameters, transaction, cancellationToken: Ct))).ToList();
        await transaction.RollbackAsync(Ct);
        return ids;
    }

    /// <summary>
    /// Three partners and a history the statistics saw — 3,000 delivered, 15 waiting — then a backlog they did not see:
    /// <see cref="Backlog"/> due deliveries in all, due a millisecond apart in turn across the partners. Returns the
    /// due deliveries in due order. (With nothing waiting when analysed, PostgreSQL happened to pick the index anyway.)
    /// </summary>
    private async Task<(List<Subscription> Subscriptions, List<Due> Due)> BacklogAsync(Database database)
    {
        var created = DateTimeOffset.UtcNow.AddHours(-1);
        var subscriptions = Enumerable.Range(1, 3).Select(i => new Subscription(Guid.NewGuid(), Guid.NewGuid(), $"http://127.0.0.1:{9000 + i}")).ToList();
        var due = new List<Due>();
        await using (var connection = await database.OpenAsync(Ct))
        {
            await using var transaction = await connection.BeginTransactionAsync(Ct);
            foreach (var s in subscriptions)
            {
                await InsertPartnerAsync(connection, transaction, s, "active", created);
            }

            await InsertAsync(connection, transaction, subscriptions, 1_000, "delivered", created.AddHours(-1));
            due.AddRange(await InsertAsync(connection, transaction, subscriptions, 5, "pending", created.AddMinutes(-1)));
            await transaction.CommitAsync(Ct);
        }

        await AnalyseDeliveriesAsync(database);
        await using (var connection = await database.OpenAsync(Ct))
        {
            await using var transaction = await connection.BeginTransactionAsync(Ct);
            due.AddRange(await InsertAsync(connection, transaction, subscriptions, (Backlog / subscriptions.Count) - 5, "pending", created));
            await transaction.CommitAsync(Ct);
            return (subscriptions, due);
        }
    }

    private static async Task<int> HeldCountAsync(Database database, Guid? subscriptionId)
    {
        await using var connection = await database.OpenAsync(Ct);
        return await connection.ExecuteScalarAsync<int>(
            "SELECT count(*) FROM deliveries WHERE held" + (subscriptionId is null ? "" : " AND subscription_id = @subscriptionId"), new { subscriptionId });
    }

    private static Task<int> InsertPartnerAsync(
        System.Data.Common.DbConnection connection, System.Data.Common.DbTransaction transaction, Subscription s, string status, DateTimeOffset created) =>
        connection.ExecuteAsync(
            """
            INSERT INTO agencies (id, name, country, kind, is_active, created_at, updated_at) VALUES (@AgencyId, @Authority, 'RS', 'police', TRUE, @created, @created);
            INSERT INTO subscriptions (id, agency_id, url, authority, description, categories, min_severity_rank, countries, include_own_alerts, status, secret, created_at, updated_at)
            VALUES (@Id, @AgencyId, @Authority, @Authority, '', '', 0, '', FALSE, @status, @secret, @created, @created)
            """,
            new { s.Id, s.AgencyId, s.Authority, status, created, secret = new byte[] { 1 } }, transaction);

    private static async Task<List<Due>> InsertAsync(
        System.Data.Common.DbConnection connection, System.Data.Common.DbTransaction transaction, List<Subscription> subscriptions,
        int events, string state, DateTimeOffset created)
    {
        var rows = new List<Due>();
        for (var e = 0; e < events; e++)
        {
            var eventId = Guid.NewGuid();
            await connection.ExecuteAsync(
                "INSERT INTO events (id, type, alert_id, alert_version, payload, created_at) VALUES (@eventId, 'ping', NULL, NULL, '{}', @created)",
                new { eventId, created }, transaction);
            foreach (var s in subscriptions)
            {
                rows.Add(new Due(Guid.NewGuid(), eventId, s.Id, s.AgencyId, created.AddMilliseconds(rows.Count)));
            }
        }

        await connection.ExecuteAsync(
            $"""
            INSERT INTO deliveries (id, event_id, subscription_id, agency_id, state, attempts, next_attempt_at, created_at, updated_at)
            VALUES (@Id, @EventId, @SubscriptionId, @AgencyId, '{state}', 0, @NextAttemptAt, @NextAttemptAt, @NextAttemptAt)
            """,
            rows, transaction);
        return rows;
    }

    protected sealed record Subscription(Guid Id, Guid AgencyId, string Authority);

    private sealed record Due(Guid Id, Guid EventId, Guid SubscriptionId, Guid AgencyId, DateTimeOffset NextAttemptAt);
}

public sealed class ClaimPlanTestsOnPostgres : ClaimPlanTests
{
    protected override Task<Database> MigratedDatabaseAsync() => PlanTestDatabases.PostgresAsync("claimplan");

    protected override async Task AnalyseDeliveriesAsync(Database database)
    {
        await using var connection = await database.OpenAsync(Ct);
        await connection.ExecuteAsync("ANALYZE deliveries");
    }

    protected override async Task AssertReadsOnlyWhatItTakesAsync(Database database, string sql, DynamicParameters parameters)
    {
        // The claim as the dispatcher sends it, EXPLAINed: the dialect's settings, then the statement. Three times: with
        // this database's own estimates; with heap reads priced a hundred times dearer; and with the planner talked out
        // of plain index scans altogether (enable_indexscan off), standing for the estimates that, in the end-to-end
        // benchmark, made a bitmap of the partial index or a scan of ix_deliveries_state_created look cheaper — each
        // reading 9,000 rows to keep 32. The statement must still read its index in order: every other plan needs a
        // sort or a bitmap, which the dialect's settings rule out.
        foreach (var adverse in new[] { "", "SET LOCAL random_page_cost = 400; SET LOCAL seq_page_cost = 0.01;", "SET LOCAL enable_indexscan = off;" })
        {
            AssertPlan(await ExplainAsync(database, sql, parameters, adverse));
        }
    }

    protected override async Task AssertHoldPassReadsAtMostItsWalkAsync(Database database, (string Sql, DynamicParameters Parameters) statement)
    {
        // The walk of the head and primary-key reads of the rows it holds; with the planner's own estimates, and with
        // heap reads priced a hundred times dearer. Sequential scans are off, as DeliveryHolds runs it.
        foreach (var adverse in new[] { "", "SET LOCAL random_page_cost = 400; SET LOCAL seq_page_cost = 0.01;" })
        {
            var json = await ExplainAsync(database, statement.Sql, statement.Parameters, "SET LOCAL enable_seqscan = off;" + adverse);
            var read = PlanTestDatabases.RowsRead(JsonNode.Parse(json)![0]!["Plan"]!, ["deliveries"]);
            // The walk, then each row it holds twice by primary key: to lock it, and to update it.
            Assert.True(read <= 3 * DeliveryHolds.Walk, $"A hold pass read {read} delivery rows, walking {DeliveryHolds.Walk}. Plan:\n{json}");
        }
    }

    protected override async Task AssertSubscriptionsReadOnceAsync(Database database, string sql, DynamicParameters parameters)
    {
        var json = await ExplainAsync(database, sql, parameters, "");
        var read = PlanTestDatabases.RowsRead(JsonNode.Parse(json)![0]!["Plan"]!, ["subscriptions"]);
        Assert.True(read <= 2 * 3, $"The claim read {read} subscription rows for 3 subscriptions. Plan:\n{json}");
    }

    protected override async Task AssertClaimReadsAtMostAsync(Database database, string sql, DynamicParameters parameters, int rows)
    {
        // With this database's own estimates (the backlog came after the last ANALYZE), and with heap reads priced a
        // hundred times dearer. Sequential scans are off, as DeliveryClaims runs it while someone is at a limit.
        foreach (var adverse in new[] { "", "SET LOCAL random_page_cost = 400; SET LOCAL seq_page_cost = 0.01;" })
        {
            var json = await ExplainAsync(database, sql, parameters, "SET LOCAL enable_seqscan = off;" + adverse);
            var read = PlanTestDatabases.RowsRead(JsonNode.Parse(json)![0]!["Plan"]!, ["deliveries"]);
            Assert.True(read <= rows, $"The claim read {read} delivery rows, where at most {rows} were to be read. Plan:\n{json}");
        }
    }

    private static async Task<string> ExplainAsync(Database database, string sql, DynamicParameters parameters, string adverse)
    {
        // The dialect's settings before the statement, as InIndexOrder sends them, then the statement EXPLAINed.
        var settings = database.Dialect.InIndexOrder("\u0000").Split("\u0000")[0];
        await using var connection = await database.OpenAsync(Ct);
        await using var transaction = await connection.BeginTransactionAsync(Ct);
        await connection.ExecuteAsync(new CommandDefinition(adverse + settings, transaction: transaction, cancellationToken: Ct));
        var json = await connection.ExecuteScalarAsync<string>(new CommandDefinition(
            "EXPLAIN (ANALYZE, FORMAT JSON) " + sql, parameters, transaction, cancellationToken: Ct));
        await transaction.RollbackAsync(Ct);
        return json!;
    }

    private static void AssertPlan(string json)
    {
        var plan = JsonNode.Parse(json!)![0]!["Plan"]!;

        Assert.Equal(Take, (int)plan["Actual Rows"]!);
        // Every row a scan of deliveries produced or filtered away inside the claim's CTEs, over all its loops.
        var read = PlanTestDatabases.RowsRead(plan, ["deliveries"], n => ((string?)n["Subplan Name"])?.StartsWith("CTE ", StringComparison.Ordinal) == true);
        Assert.True(read <= 2 * Take, $"The claim read {read} delivery rows to take {Take} of {Backlog} queued. Plan:\n{json}");
    }
}

public sealed class ClaimPlanTestsOnSqlite : ClaimPlanTests, IDisposable
{
    private readonly SqlitePlanTestFile _file = new();

    public void Dispose() => _file.Dispose();

    protected override Task<Database> MigratedDatabaseAsync() => _file.MigratedAsync();

    protected override async Task AssertReadsOnlyWhatItTakesAsync(Database database, string sql, DynamicParameters parameters)
    {
        await using var connection = await database.OpenAsync(Ct);
        var plan = (await connection.QueryAsync<(long Id, long Parent, long NotUsed, string Detail)>(new CommandDefinition(
            "EXPLAIN QUERY PLAN " + sql, parameters, cancellationToken: Ct))).Select(r => r.Detail).ToList();
        var text = string.Join("\n", plan);
        // Each CTE reads its partial index in the index's order and stops at the limit: no sort of the backlog inside
        // it (only the outer ORDER BY sorts the at most 2 × limit candidates).
        foreach (var (cte, index) in new[] { ("due", "ix_deliveries_sendable"), ("lease_expired", "ix_deliveries_leased") })
        {
            var body = plan.SkipWhile(d => d != $"MATERIALIZE {cte}").Skip(1)
                .TakeWhile(d => !d.StartsWith("MATERIALIZE", StringComparison.Ordinal) && !d.StartsWith("SCAN", StringComparison.Ordinal)).ToList();
            Assert.True(body.Count > 0 && body[0].StartsWith($"SEARCH d USING INDEX {index} ", StringComparison.Ordinal), text);
            Assert.DoesNotContain(body, d => d.Contains("TEMP B-TREE", StringComparison.Ordinal));
        }
    }

    protected override async Task AssertClaimReadsAtMostAsync(Database database, string sql, DynamicParameters parameters, int rows)
    {
        await using var connection = await database.OpenAsync(Ct);
        var plan = (await connection.QueryAsync<(long Id, long Parent, long NotUsed, string Detail)>(new CommandDefinition(
            "EXPLAIN QUERY PLAN " + sql, parameters, cancellationToken: Ct))).Select(r => r.Detail).ToList();
        var text = string.Join("\n", plan);
        // SQLite does not count rows read; its plan shows each read of deliveries going through an index that bounds it:
        // the head of the sendable index (under the walk's LIMIT), a subscription's range (under its LIMIT), the primary
        // key, expired leases. Never a scan of the table, nor a state index that walks every waiting row.
        // ("SCAN h" alone reads the rows of the co-routine h, not the table.)
        var coroutines = plan.Where(d => d.StartsWith("CO-ROUTINE ", StringComparison.Ordinal)).Select(d => "SCAN " + d["CO-ROUTINE ".Length..]).ToHashSet();
        var reads = plan.Where(d => d.Split(' ') is [("SEARCH" or "SCAN"), ("d" or "p" or "h" or "p_first"), ..] && !coroutines.Contains(d)).ToList();
        Assert.True(reads.Count > 0, text);
        foreach (var read in reads)
        {
            Assert.True(read.Contains("USING INDEX sqlite_autoindex_deliveries_1 (id=?)", StringComparison.Ordinal)
                        || read.Contains("USING COVERING INDEX sqlite_autoindex_deliveries_1 (id=?)", StringComparison.Ordinal)
                        || read.StartsWith("SEARCH h USING INDEX ix_deliveries_sendable (next_attempt_at<?)", StringComparison.Ordinal)
                        || read.StartsWith("SEARCH p_first USING INDEX ix_deliveries_waiting_by_subscription (subscription_id=? AND next_attempt_at<?)", StringComparison.Ordinal)
                        || read.StartsWith("SEARCH d USING INDEX ix_deliveries_leased ", StringComparison.Ordinal), text);
        }
    }

    protected override async Task AssertHoldPassReadsAtMostItsWalkAsync(Database database, (string Sql, DynamicParameters Parameters) statement)
    {
        await using var connection = await database.OpenAsync(Ct);
        var plan = (await connection.QueryAsync<(long Id, long Parent, long NotUsed, string Detail)>(new CommandDefinition(
            "EXPLAIN QUERY PLAN " + statement.Sql, statement.Parameters, cancellationToken: Ct))).Select(r => r.Detail).ToList();
        var text = string.Join("\n", plan);
        // The head is read from the sendable index in its order, stopping at the walk: no sort of the queue.
        Assert.Contains(plan, d => d.StartsWith("SEARCH d USING INDEX ix_deliveries_sendable ", StringComparison.Ordinal));
        Assert.DoesNotContain(plan, d => d.Contains("TEMP B-TREE FOR ORDER BY", StringComparison.Ordinal));
        Assert.DoesNotContain(plan, d => d.StartsWith("SCAN d", StringComparison.Ordinal));
        Assert.True(plan.Count > 0, text);
    }

    protected override async Task AssertSubscriptionsReadOnceAsync(Database database, string sql, DynamicParameters parameters)
    {
        await using var connection = await database.OpenAsync(Ct);
        var plan = (await connection.QueryAsync<(long Id, long Parent, long NotUsed, string Detail)>(new CommandDefinition(
            "EXPLAIN QUERY PLAN " + sql, parameters, cancellationToken: Ct))).Select(r => r.Detail).ToList();
        // SQLite builds the set of subscriptions once (a "LIST SUBQUERY") and looks each row's up in it; under a
        // "CORRELATED … SUBQUERY" it would read subscriptions again for every row.
        var text = string.Join("\n", plan);
        for (var i = 1; i < plan.Count; i++)
        {
            if (plan[i].StartsWith("SEARCH s ", StringComparison.Ordinal) || plan[i].StartsWith("SCAN s", StringComparison.Ordinal))
            {
                Assert.False(plan[i - 1].StartsWith("CORRELATED", StringComparison.Ordinal), text);
            }
        }

        Assert.Contains(plan, d => d.StartsWith("LIST SUBQUERY", StringComparison.Ordinal));
    }
}
