using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json;
using IntelSharing.Api.Infrastructure.Audit;
using IntelSharing.Api.Infrastructure.Json;
using IntelSharing.Api.Infrastructure.Problems;
using IntelSharing.Api.Infrastructure.Security;
using Mediator;
using Microsoft.Extensions.Options;

namespace IntelSharing.Api.Features.Feed;

/// <summary>
/// The feed as Server-Sent Events: one event per change (<c>id</c> = position, <c>event</c> = type, <c>data</c> = the
/// change as JSON), read page by page through <see cref="ReadFeed"/> — the same query, the same sharing policy at
/// every page. It resumes after <c>Last-Event-ID</c> (or <c>after</c>), waits for new positions without polling the
/// database (<see cref="FeedSignals.NextPositions"/>), and sends a comment line when idle for a heartbeat interval.
/// </summary>
public static class FeedServerSentEvents
{
    public const string MediaType = "text/event-stream";
    public const string LastEventIdHeader = "Last-Event-ID";

    public static bool IsRequested(HttpRequest request) =>
        request.GetTypedHeaders().Accept.Any(a => a.MediaType.Equals(MediaType, StringComparison.OrdinalIgnoreCase));

    public static async Task<IResult> RunAsync(HttpContext context, Caller caller, string? after, string? limit)
    {
        var services = context.RequestServices;
        var streams = services.GetRequiredService<FeedStreams>();
        var options = services.GetRequiredService<IOptions<FeedOptions>>().Value;
        if (!streams.TryOpen(caller.AgencyId))
        {
            return new Failure(StatusCodes.Status429TooManyRequests, ProblemTypes.RateLimited, "Too many requests",
                $"Your agency already holds {options.MaxStreamsPerAgency} feed streams on this server. Close one, or read the feed as pages.").ToProblem();
        }

        try
        {
            return await StreamAsync(context, caller, context.Request.Headers[LastEventIdHeader].FirstOrDefault() ?? after, limit, options);
        }
        finally
        {
            streams.Close(caller.AgencyId);
        }
    }

    private static async Task<IResult> StreamAsync(HttpContext context, Caller caller, string? after, string? limit, FeedOptions options)
    {
        var services = context.RequestServices;
        var mediator = services.GetRequiredService<IMediator>();
        var signals = services.GetRequiredService<FeedSignals>();
        var time = services.GetRequiredService<TimeProvider>();
        var keys = services.GetRequiredService<ApiKeyLookup>();
        // A stream ends when its client leaves or when this instance stops: shutdown must not wait for streams that never end.
        using var ending = CancellationTokenSource.CreateLinkedTokenSource(
            context.RequestAborted, services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping);
        var aborted = ending.Token;
        var heartbeat = TimeSpan.FromSeconds(options.HeartbeatSeconds);

        // Taken before the first read, so positions that arrive during it wake the first wait (see NextPositions).
        var wake = signals.NextPositions;
        // Validated before anything is written: a bad after or Last-Event-ID is a 400 problem, not a broken stream.
        var page = await mediator.Send(new ReadFeed.Query(caller, after, limit), aborted);
        await services.GetRequiredService<AuditTrail>().RecordAsync(
            new AuditEvent(AuditActions.FeedRead, StatusCodes.Status200OK) { ResourceType = AuditResources.Feed, Detail = new { stream = true, after = page.NextCursor } });

        var response = context.Response;
        response.ContentType = MediaType;
        response.Headers.CacheControl = "no-cache";
        // Asks reverse proxies such as nginx not to buffer the stream.
        response.Headers["X-Accel-Buffering"] = "no";
        var take = new ReadFeed.Query(caller, after, limit).Take;
        try
        {
            await response.WriteAsync($"retry: {(int)heartbeat.TotalMilliseconds}\n\n", aborted);
            // Sends the headers now: a client waiting for them must not wait for the first change.
            await response.Body.FlushAsync(aborted);
            while (true)
            {
                await WriteAsync(response, page, aborted);
                var position = page.NextCursor;
                if (page.Items.Count < take && !await WakeOrHeartbeatAsync(wake, heartbeat, time, aborted))
                {
                    await response.WriteAsync(": heartbeat\n\n", aborted);
                    await response.Body.FlushAsync(aborted);
                }

                wake = signals.NextPositions;
                if (!await KeyStillUsableAsync(keys, caller, time, aborted))
                {
                    // Authentication ran once, at the request; a stream lives for hours. Each page asks again, so a key
                    // revoked or expired (or an agency deactivated) meanwhile is served nothing more.
                    await response.WriteAsync(": ended: the API key is no longer valid\n\n", aborted);
                    break;
                }

                page = await mediator.Send(new ReadFeed.Query(caller, position.ToString(CultureInfo.InvariantCulture), limit), aborted);
            }
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            // The client went away; it resumes with Last-Event-ID.
        }

        return Results.Empty;
    }

    /// <summary>The caller's key as it is now (<see cref="ApiKeyLookup"/>: cached, and emptied at once by a revocation).</summary>
    private static async Task<bool> KeyStillUsableAsync(ApiKeyLookup keys, Caller caller, TimeProvider time, CancellationToken cancellationToken) =>
        await keys.FindAsync(caller.KeyPrefix, cancellationToken) is { } key && key.AgencyId == caller.AgencyId && key.IsUsableAt(time.GetUtcNow());

    /// <summary>
    /// True when new positions arrived, false when the heartbeat interval passed first. A timer of the
    /// <see cref="TimeProvider"/> (a test's fake clock moves it), completed asynchronously and disposed here, never
    /// inside its own callback.
    /// </summary>
    private static async Task<bool> WakeOrHeartbeatAsync(Task wake, TimeSpan heartbeat, TimeProvider time, CancellationToken cancellationToken)
    {
        var beat = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var timer = time.CreateTimer(_ => beat.TrySetResult(), null, heartbeat, Timeout.InfiniteTimeSpan);
        var cancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var registration = cancellationToken.Register(() => cancelled.TrySetCanceled(cancellationToken));
        var first = await Task.WhenAny(wake, beat.Task, cancelled.Task);
        await first;
        return first == wake;
    }

    private static async Task WriteAsync(HttpResponse response, FeedPage page, CancellationToken cancellationToken)
    {
        if (page.Items.Count == 0)
        {
            return;
        }

        var text = new StringBuilder();
        foreach (var change in page.Items)
        {
            text.Append(CultureInfo.InvariantCulture, $"id: {change.Position}\nevent: {change.Type}\ndata: ")
                .Append(JsonSerializer.Serialize(change, JsonDefaults.Options))
                .Append("\n\n");
        }

        await response.WriteAsync(text.ToString(), cancellationToken);
        await response.Body.FlushAsync(cancellationToken);
    }
}

/// <summary>Counts each agency's open event streams on this instance, so that one agency cannot hold every connection.</summary>
public sealed class FeedStreams(IOptions<FeedOptions> options)
{
    private readonly ConcurrentDictionary<Guid, int> _open = new();

    public bool TryOpen(Guid agencyId)
    {
        while (true)
        {
            var current = _open.GetOrAdd(agencyId, 0);
            if (current >= options.Value.MaxStreamsPerAgency)
            {
                return false;
            }

            if (_open.TryUpdate(agencyId, current + 1, current))
            {
                return true;
            }
        }
    }

    public void Close(Guid agencyId) => _open.AddOrUpdate(agencyId, 0, (_, n) => n - 1);
}
