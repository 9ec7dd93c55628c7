using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using IntelSharing.Api.Infrastructure.Delivery;
using Microsoft.Extensions.Options;

namespace IntelSharing.Api.Infrastructure.Audit;

/// <summary>
/// Signs the chain head a verification answer reports (record count, last seq, last hash) with HMAC-SHA256 under
/// a key that is not in the database (<c>Audit__HeadSigningKey</c>, else derived from <c>Secrets__EncryptionKey</c>).
/// Someone who can only write to the database can truncate the chain and rewrite its head, but cannot produce a
/// signed head for the result; a client that kept an earlier signed head hands it back to verify and learns
/// whether it is still a prefix of the chain.
/// </summary>
public sealed class AuditHeadSigner
{
    public const string Algorithm = "HMAC-SHA256";
    private const string Purpose = "intelsharing-audit-head-v1";

    private readonly byte[] _key;

    public AuditHeadSigner(IOptions<AuditOptions> options, SecretProtector secrets)
    {
        _key = options.Value.HeadSigningKey is { } configured ? Convert.FromBase64String(configured) : secrets.DeriveKey(Purpose);
        // Names the key without revealing it, so a client can tell a head signed under a rotated key from a forged one.
        KeyId = Convert.ToHexStringLower(SHA256.HashData([.. Encoding.UTF8.GetBytes(Purpose), .. _key])[..8]);
    }

    public string KeyId { get; }

    public static bool IsValidKey(string base64)
    {
        var buffer = new byte[base64.Length];
        return Convert.TryFromBase64String(base64, buffer, out var length) && length == 32;
    }

    /// <summary>
    /// The bytes signed: the format name and the three numbers on their own lines, e.g.
    /// <c>intelsharing-audit-head-v1\nrecords=42\nseq=42\nhash=ab…</c> (UTF-8, no trailing newline).
    /// </summary>
    public static byte[] Statement(long records, long seq, string hashHex) =>
        Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{Purpose}\nrecords={records}\nseq={seq}\nhash={hashHex}"));

    /// <summary>Lower-case hex of the HMAC over <see cref="Statement"/>.</summary>
    public string Sign(long records, long seq, string hashHex) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(_key, Statement(records, seq, hashHex)));

    /// <summary>Whether <paramref name="signatureHex"/> is this deployment's signature of that head (constant time).</summary>
    public bool IsGenuine(long records, long seq, string hashHex, string signatureHex)
    {
        var expected = HMACSHA256.HashData(_key, Statement(records, seq, hashHex));
        byte[] presented;
        try
        {
            presented = Convert.FromHexString(signatureHex);
        }
        catch (FormatException)
        {
            return false;
        }

        return CryptographicOperations.FixedTimeEquals(expected, presented);
    }
}
