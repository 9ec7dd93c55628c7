using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using Polly;
using Polly.CircuitBreaker;
using Polly.Timeout;

using IntelSharing.Api.Infrastructure.Delivery;

namespace IntelSharing.Api.Features.Deliveries.Dispatch;

/// <summary>
/// The outbound HTTP client for partner endpoints, with its resilience configured in one place. Each partner
/// authority (scheme://host:port) gets its own pipeline: a circuit breaker tuned for alert volumes (a few
/// consecutive failures open it) and the attempt timeout. No retry strategy: the durable schedule in the database
/// owns retries. No redirects. How many requests a partner may have open is decided once, before the claim, by
/// <see cref="WorkerShares"/> (ADR 0016): a second limiter here only turned its races into deferred deliveries.
/// </summary>
public static class PartnerHttp
{
    public const string ClientName = "partners";
    public const string PipelineName = "partner";

    public static IServiceCollection AddPartnerHttp(this IServiceCollection services)
    {
        services.AddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<DeliveryOptions>>().Value;
            // On a developer's laptop the receiver is a local process (deploy/demo-receiver on http://localhost):
            // the Development environment allows plain http to loopback without settings. Tied to the environment,
            // not to a setting, so no configuration carried into Production turns it on there.
            return sp.GetRequiredService<IHostEnvironment>().IsDevelopment()
                ? new OutboundAddressPolicy(options.AllowHttp, [.. options.AllowedPrivateNetworks, .. OutboundAddressPolicy.Loopback], allowHttpToLoopback: true)
                : new OutboundAddressPolicy(options.AllowHttp, options.AllowedPrivateNetworks);
        });
        services.AddSingleton<PartnerBreakers>();
        services.AddHttpClient(ClientName, client =>
            {
                // The pipeline's timeout governs each attempt; HttpClient.Timeout must not cap it silently.
                client.Timeout = Timeout.InfiniteTimeSpan;
                client.DefaultRequestHeaders.UserAgent.ParseAdd("IntelSharing-Webhooks/1.0");
            })
            .ConfigurePrimaryHttpMessageHandler(sp => new PartnerConnections(
                sp.GetRequiredService<OutboundAddressPolicy>(), sp.GetRequiredService<IOptions<DeliveryOptions>>().Value))
            .AddResilienceHandler(PipelineName, static (builder, context) => ConfigurePipeline(
                builder,
                context.ServiceProvider.GetRequiredService<IOptions<DeliveryOptions>>().Value,
                context.ServiceProvider.GetRequiredService<PartnerBreakers>(),
                context.InstanceName))
            .SelectPipelineByAuthority();
        return services;
    }

    /// <summary>The pipeline of one partner authority, defined once; tests assert its shape with Polly.Testing.</summary>
    public static void ConfigurePipeline(ResiliencePipelineBuilder<HttpResponseMessage> builder, DeliveryOptions options, PartnerBreakers breakers, string authority)
    {
        builder.AddCircuitBreaker(new HttpCircuitBreakerStrategyOptions
        {
            // Alert traffic is low: the library defaults (100 requests in 30 s) would never trip.
            // Every call in the window failing, with at least BreakerFailures calls, opens it.
            FailureRatio = 1.0,
            MinimumThroughput = options.BreakerFailures,
            SamplingDuration = TimeSpan.FromMinutes(10),
            BreakDuration = options.BreakerDuration,
            OnOpened = args =>
            {
                breakers.Opened(authority, args.BreakDuration);
                return ValueTask.CompletedTask;
            },
            OnClosed = _ =>
            {
                breakers.Closed(authority);
                return ValueTask.CompletedTask;
            },
            OnHalfOpened = _ =>
            {
                breakers.HalfOpened(authority);
                return ValueTask.CompletedTask;
            },
        });
        builder.AddTimeout(new HttpTimeoutStrategyOptions { Timeout = options.AttemptTimeout });
    }

    /// <summary>Whether the pipeline refused to send (breaker open): the delivery waits, no attempt is counted.</summary>
    public static bool IsDeferred(Exception exception) => exception is BrokenCircuitException;

    public static bool IsTimeout(Exception exception) => exception is TimeoutRejectedException;
}

/// <summary>
/// Which partner authorities have an open breaker in this process, so the dispatcher does not claim their
/// deliveries until the breaker lets a trial request through, and until when their due deliveries are deferred
/// (<see cref="DeliveryHolds"/>, ADR 48).
/// </summary>
public sealed class PartnerBreakers(TimeProvider time)
{
    /// <summary>The longest a partner's due deliveries are deferred at once, however long it has been down.</summary>
    public static readonly TimeSpan MaxDeferral = TimeSpan.FromMinutes(15);

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, Break> _open = new(StringComparer.OrdinalIgnoreCase);

    // Openings since the breaker last closed (a trial that failed opens it again without closing it).
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, int> _openings = new(StringComparer.OrdinalIgnoreCase);

    private sealed record Break(DateTimeOffset Since, DateTimeOffset Until, DateTimeOffset DeferUntil);

    /// <summary>A partner whose breaker is open here: since when, and until when its due deliveries are deferred.</summary>
    public sealed record Deferral(DateTimeOffset Since, DateTimeOffset Until);

    public void Opened(string authority, TimeSpan duration)
    {
        var openings = _openings.AddOrUpdate(authority, 1, (_, n) => n + 1);
        var now = time.GetUtcNow();
        _open[authority] = new Break(now, now + duration, now + DeferralAfter(duration, openings));
    }

    /// <summary>The break ended: one trial may go. The partner has not answered yet, so its openings still count.</summary>
    public void HalfOpened(string authority) => _open.TryRemove(authority, out _);

    public void Closed(string authority)
    {
        _open.TryRemove(authority, out _);
        _openings.TryRemove(authority, out _);
    }

    /// <summary>
    /// How long a partner's due deliveries wait once its breaker has opened <paramref name="openings"/> times without
    /// closing: the break itself the first time, then twice as long each time, at most <see cref="MaxDeferral"/>. A
    /// partner down for an hour has its backlog moved once in a quarter of an hour, not once a break; one back after a
    /// short outage waits little. New deliveries are due at once and serve as the trials.
    /// </summary>
    public static TimeSpan DeferralAfter(TimeSpan breakDuration, int openings) =>
        TimeSpan.FromTicks(Math.Min(MaxDeferral.Ticks, Math.Max(breakDuration.Ticks, breakDuration.Ticks * (1L << Math.Clamp(openings - 1, 0, 20)))));

    /// <summary>Until when this process's breaker for <paramref name="authority"/> stays open; null when it is closed.</summary>
    public DateTimeOffset? OpenUntil(string authority) =>
        _open.TryGetValue(authority, out var open) && open.Until > time.GetUtcNow() ? open.Until : null;

    public IReadOnlyList<string> OpenAuthorities()
    {
        var now = time.GetUtcNow();
        return _open.Where(p => p.Value.Until > now).Select(p => p.Key).ToList();
    }

    /// <summary>Partners whose breaker is open here, each with when it opened and until when its due deliveries are deferred.</summary>
    public IReadOnlyDictionary<string, Deferral> Deferrals()
    {
        var now = time.GetUtcNow();
        return _open.Where(p => p.Value.Until > now)
            .ToDictionary(p => p.Key, p => new Deferral(p.Value.Since, p.Value.DeferUntil), StringComparer.OrdinalIgnoreCase);
    }
}
