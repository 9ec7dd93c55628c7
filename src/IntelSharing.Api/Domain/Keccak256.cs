using System.Buffers.Binary;
using System.Numerics;

namespace IntelSharing.Api.Domain;

/// <summary>
/// Keccak-256 as Ethereum uses it: the original Keccak padding (0x01), not the FIPS 202 SHA3-256 padding
/// (0x06) that <c>System.Security.Cryptography.SHA3_256</c> implements. Needed only to check EIP-55
/// mixed-case checksums on Ethereum addresses; held to the published test vectors in the unit tests.
/// </summary>
internal static class Keccak256
{
    private const int RateBytes = 136;
    private const int Rounds = 24;

    private static readonly ulong[] RoundConstants =
    [
        0x0000000000000001, 0x0000000000008082, 0x800000000000808A, 0x8000000080008000,
        0x000000000000808B, 0x0000000080000001, 0x8000000080008081, 0x8000000000008009,
        0x000000000000008A, 0x0000000000000088, 0x0000000080008009, 0x000000008000000A,
        0x000000008000808B, 0x800000000000008B, 0x8000000000008089, 0x8000000000008003,
        0x8000000000008002, 0x8000000000000080, 0x000000000000800A, 0x800000008000000A,
        0x8000000080008081, 0x8000000000008080, 0x0000000080000001, 0x8000000080008008,
    ];

    // The rho rotation of each lane, in the order the pi step visits them.
    private static readonly int[] Rotations = [1, 3, 6, 10, 15, 21, 28, 36, 45, 55, 2, 14, 27, 41, 56, 8, 25, 43, 62, 18, 39, 61, 20, 44];

    private static readonly int[] PiLanes = [10, 7, 11, 17, 18, 3, 5, 16, 8, 21, 24, 4, 15, 23, 19, 13, 12, 2, 20, 14, 22, 9, 6, 1];

    public static byte[] Hash(ReadOnlySpan<byte> message)
    {
        var state = new ulong[25];
        while (message.Length >= RateBytes)
        {
            Absorb(state, message[..RateBytes]);
            message = message[RateBytes..];
        }

        Span<byte> last = stackalloc byte[RateBytes];
        last.Clear();
        message.CopyTo(last);
        last[message.Length] ^= 0x01;
        last[RateBytes - 1] ^= 0x80;
        Absorb(state, last);

        var digest = new byte[32];
        for (var i = 0; i < 4; i++)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(digest.AsSpan(i * 8), state[i]);
        }

        return digest;
    }

    private static void Absorb(ulong[] state, ReadOnlySpan<byte> block)
    {
        for (var i = 0; i < RateBytes / 8; i++)
        {
            state[i] ^= BinaryPrimitives.ReadUInt64LittleEndian(block[(i * 8)..]);
        }

        Permute(state);
    }

    private static void Permute(ulong[] state)
    {
        Span<ulong> column = stackalloc ulong[5];
        for (var round = 0; round < Rounds; round++)
        {
            // Theta
            for (var x = 0; x < 5; x++)
            {
                column[x] = state[x] ^ state[x + 5] ^ state[x + 10] ^ state[x + 15] ^ state[x + 20];
            }

            for (var x = 0; x < 5; x++)
            {
                var d = column[(x + 4) % 5] ^ BitOperations.RotateLeft(column[(x + 1) % 5], 1);
                for (var y = 0; y < 25; y += 5)
                {
                    state[y + x] ^= d;
                }
            }

            // Rho and pi
            var carried = state[1];
            for (var i = 0; i < 24; i++)
            {
                var lane = PiLanes[i];
                var next = state[lane];
                state[lane] = BitOperations.RotateLeft(carried, Rotations[i]);
                carried = next;
            }

            // Chi
            for (var y = 0; y < 25; y += 5)
            {
                for (var x = 0; x < 5; x++)
                {
                    column[x] = state[y + x];
                }

                for (var x = 0; x < 5; x++)
                {
                    state[y + x] ^= ~column[(x + 1) % 5] & column[(x + 2) % 5];
                }
            }

            // Iota
            state[0] ^= RoundConstants[round];
        }
    }
}
