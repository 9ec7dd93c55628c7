using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;

namespace IntelSharing.Api.Domain;

/// <summary>Network indicators: IP addresses, domains, URLs and e-mail addresses.</summary>
public static partial class IndicatorRules
{
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

    [GeneratedRegex("^(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}$")]
    private static partial Regex DottedQuad();

    [GeneratedRegex("^(?!-)[a-z0-9-]{1,63}(?<!-)$")]
    private static partial Regex DomainLabel();

    [GeneratedRegex("^([a-z]{2,63}|xn--[a-z0-9-]{1,59})$")]
    private static partial Regex TopLevelDomain();

    [GeneratedRegex(@"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+$")]
    private static partial Regex EmailLocalPart();
}
