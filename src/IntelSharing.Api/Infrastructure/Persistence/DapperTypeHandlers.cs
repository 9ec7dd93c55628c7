using System.Data;
using System.Globalization;
using Dapper;

namespace IntelSharing.Api.Infrastructure.Persistence;

/// <summary>
/// PostgreSQL has native uuid and timestamptz; SQLite stores both as TEXT. These handlers bind each as the
/// parameter's dialect stores it (<see cref="SqlDialect.BindGuid"/>, <see cref="SqlDialect.BindTimestamp"/>) and accept
/// either form when reading.
/// </summary>
public static class DapperTypeHandlers
{
    private static int _registered;

    /// <summary>Fixed width, UTC, microseconds: sorts lexicographically in time order.</summary>
    public const string SqliteTimestampFormat = "yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'";

    public static void Register()
    {
        if (Interlocked.Exchange(ref _registered, 1) == 1)
        {
            return;
        }

        SqlMapper.RemoveTypeMap(typeof(Guid));
        SqlMapper.RemoveTypeMap(typeof(Guid?));
        SqlMapper.RemoveTypeMap(typeof(DateTimeOffset));
        SqlMapper.RemoveTypeMap(typeof(DateTimeOffset?));
        SqlMapper.AddTypeHandler(new GuidHandler());
        SqlMapper.AddTypeHandler(new DateTimeOffsetHandler());
    }

    public static string ToSqliteText(DateTimeOffset value) =>
        value.ToUniversalTime().ToString(SqliteTimestampFormat, CultureInfo.InvariantCulture);

    private sealed class GuidHandler : SqlMapper.TypeHandler<Guid>
    {
        public override void SetValue(IDbDataParameter parameter, Guid value) => SqlDialect.Of(parameter).BindGuid(parameter, value);

        public override Guid Parse(object value) => value switch
        {
            Guid guid => guid,
            string text => Guid.Parse(text, CultureInfo.InvariantCulture),
            byte[] bytes => new Guid(bytes),
            _ => throw new DataException($"Cannot read a Guid from {value.GetType()}."),
        };
    }

    private sealed class DateTimeOffsetHandler : SqlMapper.TypeHandler<DateTimeOffset>
    {
        public override void SetValue(IDbDataParameter parameter, DateTimeOffset value) => SqlDialect.Of(parameter).BindTimestamp(parameter, value);

        public override DateTimeOffset Parse(object value) => value switch
        {
            DateTimeOffset dto => dto.ToUniversalTime(),
            DateTime dt => new DateTimeOffset(DateTime.SpecifyKind(dt, DateTimeKind.Utc)),
            string text => DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal),
            _ => throw new DataException($"Cannot read a DateTimeOffset from {value.GetType()}."),
        };
    }
}
