namespace IntelSharing.Api.Infrastructure.Persistence;

/// <summary>One column of the rows <see cref="SqlDialect.Rows"/> sends: its name and one value per row.</summary>
public abstract class ColumnValues(string name)
{
    public string Name => name;

    public abstract int Count { get; }

    public abstract object? ValueAt(int row);

    /// <summary>The whole column as one array (timestamps in UTC, as Npgsql requires of timestamptz), and its PostgreSQL type.</summary>
    internal abstract (object Values, string PostgresType) AsArray();

    public static ColumnValues Of<T>(string name, IEnumerable<T> values) => new Values<T>(name, values.ToArray());

    private static string PostgresTypeOf(Type type) => (Nullable.GetUnderlyingType(type) ?? type) switch
    {
        var t when t == typeof(Guid) => "uuid",
        var t when t == typeof(string) => "text",
        var t when t == typeof(int) => "integer",
        var t when t == typeof(long) => "bigint",
        var t when t == typeof(bool) => "boolean",
        var t when t == typeof(DateTimeOffset) => "timestamptz",
        var t when t == typeof(byte[]) => "bytea",
        var t => throw new NotSupportedException($"No PostgreSQL array type for {t.Name} columns."),
    };

    private sealed class Values<T>(string name, T[] values) : ColumnValues(name)
    {
        public override int Count => values.Length;

        public override object? ValueAt(int row) => values[row];

        internal override (object Values, string PostgresType) AsArray() => (values switch
        {
            DateTimeOffset[] times => Array.ConvertAll(times, t => t.ToUniversalTime()),
            DateTimeOffset?[] times => Array.ConvertAll(times, t => t?.ToUniversalTime()),
            _ => values,
        }, PostgresTypeOf(typeof(T)));
    }
}
