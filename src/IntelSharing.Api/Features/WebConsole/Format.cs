using System.Globalization;

namespace IntelSharing.Api.Features.WebConsole;

/// <summary>How pages write times and numbers: ISO 8601 in UTC, as the API does, whatever the language.</summary>
public static class Format
{
    public static string Time(DateTimeOffset? at) => at is { } value ? value.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture) : "—";

    /// <summary>The start of a UTC clock hour, as the hourly tables list it.</summary>
    public static string Hour(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:00 'UTC'", CultureInfo.InvariantCulture);

    public static string Number(long value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>A state's label key (DeliveryState.dead …), so that states read in the page's language.</summary>
    public static string StateKey(string state) => $"State.{state}";
}
