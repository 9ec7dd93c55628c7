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

    // A position in a listing ranked over a window of rows fixed by its first page (a search by relevance, ADR 41) also
    // carries the window's two ends, so that every page ranks the same rows.
    private const byte WindowedFormatVersion = 3;
    private const int MacLength = 16;
    private const int PayloadLength = 1 + 8 + 16 + 8;
    private const int RankedPayloadLength = PayloadLength + 4;
    private const int WindowedPayloadLength = RankedPayloadLength + (2 * (8 + 16));

    /// <summary>
    /// The last row served: its time and id, its rank when the listing is ordered by rank first, and the window of rows
    /// ranked when the listing ranks a window (then the rank is required too).
    /// </summary>
    public readonly record struct Position(DateTimeOffset At, Guid Id, int? Rank = null, Window? Window = null);

    /// <summary>The newest and the oldest row of a ranked window, by (time, id).</summary>
    public readonly record struct Window(DateTimeOffset TopAt, Guid TopId, DateTimeOffset BottomAt, Guid BottomId);

    public string Encode(Position position, string filterFingerprint)
    {
        if (position.Window is not null && position.Rank is null)
        {
            throw new ArgumentException("A windowed position needs its rank.", nameof(position));
        }

        var (version, payloadLength) = position switch
        {
            { Window: not null } => (WindowedFormatVersion, WindowedPayloadLength),
            { Rank: not null } => (RankedFormatVersion, RankedPayloadLength),
            _ => (FormatVersion, PayloadLength),
        };
        Span<byte> buffer = stackalloc byte[WindowedPayloadLength + MacLength];
        buffer = buffer[..(payloadLength + MacLength)];
        buffer[0] = version;
        BinaryPrimitives.WriteInt64BigEndian(buffer[1..], position.At.UtcTicks);
        position.Id.TryWriteBytes(buffer[9..], bigEndian: true, out _);
        Fingerprint(filterFingerprint).CopyTo(buffer[25..]);
        if (position.Rank is { } rank)
        {
            BinaryPrimitives.WriteInt32BigEndian(buffer[PayloadLength..], rank);
        }

        if (position.Window is { } window)
        {
            BinaryPrimitives.WriteInt64BigEndian(buffer[RankedPayloadLength..], window.TopAt.UtcTicks);
            window.TopId.TryWriteBytes(buffer[(RankedPayloadLength + 8)..], bigEndian: true, out _);
            BinaryPrimitives.WriteInt64BigEndian(buffer[(RankedPayloadLength + 24)..], window.BottomAt.UtcTicks);
            window.BottomId.TryWriteBytes(buffer[(RankedPayloadLength + 32)..], bigEndian: true, out _);
        }

        HMACSHA256.HashData(keyring.CursorKey, buffer[..payloadLength])[..MacLength].CopyTo(buffer[payloadLength..]);
        return Convert.ToBase64String(buffer).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }

    /// <summary>
    /// Decodes a cursor; returns an error message when it is malformed, tampered, for other filters, or from a listing
    /// ordered differently (ranked or not, as <paramref name="ranked"/> says this one is; ranked over a window, as
    /// <paramref name="windowed"/> says).
    /// </summary>
    public string? TryDecode(string cursor, string filterFingerprint, out Position position, bool ranked = false, bool windowed = false)
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

        var (version, payloadLength) = windowed ? (WindowedFormatVersion, WindowedPayloadLength)
            : ranked ? (RankedFormatVersion, RankedPayloadLength)
            : (FormatVersion, PayloadLength);
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

        if (!TryReadAt(bytes, 1, out var at))
        {
            return "The cursor is not one this API issued.";
        }

        Window? window = null;
        if (windowed)
        {
            if (!TryReadAt(bytes, RankedPayloadLength, out var topAt) || !TryReadAt(bytes, RankedPayloadLength + 24, out var bottomAt))
            {
                return "The cursor is not one this API issued.";
            }

            window = new Window(
                topAt, new Guid(bytes.AsSpan(RankedPayloadLength + 8, 16), bigEndian: true),
                bottomAt, new Guid(bytes.AsSpan(RankedPayloadLength + 32, 16), bigEndian: true));
        }

        position = new Position(
            at,
            new Guid(bytes.AsSpan(9, 16), bigEndian: true),
            ranked || windowed ? BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(PayloadLength)) : null,
            window);
        return null;
    }

    private static bool TryReadAt(byte[] bytes, int offset, out DateTimeOffset at)
    {
        var ticks = BinaryPrimitives.ReadInt64BigEndian(bytes.AsSpan(offset));
        var valid = ticks >= DateTimeOffset.MinValue.UtcTicks && ticks <= DateTimeOffset.MaxValue.UtcTicks;
        at = valid ? new DateTimeOffset(ticks, TimeSpan.Zero) : default;
        return valid;
    }

    private static byte[] Fingerprint(string filters) => SHA256.HashData(Encoding.UTF8.GetBytes(filters))[..8];
}
