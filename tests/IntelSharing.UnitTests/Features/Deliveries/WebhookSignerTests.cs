using System.Text;
using IntelSharing.Api.Features.Deliveries.Dispatch;

namespace IntelSharing.UnitTests.Features.Deliveries;

public sealed class WebhookSignerTests
{
    [Fact]
    public void Signing_the_standard_webhooks_reference_vector_gives_the_reference_signature()
    {
        // The vector the official standardwebhooks libraries test against (checked with the npm package).
        var signature = WebhookSigner.Sign(
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            DateTimeOffset.FromUnixTimeSeconds(1614265330),
            Encoding.UTF8.GetBytes("{\"test\": 2432232314}"),
            ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"]);

        Assert.Equal("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", signature);
    }

    [Fact]
    public void Signing_with_two_secrets_during_rotation_gives_two_space_separated_signatures()
    {
        var body = Encoding.UTF8.GetBytes("{\"type\":\"alert.published\"}");
        var old = WebhookSigner.GenerateSecret();
        var current = WebhookSigner.GenerateSecret();

        var both = WebhookSigner.Sign("msg_1", DateTimeOffset.UnixEpoch, body, [current, old]).Split(' ');

        Assert.Equal(2, both.Length);
        Assert.Equal(WebhookSigner.Sign("msg_1", DateTimeOffset.UnixEpoch, body, [current]), both[0]);
        Assert.Equal(WebhookSigner.Sign("msg_1", DateTimeOffset.UnixEpoch, body, [old]), both[1]);
    }

    [Fact]
    public void Generated_secrets_are_whsec_prefixed_base64_of_32_random_bytes()
    {
        var secret = WebhookSigner.GenerateSecret();

        Assert.StartsWith("whsec_", secret);
        Assert.Equal(32, WebhookSigner.KeyOf(secret).Length);
        Assert.NotEqual(secret, WebhookSigner.GenerateSecret());
    }
}
