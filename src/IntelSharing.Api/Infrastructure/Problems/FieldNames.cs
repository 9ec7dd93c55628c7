using System.Text;

namespace IntelSharing.Api.Infrastructure.Problems;

/// <summary>Turns .NET property paths and System.Text.Json paths into the JSON field names clients sent.</summary>
public static class FieldNames
{
    /// <summary>
    /// <c>Indicators[3].Value</c> → <c>indicators[3].value</c>. A name with a hyphen is a header (<c>Idempotency-Key</c>),
    /// not a .NET property path, and is kept as clients spell it.
    /// </summary>
    public static string ToJsonPath(string propertyPath)
    {
        if (string.IsNullOrEmpty(propertyPath) || propertyPath.Contains('-', StringComparison.Ordinal))
        {
            return propertyPath;
        }

        var builder = new StringBuilder(propertyPath.Length);
        var atSegmentStart = true;
        foreach (var ch in propertyPath)
        {
            builder.Append(atSegmentStart ? char.ToLowerInvariant(ch) : ch);
            atSegmentStart = ch == '.';
        }

        return builder.ToString();
    }

    /// <summary><c>$.indicators[3].value</c> → <c>indicators[3].value</c>; <c>$['odd key']</c> kept readable.</summary>
    public static string FromJsonPath(string? path)
    {
        if (string.IsNullOrEmpty(path) || path == "$")
        {
            return string.Empty;
        }

        return path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : path.TrimStart('$');
    }
}
