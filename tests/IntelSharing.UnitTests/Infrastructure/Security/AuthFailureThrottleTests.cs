using IntelSharing.Api.Infrastructure.Security;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace IntelSharing.UnitTests.Infrastructure.Security;

public sealed class AuthFailureThrottleTests
{
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 3, 1, 8, 0, 0, TimeSpan.Zero));

    private AuthFailureThrottle Throttle() =>
        new(_clock, Options.Create(new AbuseLimitOptions { AuthFailuresPerClient = 3, AuthFailureWindowSeconds = 300 }));

    [Fact]
    public void An_address_is_throttled_from_its_nth_failure_until_the_window_that_began_with_its_first_failure_ends()
    {
        var throttle = Throttle();

        Assert.False(throttle.RecordFailure("198.51.100.4"));
        _clock.Advance(TimeSpan.FromSeconds(100));
        Assert.False(throttle.RecordFailure("198.51.100.4"));
        Assert.Null(throttle.RetryAfter("198.51.100.4"));
        Assert.True(throttle.RecordFailure("198.51.100.4"));

        Assert.Equal(TimeSpan.FromSeconds(200), throttle.RetryAfter("198.51.100.4"));
        Assert.Null(throttle.RetryAfter("198.51.100.5"));
        _clock.Advance(TimeSpan.FromSeconds(200));
        Assert.Null(throttle.RetryAfter("198.51.100.4"));
    }

    [Fact]
    public void Only_the_failure_that_reaches_the_limit_reports_it_so_throttling_is_audited_once()
    {
        var throttle = Throttle();

        var reached = Enumerable.Range(0, 6).Select(_ => throttle.RecordFailure("198.51.100.4")).ToList();

        Assert.Equal([false, false, true, false, false, false], reached);
    }

    [Fact]
    public void A_failure_after_the_window_starts_a_new_count()
    {
        var throttle = Throttle();
        throttle.RecordFailure("198.51.100.4");
        throttle.RecordFailure("198.51.100.4");

        _clock.Advance(TimeSpan.FromSeconds(301));

        Assert.False(throttle.RecordFailure("198.51.100.4"));
        Assert.Null(throttle.RetryAfter("198.51.100.4"));
    }
}
