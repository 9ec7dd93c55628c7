using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace IntelSharing.Api.Infrastructure.Security;

/// <summary>
/// Counts failed authentications per client address in a fixed window. Once an address reaches the limit,
/// <see cref="AuthFailureThrottleMiddleware"/> answers it 429 before its key is even looked up, until the
/// window ends. Counts are per instance: with N replicas an address gets at most N times the limit.
/// Not <c>PartitionedRateLimiter.Create</c> with a fixed window, which counts the same way: the built-in limiters read
/// the clock through <c>Stopwatch</c> and take no <see cref="TimeProvider"/> (dotnet/runtime#106447, open), and time in
/// this codebase goes only through <see cref="TimeProvider"/> so its tests can move it (AuthFailureThrottleTests).
/// </summary>
public sealed class AuthFailureThrottle(TimeProvider time, IOptions<AbuseLimitOptions> options)
{
    private const int PruneAbove = 10_000;
    private readonly ConcurrentDictionary<string, Window> _windows = new(StringComparer.Ordinal);

    private sealed class Window(DateTimeOffset start)
    {
        public DateTimeOffset Start { get; } = start;

        public int Failures;
    }

    private TimeSpan Length => TimeSpan.FromSeconds(options.Value.AuthFailureWindowSeconds);

    /// <summary>Counts a failure; returns true exactly when this failure reached the limit (the moment worth auditing).</summary>
    public bool RecordFailure(string client)
    {
        var now = time.GetUtcNow();
        if (_windows.Count > PruneAbove)
        {
            foreach (var (key, stale) in _windows)
            {
                if (now - stale.Start >= Length)
                {
                    _windows.TryRemove(new KeyValuePair<string, Window>(key, stale));
                }
            }
        }

        var window = _windows.AddOrUpdate(client, _ => new Window(now), (_, current) => now - current.Start >= Length ? new Window(now) : current);
        return Interlocked.Increment(ref window.Failures) == options.Value.AuthFailuresPerClient;
    }

    /// <summary>How long the client must wait, or null when it may try.</summary>
    public TimeSpan? RetryAfter(string client)
    {
        if (!_windows.TryGetValue(client, out var window))
        {
            return null;
        }

        var remaining = window.Start + Length - time.GetUtcNow();
        return remaining > TimeSpan.Zero && Volatile.Read(ref window.Failures) >= options.Value.AuthFailuresPerClient ? remaining : null;
    }
}
