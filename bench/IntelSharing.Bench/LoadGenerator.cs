using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;

namespace IntelSharing.Bench;

/// <summary>What one load run measured: successful requests per second over the measured window and their latencies.</summary>
public sealed record RunResult(int Connections, double Seconds, long Succeeded, long Failed, IReadOnlyDictionary<string, long> Failures, Latencies Latency, double? TargetRate = null)
{
    /// <summary>Successful requests of the whole run, warm-up included: what server-side counters over the run divide by.</summary>
    public long Completed { get; init; }

    public double PerSecond => Succeeded / Seconds;
}

/// <summary>
/// Percentiles from every latency of the window (a sorted array: exact, and small enough at these rates).
/// </summary>
public sealed record Latencies(long Count, double P50, double P90, double P99, double P999, double Max)
{
    public static Latencies From(List<double> milliseconds)
    {
        if (milliseconds.Count == 0)
        {
            return new Latencies(0, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN);
        }

        milliseconds.Sort();
        return new Latencies(milliseconds.Count, At(0.50), At(0.90), At(0.99), At(0.999), milliseconds[^1]);

        // Nearest rank: the smallest value with at least p of all values at or below it.
        double At(double p) => milliseconds[Math.Clamp((int)Math.Ceiling(p * milliseconds.Count) - 1, 0, milliseconds.Count - 1)];
    }
}

/// <summary>
/// The HTTP load generator. One HttpClient whose SocketsHttpHandler opens at most <c>connections</c> connections:
/// the closed loop runs that many workers back to back; the open loop sends at a fixed rate and measures each
/// latency from the request's intended send time, so a stalled server is charged for the requests that queued
/// behind it (no coordinated omission).
/// </summary>
public sealed class LoadGenerator : IDisposable
{
    private readonly HttpClient _client;
    private readonly int _connections;

    public LoadGenerator(Uri baseAddress, int connections)
    {
        _connections = connections;
        var handler = new SocketsHttpHandler
        {
            MaxConnectionsPerServer = connections,
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
            UseProxy = false,
            AllowAutoRedirect = false,
            UseCookies = false,
        };
        _client = new HttpClient(handler) { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(60) };
    }

    /// <summary>Sends one request; the caller's callback sees the response (e.g. a 201's Location) before it is disposed.</summary>
    private async Task<(bool Ok, string? Failure)> SendAsync(Func<long, HttpRequestMessage> request, long sequence, HttpStatusCode expected, Action<long, HttpResponseMessage>? onResponse)
    {
        try
        {
            using var message = request(sequence);
            using var response = await _client.SendAsync(message, HttpCompletionOption.ResponseContentRead);
            if (response.StatusCode != expected)
            {
                return (false, ((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture));
            }

            onResponse?.Invoke(sequence, response);
            return (true, null);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or IOException)
        {
            return (false, ex.GetType().Name);
        }
    }

    /// <summary>N workers back to back for warm-up plus the window; only requests completed inside the window count.</summary>
    public async Task<RunResult> ClosedLoopAsync(
        Func<long, HttpRequestMessage> request, HttpStatusCode expected, TimeSpan warmup, TimeSpan window, Action<long, HttpResponseMessage>? onResponse = null)
    {
        var started = Stopwatch.GetTimestamp();
        var windowStart = started + Ticks(warmup);
        var windowEnd = windowStart + Ticks(window);
        var failures = new ConcurrentDictionary<string, long>();
        long sequence = 0;
        var perWorker = new List<double>[_connections];
        var succeeded = new long[_connections];
        var failed = new long[_connections];
        var completed = new long[_connections];

        var workers = Enumerable.Range(0, _connections).Select(w => Task.Run(async () =>
        {
            var latencies = perWorker[w] = new List<double>(1 << 14);
            while (true)
            {
                var sent = Stopwatch.GetTimestamp();
                if (sent >= windowEnd)
                {
                    return;
                }

                var (ok, failure) = await SendAsync(request, Interlocked.Increment(ref sequence), expected, onResponse);
                var done = Stopwatch.GetTimestamp();
                if (ok)
                {
                    completed[w]++;
                }

                if (sent < windowStart || done > windowEnd)
                {
                    continue;
                }

                if (ok)
                {
                    succeeded[w]++;
                    latencies.Add(Stopwatch.GetElapsedTime(sent, done).TotalMilliseconds);
                }
                else
                {
                    failed[w]++;
                    failures.AddOrUpdate(failure!, 1, (_, n) => n + 1);
                }
            }
        })).ToArray();
        await Task.WhenAll(workers);

        var all = perWorker.SelectMany(l => l).ToList();
        return new RunResult(_connections, window.TotalSeconds, succeeded.Sum(), failed.Sum(), failures, Latencies.From(all)) { Completed = completed.Sum() };
    }

    /// <summary>A request still waiting for its answer when the run stopped waiting: queued, not refused.</summary>
    public const string Unanswered = "unanswered when the run stopped waiting";

    /// <summary>
    /// Requests scheduled at <paramref name="rate"/> per second for warm-up plus the window, each sent at (or as soon as
    /// possible after) its intended time; latency = completion − intended time. Requests intended inside the window count.
    /// </summary>
    public async Task<RunResult> OpenLoopAsync(
        Func<long, HttpRequestMessage> request, HttpStatusCode expected, double rate, TimeSpan warmup, TimeSpan window,
        Action<long, HttpResponseMessage>? onResponse = null, TimeSpan? drainLimit = null)
    {
        var total = (long)(rate * (warmup + window).TotalSeconds);
        var firstMeasured = (long)(rate * warmup.TotalSeconds);
        var interval = Stopwatch.Frequency / rate;
        var latencies = new double[total];
        var outcome = new string?[total];
        var pending = new ConcurrentDictionary<long, Task>();
        var start = Stopwatch.GetTimestamp() + Stopwatch.Frequency / 100;

        for (long i = 0; i < total;)
        {
            var intended = start + (long)(i * interval);
            var now = Stopwatch.GetTimestamp();
            if (intended > now)
            {
                var wait = Stopwatch.GetElapsedTime(now, intended);
                await Task.Delay(wait < TimeSpan.FromMilliseconds(1) ? TimeSpan.FromMilliseconds(1) : wait);
                continue;
            }

            var index = i;
            pending[index] = Task.Run(async () =>
            {
                var (ok, failure) = await SendAsync(request, index, expected, onResponse);
                latencies[index] = Stopwatch.GetElapsedTime(intended).TotalMilliseconds;
                outcome[index] = ok ? null : failure;
                pending.TryRemove(index, out _);
            });
            i++;
        }

        // Wait (bounded) for the stragglers; any still open are failures, not silently dropped.
        var drainUntil = DateTime.UtcNow + (drainLimit ?? TimeSpan.FromSeconds(30));
        while (!pending.IsEmpty && DateTime.UtcNow < drainUntil)
        {
            await Task.Delay(20);
        }

        var unfinished = pending.Keys.ToHashSet();
        var failures = new Dictionary<string, long>();
        var measured = new List<double>((int)(total - firstMeasured));
        long succeeded = 0, failed = 0;
        for (var i = firstMeasured; i < total; i++)
        {
            var failure = unfinished.Contains(i) ? Unanswered : outcome[i];
            if (failure is null)
            {
                succeeded++;
                measured.Add(latencies[i]);
            }
            else
            {
                failed++;
                failures[failure] = failures.GetValueOrDefault(failure) + 1;
            }
        }

        var completed = Enumerable.Range(0, (int)total).LongCount(i => outcome[i] is null && !unfinished.Contains(i));
        return new RunResult(_connections, window.TotalSeconds, succeeded, failed, failures, Latencies.From(measured), rate) { Completed = completed };
    }

    /// <summary>Exactly <paramref name="count"/> requests over all connections (pre-filling); returns how many succeeded.</summary>
    public async Task<long> CountAsync(Func<long, HttpRequestMessage> request, HttpStatusCode expected, long count)
    {
        long next = -1, succeeded = 0;
        var workers = Enumerable.Range(0, _connections).Select(_ => Task.Run(async () =>
        {
            long sequence;
            while ((sequence = Interlocked.Increment(ref next)) < count)
            {
                if ((await SendAsync(request, sequence, expected, null)).Ok)
                {
                    Interlocked.Increment(ref succeeded);
                }
            }
        })).ToArray();
        await Task.WhenAll(workers);
        return succeeded;
    }

    private static long Ticks(TimeSpan span) => (long)(span.TotalSeconds * Stopwatch.Frequency);

    public void Dispose() => _client.Dispose();
}
