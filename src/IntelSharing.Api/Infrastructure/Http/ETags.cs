using System.Globalization;

namespace IntelSharing.Api.Infrastructure.Http;

/// <summary>Strong entity tags for versioned resources: <c>"3"</c> for version 3.</summary>
public static class ETags
{
    public static string ForVersion(int version) => string.Create(CultureInfo.InvariantCulture, $"\"{version}\"");

    /// <summary>Parses an If-Match or If-None-Match value; null when it names no version we issued.</summary>
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
