using System.Data.Common;
using System.Text;
using Dapper;

namespace IntelSharing.Api.Infrastructure.Persistence;

/// <summary>
/// The writes of one transaction, sent as one command: Npgsql sends the statements of a multi-statement command
/// in one round trip (and together with the BEGIN it still owes), SQLite runs them one after the other in process.
/// Each slice adds its statements with their parameters; a parameter name is shared between statements only
/// when it carries the same value, so two slices cannot silently bind each other's values.
/// </summary>
public sealed class SqlBatch
{
    private readonly StringBuilder _sql = new();
    private readonly DynamicParameters _parameters = new();
    private readonly Dictionary<string, object?> _values = new(StringComparer.OrdinalIgnoreCase);

    private int _names;

    public bool IsEmpty => _sql.Length == 0;

    /// <summary>A name not used before in this batch (<c>stem0</c>, <c>stem1</c>, …), to prefix the parameters of one repeated part.</summary>
    public string NextName(string stem) => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{stem}{_names++}");

    /// <summary>Binds <paramref name="name"/> and returns its placeholder (<c>@name</c>).</summary>
    public string Parameter(string name, object? value)
    {
        if (_values.TryGetValue(name, out var bound))
        {
            return Equals(bound, value)
                ? "@" + name
                : throw new InvalidOperationException($"The batch already binds @{name} to another value; name the parameter after what it holds.");
        }

        _values.Add(name, value);
        _parameters.Add(name, value);
        return "@" + name;
    }

    /// <summary>Adds a statement whose parameters are the properties of <paramref name="parameters"/> (an anonymous object).</summary>
    public SqlBatch Add(string sql, object? parameters = null)
    {
        if (parameters is not null)
        {
            foreach (var property in parameters.GetType().GetProperties())
            {
                Parameter(property.Name, property.GetValue(parameters));
            }
        }

        _sql.Append(sql.AsSpan().TrimEnd().TrimEnd(';')).Append(";\n");
        return this;
    }

    public async Task ExecuteAsync(DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken)
    {
        if (!IsEmpty)
        {
            await connection.ExecuteAsync(new CommandDefinition(_sql.ToString(), _parameters, transaction, cancellationToken: cancellationToken));
        }
    }

    /// <summary>Runs every statement and returns the first column of the first row that one of them returns (put the one query last).</summary>
    public Task<T?> ExecuteScalarAsync<T>(DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken) =>
        connection.ExecuteScalarAsync<T>(new CommandDefinition(_sql.ToString(), _parameters, transaction, cancellationToken: cancellationToken));
}
