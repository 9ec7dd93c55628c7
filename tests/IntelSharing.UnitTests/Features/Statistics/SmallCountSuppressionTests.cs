using IntelSharing.Api.Features.Statistics;

namespace IntelSharing.UnitTests.Features.Statistics;

public sealed class SmallCountSuppressionTests
{
    [Fact]
    public void Counts_under_the_threshold_are_suppressed_and_zero_is_shown()
    {
        var (cells, total) = SmallCountSuppression.Apply([0, 2, 3, 7], 12, threshold: 5);

        Assert.Equal([0, null, null, 7], cells);
        Assert.Equal(12, total);
    }

    [Fact]
    public void A_lone_suppressed_cell_takes_the_smallest_other_non_zero_cell_with_it()
    {
        var (cells, total) = SmallCountSuppression.Apply([9, 1, 6], 16, threshold: 5);

        Assert.Equal([9, null, null], cells);
        Assert.Equal(16, total);
    }

    [Fact]
    public void A_lone_suppressed_cell_with_no_other_to_hide_behind_suppresses_the_total()
    {
        var (cells, total) = SmallCountSuppression.Apply([0, 0, 2, 0, 5], 7, threshold: 3);

        Assert.Equal([0, 0, null, 0, null], cells);
        Assert.Equal(7, total);

        var (alone, aloneTotal) = SmallCountSuppression.Apply([2, 0], 6, threshold: 3);
        Assert.Equal([null, 0], alone);
        Assert.Null(aloneTotal);
    }

    [Fact]
    public void A_total_under_the_threshold_is_suppressed_and_a_threshold_of_one_suppresses_nothing()
    {
        Assert.Null(SmallCountSuppression.Apply([1, 1], 2, threshold: 5).Total);
        var (cells, total) = SmallCountSuppression.Apply([1, 2], 3, threshold: 1);
        Assert.Equal([1, 2], cells);
        Assert.Equal(3, total);
    }
}
