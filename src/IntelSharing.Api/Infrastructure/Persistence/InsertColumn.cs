using Npgsql;
using NpgsqlTypes;

namespace IntelSharing.Api.Infrastructure.Persistence;

/// <summary>One column of the rows <see cref="SqlDialect.InsertRowsAsync"/> inserts: its name and one value per row.</summary>
public abstract class InsertColumn(string name)
{
    public string Name => name;

    public abstract int Count { get; }

    public abstract object? ValueAt(int row);

    /// <summary>The whole column as one PostgreSQL array parameter named after the column.</summary>
    internal abstract NpgsqlParameter ArrayParameter();

    public static InsertColumn Of<T>(string name, IEnumerable<T> values) => new Values<T>(name, values.ToArray());

    private sealed class Values<T>(string name, T[] values) : InsertColumn(name)
    {
        public override int Count => values.Length;

        public override object? ValueAt(int row) => values[row];

        // Text and bytea arrays are named: a null element gives Npgsql nothing to infer them from.
        internal override NpgsqlParameter ArrayParameter()
        {
            var parameter = new NpgsqlParameter<T[]>(Name, values);
            if (typeof(T) == typeof(string))
            {
                parameter.NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text;
            }
            else if (typeof(T) == typeof(byte[]))
            {
                parameter.NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bytea;
            }

            return parameter;
        }
    }
}
