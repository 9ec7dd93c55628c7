using System.Text;
using IntelSharing.Api.Domain;

namespace IntelSharing.Api.Features.Stix;

/// <summary>
/// STIX 2.1 patterns (STIX Patterning, §9) for the indicator types that have a cyber-observable: one comparison
/// on the normalised value. Values are written as pattern string literals, where a quote or a backslash would
/// end or bend the literal, so both are escaped (§9.3: <c>\'</c> and <c>\\</c>).
/// </summary>
public static class StixPattern
{
    /// <summary>The pattern for an indicator of this type and value, or null when STIX has no observable for the type.</summary>
    public static string? For(IndicatorType type, string value) => Path(type) is { } path ? $"[{path} = {Literal(value)}]" : null;

    /// <summary>Whether STIX has an observable (and so a pattern) for the type.</summary>
    public static bool HasPattern(IndicatorType type) => Path(type) is not null;

    public static string Literal(string value)
    {
        var literal = new StringBuilder(value.Length + 2).Append('\'');
        foreach (var c in value)
        {
            if (c is '\'' or '\\')
            {
                literal.Append('\\');
            }

            literal.Append(c);
        }

        return literal.Append('\'').ToString();
    }

    private static string? Path(IndicatorType type) => type switch
    {
        IndicatorType.Ipv4 => "ipv4-addr:value",
        IndicatorType.Ipv6 => "ipv6-addr:value",
        IndicatorType.Domain => "domain-name:value",
        IndicatorType.Url => "url:value",
        IndicatorType.Email => "email-addr:value",
        IndicatorType.Sha256 => "file:hashes.'SHA-256'",
        IndicatorType.Md5 => "file:hashes.MD5",
        _ => null,
    };
}
