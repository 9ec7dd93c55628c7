using System.Data.Common;
using System.Text;
using System.Text.RegularExpressions;
using Dapper;

namespace IntelSharing.Api.Infrastructure.Persistence;

/// <summary>
/// The writes of one transaction. On PostgreSQL they go as one command: Npgsql sends the statements of a
/// multi-statement command in one round trip (and together with the BEGIN it still owes). On SQLite, which has no
/// round trips to save, <see cref="ExecuteAsync"/> runs each statement with only its own parameters: one
/// Microsoft.Data.Sqlite command binds every parameter of the command to every statement in it (up to four name
/// look-ups each), so a commit group's batch of S statements and P parameters cost S × P look-ups — quadratic in the
/// group's size, the largest CPU frame outside SQLite itself in the profile of issue 9 (ADR 39).
/// Each slice adds its statements with their parameters; a parameter name is shared between statements only
/// when it carries the same value, so two slices cannot silently bind each other's values.
/// </summary>
public sealed partial class SqlBatch
{
    private readonly StringBuilder _sql = new();
    private readonly DynamicParameters _parameters = new();
    private readonly Dictionary<string, object?> _values = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<Statement> _statements = [];

    private int _names;

    public bool IsEmpty => _sql.Length == 0;

    /// <summary>The statements as they will be sent, and the values bound to their parameters (for tests).</summary>
    internal (string Sql, IReadOnlyDictionary<string, object?> Values) Contents => (_sql.ToString(), _values);

    /// <summary>Each statement with the parameters it is bound when run on its own (for tests).</summary>
    internal IReadOnlyList<(string Sql, IReadOnlyList<string> Names)> Statements =>
        _statements.ConvertAll(s => (s.Sql, (IReadOnlyList<string>)s.Names));

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

        var statement = sql.AsSpan().TrimEnd().TrimEnd(';').ToString();
        _sql.Append(statement).Append(";\n");
        _statements.Add(new Statement(statement, NamesIn(statement)));
        return this;
    }

    private string[] NamesIn(string statement) =>
        ParameterReference().Matches(statement).Select(m => m.Groups[1].Value).Where(_values.ContainsKey).Distinct(StringComparer.OrdinalIgnoreCase).ToArray();

    /// <summary>
    /// Adds every statement of <paramref name="other"/>, built on its own (one alert of a commit group), with its
    /// parameters renamed under a prefix of their own, so that batches written by the same code for different rows
    /// can travel in one command. Npgsql numbers each statement's parameters afresh ($1, $2…), so the renamed
    /// statements are the same prepared statements as before.
    /// </summary>
    public SqlBatch Append(SqlBatch other)
    {
        var prefix = NextName("g") + "_";
        foreach (var (name, value) in other._values)
        {
            Parameter(prefix + name, value);
        }

        foreach (var statement in other._statements)
        {
            var sql = ParameterReference().Replace(statement.Sql, match =>
                other._values.ContainsKey(match.Groups[1].Value) ? "@" + prefix + match.Groups[1].Value : match.Value);
            _sql.Append(sql).Append(";\n");
            _statements.Add(new Statement(sql, Array.ConvertAll(statement.Names, name => prefix + name)));
        }

        return this;
    }

    /// <summary>
    /// Adds <paramref name="count"/> rows as multi-row statements <c>{head} (row), (row)… {tail}</c> of 32, 16, 8, 4, 2 and
    /// 1 rows: any number of rows takes a handful of statements of a handful of shapes, each prepared once per connection,
    /// where one statement per group size would crowd the prepared-statement cache. <paramref name="row"/> returns the
    /// parenthesised values of row <c>i</c>, its parameters bound with <see cref="Parameter"/>.
    /// </summary>
    public void AddRows(int count, string head, Func<int, string> row, string tail = "")
    {
        var offset = 0;
        for (var chunk = 32; offset < count; chunk /= 2)
        {
            for (; count - offset >= chunk; offset += chunk)
            {
                var sql = new StringBuilder(head).Append(" VALUES ");
                for (var i = offset; i < offset + chunk; i++)
                {
                    sql.Append(i == offset ? string.Empty : ", ").Append(row(i));
                }

                Add(sql.Append(' ').Append(tail).ToString());
            }
        }
    }

    /// <summary>Runs every statement and opens a reader over the results of those that return rows, in order.</summary>
    public Task<SqlMapper.GridReader> QueryMultipleAsync(DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken) =>
        connection.QueryMultipleAsync(new CommandDefinition(_sql.ToString(), _parameters, transaction, cancellationToken: cancellationToken));

    public async Task ExecuteAsync(DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken)
    {
        if (IsEmpty)
        {
            return;
        }

        if (SqlDialect.Of(connection).SendsBatchesAsOneCommand)
        {
            await connection.ExecuteAsync(new CommandDefinition(_sql.ToString(), _parameters, transaction, cancellationToken: cancellationToken));
            return;
        }

        foreach (var statement in _statements)
        {
            var parameters = new DynamicParameters();
            foreach (var name in statement.Names)
            {
                parameters.Add(name, _values[name]);
            }

            await connection.ExecuteAsync(new CommandDefinition(statement.Sql, parameters, transaction, cancellationToken: cancellationToken));
        }
    }

    /// <summary>Runs every statement and returns the first column of the first row that one of them returns (put the one query last).</summary>
    public Task<T?> ExecuteScalarAsync<T>(DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken) =>
        connection.ExecuteScalarAsync<T>(new CommandDefinition(_sql.ToString(), _parameters, transaction, cancellationToken: cancellationToken));

    [GeneratedRegex("@([A-Za-z_][A-Za-z0-9_]*)")]
    private static partial Regex ParameterReference();

    private sealed record Statement(string Sql, string[] Names);
}
