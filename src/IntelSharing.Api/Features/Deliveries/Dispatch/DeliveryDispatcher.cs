using System.Collections.Concurrent;
using System.Diagnostics;
using IntelSharing.Api.Infrastructure.Delivery;
using IntelSharing.Api.Infrastructure.Observability;
using IntelSharing.Api.Infrastructure.Persistence;
using Microsoft.Extensions.Options;

namespace IntelSharing.Api.Features.Deliveries.Dispatch;

/// <summary>
/// Sends due deliveries. The loop claims (<see cref="DeliveryClaims"/>), starts one task per delivery, and never waits on
/// a send; each send goes through the partner's resilience pipeline and its outcome is recorded with group commit
/// (<see cref="OutcomeRecorder"/>) only if this instance still holds the claim. A worker (and the partner's share) is
/// free again as soon as the partner has answered, not when the outcome is committed: holding it through the group
/// commit's WAL flush capped the drain at workers ÷ (send + flush). Outcomes waiting for their commit are bounded apart
/// (<see cref="OutcomeRecorder.MaxBatch"/>); until committed the delivery stays claimed, its lease renewed while this
/// instance lives (<see cref="LeaseRenewal"/>), so a crash still means a resend and a slow commit does not. Deliveries of partners whose breaker is
/// open, or that are at their limit in <see cref="WorkerShares"/>, are not claimed, so dead or slow partners never hold
/// the workers that healthy partners need. On shutdown it stops claiming, lets sends under way finish within
/// <c>Delivery__ShutdownGraceSeconds</c>, and records each one still open then as an interrupted attempt, due again at once.
/// </summary>
public sealed class DeliveryDispatcher(
    Database database,
    WebhookSender sender,
    SecretProtector secrets,
    RetrySchedule schedule,
    PartnerBreakers breakers,
    DeliverySignal signal,
    DeliveryMetrics metrics,
    DeliveryBacklog backlog,
    TimeProvider time,
    IOptions<DeliveryOptions> options,
    ILogger<DeliveryDispatcher> logger) : BackgroundService
{
    // After a wake-up with few workers free, wait this long (machine time) so that one claim takes what became due meanwhile.
    private static readonly TimeSpan ClaimGathering = TimeSpan.FromMilliseconds(2);

    private readonly DeliveryOptions _options = options.Value;
    private readonly WorkerShares _shares = new(
        options.Value.Workers, options.Value.AgencyShare, new PartnerConcurrency(options.Value.PerPartnerConcurrency));
    private readonly DeliveryClaims _claims = new(database, signal, time, options.Value);
    private readonly OutcomeRecorder _outcomes = new(database, schedule, metrics, time, logger);
    private readonly StrandedSweep _stranded = new(database, time, logger);
    private readonly DeliveryHolds _holds = new(database, breakers, time, logger);
    private readonly LeaseRenewal _leases = new(database, time, options.Value, logger);

    // 1 while the last claim may have left due deliveries behind (it took all it asked for, gave some back, or held back
    // someone at a limit): only then does a freed worker wake the loop. Otherwise the outbox was drained when claimed, and
    // what became due since comes with its own signal (the commit that queued it) or the poll; waking on every freed worker
    // claimed about twice per delivery at a trickle, a statement each (the end-to-end run's claim storm).
    private int _moreMayBeDue = 1;

    // Cancelled when the shutdown grace is over: sends still open then are cut off. Wall-clock, like the host's own timeout.
    private readonly CancellationTokenSource _cutOff = new();

    /// <summary>The webhook-id partners see: stable for the delivery, across retries and replays.</summary>
    public static string MessageId(Guid deliveryId) => $"msg_{deliveryId:N}";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!_options.Enabled)
        {
            logger.LogInformation("Delivery is switched off on this instance (Delivery__Enabled=false).");
            return;
        }

        var recording = Task.Run(_outcomes.RunAsync, CancellationToken.None);
        // Past the stopping token: sends finishing within the shutdown grace, and their outcomes, keep their leases too.
        using var stopRenewing = new CancellationTokenSource();
        var renewing = Task.Run(() => _leases.RunAsync(stopRenewing.Token), CancellationToken.None);
        using var slots = new SemaphoreSlim(_options.Workers, _options.Workers);
        using var unrecorded = new SemaphoreSlim(UnrecordedLimit, UnrecordedLimit);
        var running = new ConcurrentDictionary<Task, byte>();
        try
        {
            await ClaimAndSendAsync(new Capacity(slots, unrecorded), running, stoppingToken);
        }
        finally
        {
            if (!running.IsEmpty)
            {
                logger.LogInformation("Shutting down: {Count} deliveries are being sent; waiting up to {Grace} s for them.", running.Count, _options.ShutdownGraceSeconds);
            }

            _cutOff.CancelAfter(TimeSpan.FromSeconds(_options.ShutdownGraceSeconds));
            await Task.WhenAll(running.Keys);
            _outcomes.Complete();
            await recording;
            await stopRenewing.CancelAsync();
            await renewing;
        }
    }

    public override void Dispose()
    {
        _cutOff.Dispose();
        base.Dispose();
    }

    /// <summary>Sends under way or answered but not yet committed, at most: one full group commit of outcomes, and never fewer than the workers.</summary>
    private int UnrecordedLimit => Math.Max(_options.Workers, OutcomeRecorder.MaxBatch);

    /// <summary>Workers free to send, and room for outcomes not yet committed: a claim takes no more than both allow.</summary>
    private sealed record Capacity(SemaphoreSlim Slots, SemaphoreSlim Unrecorded)
    {
        public int Free => Math.Min(Slots.CurrentCount, Unrecorded.CurrentCount);
    }

    private async Task ClaimAndSendAsync(Capacity capacity, ConcurrentDictionary<Task, byte> running, CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await backlog.RefreshWhenDueAsync(stoppingToken);
                await _stranded.RunAsync(stoppingToken);
                await _holds.RunAsync(stoppingToken);
                var free = capacity.Free;
                var claimStarted = Stopwatch.GetTimestamp();
                var asked = Math.Min(free, _options.BatchSize);
                IReadOnlyList<ClaimedDelivery> claimed = [];
                if (free == 0)
                {
                    Volatile.Write(ref _moreMayBeDue, 1);
                }
                else
                {
                    var exclusions = _shares.Current(breakers.OpenAuthorities());
                    claimed = await _claims.ClaimAsync(asked, exclusions, stoppingToken);
                    Volatile.Write(ref _moreMayBeDue, claimed.Count >= asked || exclusions.HoldBackAny ? 1 : 0);
                }

                var overflow = Start(claimed, claimStarted, capacity, running);
                if (overflow.Count > 0)
                {
                    Volatile.Write(ref _moreMayBeDue, 1);
                }

                await _claims.PutBackAsync(overflow);
                if (claimed.Count == overflow.Count || capacity.Free == 0)
                {
                    var woken = await signal.WaitAsync(_options.PollInterval, stoppingToken);
                    if (woken && capacity.Free < Math.Min(_options.Workers, _options.BatchSize) / 2)
                    {
                        // Gathering a claim is pacing, not schedule time: the real clock, also under a test's fake one.
                        await Task.Delay(ClaimGathering, TimeProvider.System, stoppingToken);
                    }
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // The database may be restarting; claims are leases, so nothing is lost by waiting.
                logger.LogWarning(ex, "Delivery dispatcher could not claim work; retrying.");
                try
                {
                    await Task.Delay(_options.PollInterval, time, stoppingToken);
                }
                catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
                {
                    return;
                }
            }
        }
    }

    /// <summary>Starts a send for each claimed delivery that has a worker and its partner's share free; returns the others.</summary>
    private List<ClaimedDelivery> Start(IReadOnlyList<ClaimedDelivery> claimed, long claimStarted, Capacity capacity, ConcurrentDictionary<Task, byte> running)
    {
        var overflow = new List<ClaimedDelivery>();
        foreach (var work in claimed)
        {
            // One batch may hold more of a partner's (or an agency's) deliveries than it may have open: those wait.
            // Wait(0), never WaitAsync: the loop must not block on a worker that a hanging send holds.
            if (_shares.TryTake(work.Authority, work.AgencyId) is not { } share)
            {
                overflow.Add(work);
                continue;
            }

            if (!capacity.Slots.Wait(0, CancellationToken.None))
            {
                _shares.Release(share);
                overflow.Add(work);
                continue;
            }

            if (!capacity.Unrecorded.Wait(0, CancellationToken.None))
            {
                capacity.Slots.Release();
                _shares.Release(share);
                overflow.Add(work);
                continue;
            }

            var worker = new Worker(() =>
            {
                _shares.Release(share);
                capacity.Slots.Release();
                WakeIfMoreMayBeDue();
            });
            _leases.Hold(work, claimStarted);
            var task = Task.Run(() => SendAsync(work, worker), CancellationToken.None);
            running[task] = 0;
            _ = task.ContinueWith(
                t =>
                {
                    _leases.Release(work);
                    worker.Free();
                    capacity.Unrecorded.Release();
                    running.TryRemove(t, out _);
                    WakeIfMoreMayBeDue();
                },
                CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }

        return overflow;
    }

    private void WakeIfMoreMayBeDue()
    {
        if (Volatile.Read(ref _moreMayBeDue) == 1)
        {
            signal.Notify();
        }
    }

    /// <summary>A worker and its partner share, given back once: when the partner has answered, or when the task ends.</summary>
    private sealed class Worker(Action free)
    {
        private int _freed;

        public void Free()
        {
            if (Interlocked.Exchange(ref _freed, 1) == 0)
            {
                free();
            }
        }
    }

    /// <summary>Sends one claimed delivery and records the outcome; a send cut off by shutdown is recorded as interrupted.</summary>
    private async Task SendAsync(ClaimedDelivery work, Worker worker)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            var keys = RetiredSecrets.SigningKeys(secrets, work.Secret, work.PreviousSecret, work.PreviousSecretExpiresAt, work.OlderSecrets, time.GetUtcNow());
            using var trace = DeliveryTracing.StartAttempt(work.TraceParent, work.Id, work.EventType, work.Attempts + 1);
            var outcome = await sender.SendAsync(new Uri(work.Url), MessageId(work.Id),
                work.Body ?? throw new InvalidOperationException($"Delivery {work.Id}: the alert version its event names is not stored."), keys,
                AllowedNetworks.FromColumn(work.AllowedPrivateNetworks), _cutOff.Token);
            if (outcome.Deferred)
            {
                // Not sent: the partner's breaker is open. Put it back, count nothing.
                await _claims.PutBackAsync([work], time.GetUtcNow() + TimeSpan.FromSeconds(1));
                return;
            }

            if (outcome.Succeeded && !outcome.BodyTimedOut)
            {
                _shares.Partners.Succeeded(work.Authority);
            }
            else
            {
                _shares.Partners.Failed(work.Authority);
            }

            worker.Free();
            await _outcomes.RecordAsync(work, outcome);
        }
        catch (OperationCanceledException) when (_cutOff.IsCancellationRequested)
        {
            await RecordInterruptedAsync(work, Stopwatch.GetElapsedTime(started));
        }
        catch (Exception ex)
        {
            logger.LogError(ex, "Delivery {DeliveryId} could not be processed; its lease will expire and it will be retried.", work.Id);
        }
    }

    /// <summary>The attempt goes into the ledger and the lease is released, so another instance (or this one restarted) sends it at once.</summary>
    private async Task RecordInterruptedAsync(ClaimedDelivery work, TimeSpan elapsed)
    {
        try
        {
            await _outcomes.RecordAsync(work, new AttemptOutcome(false, null, OutcomeRecorder.Interrupted, null, elapsed, null, Interrupted: true));
            logger.LogInformation("Delivery {DeliveryId} was cut off by shutdown; recorded and released for another attempt.", work.Id);
        }
        catch (Exception ex)
        {
            logger.LogError(ex, "Delivery {DeliveryId} was cut off by shutdown and could not be recorded; its lease will expire.", work.Id);
        }
    }
}
