using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using IntelSharing.Client;
using Microsoft.Extensions.Time.Testing;

namespace IntelSharing.UnitTests.Clients;

/// <summary>The .NET client's Standard Webhooks check: what it accepts and what it refuses, against signatures computed here from the spec.</summary>
public sealed class WebhookVerifierTests
{
    private const string Secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    private const string OtherSecret = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
    private const string Id = "msg_01a1fa58491e7ca19f35744d4250ed11";
    private const string Body = """{"type":"alert.published","timestamp":"2026-11-20T19:04:12.318204Z","data":{"id":"01a1fa58-491e-7ca1-9f35-744d4250ed11"}}""";

    private static readonly DateTimeOffset Now = new(2026, 11, 20, 19, 4, 13, TimeSpan.Zero);

    private static string Timestamp(DateTimeOffset at) => at.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);

    private static string Sign(string secret, string timestamp, string body) =>
        "v1," + Convert.ToBase64String(HMACSHA256.HashData(Convert.FromBase64String(secret["whsec_".Length..]), Encoding.UTF8.GetBytes($"{Id}.{timestamp}.{body}")));

    private static WebhookVerifier Verifier() => new(Secret, new FakeTimeProvider(Now));

    [Fact]
    public void A_request_signed_with_the_secret_and_sent_now_is_valid()
    {
        var timestamp = Timestamp(Now);

        Assert.True(Verifier().IsValid(Id, timestamp, Sign(Secret, timestamp, Body), Body));
    }

    [Fact]
    public void During_a_rotation_either_signature_in_the_header_is_enough()
    {
        var timestamp = Timestamp(Now);
        var header = $"{Sign(OtherSecret, timestamp, Body)} {Sign(Secret, timestamp, Body)}";

        Assert.True(Verifier().IsValid(Id, timestamp, header, Body));
    }

    [Fact]
    public void A_changed_body_or_another_secret_is_refused()
    {
        var timestamp = Timestamp(Now);

        Assert.Equal("No v1 signature matches: the body was changed, or the secret is not this subscription's.",
            Verifier().Verify(Id, timestamp, Sign(Secret, timestamp, Body), Body.Replace("published", "updated", StringComparison.Ordinal)));
        Assert.False(Verifier().IsValid(Id, timestamp, Sign(OtherSecret, timestamp, Body), Body));
    }

    [Fact]
    public void A_request_replayed_ten_minutes_later_is_refused()
    {
        var timestamp = Timestamp(Now.AddMinutes(-10));

        Assert.Equal("webhook-timestamp is outside the tolerance: an old request replayed, or a clock far off.",
            Verifier().Verify(Id, timestamp, Sign(Secret, timestamp, Body), Body));
    }

    [Theory]
    [InlineData(null, "1795842471", "v1,abc")]
    [InlineData(Id, "yesterday", "v1,abc")]
    [InlineData(Id, "1795842471", "v1,not base64!")]
    public void Missing_or_malformed_headers_are_refused_without_throwing(string? id, string timestamp, string signature)
    {
        Assert.False(Verifier().IsValid(id, timestamp, signature, Body));
    }
}
