using System.Collections.Concurrent;
using System.Data.Common;
using System.Diagnostics;
using System.Text;
using Dapper;
using IntelSharing.Api.Infrastructure.Audit;
using IntelSharing.Api.Infrastructure.Persistence;
using IntelSharing.Api.Infrastructure.Time;
using Microsoft.Extensions.Options;

namespace IntelSharing.Api.Infrastructure.Delivery;

/// <summary>
/// Sends due deliveries. It claims a batch with a lease and a claim token (PostgreSQL: FOR UPDATE SKIP LOCKED,
/// so several instances never take the same row; SQLite: one writer at a time), sends each through the
/// partner's resilience pipeline, and records the outcome only if it still holds the claim. A killed process
/// loses nothing: its leases expire and another worker reclaims the rows. Deliveries of partners whose breaker
/// is open, or that are at a limit of <see cref="WorkerShares"/> (per authority, per agency, and the half of the
/// workers that unproven endpoints may hold), are not claimed, so dead or slow partners never hold the workers that
/// healthy partners need. The loop never waits on a send: each runs on its own task, bounded by the attempt timeout.
/// </summary>
public sealed class DeliveryDispatcher(
    Database database,
    WebhookSender sender,
    SecretProtector secrets,
    RetrySchedule schedule,
    PartnerBreakers breakers,
    DeliverySignal signal,
    DeliveryMetrics metrics,
    TimeProvider time,
    IOptions<DeliveryOptions> options,
    ILogger<DeliveryDispatcher> logger) : BackgroundService
{
    private readonly DeliveryOptions _options = options.Value;
    private readonly WorkerShares _shares = new(
        options.Value.Workers, options.Value.AgencyShare, new PartnerConcurrency(options.Value.PerPartnerConcurrency));
    private DateTimeOffset _backlogRefreshedAt = DateTimeOffset.MinValue;

    public sealed record Claimed
    {
        public Guid Id { get; init; }

        public Guid SubscriptionId { get; init; }

        /// <summary>The receiving agency, named in the attempt's audit record.</summary>
        public Guid AgencyId { get; init; }

        public string Url { get; init; } = string.Empty;

        public string Authority { get; init; } = string.Empty;

        public byte[] Secret { get; init; } = [];

        public byte[]? PreviousSecret { get; init; }

        public DateTimeOffset? PreviousSecretExpiresAt { get; init; }

        public string? OlderSecrets { get; init; }

        public int Attempts { get; init; }

        /// <summary>events.payload: the body, or <see cref="Outbox.PayloadOfVersion"/> when the body is built around the version's document.</summary>
        public string StoredPayload { get; init; } = string.Empty;

        public string EventType { get; init; } = string.Empty;

        public DateTimeOffset EventCreatedAt { get; init; }

        /// <summary>alert_versions.document of the event's version, read only when the event stores no body of its own.</summary>
        public string? VersionDocument { get; init; }

        /// <summary>The webhook body, the same bytes on every attempt: stored with the event, or built around its version's document.</summary>
        public string Payload => StoredPayload != Outbox.PayloadOfVersion
            ? StoredPayload
            : Outbox.Payload(EventType, EventCreatedAt, VersionDocument ?? throw new InvalidOperationException($"Delivery {Id}: the alert version its event names is not stored."));

        /// <summary>Why <see cref="SendDecision"/> refuses to send it now; null when it may be sent.</summary>
        public string? Refusal { get; init; }

        public int? EventVersion { get; init; }

        public int? CurrentVersion { get; init; }

        /// <summary>The internal networks an operator allowed the receiving agency (agencies.allowed_private_networks), read with the claim.</summary>
        public string AllowedPrivateNetworks { get; init; } = string.Empty;
    }

    private const string PutBackState = "CASE WHEN attempts = 0 THEN @pending ELSE @failed END";

    // How long after a subscription ended its queue is still swept (CancelStrandedAsync), and how often.
    private static readonly TimeSpan StrandedWindow = TimeSpan.FromHours(1);
    private static readonly TimeSpan StrandedSweepEvery = TimeSpan.FromSeconds(1);

    private long _strandedSweptAt;

    /// <summary>The webhook-id partners see: stable for the delivery, across retries and replays.</summary>
    public static string MessageId(Guid deliveryId) => $"msg_{deliveryId:N}";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!_options.Enabled)
        {
            logger.LogInformation("Delivery is switched off on this instance (Delivery__Enabled=false).");
            return;
        }

        using var slots = new SemaphoreSlim(_options.Workers, _options.Workers);
        var running = new ConcurrentDictionary<Task, byte>();
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await RefreshBacklogAsync(stoppingToken);
                await CancelStrandedAsync(stoppingToken);
                var free = slots.CurrentCount;
                var claimed = free == 0 ? [] : await ClaimAsync(Math.Min(free, _options.BatchSize), stoppingToken);
                var overflow = new List<(Claimed Work, Guid Token)>();
                foreach (var (work, token) in claimed)
                {
                    // One batch may hold more of a partner's (or an agency's) deliveries than it may have open: those wait.
                    // Wait(0), never WaitAsync: the loop must not block on a worker that a hanging send holds.
                    if (_shares.TryTake(work.Authority, work.AgencyId) is not { } share)
                    {
                        overflow.Add((work, token));
                        continue;
                    }

                    if (!slots.Wait(0, CancellationToken.None))
                    {
                        _shares.Release(share);
                        overflow.Add((work, token));
                        continue;
                    }

                    var task = Task.Run(() => ProcessAsync(work, token, stoppingToken), CancellationToken.None);
                    running[task] = 0;
                    _ = task.ContinueWith(
                        t =>
                        {
                            _shares.Release(share);
                            slots.Release();
                            running.TryRemove(t, out _);
                            signal.Notify();
                        },
                        CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
                }

                await ReleaseAsync(overflow);
                if (claimed.Count == overflow.Count || slots.CurrentCount == 0)
                {
                    await signal.WaitAsync(_options.PollInterval, stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                // The database may be restarting; claims are leases, so nothing is lost by waiting.
                logger.LogWarning(ex, "Delivery dispatcher could not claim work; retrying.");
                try
                {
                    // Pacing retries against a failing database is not schedule time: the real clock, and shutdown ends the wait.
                    await Task.Delay(_options.PollInterval, TimeProvider.System, stoppingToken);
                }
                catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
                {
                    break;
                }
            }
        }

        await Task.WhenAll(running.Keys);
    }

    /// <summary>Claims up to <paramref name="max"/> due deliveries for this worker.</summary>
    public async Task<IReadOnlyList<(Claimed Work, Guid Token)>> ClaimAsync(int max, CancellationToken cancellationToken)
    {
        var now = time.UtcNowMicros();
        var token = Guid.NewGuid();
        var parameters = new DynamicParameters(new
        {
            now,
            token,
            leaseUntil = now + _options.Lease,
            max,
            inFlight = DeliveryStates.InFlight,
            pending = DeliveryStates.Pending,
            failed = DeliveryStates.Failed,
            published = EventTypes.AlertPublished,
            updated = EventTypes.AlertUpdated,
        });

        var exclusion = Exclusion(parameters, _shares.Current(breakers.OpenAuthorities()));

        await using var connection = await database.OpenAsync(cancellationToken);
        await using var transaction = await Database.BeginWriteAsync(connection, cancellationToken);
        // One ordered index range per state (ix_deliveries_due is (state, next_attempt_at)), each stopping after @max rows,
        // then the earliest @max of those. A single scan with "(pending or failed and due) or (lease expired)" cannot use
        // the index's order: it read and sorted the whole backlog on every claim, so a claim cost O(backlog) — about
        // 150 ms with 100,000 queued deliveries, which capped the drain near 170 deliveries/s (docs/benchmarks.md).
        string Due(string name, string condition) =>
            $"""
            {name} AS (
                SELECT d.id, d.next_attempt_at FROM deliveries d JOIN subscriptions s ON s.id = d.subscription_id
                WHERE {condition}
                  AND s.status = 'active' {exclusion}
                  AND (EXISTS (SELECT 1 FROM agencies a WHERE a.id = d.agency_id AND a.is_active)
                       -- A deactivated agency's notices wait for it; its alert content is claimed only to be refused.
                       OR EXISTS (SELECT 1 FROM events ce WHERE ce.id = d.event_id AND ce.type IN (@published, @updated)))
                ORDER BY d.next_attempt_at
                LIMIT @max
                {database.Dialect.ForUpdateSkipLocked("d")})
            """;
        var claimed = (await connection.QueryAsync<ClaimedId>(new CommandDefinition(
            $"""
            WITH {Due("due_pending", "d.state = @pending AND d.next_attempt_at <= @now")},
            {Due("due_failed", "d.state = @failed AND d.next_attempt_at <= @now")},
            {Due("lease_expired", "d.state = @inFlight AND d.lease_until < @now")}
            UPDATE deliveries SET state = @inFlight, claim_token = @token, lease_until = @leaseUntil, updated_at = @now
            WHERE id IN (
                SELECT due.id FROM (
                    SELECT id, next_attempt_at FROM due_pending
                    UNION ALL SELECT id, next_attempt_at FROM due_failed
                    UNION ALL SELECT id, next_attempt_at FROM lease_expired) due
                ORDER BY due.next_attempt_at
                LIMIT @max)
            RETURNING id AS Id
            """,
            parameters, transaction, cancellationToken: cancellationToken))).Select(c => c.Id).ToArray();
        if (claimed.Length == 0)
        {
            await transaction.CommitAsync(cancellationToken);
            return [];
        }

        // By the ids the UPDATE returned (primary key), not by claim_token, which has no index: that was a scan of the outbox.
        var byId = new DynamicParameters(new { token });
        var rows = (await connection.QueryAsync<Claimed>(new CommandDefinition(
            $"""
            SELECT d.id AS Id, d.subscription_id AS SubscriptionId, d.agency_id AS AgencyId, s.url AS Url, s.authority AS Authority,
                   s.secret AS Secret, s.previous_secret AS PreviousSecret, s.previous_secret_expires_at AS PreviousSecretExpiresAt, s.older_secrets AS OlderSecrets,
                   d.attempts AS Attempts, e.payload AS StoredPayload, e.type AS EventType, e.created_at AS EventCreatedAt, v.document AS VersionDocument,
                   a.allowed_private_networks AS AllowedPrivateNetworks,
                   {SendDecision.RefusalSql("e", "s", "al")} AS Refusal, e.alert_version AS EventVersion, al.version AS CurrentVersion
            FROM deliveries d
            JOIN subscriptions s ON s.id = d.subscription_id
            JOIN events e ON e.id = d.event_id
            JOIN agencies a ON a.id = d.agency_id
            LEFT JOIN alerts al ON al.id = e.alert_id
            LEFT JOIN alert_versions v ON v.alert_id = e.alert_id AND v.version = e.alert_version AND CAST(e.payload AS TEXT) = '{Outbox.PayloadOfVersion}'
            WHERE d.id IN {SqlLists.In(byId, "c", claimed)} AND d.claim_token = @token
            """,
            byId, transaction, cancellationToken: cancellationToken))).ToList();

        // Every send is decided here, as of now, whatever queued it (publication, retry, replay, resume): ADR 0008.
        var refused = rows.Where(r => r.Refusal is not null).ToList();
        await SendDecision.CancelAsync(connection, transaction,
            refused.Select(r => new SendDecision.Refused(r.Id, r.SubscriptionId, r.AgencyId, r.Refusal!, r.EventVersion, r.CurrentVersion)).ToList(),
            token, time, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        if (refused.Count > 0)
        {
            // Claim again at once rather than after the poll interval: refused rows took the places of sendable ones.
            signal.Notify();
        }

        return rows.Where(r => r.Refusal is null).Select(r => (r, token)).ToList();
    }

    /// <summary>
    /// The claim's filter for whoever is at a limit of <see cref="WorkerShares"/>: their rows are not claimed at all, so a
    /// hostile agency's backlog never fills a batch that answering partners' deliveries are queued behind.
    /// </summary>
    private static string Exclusion(DynamicParameters parameters, WorkerShares.Exclusions excluded)
    {
        var sql = new StringBuilder();
        if (excluded.Authorities.Count > 0)
        {
            sql.Append($" AND s.authority NOT IN {SqlLists.In(parameters, "x", excluded.Authorities)}");
        }

        // Agency lists only when non-empty: an empty list is typed text, which PostgreSQL will not compare with uuid.
        if (excluded.Agencies.Count > 0)
        {
            sql.Append($" AND d.agency_id NOT IN {SqlLists.In(parameters, "xa", excluded.Agencies)}");
        }

        if (excluded.ProvenOnly)
        {
            sql.Append($" AND s.authority IN {SqlLists.In(parameters, "p", excluded.Proven)}");
        }
        else if (excluded.ProvenOnlyAgencies.Count > 0)
        {
            sql.Append($" AND (d.agency_id NOT IN {SqlLists.In(parameters, "pa", excluded.ProvenOnlyAgencies)}")
                .Append($" OR s.authority IN {SqlLists.In(parameters, "p", excluded.Proven)})");
        }

        return sql.ToString();
    }

    /// <summary>Sends one claimed delivery and records the outcome.</summary>
    public async Task ProcessAsync(Claimed work, Guid token, CancellationToken cancellationToken)
    {
        try
        {
            var now = time.GetUtcNow();
            var keys = RetiredSecrets.SigningKeys(secrets, work.Secret, work.PreviousSecret, work.PreviousSecretExpiresAt, work.OlderSecrets, now);

            var outcome = await sender.SendAsync(new Uri(work.Url), MessageId(work.Id), Encoding.UTF8.GetBytes(work.Payload), keys,
                AllowedNetworks.FromColumn(work.AllowedPrivateNetworks), cancellationToken);
            if (outcome.Succeeded && !outcome.BodyTimedOut)
            {
                _shares.Partners.Succeeded(work.Authority);
            }
            else if (!outcome.Deferred)
            {
                _shares.Partners.Failed(work.Authority);
            }

            await RecordAsync(work, token, outcome, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Shutting down: the lease expires and another worker (or this one after restart) sends it.
        }
        catch (Exception ex)
        {
            logger.LogError(ex, "Delivery {DeliveryId} could not be processed; its lease will expire and it will be retried.", work.Id);
        }
    }

    /// <summary>Gives claimed deliveries back unsent and still due; they are claimed again once their partner has room.</summary>
    private async Task ReleaseAsync(List<(Claimed Work, Guid Token)> released)
    {
        if (released.Count == 0)
        {
            return;
        }

        var parameters = new DynamicParameters(new
        {
            token = released[0].Token,
            now = time.UtcNowMicros(),
            pending = DeliveryStates.Pending,
            failed = DeliveryStates.Failed,
        });
        await using var connection = await database.OpenAsync(CancellationToken.None);
        await connection.ExecuteAsync(new CommandDefinition(
            $"""
            UPDATE deliveries SET state = {PutBackState},
                   claim_token = NULL, lease_until = NULL, updated_at = @now
            WHERE claim_token = @token AND id IN {SqlLists.In(parameters, "id", released.Select(r => r.Work.Id).ToArray())}
            """,
            parameters, cancellationToken: CancellationToken.None));
    }

    private async Task RecordAsync(Claimed work, Guid token, AttemptOutcome outcome, CancellationToken cancellationToken)
    {
        var now = time.UtcNowMicros();
        await using var connection = await database.OpenAsync(CancellationToken.None);
        await using var transaction = await Database.BeginWriteAsync(connection, CancellationToken.None);
        if (outcome.Deferred)
        {
            // Not sent: the breaker is open or the partner is at its concurrency limit. Put it back, count nothing.
            await connection.ExecuteAsync(new CommandDefinition(
                $"""
                UPDATE deliveries SET state = {PutBackState},
                       next_attempt_at = @next, claim_token = NULL, lease_until = NULL, updated_at = @now
                WHERE id = @id AND claim_token = @token
                """,
                new { id = work.Id, token, now, next = now + TimeSpan.FromSeconds(1), pending = DeliveryStates.Pending, failed = DeliveryStates.Failed },
                transaction, cancellationToken: CancellationToken.None));
            await transaction.CommitAsync(CancellationToken.None);
            return;
        }

        var attempt = work.Attempts + 1;
        string state;
        DateTimeOffset? next = null;
        if (outcome.Succeeded)
        {
            state = DeliveryStates.Delivered;
        }
        else if (outcome.Gone)
        {
            state = DeliveryStates.Cancelled;
        }
        else
        {
            next = schedule.Next(attempt, now, outcome.RetryAfter);
            state = next is null ? DeliveryStates.Dead : DeliveryStates.Failed;
        }

        var updated = await connection.ExecuteAsync(new CommandDefinition(
            """
            UPDATE deliveries SET state = @state,
                   attempts = @attempt, next_attempt_at = @nextAttempt, claim_token = NULL, lease_until = NULL,
                   last_status = @status, last_error = @error, updated_at = @now,
                   delivered_at = CASE WHEN @delivered THEN @now ELSE delivered_at END
            WHERE id = @id AND claim_token = @token
            """,
            new
            {
                id = work.Id,
                token,
                state,
                attempt,
                nextAttempt = next ?? now,
                status = outcome.StatusCode,
                error = outcome.Error ?? (outcome.Succeeded ? null : $"The partner answered {outcome.StatusCode}."),
                now,
                delivered = outcome.Succeeded,
            },
            transaction, cancellationToken: CancellationToken.None));
        if (updated == 0)
        {
            // Our lease expired and another worker took the delivery over; it records its own attempt.
            await transaction.RollbackAsync(CancellationToken.None);
            logger.LogWarning("Delivery {DeliveryId}: claim lost before the outcome was recorded; the other worker's attempt counts.", work.Id);
            return;
        }

        await connection.ExecuteAsync(new CommandDefinition(
            """
            INSERT INTO delivery_attempts (delivery_id, attempt, started_at, duration_ms, status_code, error, response_excerpt)
            VALUES (@id, @attempt, @startedAt, @durationMs, @status, @error, @excerpt)
            """,
            new
            {
                id = work.Id,
                attempt,
                startedAt = ClockExtensions.Truncate(now - outcome.Duration),
                durationMs = (int)Math.Min(int.MaxValue, outcome.Duration.TotalMilliseconds),
                status = outcome.StatusCode,
                error = outcome.Error,
                excerpt = outcome.ResponseExcerpt,
            },
            transaction, cancellationToken: CancellationToken.None));

        await AuditWriter.RecordSystemAsync(connection, transaction, AttemptAudit(work, attempt, state, outcome), time, CancellationToken.None);

        // Last before the commit: the outbox does not lock subscriptions, so an alert published while this transaction is
        // open can still queue for the endpoint after the cancelling UPDATE has run; keep that window as short as it was.
        if (outcome.Gone)
        {
            await DisableSubscriptionAsync(connection, transaction, work.SubscriptionId, now);
        }

        await transaction.CommitAsync(CancellationToken.None);

        if (outcome.Succeeded)
        {
            metrics.Delivered(outcome.Duration);
        }
        else if (state == DeliveryStates.Dead)
        {
            metrics.Failed(outcome.Duration);
            metrics.Dead();
        }
        else
        {
            metrics.Failed(outcome.Duration);
        }
    }

    /// <summary>
    /// The attempt's audit record, written in the transaction that records the attempt: the receiving agency, the delivery
    /// as resource, the partner's status as outcome (0 when it gave none: timeout, refused connection).
    /// </summary>
    private static AuditEvent AttemptAudit(Claimed work, int attempt, string state, AttemptOutcome outcome) =>
        new(state switch
        {
            DeliveryStates.Delivered => AuditActions.DeliveryDelivered,
            DeliveryStates.Cancelled => AuditActions.DeliveryCancelled,
            DeliveryStates.Dead => AuditActions.DeliveryDead,
            _ => AuditActions.DeliveryFailed,
        }, outcome.StatusCode ?? 0)
        {
            ResourceType = AuditResources.Delivery,
            ResourceId = work.Id,
            AgencyId = work.AgencyId,
            Detail = new { subscriptionId = work.SubscriptionId, attempt, subscriptionDisabled = outcome.Gone ? true : (bool?)null, error = outcome.Error },
        };

    /// <summary>410 Gone: the partner retired the endpoint. Disable it and cancel what was waiting for it, visibly.</summary>
    private static async Task DisableSubscriptionAsync(DbConnection connection, DbTransaction transaction, Guid subscriptionId, DateTimeOffset now)
    {
        await connection.ExecuteAsync(new CommandDefinition(
            """
            UPDATE subscriptions SET status = 'disabled', status_reason = @reason, updated_at = @now WHERE id = @subscriptionId;
            UPDATE deliveries SET state = @cancelled, last_error = @reason, updated_at = @now, claim_token = NULL, lease_until = NULL
            WHERE subscription_id = @subscriptionId AND state IN (@pending, @failed);
            """,
            new
            {
                subscriptionId,
                now,
                reason = "The endpoint answered 410 Gone; the subscription was disabled and its pending deliveries cancelled.",
                cancelled = DeliveryStates.Cancelled,
                pending = DeliveryStates.Pending,
                failed = DeliveryStates.Failed,
            },
            transaction, cancellationToken: CancellationToken.None));
    }

    /// <summary>
    /// Cancels deliveries still queued for a subscription that ended (a 410 disabled it, or its owner deleted it).
    /// Ending a subscription cancels what is queued when it commits, but a transaction that read the subscription as
    /// active a moment earlier can still queue after that: an alert published at the same time (the outbox does not
    /// lock subscriptions, which every publication would then contend on), or an attempt put back or recorded as
    /// failed. Claims never pick them; this sweep, in every instance's loop, ends them visibly and audits each.
    /// </summary>
    private async Task CancelStrandedAsync(CancellationToken cancellationToken)
    {
        // Paced by the machine's clock, not the TimeProvider: this is housekeeping cadence, not schedule time.
        var started = Stopwatch.GetTimestamp();
        if (Stopwatch.GetElapsedTime(_strandedSweptAt, started) < StrandedSweepEvery)
        {
            return;
        }

        _strandedSweptAt = started;
        var now = time.UtcNowMicros();
        await using var connection = await database.OpenAsync(cancellationToken);
        var anyEnded = await connection.ExecuteScalarAsync<int?>(new CommandDefinition(
            "SELECT 1 FROM subscriptions WHERE status IN ('disabled', 'deleted') AND updated_at >= @since LIMIT 1",
            new { since = now - StrandedWindow }, cancellationToken: cancellationToken));
        if (anyEnded is null)
        {
            return;
        }

        await using var transaction = await Database.BeginWriteAsync(connection, cancellationToken);
        var stranded = (await connection.QueryAsync<StrandedRow>(new CommandDefinition(
            """
            UPDATE deliveries SET state = @cancelled, last_error = @reason, updated_at = @now, claim_token = NULL, lease_until = NULL
            WHERE state IN (@pending, @failed)
              AND subscription_id IN (SELECT id FROM subscriptions WHERE status IN ('disabled', 'deleted') AND updated_at >= @since)
            RETURNING id AS Id, subscription_id AS SubscriptionId, agency_id AS AgencyId
            """,
            new
            {
                now,
                since = now - StrandedWindow,
                reason = "The subscription ended (410 Gone or deleted) while this delivery was being queued or attempted; it was cancelled.",
                cancelled = DeliveryStates.Cancelled,
                pending = DeliveryStates.Pending,
                failed = DeliveryStates.Failed,
            },
            transaction, cancellationToken: cancellationToken))).ToList();
        foreach (var row in stranded)
        {
            await AuditWriter.RecordSystemAsync(connection, transaction, new AuditEvent(AuditActions.DeliveryCancelled, 0)
            {
                ResourceType = AuditResources.Delivery,
                ResourceId = row.Id,
                AgencyId = row.AgencyId,
                Detail = new { subscriptionId = row.SubscriptionId, reason = "subscription ended" },
            }, time, CancellationToken.None);
        }

        await transaction.CommitAsync(CancellationToken.None);
        if (stranded.Count > 0)
        {
            logger.LogInformation("Cancelled {Count} deliveries queued for subscriptions that had ended.", stranded.Count);
        }
    }

    private sealed record StrandedRow
    {
        public Guid Id { get; init; }

        public Guid SubscriptionId { get; init; }

        public Guid AgencyId { get; init; }
    }

    private sealed record ClaimedId
    {
        public Guid Id { get; init; }
    }

    private sealed record BacklogRow
    {
        public Guid SubscriptionId { get; init; }

        public long Pending { get; init; }

        public DateTimeOffset Oldest { get; init; }
    }

    private async Task RefreshBacklogAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (now - _backlogRefreshedAt < TimeSpan.FromSeconds(15))
        {
            return;
        }

        _backlogRefreshedAt = now;
        await using var connection = await database.OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<BacklogRow>(new CommandDefinition(
            """
            SELECT subscription_id AS SubscriptionId, COUNT(*) AS Pending, MIN(created_at) AS Oldest
            FROM deliveries WHERE state IN (@pending, @failed, @inFlight)
            GROUP BY subscription_id
            """,
            new { pending = DeliveryStates.Pending, failed = DeliveryStates.Failed, inFlight = DeliveryStates.InFlight },
            cancellationToken: cancellationToken));
        metrics.UpdateBacklog(rows.Select(r => new DeliveryMetrics.Backlog(r.SubscriptionId, r.Pending, (now - r.Oldest).TotalSeconds)).ToList());
    }
}
