using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace IntelSharing.IntegrationTests.Infrastructure;

/// <summary>A request a partner endpoint received, with what the tests check.</summary>
public sealed record ReceivedWebhook(string Id, string Timestamp, string Signature, string Body)
{
    public JsonElement Json => JsonDocument.Parse(Body).RootElement;

    public string Type => Json.GetProperty("type").GetString()!;

    /// <summary>When it arrived (<see cref="System.Diagnostics.Stopwatch"/> ticks), for tests that measure delivery rates.</summary>
    public long ArrivedAt { get; init; }

    /// <summary>The W3C <c>traceparent</c> header as received; empty when none was sent.</summary>
    public string TraceParent { get; init; } = string.Empty;

    /// <summary>Verifies the signature as the Standard Webhooks spec describes, independently of the product's signer.</summary>
    public bool VerifiesWith(string secret)
    {
        var key = Convert.FromBase64String(secret["whsec_".Length..]);
        var expected = "v1," + Convert.ToBase64String(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes($"{Id}.{Timestamp}.{Body}")));
        return Signature.Split(' ').Any(s => CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(s), Encoding.ASCII.GetBytes(expected)));
    }
}

/// <summary>
/// A real HTTP listener on loopback standing in for a partner agency's endpoint. Its behaviour is a function
/// of the request number, so a test can make it fail twice and then succeed, answer 429 or 410, or hang.
/// </summary>
public sealed class PartnerReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<ReceivedWebhook> _received = new();
    private readonly SemaphoreSlim _arrivals = new(0);
    private readonly CancellationTokenSource _stopping = new();
    private int _count;

    private PartnerReceiver(WebApplication app) => _app = app;

    /// <summary>What to answer to the n-th request (1-based). Default: 204.</summary>
    public Func<int, Response> Behaviour { get; set; } = _ => new Response(HttpStatusCode.NoContent);

    /// <summary>What to answer; <c>Delay</c>: how long the partner takes to answer, after it has recorded the request.</summary>
    public sealed record Response(HttpStatusCode Status, string? RetryAfter = null, bool Hang = false, string? Body = null, TimeSpan? Delay = null);

    /// <summary>Requests that reached the handler, hanging ones included.</summary>
    public int Requests => Volatile.Read(ref _count);

    public string Url { get; private set; } = string.Empty;

    public IReadOnlyList<ReceivedWebhook> Received => _received.ToArray();

    public static async Task<PartnerReceiver> StartAsync()
    {
        var app = LoopbackListener.Create();
        var receiver = new PartnerReceiver(app);
        app.MapPost("/{**path}", (Delegate)receiver.HandleAsync);
        receiver.Url = await LoopbackListener.StartAsync(app) + "/webhooks/intelsharing";
        return receiver;
    }

    private async Task<IResult> HandleAsync(HttpContext context)
    {
        using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
        var body = await reader.ReadToEndAsync();
        var number = Interlocked.Increment(ref _count);
        var response = Behaviour(number);
        if (response.Hang)
        {
            // A partner that accepts the connection and never answers.
            await Task.Delay(Timeout.Infinite, CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, _stopping.Token).Token)
                .ContinueWith(_ => { }, TaskScheduler.Default);
            return Results.StatusCode(499);
        }

        _received.Enqueue(new ReceivedWebhook(
            context.Request.Headers["webhook-id"].ToString(),
            context.Request.Headers["webhook-timestamp"].ToString(),
            context.Request.Headers["webhook-signature"].ToString(),
            body)
        {
            ArrivedAt = System.Diagnostics.Stopwatch.GetTimestamp(),
            TraceParent = context.Request.Headers["traceparent"].ToString(),
        });
        _arrivals.Release();
        if (response.Delay is { } delay)
        {
            await Task.Delay(delay, _stopping.Token).ContinueWith(_ => { }, TaskScheduler.Default);
        }

        if (response.RetryAfter is not null)
        {
            context.Response.Headers.RetryAfter = response.RetryAfter;
        }

        return response.Body is null
            ? Results.StatusCode((int)response.Status)
            : Results.Text(response.Body, "text/plain", Encoding.UTF8, (int)response.Status);
    }

    /// <summary>Waits until at least <paramref name="count"/> requests were recorded (bounded, so a broken dispatcher fails the test).</summary>
    public async Task WaitForAsync(int count, TimeSpan? within = null)
    {
        using var timeout = new CancellationTokenSource(within ?? TimeSpan.FromSeconds(30));
        while (_received.Count < count)
        {
            try
            {
                await _arrivals.WaitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"The partner received {_received.Count} of {count} expected requests.");
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        await _app.StopAsync();
        await _app.DisposeAsync();
        _stopping.Dispose();
        _arrivals.Dispose();
    }
}
