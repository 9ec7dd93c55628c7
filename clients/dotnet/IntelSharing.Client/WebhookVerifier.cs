using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace IntelSharing.Client;

/// <summary>
/// Checks that a webhook came from IntelSharing, as the Standard Webhooks specification describes: the
/// <c>webhook-signature</c> header holds one or more <c>v1,&lt;base64 HMAC-SHA256&gt;</c> signatures (two during a secret
/// rotation) of <c>webhook-id.webhook-timestamp.body</c> under the subscription's <c>whsec_</c> secret, and
/// <c>webhook-timestamp</c> must be recent, so a captured request cannot be replayed later.
/// </summary>
public sealed class WebhookVerifier
{
    private const string SecretPrefix = "whsec_";
    private const string SignaturePrefix = "v1,";

    private readonly byte[] _key;
    private readonly TimeProvider _time;

    /// <param name="secret">The signing secret shown when the subscription was created or its secret rotated (whsec_…).</param>
    /// <param name="time">The clock the timestamp is checked against; the system clock when null.</param>
    public WebhookVerifier(string secret, TimeProvider? time = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(secret);
        var encoded = secret.StartsWith(SecretPrefix, StringComparison.Ordinal) ? secret[SecretPrefix.Length..] : secret;
        try
        {
            _key = Convert.FromBase64String(encoded);
        }
        catch (FormatException)
        {
            throw new ArgumentException("The secret is not a whsec_ secret (base64 after the prefix).", nameof(secret));
        }

        _time = time ?? TimeProvider.System;
    }

    /// <summary>How far the webhook-timestamp may be from now, either way. Five minutes, as the specification's libraries use.</summary>
    public TimeSpan Tolerance { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Whether the request is authentic and recent. <paramref name="body"/> is the raw body, exactly as received.</summary>
    public bool IsValid(string? webhookId, string? webhookTimestamp, string? webhookSignature, string body) =>
        Verify(webhookId, webhookTimestamp, webhookSignature, body) is null;

    /// <summary>Null when the request is authentic and recent; otherwise why it is not (for the receiver's log, not for the caller).</summary>
    public string? Verify(string? webhookId, string? webhookTimestamp, string? webhookSignature, string body)
    {
        ArgumentNullException.ThrowIfNull(body);
        if (string.IsNullOrEmpty(webhookId) || string.IsNullOrEmpty(webhookTimestamp) || string.IsNullOrEmpty(webhookSignature))
        {
            return "A webhook-id, webhook-timestamp or webhook-signature header is missing.";
        }

        if (!long.TryParse(webhookTimestamp, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
        {
            return "webhook-timestamp is not a Unix time in seconds.";
        }

        var sent = DateTimeOffset.FromUnixTimeSeconds(Math.Clamp(seconds, 0, DateTimeOffset.MaxValue.ToUnixTimeSeconds()));
        if ((_time.GetUtcNow() - sent).Duration() > Tolerance)
        {
            return "webhook-timestamp is outside the tolerance: an old request replayed, or a clock far off.";
        }

        var expected = HMACSHA256.HashData(_key, Encoding.UTF8.GetBytes($"{webhookId}.{webhookTimestamp}.{body}"));
        Span<byte> signature = stackalloc byte[64];
        foreach (var candidate in webhookSignature.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            if (!candidate.StartsWith(SignaturePrefix, StringComparison.Ordinal))
            {
                continue;
            }

            if (Convert.TryFromBase64String(candidate[SignaturePrefix.Length..], signature, out var length)
                && CryptographicOperations.FixedTimeEquals(signature[..length], expected))
            {
                return null;
            }
        }

        return "No v1 signature matches: the body was changed, or the secret is not this subscription's.";
    }
}
