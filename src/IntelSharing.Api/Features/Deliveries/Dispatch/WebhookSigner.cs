using System.Globalization;
using System.Security.Cryptography;
using System.Text;


namespace IntelSharing.Api.Features.Deliveries.Dispatch;

/// <summary>
/// Standard Webhooks signatures: <c>v1,</c> + base64 HMAC-SHA256 over <c>{webhook-id}.{webhook-timestamp}.{body}</c>,
/// keyed with the base64-decoded part of the <c>whsec_</c> secret. Several secrets (during rotation) give
/// several space-separated signatures, any of which a receiver accepts.
/// </summary>
public static class WebhookSigner
{
    public const string SecretPrefix = "whsec_";

    public static string Sign(string messageId, DateTimeOffset timestamp, ReadOnlySpan<byte> body, IEnumerable<string> secrets)
    {
        // The body is hashed where it lies rather than copied behind the prefix: one body is shared by every delivery of its event.
        var signed = $"{messageId}.{timestamp.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture)}.";
        var room = Encoding.UTF8.GetMaxByteCount(signed.Length);
        Span<byte> prefix = room <= 256 ? stackalloc byte[256] : new byte[room];
        var length = Encoding.UTF8.GetBytes(signed, prefix);
        Span<byte> hash = stackalloc byte[HMACSHA256.HashSizeInBytes];
        var signatures = new StringBuilder();
        foreach (var secret in secrets)
        {
            using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, KeyOf(secret));
            hmac.AppendData(prefix[..length]);
            hmac.AppendData(body);
            hmac.GetHashAndReset(hash);
            signatures.Append(signatures.Length == 0 ? "v1," : " v1,").Append(Convert.ToBase64String(hash));
        }

        return signatures.ToString();
    }

    public static string GenerateSecret() => SecretPrefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    public static byte[] KeyOf(string secret) =>
        Convert.FromBase64String(secret.StartsWith(SecretPrefix, StringComparison.Ordinal) ? secret[SecretPrefix.Length..] : secret);
}
