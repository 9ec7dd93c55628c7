using IntelSharing.Api.Features.Deliveries.Dispatch;

namespace IntelSharing.UnitTests.Features.Deliveries;

public sealed class PartnerConcurrencyTests
{
    private const string Partner = "https://intake.police.hu:443";

    [Fact]
    public void A_partner_that_has_not_answered_yet_may_have_one_request_open() =>
        Assert.Equal(1, new PartnerConcurrency(8).Allowed(Partner));

    [Fact]
    public void Each_success_doubles_the_allowance_up_to_the_limit()
    {
        var concurrency = new PartnerConcurrency(8);

        var allowances = Enumerable.Range(0, 5).Select(_ =>
        {
            concurrency.Succeeded(Partner);
            return concurrency.Allowed(Partner);
        }).ToList();

        Assert.Equal([2, 4, 8, 8, 8], allowances);
    }

    [Fact]
    public void A_failure_puts_the_partner_back_to_one_request_and_leaves_others_alone()
    {
        var concurrency = new PartnerConcurrency(8);
        const string other = "https://cert.example.rs:8443";
        foreach (var authority in new[] { Partner, Partner, Partner, other, other, other })
        {
            concurrency.Succeeded(authority);
        }

        concurrency.Failed(Partner);

        Assert.Equal(1, concurrency.Allowed(Partner));
        Assert.Equal(8, concurrency.Allowed(other));
        Assert.Equal(8, concurrency.Allowed(other.ToUpperInvariant()));
    }

    [Fact]
    public void A_limit_of_one_stays_one() => Assert.Equal(1, Allow(new PartnerConcurrency(1)));

    private static int Allow(PartnerConcurrency concurrency)
    {
        concurrency.Succeeded(Partner);
        return concurrency.Allowed(Partner);
    }
}
