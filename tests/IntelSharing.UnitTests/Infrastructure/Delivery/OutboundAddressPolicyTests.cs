using System.Net;
using IntelSharing.Api.Infrastructure.Delivery;

namespace IntelSharing.UnitTests.Infrastructure.Delivery;

public sealed class OutboundAddressPolicyTests
{
    private static OutboundAddressPolicy Policy(bool allowHttp = false, params string[] allowed) =>
        new(allowHttp, allowed);

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("10.1.2.3")]
    [InlineData("172.20.0.5")]
    [InlineData("192.168.1.10")]
    [InlineData("169.254.169.254")]
    [InlineData("100.64.0.1")]
    [InlineData("0.0.0.0")]
    [InlineData("::1")]
    [InlineData("fd00::1")]
    [InlineData("fe80::1")]
    [InlineData("::ffff:127.0.0.1")]
    public void Internal_addresses_are_refused(string address) => Assert.False(Policy().IsAllowed(IPAddress.Parse(address)));

    [Theory]
    [InlineData("::7f00:1")] // IPv4-compatible 127.0.0.1
    [InlineData("::a9fe:a9fe")] // IPv4-compatible 169.254.169.254
    [InlineData("::808:808")] // IPv4-compatible, even of a public address: deprecated, never a partner's address
    [InlineData("::ffff:0:7f00:1")] // IPv4-translated (SIIT) 127.0.0.1
    [InlineData("2002:7f00:1::1")] // 6to4 of 127.0.0.1
    [InlineData("2002:a9fe:a9fe::1")] // 6to4 of 169.254.169.254
    [InlineData("2002:808:808::1")] // 6to4 of a public address: a tunnel to an embedded IPv4 we do not follow
    [InlineData("64:ff9b:1::a9fe:a9fe")] // local-use NAT64 (RFC 8215)
    [InlineData("64:ff9b:1:7f00:1::")] // local-use NAT64 with a /56 prefix: the IPv4 sits elsewhere
    [InlineData("2001:0:4136:e378:8000:63bf:80ff:fffe")] // Teredo, client 127.0.0.1 (obfuscated)
    [InlineData("2001::1")] // Teredo
    [InlineData("fec0::1")] // site-local (deprecated)
    [InlineData("3fff::1")] // documentation (RFC 9637)
    [InlineData("5f00::1")] // SRv6 segment id
    public void Ipv6_forms_that_carry_an_ipv4_address_we_cannot_judge_are_refused(string address) =>
        Assert.False(Policy().IsAllowed(IPAddress.Parse(address)));

    [Theory]
    [InlineData("64:ff9b::7f00:1", false)] // well-known NAT64 of 127.0.0.1
    [InlineData("64:ff9b::a9fe:a9fe", false)] // of 169.254.169.254
    [InlineData("64:ff9b::a00:8", false)] // of 10.0.0.8
    [InlineData("64:ff9b::808:808", true)] // of 8.8.8.8: how an IPv6-only deployment reaches a public partner
    [InlineData("::ffff:169.254.169.254", false)]
    [InlineData("::ffff:10.0.0.8", false)]
    [InlineData("::ffff:185.220.101.4", true)]
    public void Well_known_nat64_and_ipv4_mapped_addresses_are_judged_by_the_ipv4_address_they_reach(string address, bool allowed) =>
        Assert.Equal(allowed, Policy().IsAllowed(IPAddress.Parse(address)));

    [Fact]
    public void A_network_allowed_for_one_agency_is_refused_for_every_other_agency()
    {
        var policy = Policy();
        var agencyA = AllowedNetworks.From([IPNetwork.Parse("10.20.0.0/16")]);

        Assert.True(policy.IsAllowed(IPAddress.Parse("10.20.3.4"), agencyA));
        Assert.True(policy.IsAllowed(IPAddress.Parse("::ffff:10.20.3.4"), agencyA));
        Assert.True(policy.IsAllowed(IPAddress.Parse("64:ff9b::a14:304"), agencyA));
        Assert.False(policy.IsAllowed(IPAddress.Parse("::a14:304"), agencyA)); // IPv4-compatible stays refused
        Assert.False(policy.IsAllowed(IPAddress.Parse("10.21.3.4"), agencyA));
        Assert.False(policy.IsAllowed(IPAddress.Parse("10.20.3.4"), AllowedNetworks.None));
        Assert.False(policy.IsAllowed(IPAddress.Parse("10.20.3.4")));
    }

    [Theory]
    [InlineData("10.20.0.0/16", true)]
    [InlineData("127.0.0.0/8", true)]
    [InlineData("fd00:1::/64", true)]
    [InlineData("0.0.0.0/0", false)]
    [InlineData("8.0.0.0/7", false)]
    [InlineData("185.220.101.0/24", false)]
    [InlineData("::/0", false)]
    [InlineData("2000::/3", false)]
    public void Only_ranges_inside_a_refused_range_can_be_allowed_for_an_agency(string network, bool allowable) =>
        Assert.Equal(allowable, OutboundAddressPolicy.IsInternalRange(IPNetwork.Parse(network)));

    [Fact]
    public void An_allowance_is_canonical_whatever_order_it_was_given_in() =>
        Assert.Equal(
            AllowedNetworks.From([IPNetwork.Parse("fd00:1::/64"), IPNetwork.Parse("10.20.0.0/16"), IPNetwork.Parse("10.20.0.0/16")]).Key,
            AllowedNetworks.FromColumn("10.20.0.0/16 fd00:1::/64").Key);

    [Theory]
    [InlineData("185.220.101.4")]
    [InlineData("2a00:1450:4001:82a::200e")]
    public void Public_addresses_are_allowed(string address) => Assert.True(Policy().IsAllowed(IPAddress.Parse(address)));

    [Fact]
    public void An_operator_can_allow_a_private_network_explicitly()
    {
        var policy = Policy(false, "10.20.0.0/16");

        Assert.True(policy.IsAllowed(IPAddress.Parse("10.20.3.4")));
        Assert.False(policy.IsAllowed(IPAddress.Parse("10.21.3.4")));
    }

    [Theory]
    [InlineData("http://partner.example/hook", "https")]
    [InlineData("https://user:secret@partner.example/hook", "credentials")]
    [InlineData("https://127.0.0.1/hook", "loopback")]
    [InlineData("https://[::1]/hook", "loopback")]
    [InlineData("https://[2002:a9fe:a9fe::1]/hook", "loopback")]
    [InlineData("https://[64:ff9b::a9fe:a9fe]/hook", "loopback")]
    [InlineData("https://169.254.169.254/latest/meta-data", "loopback")]
    [InlineData("/relative/hook", "absolute")]
    public void Registration_refuses_urls_we_must_not_call(string url, string reason) =>
        Assert.Contains(reason, Policy().CheckUrl(url), StringComparison.OrdinalIgnoreCase);

    [Fact]
    public void Registration_accepts_an_https_url_with_a_host_name() => Assert.Null(Policy().CheckUrl("https://webhooks.police.hu/intelsharing"));

    [Fact]
    public void Plain_http_is_accepted_only_when_configured() => Assert.Null(Policy(allowHttp: true).CheckUrl("http://partner.example/hook"));
}
