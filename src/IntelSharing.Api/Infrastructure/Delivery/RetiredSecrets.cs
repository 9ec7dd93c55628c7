using System.Text.Json;
using IntelSharing.Api.Infrastructure.Json;

namespace IntelSharing.Api.Infrastructure.Delivery;

/// <summary>A signing secret rotated out (still encrypted) and the end of its overlap.</summary>
public sealed record RetiredSecret(byte[] Secret, DateTimeOffset ExpiresAt);

/// <summary>
/// The secrets a subscription signs with. Each rotated-out secret keeps its own overlap (Delivery__SecretRotationOverlap
/// from the rotation that retired it): the newest in <c>previous_secret</c>, older ones still inside their overlap in
/// <c>older_secrets</c> (JSON). A second rotation inside the window no longer drops the first secret at once, so a
/// partner that has not switched yet keeps verifying until its secret's own overlap ends.
/// </summary>
public static class RetiredSecrets
{
    /// <summary>Rotated-out secrets signing at once, at most: each adds a signature to every request. A rotation past it is refused (409).</summary>
    public const int MaxInOverlap = 4;

    public static IReadOnlyList<RetiredSecret> Parse(string? olderSecrets) =>
        string.IsNullOrEmpty(olderSecrets) ? [] : JsonSerializer.Deserialize<List<RetiredSecret>>(olderSecrets, JsonDefaults.Options) ?? [];

    public static string? Serialize(IReadOnlyList<RetiredSecret> secrets) =>
        secrets.Count == 0 ? null : JsonSerializer.Serialize(secrets, JsonDefaults.Options);

    /// <summary>Every rotated-out secret whose overlap has not ended at <paramref name="now"/>, newest first.</summary>
    public static IReadOnlyList<RetiredSecret> InOverlap(byte[]? previous, DateTimeOffset? previousExpiresAt, string? olderSecrets, DateTimeOffset now)
    {
        var retired = new List<RetiredSecret>();
        if (previous is not null && previousExpiresAt is { } expires)
        {
            retired.Add(new RetiredSecret(previous, expires));
        }

        retired.AddRange(Parse(olderSecrets));
        return [.. retired.Where(s => s.ExpiresAt > now).OrderByDescending(s => s.ExpiresAt)];
    }

    /// <summary>The secrets to sign with, in the clear: the current one first, then every one still inside its overlap.</summary>
    public static IReadOnlyList<string> SigningKeys(SecretProtector protector, byte[] current, byte[]? previous, DateTimeOffset? previousExpiresAt, string? olderSecrets, DateTimeOffset now) =>
        [protector.Unprotect(current), .. InOverlap(previous, previousExpiresAt, olderSecrets, now).Select(s => protector.Unprotect(s.Secret))];
}
