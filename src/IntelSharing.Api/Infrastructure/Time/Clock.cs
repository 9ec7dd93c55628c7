namespace IntelSharing.Api.Infrastructure.Time;

public static class ClockExtensions
{
    /// <summary>
    /// Now, truncated to whole microseconds: PostgreSQL stores microseconds, so a value that round-trips
    /// through the database compares equal to the one we kept (cursors and ETags depend on it).
    /// </summary>
    public static DateTimeOffset UtcNowMicros(this TimeProvider time) => Truncate(time.GetUtcNow());

    public static DateTimeOffset Truncate(DateTimeOffset value)
    {
        var utc = value.ToUniversalTime();
        return new DateTimeOffset(utc.Ticks - (utc.Ticks % 10), TimeSpan.Zero);
    }

    /// <summary>
    /// The UTC clock hour of <paramref name="at"/> as the tables that count per hour key it, <c>yyyy-MM-ddTHH</c>:
    /// <c>attempt_hours</c> (ADR 50) and the published results' <c>statistics_hourly</c> (ADR 51).
    /// </summary>
    public static string UtcHourKey(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH", System.Globalization.CultureInfo.InvariantCulture);
}
