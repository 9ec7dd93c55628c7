using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace IntelSharing.Api.Infrastructure.Persistence;

/// <summary>
/// Opaque keyset cursor for every listing (alerts, deliveries, audit records): the (time, id) of the last row
/// served, bound to the filters it was issued for and authenticated with an HMAC, so a tampered or
/// transplanted cursor is a 400 rather than a silently different page.
/// </summary>
public sealed class KeysetCursor(ServerKeyring keyring)
{
    private const byte FormatVersion = 1;
    private const int MacLength = 16;
    private const int PayloadLength = 1 + 8 + 16 + 8;

    public readonly record struct Position(DateTimeOffset At, Guid Id);

    public string Encode(Position position, string filterFingerprint)
    {
        Span<byte> buffer = stackalloc byte[PayloadLength + MacLength];
        buffer[0] = FormatVersion;
        BinaryPrimitives.WriteInt64BigEndian(buffer[1..], position.At.UtcTicks);
        position.Id.TryWriteBytes(buffer[9..], bigEndian: true, out _);
        Fingerprint(filterFingerprint).CopyTo(buffer[25..]);
        HMACSHA256.HashData(keyring.CursorKey, buffer[..PayloadLength])[..MacLength].CopyTo(buffer[PayloadLength..]);
        return Convert.ToBase64String(buffer).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }

    /// <summary>Decodes a cursor; returns an error message when it is malformed, tampered, or for other filters.</summary>
    public string? TryDecode(string cursor, string filterFingerprint, out Position position)
    {
        position = default;
        byte[] bytes;
        try
        {
            var base64 = cursor.Replace('-', '+').Replace('_', '/');
            bytes = Convert.FromBase64String(base64.PadRight(base64.Length + ((4 - (base64.Length % 4)) % 4), '='));
        }
        catch (FormatException)
        {
            return "The cursor is not one this API issued.";
        }

        if (bytes.Length != PayloadLength + MacLength || bytes[0] != FormatVersion)
        {
            return "The cursor is not one this API issued.";
        }

        var expected = HMACSHA256.HashData(keyring.CursorKey, bytes.AsSpan(0, PayloadLength))[..MacLength];
        if (!CryptographicOperations.FixedTimeEquals(expected, bytes.AsSpan(PayloadLength)))
        {
            return "The cursor is not one this API issued.";
        }

        if (!Fingerprint(filterFingerprint).AsSpan().SequenceEqual(bytes.AsSpan(25, 8)))
        {
            return "The cursor was issued for different filters; start again without a cursor.";
        }

        var ticks = BinaryPrimitives.ReadInt64BigEndian(bytes.AsSpan(1));
        if (ticks < DateTimeOffset.MinValue.UtcTicks || ticks > DateTimeOffset.MaxValue.UtcTicks)
        {
            return "The cursor is not one this API issued.";
        }

        position = new Position(new DateTimeOffset(ticks, TimeSpan.Zero), new Guid(bytes.AsSpan(9, 16), bigEndian: true));
        return null;
    }

    private static byte[] Fingerprint(string filters) => SHA256.HashData(Encoding.UTF8.GetBytes(filters))[..8];
}
