using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.Extensions.Options;

using IntelSharing.Api.Infrastructure.Delivery;

namespace IntelSharing.Api.Features.Deliveries.Dispatch;

/// <summary>
/// The outcome of one attempt, as recorded in delivery_attempts. <c>Deferred</c> means the partner's pipeline
/// refused to send (breaker open): that is not an attempt. <c>BodyTimedOut</c>: the partner
/// answered its status in time but not the body it announced; the status counts, the partner is not trusted with more.
/// <c>Interrupted</c>: shutdown cut the send off; it counts as an attempt and is due again at once.
/// </summary>
public sealed record AttemptOutcome(
    bool Deferred, int? StatusCode, string? Error, string? ResponseExcerpt, TimeSpan Duration, TimeSpan? RetryAfter, bool BodyTimedOut = false,
    bool Interrupted = false)
{
    public bool Succeeded => StatusCode is >= 200 and < 300;

    public bool Gone => StatusCode == (int)HttpStatusCode.Gone;
}

/// <summary>
/// Sends one signed webhook through the partner pipeline and reports what happened; never throws for partner failures.
/// What it reports back is bounded so that the API cannot be used to probe networks: every failure without an HTTP
/// answer (refused by the address policy, unknown name, refused port, TLS failure, timeout) is the one
/// <see cref="NotReachable"/> message, with the details in the server log at debug level; and no body excerpt is kept
/// from a destination that may have been an internal address.
/// </summary>
public sealed class WebhookSender(IHttpClientFactory clients, TimeProvider time, IOptions<DeliveryOptions> options, ILogger<WebhookSender> logger)
{
    public const int ExcerptLength = 512;

    /// <summary>The only thing said about an attempt that got no HTTP answer, whatever the reason.</summary>
    public const string NotReachable = "The endpoint could not be reached.";

    public async Task<AttemptOutcome> SendAsync(
        Uri endpoint, string messageId, byte[] body, IReadOnlyList<string> secrets, AllowedNetworks allowance, CancellationToken cancellationToken)
    {
        var timestamp = time.GetUtcNow();
        using var request = new HttpRequestMessage(HttpMethod.Post, endpoint)
        {
            Content = new ByteArrayContent(body),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        request.Headers.Add("webhook-id", messageId);
        request.Headers.Add("webhook-timestamp", timestamp.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture));
        request.Headers.Add("webhook-signature", WebhookSigner.Sign(messageId, timestamp, body, secrets));
        request.Options.Set(PartnerConnections.Allowance, allowance);

        var stopwatch = Stopwatch.StartNew();
        // The pipeline's timeout ends when the headers arrive (ResponseHeadersRead); the body is read after it. This deadline
        // covers the whole attempt, so a partner that sends headers and then nothing cannot hold a worker for ever.
        using var attempt = new CancellationTokenSource(options.Value.AttemptTimeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, attempt.Token);
        try
        {
            using var client = clients.CreateClient(PartnerHttp.ClientName);
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            // Absent flag: the request did not pass the partner connections handler as expected; show nothing.
            var mayShowBody = request.Options.TryGetValue(PartnerConnections.InternalDestination, out var internalDestination) && !internalDestination;
            // Read within the attempt's deadline whatever the destination (a body that never comes is cut and costs the partner
            // its standing), but kept only where it may be shown.
            var (excerpt, bodyTimedOut) = await ReadExcerptAsync(response, linked.Token, attempt.Token);
            return new AttemptOutcome(
                false, (int)response.StatusCode, null, mayShowBody ? excerpt : null, stopwatch.Elapsed, RetryAfter(response, timestamp), bodyTimedOut);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            var deferred = PartnerHttp.IsDeferred(ex);
            if (!deferred)
            {
                logger.LogDebug("Webhook {MessageId} to {Authority} got no answer: {Reason}", messageId, endpoint.Authority,
                    PartnerHttp.IsTimeout(ex) ? "attempt timeout" : Describe(ex));
            }

            return new AttemptOutcome(deferred, null, deferred ? null : NotReachable, null, stopwatch.Elapsed, null);
        }
    }

    private static string Describe(Exception exception)
    {
        var builder = new StringBuilder(exception.GetType().Name).Append(": ").Append(exception.Message);
        for (var inner = exception.InnerException; inner is not null; inner = inner.InnerException)
        {
            builder.Append(" → ").Append(inner.Message);
        }

        return builder.Length > 1000 ? builder.ToString(0, 1000) : builder.ToString();
    }

    /// <summary>Up to <see cref="ExcerptLength"/> bytes of the body, or what arrived before the attempt's deadline.</summary>
    private static async Task<(string? Excerpt, bool TimedOut)> ReadExcerptAsync(
        HttpResponseMessage response, CancellationToken cancellationToken, CancellationToken deadline)
    {
        var buffer = new byte[ExcerptLength];
        var read = 0;
        var timedOut = false;
        try
        {
            await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
            int n;
            while (read < buffer.Length && (n = await stream.ReadAsync(buffer.AsMemory(read), cancellationToken)) > 0)
            {
                read += n;
            }
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            timedOut = true;
        }

        return (read == 0 ? null : Encoding.UTF8.GetString(buffer, 0, read), timedOut);
    }

    private static TimeSpan? RetryAfter(HttpResponseMessage response, DateTimeOffset now)
    {
        if (response.StatusCode is not (HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable))
        {
            return null;
        }

        var header = response.Headers.RetryAfter;
        return header?.Delta ?? (header?.Date is { } date ? date - now : null);
    }
}
