using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using IntelSharing.Api.Infrastructure.Json;

namespace IntelSharing.Api.Infrastructure.Audit;

/// <summary>
/// The <c>detail</c> of an audit record, serialised and bounded. Records are hash-chained and can never be deleted,
/// so no request may make one large: a detail over <see cref="MaxBytes"/> UTF-8 bytes is replaced by a marker that
/// says it was cut, how long it was, its SHA-256, and as much of its beginning as fits. The same detail is always
/// cut the same way. The bound sits above the largest detail a valid request produces (a sharing-group update
/// that swaps 500 members for 500 others names 1,000 ids, about 40 KB), so only what no valid request can
/// produce is ever cut (ADR 11).
/// </summary>
public static class AuditDetail
{
    public const int MaxBytes = 48 * 1024;

    private sealed record CutDetail(bool Truncated, int Bytes, string Sha256, string Excerpt);

    public static string? Serialize(object? detail)
    {
        if (detail is null)
        {
            return null;
        }

        var json = JsonSerializer.Serialize(detail, JsonDefaults.Options);
        var bytes = Encoding.UTF8.GetByteCount(json);
        return bytes <= MaxBytes ? json : Cut(json, bytes);
    }

    private static string Cut(string json, int bytes)
    {
        var sha256 = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(json)));
        var length = Math.Min(json.Length, MaxBytes);
        while (true)
        {
            // Never split a surrogate pair: the excerpt must stay valid text.
            if (length > 0 && char.IsHighSurrogate(json[length - 1]))
            {
                length--;
            }

            var marker = JsonSerializer.Serialize(new CutDetail(true, bytes, sha256, json[..length]), JsonDefaults.Options);
            var over = Encoding.UTF8.GetByteCount(marker) - MaxBytes;
            if (over <= 0)
            {
                return marker;
            }

            // Each character left out saves at least one byte, so this ends within a few rounds.
            length = Math.Max(0, length - over);
        }
    }
}
