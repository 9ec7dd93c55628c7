using System.Globalization;

namespace IntelSharing.Api.Infrastructure.Http;

/// <summary>Strong entity tags for versioned resources: <c>"3"</c> for version 3.</summary>
public static class ETags
{
    public static string ForVersion(int version) => string.Create(CultureInfo.InvariantCulture, $"\"{version}\"");

    /// <summary>
    /// Whether the tag is weak (<c>W/"3"</c>). If-Match compares strongly (RFC 9110 §13.1.1): a weak tag never
    /// matches, whatever version it names. If-None-Match compares weakly, so there it matches like the strong one.
    /// </summary>
    public static bool IsWeak(string? header) => header is not null && header.AsSpan().TrimStart().StartsWith("W/", StringComparison.Ordinal);

    /// <summary>Parses an If-Match or If-None-Match value, weak or strong; null when it names no version we issued.</summary>
    public static int? ParseVersion(string? header)
    {
        if (string.IsNullOrWhiteSpace(header))
        {
            return null;
        }

        var value = header.Trim();
        if (value.StartsWith("W/", StringComparison.Ordinal))
        {
            value = value[2..];
        }

        return value.Length > 2 && value[0] == '"' && value[^1] == '"'
            && int.TryParse(value.AsSpan(1, value.Length - 2), NumberStyles.None, CultureInfo.InvariantCulture, out var version)
            ? version
            : null;
    }
}
