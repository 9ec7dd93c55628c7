using static IntelSharing.Api.Features.Statistics.ReadStatistics;

namespace IntelSharing.UnitTests.Features.Statistics;

/// <summary>How a report's range is split between the daily roll-up, the hourly one and live counting (ADR 51).</summary>
public sealed class ReportSpansTests
{
    private static readonly DateOnly First = new(2026, 12, 5);

    private static DateTimeOffset At(int day, int hour) => new DateTimeOffset(2026, 12, day, 0, 0, 0, TimeSpan.Zero).AddHours(hour);

    [Fact]
    public void Closed_days_then_todays_rolled_hours_then_the_rest_live_each_one_span()
    {
        var today = First.AddDays(2);
        var spans = Spans(First, today, d => d < today, h => h >= At(7, 0) && h < At(7, 14));

        Assert.Equal(
            [(SpanSource.Days, At(5, 0), At(7, 0)), (SpanSource.Hours, At(7, 0), At(7, 14)), (SpanSource.Live, At(7, 14), At(8, 0))],
            spans);
    }

    [Fact]
    public void A_stale_day_and_a_stale_hour_are_counted_live_between_rolled_spans()
    {
        var spans = Spans(First, First.AddDays(3), d => d != First.AddDays(1) && d < First.AddDays(3), h => h.Hour != 2);

        Assert.Equal(
            [
                (SpanSource.Days, At(5, 0), At(6, 0)),
                (SpanSource.Hours, At(6, 0), At(6, 2)),
                (SpanSource.Live, At(6, 2), At(6, 3)),
                (SpanSource.Hours, At(6, 3), At(7, 0)),
                (SpanSource.Days, At(7, 0), At(8, 0)),
                (SpanSource.Hours, At(8, 0), At(8, 2)),
                (SpanSource.Live, At(8, 2), At(8, 3)),
                (SpanSource.Hours, At(8, 3), At(9, 0)),
            ],
            spans);
    }

    [Fact]
    public void Nothing_rolled_up_is_one_live_span_however_long_the_range()
    {
        var spans = Spans(First, First.AddDays(91), _ => false, _ => false);

        Assert.Equal([(SpanSource.Live, At(5, 0), At(5, 0).AddDays(92))], spans);
    }
}
