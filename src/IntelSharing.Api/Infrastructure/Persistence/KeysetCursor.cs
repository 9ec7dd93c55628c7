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

    // A position in a ranked listing (a search) carries its rank as well: a longer payload under its own version byte,
    // so every cursor issued before ranking existed still decodes.
    private const byte RankedFormatVersion = 2;
    private const int MacLength = 16;
    private const int PayloadLength = 1 + 8 + 16 + 8;
    private const int RankedPayloadLength = PayloadLength + 4;

    /// <summary>The last row served: its time and id, and its rank when the listing is ordered by rank first.</summary>
    public readonly record struct Position(DateTimeOffset At, Guid Id, int? Rank = null);

    public string Encode(Position position, string filterFingerprint)
    {
        var payloadLength = position.Rank is null ? PayloadLength : RankedPayloadLength;
        Span<byte> buffer = stackalloc byte[RankedPayloadLength + MacLength];
        buffer = buffer[..(payloadLength + MacLength)];
        buffer[0] = position.Rank is null ? FormatVersion : RankedFormatVersion;
        BinaryPrimitives.WriteInt64BigEndian(buffer[1..], position.At.UtcTicks);
        position.Id.TryWriteBytes(buffer[9..], bigEndian: true, out _);
        Fingerprint(filterFingerprint).CopyTo(buffer[25..]);
        if (position.Rank is { } rank)
        {
            BinaryPrimitives.WriteInt32BigEndian(buffer[PayloadLength..], rank);
        }

        HMACSHA256.HashData(keyring.CursorKey, buffer[..payloadLength])[..MacLength].CopyTo(buffer[payloadLength..]);
        return Convert.ToBase64String(buffer).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }

    /// <summary>
    /// Decodes a cursor; returns an error message when it is malformed, tampered, for other filters, or from a listing
    /// ordered differently (ranked or not, as <paramref name="ranked"/> says this one is).
    /// </summary>
    public string? TryDecode(string cursor, string filterFingerprint, out Position position, bool ranked = false)
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

        var (version, payloadLength) = ranked ? (RankedFormatVersion, RankedPayloadLength) : (FormatVersion, PayloadLength);
        if (bytes.Length != payloadLength + MacLength || bytes[0] != version)
        {
            return "The cursor is not one this API issued.";
        }

        var expected = HMACSHA256.HashData(keyring.CursorKey, bytes.AsSpan(0, payloadLength))[..MacLength];
        if (!CryptographicOperations.FixedTimeEquals(expected, bytes.AsSpan(payloadLength)))
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

        position = new Position(
            new DateTimeOffset(ticks, TimeSpan.Zero),
            new Guid(bytes.AsSpan(9, 16), bigEndian: true),
            ranked ? BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(PayloadLength)) : null);
        return null;
    }

    private static byte[] Fingerprint(string filters) => SHA256.HashData(Encoding.UTF8.GetBytes(filters))[..8];
}
