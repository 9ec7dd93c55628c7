using System.Security.Cryptography;
using System.Text;

namespace IntelSharing.Api.Infrastructure.Security;

/// <summary>
/// API keys look like <c>isk_&lt;prefix&gt;_&lt;secret&gt;</c>. The prefix is public (shown in listings, logs and
/// audit records) and finds the key row; the whole key is stored only as a SHA-256 hash. A key carries
/// 256 bits of randomness, so a fast hash is the right tool: there is nothing to brute-force.
/// </summary>
public static class ApiKeys
{
    private const string Marker = "isk_";
    private const string PrefixAlphabet = "abcdefghijkmnopqrstuvwxyz23456789";
    public const int PrefixLength = 10;

    public sealed record Issued(string Key, string Prefix, byte[] Hash);

    public static Issued Generate()
    {
        var prefix = RandomNumberGenerator.GetString(PrefixAlphabet, PrefixLength);
        var secret = Base64Url(RandomNumberGenerator.GetBytes(32));
        var key = $"{Marker}{prefix}_{secret}";
        return new Issued(key, prefix, Hash(key));
    }

    public static byte[] Hash(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));

    /// <summary>Extracts the public prefix, or null when the value is not shaped like one of our keys.</summary>
    public static string? PrefixOf(string key)
    {
        if (key.Length != Marker.Length + PrefixLength + 1 + 43 || !key.StartsWith(Marker, StringComparison.Ordinal) || key[Marker.Length + PrefixLength] != '_')
        {
            return null;
        }

        return key.Substring(Marker.Length, PrefixLength);
    }

    public static bool Matches(string key, byte[] storedHash) =>
        CryptographicOperations.FixedTimeEquals(Hash(key), storedHash);

    private static string Base64Url(byte[] bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
