using System.Collections.Frozen;

namespace IntelSharing.Api.Domain;

/// <summary>Bank accounts: IBANs checked against the SWIFT registry lengths and ISO 7064 mod 97.</summary>
public static partial class IndicatorRules
{
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
}
