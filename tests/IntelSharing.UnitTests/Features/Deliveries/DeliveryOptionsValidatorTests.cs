using IntelSharing.Api.Features.Deliveries.Dispatch;

namespace IntelSharing.UnitTests.Features.Deliveries;

public sealed class DeliveryOptionsValidatorTests
{
    private static IEnumerable<string> Errors(DeliveryOptions options) =>
        new DeliveryOptionsValidator().Validate(null, options).Failures ?? [];

    [Theory]
    [InlineData(0)]
    [InlineData(33)]
    public void A_per_agency_share_outside_one_to_the_worker_count_is_refused_at_start(int share) =>
        Assert.Contains(Errors(new DeliveryOptions { Workers = 32, PerAgencyConcurrency = share }),
            e => e.StartsWith("Delivery__PerAgencyConcurrency must be between 1 and Delivery__Workers", StringComparison.Ordinal));

    [Theory]
    [InlineData(0)]
    [InlineData(10001)]
    public void A_subscription_cap_outside_one_to_ten_thousand_is_refused_at_start(int cap) =>
        Assert.Contains("Delivery__MaxSubscriptionsPerAgency must be between 1 and 10000.", Errors(new DeliveryOptions { MaxSubscriptionsPerAgency = cap }));

    [Theory]
    [InlineData(-1)]
    [InlineData(301)]
    public void A_shutdown_grace_outside_zero_to_five_minutes_is_refused_at_start(int seconds) =>
        Assert.Contains(Errors(new DeliveryOptions { ShutdownGraceSeconds = seconds }),
            e => e.StartsWith("Delivery__ShutdownGraceSeconds must be between 0 and 300", StringComparison.Ordinal));

    [Fact]
    public void Unset_the_per_agency_share_is_a_quarter_of_the_workers_and_at_least_one()
    {
        Assert.Empty(Errors(new DeliveryOptions()));
        Assert.Equal(8, new DeliveryOptions { Workers = 32 }.AgencyShare);
        Assert.Equal(1, new DeliveryOptions { Workers = 2 }.AgencyShare);
        Assert.Equal(3, new DeliveryOptions { Workers = 32, PerAgencyConcurrency = 3 }.AgencyShare);
    }
}
