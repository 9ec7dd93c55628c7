using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace IntelSharing.Api.Domain;

/// <summary>Crypto-currency wallets: Bitcoin (Base58Check, bech32/bech32m), Ethereum (EIP-55), Monero and Tron.</summary>
public static partial class IndicatorRules
{
    private const string WalletShape =
        "Not a recognised wallet address: Bitcoin (1… or 3… with a valid Base58Check checksum, or bc1… with a valid bech32/bech32m checksum), " +
        "Ethereum (0x and 40 hexadecimal digits; mixed case must match the EIP-55 checksum), Monero (95 or 106 characters starting with 4 or 8) " +
        "or Tron (T… with a valid Base58Check checksum).";

    private static Outcome CryptoWallet(string value)
    {
        if (value.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
        {
            return Ethereum(value);
        }

        if (Bech32Shape().IsMatch(value))
        {
            return Bech32Address(value);
        }

        if (BitcoinBase58().IsMatch(value))
        {
            var payload = Base58Check(value);
            return payload is { Length: 21 } && payload[0] is 0x00 or 0x05 ? Outcome.Ok(value) : Outcome.Bad(WalletShape);
        }

        if (TronAddress().IsMatch(value))
        {
            var payload = Base58Check(value);
            return payload is { Length: 21 } && payload[0] == 0x41 ? Outcome.Ok(value) : Outcome.Bad(WalletShape);
        }

        // Monero's checksum runs over its own block-wise base58; the shape is checked, not the checksum.
        return MoneroAddress().IsMatch(value) ? Outcome.Ok(value) : Outcome.Bad(WalletShape);
    }

    private static Outcome Ethereum(string value)
    {
        if (!EthereumAddress().IsMatch(value))
        {
            return Outcome.Bad(WalletShape);
        }

        var hex = value[2..];
        var lower = hex.ToLowerInvariant();
        var allOneCase = string.Equals(hex, lower, StringComparison.Ordinal) || string.Equals(hex, hex.ToUpperInvariant(), StringComparison.Ordinal);
        if (!allOneCase)
        {
            // EIP-55: a letter is upper case exactly when the matching nibble of Keccak-256(lower-case hex) is 8 or more.
            var hash = Keccak256(Encoding.ASCII.GetBytes(lower));
            for (var i = 0; i < hex.Length; i++)
            {
                var nibble = (i % 2 == 0 ? hash[i / 2] >> 4 : hash[i / 2]) & 0x0F;
                if (char.IsAsciiLetter(hex[i]) && char.IsAsciiLetterUpper(hex[i]) != nibble >= 8)
                {
                    return Outcome.Bad("The Ethereum address mixes upper and lower case but does not match its EIP-55 checksum; send it as published or all in lower case.");
                }
            }
        }

        return Outcome.Ok("0x" + lower);
    }

    /// <summary>
    /// Ethereum's Keccak-256 (the original Keccak padding, not the NIST SHA3-256 that .NET ships), from BouncyCastle.
    /// </summary>
    private static byte[] Keccak256(byte[] message)
    {
        var digest = new Org.BouncyCastle.Crypto.Digests.KeccakDigest(256);
        digest.BlockUpdate(message, 0, message.Length);
        var hash = new byte[digest.GetDigestSize()];
        digest.DoFinal(hash, 0);
        return hash;
    }

    private const string Base58Alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

    /// <summary>The payload of a Base58Check string (version byte and data), or null when it does not decode or its checksum is wrong.</summary>
    internal static byte[]? Base58Check(string text)
    {
        var decoded = Base58Decode(text);
        if (decoded is null || decoded.Length < 5)
        {
            return null;
        }

        var payload = decoded[..^4];
        var checksum = SHA256.HashData(SHA256.HashData(payload));
        return checksum.AsSpan(0, 4).SequenceEqual(decoded.AsSpan(decoded.Length - 4)) ? payload : null;
    }

    private static byte[]? Base58Decode(string text)
    {
        // Little-endian big number, multiplied by 58 and added to for each character.
        var number = new byte[text.Length];
        var length = 0;
        foreach (var ch in text)
        {
            var carry = Base58Alphabet.IndexOf(ch, StringComparison.Ordinal);
            if (carry < 0)
            {
                return null;
            }

            for (var i = 0; i < length; i++)
            {
                carry += number[i] * 58;
                number[i] = (byte)carry;
                carry >>= 8;
            }

            while (carry > 0)
            {
                number[length++] = (byte)carry;
                carry >>= 8;
            }
        }

        // Each leading '1' stands for a leading zero byte.
        var zeros = text.TakeWhile(ch => ch == '1').Count();
        var bytes = new byte[zeros + length];
        for (var i = 0; i < length; i++)
        {
            bytes[zeros + i] = number[length - 1 - i];
        }

        return bytes;
    }

    private const string Bech32Charset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
    private const uint Bech32Constant = 1;
    private const uint Bech32MConstant = 0x2bc830a3;

    /// <summary>BIP 173 (bech32, witness version 0) and BIP 350 (bech32m, versions 1 to 16) segwit addresses.</summary>
    private static Outcome Bech32Address(string value)
    {
        // One case only; stored in lower case.
        var lower = value.ToLowerInvariant();
        if (!string.Equals(value, lower, StringComparison.Ordinal) && !string.Equals(value, value.ToUpperInvariant(), StringComparison.Ordinal))
        {
            return Outcome.Bad(WalletShape);
        }

        var separator = lower.LastIndexOf('1');
        var hrp = lower[..separator];
        var data = new byte[lower.Length - separator - 1];
        for (var i = 0; i < data.Length; i++)
        {
            var index = Bech32Charset.IndexOf(lower[separator + 1 + i], StringComparison.Ordinal);
            if (index < 0)
            {
                return Outcome.Bad(WalletShape);
            }

            data[i] = (byte)index;
        }

        var checksum = Bech32Polymod(hrp, data);
        var witnessVersion = data[0];
        var expected = witnessVersion == 0 ? Bech32Constant : Bech32MConstant;
        var program = ConvertBits(data.AsSpan(1, data.Length - 7));
        var validProgram = program is not null && witnessVersion <= 16 && program.Length is >= 2 and <= 40
            && (witnessVersion != 0 || program.Length is 20 or 32);
        return checksum == expected && validProgram ? Outcome.Ok(lower) : Outcome.Bad(WalletShape);
    }

    private static uint Bech32Polymod(string hrp, ReadOnlySpan<byte> data)
    {
        uint checksum = 1;
        void Step(int value)
        {
            var top = checksum >> 25;
            checksum = ((checksum & 0x1ffffff) << 5) ^ (uint)value;
            ReadOnlySpan<uint> generator = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];
            for (var i = 0; i < 5; i++)
            {
                if (((top >> i) & 1) != 0)
                {
                    checksum ^= generator[i];
                }
            }
        }

        foreach (var ch in hrp)
        {
            Step(ch >> 5);
        }

        Step(0);
        foreach (var ch in hrp)
        {
            Step(ch & 31);
        }

        foreach (var value in data)
        {
            Step(value);
        }

        return checksum;
    }

    /// <summary>5-bit groups to bytes; null when the padding is longer than 4 bits or not zero (BIP 173).</summary>
    private static byte[]? ConvertBits(ReadOnlySpan<byte> groups)
    {
        var bytes = new List<byte>(groups.Length * 5 / 8);
        int accumulator = 0, bits = 0;
        foreach (var group in groups)
        {
            accumulator = (accumulator << 5) | group;
            bits += 5;
            if (bits >= 8)
            {
                bits -= 8;
                bytes.Add((byte)(accumulator >> bits));
                accumulator &= (1 << bits) - 1;
            }
        }

        return bits >= 5 || accumulator != 0 ? null : bytes.ToArray();
    }


    [GeneratedRegex("^0[xX][0-9a-fA-F]{40}$")]
    private static partial Regex EthereumAddress();

    [GeneratedRegex("^(bc|tb|BC|TB)1[02-9ac-hj-np-zAC-HJ-NP-Z]{11,87}$")]
    private static partial Regex Bech32Shape();

    [GeneratedRegex("^[13][1-9A-HJ-NP-Za-km-z]{25,34}$")]
    private static partial Regex BitcoinBase58();

    [GeneratedRegex("^([48][1-9A-HJ-NP-Za-km-z]{94}|4[1-9A-HJ-NP-Za-km-z]{105})$")]
    private static partial Regex MoneroAddress();

    [GeneratedRegex("^T[1-9A-HJ-NP-Za-km-z]{33}$")]
    private static partial Regex TronAddress();
}
