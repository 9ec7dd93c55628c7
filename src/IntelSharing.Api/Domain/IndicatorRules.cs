using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;

namespace IntelSharing.Api.Domain;

/// <summary>
/// Checks an indicator value against the rules of its type and returns its normalised form, so that two
/// agencies reporting the same phone number or domain in different spellings produce the same value.
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
            IndicatorType.Sha256 => Hex(trimmed, 64, "SHA-256"),
            IndicatorType.Md5 => Hex(trimmed, 32, "MD5"),
            IndicatorType.Phone => Phone(trimmed),
            IndicatorType.VehiclePlate => VehiclePlate(trimmed),
            IndicatorType.VesselImo => VesselImo(trimmed),
            IndicatorType.TravelDocument => TravelDocument(trimmed),
            IndicatorType.CryptoWallet => CryptoWallet(trimmed),
            IndicatorType.Iban => Iban(trimmed),
            _ => Outcome.Bad("Unknown indicator type."),
        };
    }

    private static Outcome Ipv4(string value)
    {
        // IPAddress.TryParse accepts "1", "1.2" and octal/hex forms; an indicator must be a plain dotted quad.
        if (!DottedQuad().IsMatch(value) || !IPAddress.TryParse(value, out var address) || address.AddressFamily != AddressFamily.InterNetwork)
        {
            return Outcome.Bad("Not an IPv4 address in dotted-quad form (e.g. 185.220.101.4).");
        }

        return Outcome.Ok(address.ToString());
    }

    private static Outcome Ipv6(string value)
    {
        if (!value.Contains(':', StringComparison.Ordinal) || !IPAddress.TryParse(value, out var address) || address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return Outcome.Bad("Not an IPv6 address (e.g. 2001:db8::1).");
        }

        return Outcome.Ok(address.ToString().ToLowerInvariant());
    }

    private static readonly IdnMapping Idn = new() { AllowUnassigned = false, UseStd3AsciiRules = true };

    internal static string? NormaliseHost(string host)
    {
        host = host.TrimEnd('.');
        if (host.Length is 0 or > 253)
        {
            return null;
        }

        string ascii;
        try
        {
            ascii = Idn.GetAscii(host).ToLowerInvariant();
        }
        catch (ArgumentException)
        {
            return null;
        }

        var labels = ascii.Split('.');
        if (labels.Length < 2 || ascii.Length > 253)
        {
            return null;
        }

        foreach (var label in labels)
        {
            if (!DomainLabel().IsMatch(label))
            {
                return null;
            }
        }

        // A top-level domain is never all digits; that would be an IP address written as a domain.
        return labels[^1].All(char.IsAsciiDigit) ? null : ascii;
    }

    private static Outcome Domain(string value)
    {
        var host = NormaliseHost(value);
        return host is null
            ? Outcome.Bad("Not a valid domain name (e.g. secure-login-mup.example.rs).")
            : Outcome.Ok(host);
    }

    private static Outcome Url(string value)
    {
        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https" or "ftp") || string.IsNullOrEmpty(uri.Host))
        {
            return Outcome.Bad("Not an absolute http, https or ftp URL.");
        }

        var host = uri.HostNameType is UriHostNameType.IPv4 or UriHostNameType.IPv6 ? uri.Host : NormaliseHost(uri.IdnHost);
        if (host is null)
        {
            return Outcome.Bad("The URL's host is not a valid domain name or IP address.");
        }

        var builder = new UriBuilder(uri) { Host = host };
        return Outcome.Ok(builder.Uri.AbsoluteUri);
    }

    private static Outcome Email(string value)
    {
        var at = value.LastIndexOf('@');
        if (at <= 0 || at == value.Length - 1)
        {
            return Outcome.Bad("Not an e-mail address (local@domain).");
        }

        var local = value[..at];
        var host = NormaliseHost(value[(at + 1)..]);
        if (local.Length > 64 || !EmailLocalPart().IsMatch(local) || local.StartsWith('.') || local.EndsWith('.') || local.Contains("..", StringComparison.Ordinal) || host is null)
        {
            return Outcome.Bad("Not an e-mail address (local@domain).");
        }

        return Outcome.Ok($"{local}@{host}");
    }

    private static Outcome Hex(string value, int length, string name)
    {
        if (value.Length != length || !value.All(char.IsAsciiHexDigit))
        {
            return Outcome.Bad($"A {name} hash is exactly {length} hexadecimal characters.");
        }

        return Outcome.Ok(value.ToLowerInvariant());
    }

    private static Outcome Phone(string value)
    {
        var compact = new StringBuilder(value.Length);
        foreach (var ch in value)
        {
            if (ch is ' ' or '-' or '.' or '(' or ')')
            {
                continue;
            }

            compact.Append(ch);
        }

        var digits = compact.ToString();
        if (!E164().IsMatch(digits))
        {
            return Outcome.Bad("Not an E.164 phone number: '+', country code and number, 8 to 15 digits (e.g. +381641234567).");
        }

        return Outcome.Ok(digits);
    }

    private static Outcome VehiclePlate(string value)
    {
        var compact = new string(value.Where(char.IsLetterOrDigit).Select(char.ToUpperInvariant).ToArray());
        if (compact.Length is < 2 or > 15 || value.Any(ch => !char.IsLetterOrDigit(ch) && ch is not (' ' or '-' or '.' or '·')))
        {
            return Outcome.Bad("A vehicle plate is 2 to 15 letters and digits, optionally separated by spaces, hyphens or dots.");
        }

        return Outcome.Ok(compact);
    }

    private static Outcome VesselImo(string value)
    {
        var digits = value.StartsWith("IMO", StringComparison.OrdinalIgnoreCase) ? value[3..].TrimStart(' ', '-') : value;
        if (digits.Length != 7 || !digits.All(char.IsAsciiDigit))
        {
            return Outcome.Bad("An IMO number is 7 digits, optionally preceded by 'IMO'.");
        }

        var sum = 0;
        for (var i = 0; i < 6; i++)
        {
            sum += (digits[i] - '0') * (7 - i);
        }

        if (sum % 10 != digits[6] - '0')
        {
            return Outcome.Bad("The IMO number's check digit does not match.");
        }

        return Outcome.Ok($"IMO{digits}");
    }

    private static Outcome TravelDocument(string value)
    {
        var compact = new string(value.Where(ch => ch is not (' ' or '-')).Select(char.ToUpperInvariant).ToArray());
        if (compact.Length is < 1 or > 30 || !compact.All(char.IsAsciiLetterOrDigit))
        {
            return Outcome.Bad("A travel document number is 1 to 30 letters and digits.");
        }

        return Outcome.Ok(compact);
    }

    private static Outcome CryptoWallet(string value)
    {
        if (EthereumAddress().IsMatch(value))
        {
            return Outcome.Ok(value.ToLowerInvariant());
        }

        if (BitcoinBech32().IsMatch(value.ToLowerInvariant()))
        {
            return Outcome.Ok(value.ToLowerInvariant());
        }

        if (BitcoinBase58().IsMatch(value) || MoneroAddress().IsMatch(value) || TronAddress().IsMatch(value))
        {
            return Outcome.Ok(value);
        }

        return Outcome.Bad("Not a recognised wallet address (Bitcoin, Ethereum, Monero or Tron).");
    }

    private static Outcome Iban(string value)
    {
        var compact = new string(value.Where(ch => ch != ' ').Select(char.ToUpperInvariant).ToArray());
        if (compact.Length is < 15 or > 34 || !char.IsAsciiLetter(compact[0]) || !char.IsAsciiLetter(compact[1])
            || !char.IsAsciiDigit(compact[2]) || !char.IsAsciiDigit(compact[3]) || !compact.All(char.IsAsciiLetterOrDigit))
        {
            return Outcome.Bad("Not an IBAN: two letters, two check digits and up to 30 letters and digits.");
        }

        var remainder = 0;
        foreach (var ch in compact[4..] + compact[..4])
        {
            var digit = char.IsAsciiDigit(ch) ? ch - '0' : ch - 'A' + 10;
            remainder = digit >= 10 ? ((remainder * 100) + digit) % 97 : ((remainder * 10) + digit) % 97;
        }

        return remainder == 1 ? Outcome.Ok(compact) : Outcome.Bad("The IBAN's check digits do not match.");
    }

    [GeneratedRegex(@"^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$")]
    private static partial Regex DottedQuad();

    [GeneratedRegex("^(?!-)[a-z0-9-]{1,63}(?<!-)$")]
    private static partial Regex DomainLabel();

    [GeneratedRegex(@"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+$")]
    private static partial Regex EmailLocalPart();

    [GeneratedRegex(@"^\+[1-9]\d{7,14}$")]
    private static partial Regex E164();

    [GeneratedRegex("^0x[0-9a-fA-F]{40}$")]
    private static partial Regex EthereumAddress();

    [GeneratedRegex("^(bc1|tb1)[02-9ac-hj-np-z]{11,71}$")]
    private static partial Regex BitcoinBech32();

    [GeneratedRegex("^[13][1-9A-HJ-NP-Za-km-z]{25,34}$")]
    private static partial Regex BitcoinBase58();

    [GeneratedRegex("^[48][1-9A-HJ-NP-Za-km-z]{94}$")]
    private static partial Regex MoneroAddress();

    [GeneratedRegex("^T[1-9A-HJ-NP-Za-km-z]{33}$")]
    private static partial Regex TronAddress();
}
