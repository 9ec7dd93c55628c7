using System.Data.Common;
using System.Threading.Channels;
using IntelSharing.Api.Infrastructure.Audit;
using IntelSharing.Api.Infrastructure.Persistence;
using IntelSharing.Api.Infrastructure.Time;

namespace IntelSharing.Api.Features.Deliveries.Dispatch;

/// <summary>
/// Records attempt outcomes with group commit: outcomes that arrive while a commit is under way wait for the next one, and
/// each transaction writes all of them — one multi-row UPDATE of the deliveries (each conditional on its claim token), then
/// one multi-row INSERT of their attempts with their audit records, in one round trip. A sender learns its outcome is
/// recorded only after the commit, so nothing is acted upon before it is durable. If a batch fails, each of its outcomes
/// is tried alone, so one bad row does not fail its neighbours.
/// </summary>
public sealed class OutcomeRecorder(Database database, RetrySchedule schedule, DeliveryMetrics metrics, TimeProvider time, ILogger logger)
{
    /// <summary>Most outcomes in one transaction: a bounded statement, and a bounded wait for the first of them.</summary>
    public const int MaxBatch = 128;

    /// <summary>What the ledger says of a send cut off by shutdown (recorded as an attempt, due again at once).</summary>
    public const string Interrupted = "Interrupted by shutdown before the partner answered; it will be sent again at once.";

    private readonly Channel<Pending> _queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });

    private sealed record Pending(ClaimedDelivery Work, AttemptOutcome Outcome, TaskCompletionSource<bool> Recorded);

    private sealed record Row(Pending Pending, int Attempt, string State, DateTimeOffset NextAttemptAt, string? Error);

    /// <summary>Records the outcome; true once committed, false when the claim was lost (another worker's attempt counts).</summary>
    public Task<bool> RecordAsync(ClaimedDelivery work, AttemptOutcome outcome)
    {
        var pending = new Pending(work, outcome, new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously));
        if (!_queue.Writer.TryWrite(pending))
        {
            throw new InvalidOperationException("The outcome recorder has stopped; the lease will expire and the delivery will be retried.");
        }

        return pending.Recorded.Task;
    }

    /// <summary>Writes what is queued until <see cref="Complete"/> is called and the queue is empty.</summary>
    public async Task RunAsync()
    {
        var batch = new List<Pending>(MaxBatch);
        while (await _queue.Reader.WaitToReadAsync(CancellationToken.None))
        {
            batch.Clear();
            while (batch.Count < MaxBatch && _queue.Reader.TryRead(out var pending))
            {
                batch.Add(pending);
            }

            try
            {
                await WriteAsync(batch);
            }
            catch (Exception ex) when (batch.Count > 1)
            {
                logger.LogWarning(ex, "Recording {Count} delivery outcomes together failed; recording each alone.", batch.Count);
                foreach (var pending in batch)
                {
                    try
                    {
                        await WriteAsync([pending]);
                    }
                    catch (Exception single)
                    {
                        pending.Recorded.TrySetException(single);
                    }
                }
            }
            catch (Exception ex)
            {
                batch[0].Recorded.TrySetException(ex);
            }
        }
    }

    /// <summary>No more outcomes will come: <see cref="RunAsync"/> ends once those queued are written.</summary>
    public void Complete() => _queue.Writer.TryComplete();

    private async Task WriteAsync(IReadOnlyList<Pending> batch)
    {
        var now = time.UtcNowMicros();
        var rows = batch.Select(p => Decide(p, now)).ToList();
        await using var connection = await database.OpenAsync(CancellationToken.None);
        await using var write = await Database.BeginWriteAsync(connection, CancellationToken.None);
        var transaction = write.Transaction;
        var dialect = database.Dialect;
        var held = (await UpdateDeliveriesAsync(connection, transaction, dialect, rows, now)).ToHashSet();
        var recorded = rows.Where(r => held.Contains(r.Pending.Work.Id)).ToList();
        if (recorded.Count > 0)
        {
            var writes = new SqlBatch();
            AddAttempts(writes, dialect, recorded, now);
            AddAttemptHours(writes, dialect, recorded, now);
            AuditWriter.AddAll(dialect, writes, recorded.Select(row => AuditWriter.Build(AttemptAudit(row), RequestOrigin.System, now)).ToList());

            // Last before the commit: the outbox does not lock subscriptions, so an alert published while this transaction is
            // open can still queue for the endpoint after the cancelling UPDATE has run; keep that window as short as it was.
            foreach (var gone in recorded.Where(r => r.Pending.Outcome.Gone))
            {
                AddDisableSubscription(writes, gone.Pending.Work.SubscriptionId, now);
            }

            await writes.ExecuteAsync(connection, transaction, CancellationToken.None);
        }

        await write.CommitAsync(CancellationToken.None);
        foreach (var row in rows)
        {
            var ours = held.Contains(row.Pending.Work.Id);
            if (ours)
            {
                Count(row);
            }
            else
            {
                logger.LogWarning("Delivery {DeliveryId}: claim lost before the outcome was recorded; the other worker's attempt counts.", row.Pending.Work.Id);
            }

            row.Pending.Recorded.TrySetResult(ours);
        }
    }

    private Row Decide(Pending pending, DateTimeOffset now)
    {
        var (work, outcome) = (pending.Work, pending.Outcome);
        var attempt = work.Attempts + 1;
        var error = outcome.Error ?? (outcome.Succeeded ? null : $"The partner answered {outcome.StatusCode}.");
        if (outcome.Interrupted)
        {
            return new Row(pending, attempt, DeliveryStates.Failed, now, error);
        }

        if (outcome.Succeeded)
        {
            return new Row(pending, attempt, DeliveryStates.Delivered, now, error);
        }

        if (outcome.Gone)
        {
            return new Row(pending, attempt, DeliveryStates.Cancelled, now, error);
        }

        var next = schedule.Next(attempt, now, outcome.RetryAfter);
        return new Row(pending, attempt, next is null ? DeliveryStates.Dead : DeliveryStates.Failed, next ?? now, error);
    }

    /// <summary>
    /// One UPDATE for the whole batch, each row only where this instance still holds its claim; returns those ids. Its rows
    /// and the attempts' are one statement of one shape whatever the batch's size (<see cref="SqlDialect.Rows"/>).
    /// </summary>
    private static async Task<IEnumerable<Guid>> UpdateDeliveriesAsync(
        DbConnection connection, DbTransaction transaction, SqlDialect dialect, IReadOnlyList<Row> rows, DateTimeOffset now)
    {
        var update = new SqlBatch();
        var outcomes = dialect.Rows(update,
        [
            ColumnValues.Of("delivery_id", rows.Select(row => row.Pending.Work.Id)),
            ColumnValues.Of("held_token", rows.Select(row => row.Pending.Work.Token)),
            ColumnValues.Of("new_state", rows.Select(row => row.State)),
            ColumnValues.Of("attempt_number", rows.Select(row => row.Attempt)),
            ColumnValues.Of("next_at", rows.Select(row => row.NextAttemptAt)),
            ColumnValues.Of("status_code", rows.Select(row => row.Pending.Outcome.StatusCode)),
            ColumnValues.Of("error_text", rows.Select(row => row.Error)),
            ColumnValues.Of("is_delivered", rows.Select(row => row.Pending.Outcome.Succeeded && !row.Pending.Outcome.Interrupted)),
        ]);
        update.Add(
            $"""
            WITH outcome (delivery_id, held_token, new_state, attempt_number, next_at, status_code, error_text, is_delivered) AS ({outcomes})
            UPDATE deliveries SET state = outcome.new_state, attempts = outcome.attempt_number, next_attempt_at = outcome.next_at,
                   claim_token = NULL, lease_until = NULL, last_status = outcome.status_code, last_error = outcome.error_text, updated_at = @outcomeNow,
                   delivered_at = CASE WHEN outcome.is_delivered THEN @outcomeNow ELSE delivered_at END
            FROM outcome
            WHERE deliveries.id = outcome.delivery_id AND deliveries.claim_token = outcome.held_token
            RETURNING id AS Id
            """,
            new { outcomeNow = now });
        using var held = await update.QueryMultipleAsync(connection, transaction, CancellationToken.None);
        return (await held.ReadAsync<HeldRow>()).Select(r => r.Id);
    }

    /// <summary>
    /// Each attempt carries its subscription and whether the delivery gave up at it, so that partner health counts the
    /// day's attempts from one index range per subscription without joining them to their deliveries (ADR 40).
    /// </summary>
    private static void AddAttempts(SqlBatch writes, SqlDialect dialect, IReadOnlyList<Row> rows, DateTimeOffset now) => writes.Add(
        "INSERT INTO delivery_attempts (delivery_id, attempt, subscription_id, gave_up, started_at, duration_ms, status_code, error, response_excerpt) " +
        dialect.Rows(writes,
        [
            ColumnValues.Of("delivery_id", rows.Select(row => row.Pending.Work.Id)),
            ColumnValues.Of("attempt", rows.Select(row => row.Attempt)),
            ColumnValues.Of("subscription_id", rows.Select(row => row.Pending.Work.SubscriptionId)),
            ColumnValues.Of("gave_up", rows.Select(row => row.State == DeliveryStates.Dead)),
            ColumnValues.Of("started_at", rows.Select(row => ClockExtensions.Truncate(now - row.Pending.Outcome.Duration))),
            ColumnValues.Of("duration_ms", rows.Select(row => (int)Math.Min(int.MaxValue, row.Pending.Outcome.Duration.TotalMilliseconds))),
            ColumnValues.Of("status_code", rows.Select(row => row.Pending.Outcome.StatusCode)),
            ColumnValues.Of("error", rows.Select(row => row.Pending.Outcome.Error)),
            ColumnValues.Of("response_excerpt", rows.Select(row => row.Pending.Outcome.ResponseExcerpt)),
        ]));

    /// <summary>
    /// Adds the attempts to their subscriptions' clock hours (<c>attempt_hours</c>, migration 34, ADR 50), in the
    /// transaction that records them, so partner health reads 24 rows a subscription instead of the day's attempts.
    /// One row per (subscription, hour), in key order: instances recording at once lock the rows they share in the same
    /// order, so they wait for each other but cannot deadlock. Counted by partner health's rule: delivered when the
    /// partner answered 2xx and nothing went wrong, dead when the delivery gave up at this attempt.
    /// </summary>
    private static void AddAttemptHours(SqlBatch writes, SqlDialect dialect, IReadOnlyList<Row> rows, DateTimeOffset now)
    {
        var hours = rows
            .Select(row =>
            {
                var outcome = row.Pending.Outcome;
                var milliseconds = (int)Math.Min(int.MaxValue, outcome.Duration.TotalMilliseconds);
                return (row.Pending.Work.SubscriptionId, Hour: ClockExtensions.UtcHourKey(ClockExtensions.Truncate(now - outcome.Duration)),
                    Delivered: outcome.StatusCode is >= 200 and <= 299 && outcome.Error is null, Dead: row.State == DeliveryStates.Dead, milliseconds);
            })
            .GroupBy(a => (a.SubscriptionId, a.Hour))
            .OrderBy(g => g.Key.SubscriptionId.ToString(), StringComparer.Ordinal).ThenBy(g => g.Key.Hour, StringComparer.Ordinal)
            .Select(g => (g.Key.SubscriptionId, g.Key.Hour, Delivered: (long)g.Count(a => a.Delivered), Failed: (long)g.Count(a => !a.Delivered),
                Dead: (long)g.Count(a => a.Dead), Sum: g.Sum(a => (long)a.milliseconds), Max: g.Max(a => a.milliseconds)))
            .ToList();
        writes.Add(
            "INSERT INTO attempt_hours (subscription_id, hour, delivered, failed, dead, duration_ms_sum, duration_ms_max) " +
            dialect.Rows(writes,
            [
                ColumnValues.Of("subscription_id", hours.Select(h => h.SubscriptionId)),
                ColumnValues.Of("hour", hours.Select(h => h.Hour)),
                ColumnValues.Of("delivered", hours.Select(h => h.Delivered)),
                ColumnValues.Of("failed", hours.Select(h => h.Failed)),
                ColumnValues.Of("dead", hours.Select(h => h.Dead)),
                ColumnValues.Of("duration_ms_sum", hours.Select(h => h.Sum)),
                ColumnValues.Of("duration_ms_max", hours.Select(h => h.Max)),
            ]) +
            """

            ON CONFLICT (subscription_id, hour) DO UPDATE SET
                delivered = attempt_hours.delivered + excluded.delivered, failed = attempt_hours.failed + excluded.failed,
                dead = attempt_hours.dead + excluded.dead, duration_ms_sum = attempt_hours.duration_ms_sum + excluded.duration_ms_sum,
                duration_ms_max = CASE WHEN excluded.duration_ms_max > attempt_hours.duration_ms_max THEN excluded.duration_ms_max ELSE attempt_hours.duration_ms_max END
            """);
    }

    /// <summary>410 Gone: the partner retired the endpoint. Disable it and cancel what was waiting for it, visibly.</summary>
    private static void AddDisableSubscription(SqlBatch writes, Guid subscriptionId, DateTimeOffset now)
    {
        var name = writes.NextName("gone");
        var subscription = writes.Parameter(name, subscriptionId);
        writes.Add($"""
            UPDATE subscriptions SET status = 'disabled', status_reason = @goneReason, updated_at = @goneNow WHERE id = {subscription};
            UPDATE deliveries SET state = @goneCancelled, last_error = @goneReason, updated_at = @goneNow, claim_token = NULL, lease_until = NULL
            WHERE subscription_id = {subscription} AND state IN (@gonePending, @goneFailed)
            """,
            new
            {
                goneNow = now,
                goneReason = "The endpoint answered 410 Gone; the subscription was disabled and its pending deliveries cancelled.",
                goneCancelled = DeliveryStates.Cancelled,
                gonePending = DeliveryStates.Pending,
                goneFailed = DeliveryStates.Failed,
            });
    }

    /// <summary>
    /// The attempt's audit record, written in the transaction that records the attempt: the receiving agency, the delivery
    /// as resource, the partner's status as outcome (0 when it gave none: timeout, refused connection, shutdown).
    /// </summary>
    private static AuditEvent AttemptAudit(Row row)
    {
        var (work, outcome) = (row.Pending.Work, row.Pending.Outcome);
        return new(row.State switch
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
            Detail = new { subscriptionId = work.SubscriptionId, attempt = row.Attempt, subscriptionDisabled = outcome.Gone ? true : (bool?)null, error = outcome.Error },
        };
    }

    private void Count(Row row)
    {
        var outcome = row.Pending.Outcome;
        if (row.State == DeliveryStates.Delivered)
        {
            metrics.Delivered(outcome.Duration);
            return;
        }

        metrics.Failed(outcome.Duration);
        if (row.State == DeliveryStates.Dead)
        {
            metrics.Dead();
        }
    }

    private sealed record HeldRow
    {
        public Guid Id { get; init; }
    }
}
