using IntelSharing.Api.Features.Deliveries.Dispatch;
using Microsoft.Extensions.Options;

namespace IntelSharing.UnitTests.Features.Deliveries;

public sealed class RetryScheduleTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 28, 3, 0, 0, TimeSpan.Zero);

    [Fact]
    public void The_default_schedule_spans_ten_attempts_over_about_four_days_then_gives_up()
    {
        var schedule = new RetrySchedule(Options.Create(new DeliveryOptions { Jitter = 0 }), new Random(1));

        var delays = Enumerable.Range(0, 10).Select(n => schedule.Next(n, Now, null)!.Value - Now).ToList();

        Assert.Equal(
            [TimeSpan.Zero, TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(30), TimeSpan.FromHours(2),
             TimeSpan.FromHours(5), TimeSpan.FromHours(10), TimeSpan.FromHours(14), TimeSpan.FromHours(20), TimeSpan.FromHours(24)],
            delays);
        Assert.Null(schedule.Next(10, Now, null));
    }

    [Fact]
    public void Jitter_spreads_each_delay_within_the_configured_fraction()
    {
        var schedule = new RetrySchedule(Options.Create(new DeliveryOptions { Jitter = 0.1 }), new Random(7));

        var delays = Enumerable.Range(0, 200).Select(_ => schedule.Next(4, Now, null)!.Value - Now).ToList();

        Assert.All(delays, d => Assert.InRange(d, TimeSpan.FromHours(1.8), TimeSpan.FromHours(2.2)));
        Assert.True(delays.Distinct().Count() > 100, "jittered delays differ");
    }

    [Fact]
    public void Retry_after_longer_than_the_schedule_is_honoured_up_to_the_bound()
    {
        var schedule = new RetrySchedule(Options.Create(new DeliveryOptions { Jitter = 0, MaxRetryAfter = TimeSpan.FromHours(1) }), new Random(1));

        Assert.Equal(Now + TimeSpan.FromMinutes(10), schedule.Next(1, Now, TimeSpan.FromMinutes(10)));
        Assert.Equal(Now + TimeSpan.FromHours(1), schedule.Next(1, Now, TimeSpan.FromDays(3)));
        Assert.Equal(Now + TimeSpan.FromMinutes(5), schedule.Next(2, Now, TimeSpan.FromSeconds(1)));
    }
}
