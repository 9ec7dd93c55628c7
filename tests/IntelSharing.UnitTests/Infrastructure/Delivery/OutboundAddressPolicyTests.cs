using System.Net;
using IntelSharing.Api.Infrastructure.Delivery;
using Microsoft.Extensions.Options;

namespace IntelSharing.UnitTests.Infrastructure.Delivery;

public sealed class OutboundAddressPolicyTests
{
    private static OutboundAddressPolicy Policy(bool allowHttp = false, params string[] allowed) =>
        new(Options.Create(new DeliveryOptions { AllowHttp = allowHttp, AllowedPrivateNetworks = allowed }));

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
    [InlineData("https://169.254.169.254/latest/meta-data", "loopback")]
    [InlineData("/relative/hook", "absolute")]
    public void Registration_refuses_urls_we_must_not_call(string url, string reason) =>
        Assert.Contains(reason, Policy().CheckUrl(url), StringComparison.OrdinalIgnoreCase);

    [Fact]
    public void Registration_accepts_an_https_url_with_a_host_name() => Assert.Null(Policy().CheckUrl("https://webhooks.police.hu/intelsharing"));

    [Fact]
    public void Plain_http_is_accepted_only_when_configured() => Assert.Null(Policy(allowHttp: true).CheckUrl("http://partner.example/hook"));
}
