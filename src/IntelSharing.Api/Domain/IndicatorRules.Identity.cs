using System.Text;
using System.Text.RegularExpressions;

namespace IntelSharing.Api.Domain;

/// <summary>Indicators about people, vehicles, vessels and documents: phone numbers, plates, IMO numbers, travel documents.</summary>
public static partial class IndicatorRules
{
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

    [GeneratedRegex("^\\+[1-9][0-9]{6,14}$")]
    private static partial Regex E164();
}
