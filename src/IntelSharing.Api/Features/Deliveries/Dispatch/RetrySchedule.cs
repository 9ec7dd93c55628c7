using Microsoft.Extensions.Options;


namespace IntelSharing.Api.Features.Deliveries.Dispatch;

/// <summary>
/// When the next attempt happens. The schedule lives in the database (deliveries.next_attempt_at), so it
/// survives restarts; this only computes the next time. A partner's Retry-After is honoured up to a bound.
/// </summary>
public sealed class RetrySchedule(IOptions<DeliveryOptions> options, Random random)
{
    private readonly IReadOnlyList<TimeSpan> _delays = options.Value.ParsedSchedule();
    private readonly double _jitter = options.Value.Jitter;
    private readonly TimeSpan _maxRetryAfter = options.Value.MaxRetryAfter;

    public int MaxAttempts => _delays.Count;

    /// <summary>The next attempt time after <paramref name="attemptsMade"/> failed attempts, or null when the delivery is dead.</summary>
    public DateTimeOffset? Next(int attemptsMade, DateTimeOffset now, TimeSpan? retryAfter)
    {
        if (attemptsMade >= _delays.Count)
        {
            return null;
        }

        var delay = _delays[attemptsMade];
        if (_jitter > 0 && delay > TimeSpan.Zero)
        {
            delay *= 1 + (((random.NextDouble() * 2) - 1) * _jitter);
        }

        if (retryAfter is { } requested && requested > delay)
        {
            delay = requested < _maxRetryAfter ? requested : _maxRetryAfter;
        }

        return now + delay;
    }
}
