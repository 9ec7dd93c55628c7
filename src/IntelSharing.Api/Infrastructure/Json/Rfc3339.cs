using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;

namespace IntelSharing.Api.Infrastructure.Json;

/// <summary>
/// Date-times as the contract spells them: RFC 3339 with an explicit offset (<c>Z</c> or <c>±hh:mm</c>). A time
/// without one names no instant: parsed as is, the server's own time zone would silently decide it, so two
/// instances in different zones would store different expiry dates for the same request.
/// </summary>
public static partial class Rfc3339
{
    public const string Example = "2027-03-01T00:00:00Z or 2027-03-01T01:00:00+01:00";

    public static bool TryParse(string? text, out DateTimeOffset value)
    {
        value = default;
        return text is not null && DateTimeWithOffset().IsMatch(text)
            && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.None, out value);
    }

    [GeneratedRegex("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,7})?(Z|[+-][0-9]{2}:[0-9]{2})$")]
    private static partial Regex DateTimeWithOffset();
}

/// <summary>Reads <see cref="DateTimeOffset"/> only from RFC 3339 text with its offset; writes it as System.Text.Json always has.</summary>
public sealed class Rfc3339DateTimeOffsetConverter : JsonConverter<DateTimeOffset>
{
    public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.String)
        {
            // No message: System.Text.Json then reports "could not be converted" with the property's path.
            throw new JsonException();
        }

        return Rfc3339.TryParse(reader.GetString(), out var value) ? value : throw new OffsetRequiredException();
    }

    public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options) => writer.WriteStringValue(value);
}

/// <summary>A date-time without its offset (or not RFC 3339 at all); the problem handler names the field and says what to send.</summary>
public sealed class OffsetRequiredException : JsonException
{
    public const string Description = $"A date-time must be RFC 3339 with its offset, e.g. {Rfc3339.Example}.";

    public OffsetRequiredException()
        : base(Description)
    {
    }

    public OffsetRequiredException(string? message)
        : base(message)
    {
    }

    public OffsetRequiredException(string? message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
