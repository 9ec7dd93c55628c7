using System.Collections.Frozen;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace IntelSharing.Api.Domain;

/// <summary>
/// Checks an indicator value against the rules of its type and returns its normalised form, so that two
/// agencies reporting the same phone number or domain in different spellings produce the same value.
/// Every error message says what a valid value looks like, because it goes back to the client as is.
/// </summary>
public static partial class IndicatorRules
{
    public const int MaxValueLength = 2048;

    public readonly record struct Outcome(string? Normalised, string? Error)
    {
        public bool IsValid => Error is null;

        public static Outcome Ok(string value) => new(value, null);

        public static Outcome Bad(string error) => new(null, error);
    }

    public static Outcome Normalise(IndicatorType type, string value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return Outcome.Bad("The value must not be empty.");
        }

        if (value.Length > MaxValueLength)
        {
            return Outcome.Bad($"The value must be at most {MaxValueLength} characters.");
        }

        if (value.Any(char.IsControl))
        {
            return Outcome.Bad("The value must not contain control characters.");
        }

        var trimmed = value.Trim();
        return type switch
        {
            IndicatorType.Ipv4 => Ipv4(trimmed),
            IndicatorType.Ipv6 => Ipv6(trimmed),
            IndicatorType.Domain => Domain(trimmed),
            IndicatorType.Url => Url(trimmed),
            IndicatorType.Email => Email(trimmed),
            IndicatorType.Sha256 => Hex(trimmed, 64, "SHA-256", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"),
            IndicatorType.Md5 => Hex(trimmed, 32, "MD5", "098f6bcd4621d373cade4e832627b4f6"),
            IndicatorType.Phone => Phone(trimmed),
            IndicatorType.VehiclePlate => VehiclePlate(trimmed),
            IndicatorType.VesselImo => VesselImo(trimmed),
            IndicatorType.TravelDocument => TravelDocument(trimmed),
            IndicatorType.CryptoWallet => CryptoWallet(trimmed),
            IndicatorType.Iban => Iban(trimmed),
            _ => Outcome.Bad("Unknown indicator type."),
        };
    }

    // ---- Network ----

    private static Outcome Ipv4(string value)
    {
        // IPAddress.TryParse accepts "1", "1.2", "010.1.1.1" (octal) and hex forms; an indicator is a plain dotted quad,
        // and a leading zero is refused because tools disagree on whether it means octal.
        if (!DottedQuad().IsMatch(value) || !IPAddress.TryParse(value, out var address) || address.AddressFamily != AddressFamily.InterNetwork)
        {
            return Outcome.Bad("Not an IPv4 address: four numbers from 0 to 255 separated by dots, without leading zeros (e.g. 185.220.101.4).");
        }

        return Outcome.Ok(address.ToString());
    }

    private static Outcome Ipv6(string value)
    {
        // IPAddress.TryParse also accepts "[::1]:80" and zone ids ("fe80::1%eth0"); a zone only means something
        // on the host that wrote it, so neither belongs in shared intelligence.
        var tail = value[(value.LastIndexOf(':') + 1)..];
        if (!value.Contains(':', StringComparison.Ordinal) || !value.All(ch => char.IsAsciiHexDigit(ch) || ch is ':' or '.')
            || (tail.Contains('.', StringComparison.Ordinal) && !DottedQuad().IsMatch(tail))
            || !IPAddress.TryParse(value, out var address) || address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return Outcome.Bad("Not an IPv6 address: up to eight groups of 1 to 4 hexadecimal digits separated by colons, '::' for a run of zero groups, " +
                "optionally ending in a dotted IPv4 address; no brackets, port or zone id (e.g. 2001:db8::1 or ::ffff:185.220.101.4).");
        }

        // RFC 5952 canonical text: lower case, leading zeros dropped, the longest run of zero groups as '::'.
        return Outcome.Ok(address.ToString());
    }

    private const string DomainShape =
        "dot-separated labels of letters, digits and hyphens (each 1 to 63 characters, not starting or ending with a hyphen), " +
        "at most 253 characters, ending in an alphabetic top-level domain; internationalised names are stored as punycode";

    // Managed IDNA (the app runs with invariant globalization): plain punycode, so case folding and the
    // character checks that a full UTS 46 implementation would do happen in NormaliseHost.
    private static readonly IdnMapping Idn = new() { AllowUnassigned = false, UseStd3AsciiRules = true };

    /// <summary>A host name in lower-case ASCII (punycode for internationalised labels), or null when it is not a valid domain name.</summary>
    internal static string? NormaliseHost(string host)
    {
        if (host.EndsWith('.'))
        {
            host = host[..^1];
        }

        // Only letters, combining marks, decimal digits, hyphens and dots: no symbols, emoji or invisible format characters.
        if (host.Length is 0 or > 253 || !host.All(ch => ch is '-' or '.' || char.IsAsciiDigit(ch) || IsLetterOrMark(ch)))
        {
            return null;
        }

        string ascii;
        try
        {
            ascii = Idn.GetAscii(host.ToLowerInvariant()).ToLowerInvariant();
        }
        catch (ArgumentException)
        {
            return null;
        }

        var labels = ascii.Split('.');
        if (labels.Length < 2 || ascii.Length > 253 || !labels.All(IsValidLabel))
        {
            return null;
        }

        var topLevel = labels[^1];
        return TopLevelDomain().IsMatch(topLevel) ? ascii : null;
    }

    private static bool IsLetterOrMark(char ch) =>
        char.GetUnicodeCategory(ch) is UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
            or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter or UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark;

    private static bool IsValidLabel(string label)
    {
        if (!DomainLabel().IsMatch(label))
        {
            return false;
        }

        if (!label.StartsWith("xn--", StringComparison.Ordinal))
        {
            return true;
        }

        // A punycode label must decode to a non-ASCII, lower-case name of letters, marks and digits and encode back to itself.
        try
        {
            var unicode = Idn.GetUnicode(label);
            return unicode.Length > 0 && !Ascii.IsValid(unicode)
                && string.Equals(unicode, unicode.ToLowerInvariant(), StringComparison.Ordinal)
                && unicode.All(ch => ch == '-' || char.IsAsciiDigit(ch) || IsLetterOrMark(ch))
                && string.Equals(Idn.GetAscii(unicode), label, StringComparison.Ordinal);
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static Outcome Domain(string value)
    {
        var host = NormaliseHost(value);
        return host is null
            ? Outcome.Bad($"Not a domain name: {DomainShape} (e.g. secure-login-mup.example.rs or пример.срб).")
            : Outcome.Ok(host);
    }

    private static Outcome Url(string value)
    {
        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https" or "ftp") || string.IsNullOrEmpty(uri.Host))
        {
            return Outcome.Bad("Not an absolute http, https or ftp URL with a host (e.g. https://secure-login-mup.example.rs/prijava). " +
                "Send defanged URLs (hxxp, [.]) refanged.");
        }

        // Numeric hosts are canonicalised the way browsers resolve them (http://3232235777/ is http://192.168.1.1/),
        // so obfuscated spellings of one address match.
        var host = uri.HostNameType is UriHostNameType.IPv4 or UriHostNameType.IPv6 ? uri.Host : NormaliseHost(uri.IdnHost);
        if (host is null)
        {
            return Outcome.Bad($"The URL's host is neither an IP address nor a domain name: {DomainShape}.");
        }

        var builder = new UriBuilder(uri) { Host = host };
        return Outcome.Ok(builder.Uri.AbsoluteUri);
    }

    private static Outcome Email(string value)
    {
        const string Shape = "Not an e-mail address: local-part@domain, where the local part is at most 64 letters, digits and !#$%&'*+/=?^_`{|}~.- " +
            "(no leading, trailing or doubled dot, no quotes) and the domain is a valid domain name (e.g. transport.balkan@example.com).";
        var at = value.LastIndexOf('@');
        if (at <= 0 || at == value.Length - 1 || value.Length > 254)
        {
            return Outcome.Bad(Shape);
        }

        var local = value[..at];
        var host = NormaliseHost(value[(at + 1)..]);
        if (local.Length > 64 || !EmailLocalPart().IsMatch(local) || local.StartsWith('.') || local.EndsWith('.') || local.Contains("..", StringComparison.Ordinal) || host is null)
        {
            return Outcome.Bad(Shape);
        }

        // RFC 5321 lets a server treat local parts case-sensitively, but mail systems in practice do not; folding the
        // case makes "Marko.P@example.com" and "marko.p@example.com" reported by two agencies the same indicator.
        return Outcome.Ok($"{local.ToLowerInvariant()}@{host}");
    }

    private static Outcome Hex(string value, int length, string name, string example)
    {
        if (value.Length != length || !value.All(char.IsAsciiHexDigit))
        {
            return Outcome.Bad($"A {name} hash is exactly {length} hexadecimal characters (e.g. {example}).");
        }

        return Outcome.Ok(value.ToLowerInvariant());
    }

    // ---- People, vehicles, vessels, documents ----

    private static Outcome Phone(string value)
    {
        if (value.Contains("(0)", StringComparison.Ordinal))
        {
            return Outcome.Bad("Leave out the national trunk prefix '(0)': E.164 is '+', the country code and the national number without its leading 0 (e.g. +381 64 123 4567).");
        }

        var compact = new StringBuilder(value.Length);
        foreach (var ch in value)
        {
            if (ch is not (' ' or '-' or '.' or '(' or ')'))
            {
                compact.Append(ch);
            }
        }

        var digits = compact.ToString();
        if (digits.StartsWith("00", StringComparison.Ordinal))
        {
            return Outcome.Bad("Write the international prefix as '+', not '00' (e.g. +381 64 123 4567 rather than 00381 64 123 4567).");
        }

        if (!E164().IsMatch(digits))
        {
            return Outcome.Bad("Not an E.164 phone number: '+', the country code and the national number, 7 to 15 digits in all; " +
                "spaces, hyphens, dots and parentheses are ignored (e.g. +381 64 123 4567).");
        }

        return Outcome.Ok(digits);
    }

    private static Outcome VehiclePlate(string value)
    {
        // Letters of any script (Serbian plates carry Č, Ć, Đ, Š, Ž), ASCII digits; separators are dropped.
        var compact = new string(value.Where(ch => ch is not (' ' or '-' or '.' or '·')).Select(char.ToUpperInvariant).ToArray());
        if (compact.Length is < 2 or > 15 || !compact.All(ch => char.IsAsciiDigit(ch) || char.IsLetter(ch)))
        {
            return Outcome.Bad("A vehicle plate is 2 to 15 letters and digits, optionally separated by spaces, hyphens or dots (e.g. BG 1234-AB or ČA 012-ŠŽ).");
        }

        return Outcome.Ok(compact);
    }

    private static Outcome VesselImo(string value)
    {
        var digits = value.StartsWith("IMO", StringComparison.OrdinalIgnoreCase) ? value[3..].TrimStart(' ', '-') : value;
        if (digits.Length != 7 || !digits.All(char.IsAsciiDigit))
        {
            return Outcome.Bad("An IMO ship number is 7 digits, optionally preceded by 'IMO' (e.g. IMO 9074729).");
        }

        var sum = 0;
        for (var i = 0; i < 6; i++)
        {
            sum += (digits[i] - '0') * (7 - i);
        }

        if (sum % 10 != digits[6] - '0')
        {
            return Outcome.Bad("The IMO number's check digit does not match: the last digit is the sum of the first six multiplied by 7, 6, 5, 4, 3 and 2, modulo 10 (e.g. IMO 9074729).");
        }

        return Outcome.Ok($"IMO{digits}");
    }

    private static Outcome TravelDocument(string value)
    {
        // Upper case without spaces or hyphens, and without the '<' fillers of a number copied from the machine-readable zone.
        var compact = new string(value.Where(ch => ch is not (' ' or '-')).Select(char.ToUpperInvariant).ToArray()).TrimEnd('<');
        if (compact.Length is < 4 or > 20 || !compact.All(char.IsAsciiLetterOrDigit))
        {
            return Outcome.Bad("A travel document number is 4 to 20 Latin letters and digits as printed in the document's machine-readable zone (e.g. 012345678 or AB1234567).");
        }

        return Outcome.Ok(compact);
    }

    // ---- Money ----

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

    /// <summary>IBAN length per country in the SWIFT IBAN registry. Territories that use another country's code (Åland: FI, Guernsey: GB) are covered by it.</summary>
    private static readonly FrozenDictionary<string, int> IbanLengths = new Dictionary<string, int>
    {
        ["AD"] = 24, ["AE"] = 23, ["AL"] = 28, ["AT"] = 20, ["AZ"] = 28, ["BA"] = 20, ["BE"] = 16, ["BG"] = 22, ["BH"] = 22, ["BI"] = 27,
        ["BR"] = 29, ["BY"] = 28, ["CH"] = 21, ["CR"] = 22, ["CY"] = 28, ["CZ"] = 24, ["DE"] = 22, ["DJ"] = 27, ["DK"] = 18, ["DO"] = 28,
        ["EE"] = 20, ["EG"] = 29, ["ES"] = 24, ["FI"] = 18, ["FK"] = 18, ["FO"] = 18, ["FR"] = 27, ["GB"] = 22, ["GE"] = 22, ["GI"] = 23,
        ["GL"] = 18, ["GR"] = 27, ["GT"] = 28, ["HN"] = 28, ["HR"] = 21, ["HU"] = 28, ["IE"] = 22, ["IL"] = 23, ["IQ"] = 23, ["IS"] = 26,
        ["IT"] = 27, ["JO"] = 30, ["KW"] = 30, ["KZ"] = 20, ["LB"] = 28, ["LC"] = 32, ["LI"] = 21, ["LT"] = 20, ["LU"] = 20, ["LV"] = 21,
        ["LY"] = 25, ["MC"] = 27, ["MD"] = 24, ["ME"] = 22, ["MK"] = 19, ["MN"] = 20, ["MR"] = 27, ["MT"] = 31, ["MU"] = 30, ["NI"] = 28,
        ["NL"] = 18, ["NO"] = 15, ["OM"] = 23, ["PK"] = 24, ["PL"] = 28, ["PS"] = 29, ["PT"] = 25, ["QA"] = 29, ["RO"] = 24, ["RS"] = 22,
        ["RU"] = 33, ["SA"] = 24, ["SC"] = 31, ["SD"] = 18, ["SE"] = 24, ["SI"] = 19, ["SK"] = 24, ["SM"] = 27, ["SO"] = 23, ["ST"] = 25,
        ["SV"] = 28, ["TL"] = 23, ["TN"] = 24, ["TR"] = 26, ["UA"] = 29, ["VA"] = 22, ["VG"] = 24, ["XK"] = 20, ["YE"] = 30,
    }.ToFrozenDictionary(StringComparer.Ordinal);

    internal static IEnumerable<string> IbanCountries => IbanLengths.Keys;

    private static Outcome Iban(string value)
    {
        var compact = new string(value.Where(ch => ch is not (' ' or '-')).Select(char.ToUpperInvariant).ToArray());
        if (compact.Length < 5 || !char.IsAsciiLetter(compact[0]) || !char.IsAsciiLetter(compact[1])
            || !char.IsAsciiDigit(compact[2]) || !char.IsAsciiDigit(compact[3]) || !compact.All(char.IsAsciiLetterOrDigit))
        {
            return Outcome.Bad("Not an IBAN: the country code, two check digits and the national account number in Latin letters and digits (e.g. RS35 2600 0560 1001 6113 79).");
        }

        var country = compact[..2];
        if (!IbanLengths.TryGetValue(country, out var length))
        {
            return Outcome.Bad($"'{country}' does not issue IBANs (SWIFT IBAN registry); an IBAN starts with the code of a country that does (e.g. RS, HU, DE).");
        }

        if (compact.Length != length)
        {
            return Outcome.Bad($"An IBAN from {country} is {length} characters; this one has {compact.Length}.");
        }

        // ISO 7064 mod 97-10: the remainder is 1. Check digits 00, 01 and 99 are never issued, although 99 would pass.
        var remainder = 0;
        foreach (var ch in compact[4..] + compact[..4])
        {
            var digit = char.IsAsciiDigit(ch) ? ch - '0' : ch - 'A' + 10;
            remainder = digit >= 10 ? ((remainder * 100) + digit) % 97 : ((remainder * 10) + digit) % 97;
        }

        return remainder == 1 && compact[2..4] is not ("00" or "01" or "99")
            ? Outcome.Ok(compact)
            : Outcome.Bad("The IBAN's check digits do not match its account number (ISO 7064 mod 97); check it for a typing error.");
    }

    [GeneratedRegex("^(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}$")]
    private static partial Regex DottedQuad();

    [GeneratedRegex("^(?!-)[a-z0-9-]{1,63}(?<!-)$")]
    private static partial Regex DomainLabel();

    [GeneratedRegex("^([a-z]{2,63}|xn--[a-z0-9-]{1,59})$")]
    private static partial Regex TopLevelDomain();

    [GeneratedRegex(@"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+$")]
    private static partial Regex EmailLocalPart();

    [GeneratedRegex("^\\+[1-9][0-9]{6,14}$")]
    private static partial Regex E164();

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
