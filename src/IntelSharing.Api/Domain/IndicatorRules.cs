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

    private static Outcome Hex(string value, int length, string name, string example)
    {
        if (value.Length != length || !value.All(char.IsAsciiHexDigit))
        {
            return Outcome.Bad($"A {name} hash is exactly {length} hexadecimal characters (e.g. {example}).");
        }

        return Outcome.Ok(value.ToLowerInvariant());
    }
}
