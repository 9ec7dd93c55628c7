using System.Data;
using System.Data.Common;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using Npgsql;

namespace IntelSharing.Api.Infrastructure.Persistence;

/// <summary>
/// Opens connections to the configured store. Handlers take this, open a connection, and run Dapper
/// with the SQL written beside them; there is no repository layer.
/// </summary>
public sealed class Database : IAsyncDisposable
{
    private readonly NpgsqlDataSource? _postgres;
    private readonly string? _dedicatedPostgresConnectionString;
    private readonly string _sqliteConnectionString = string.Empty;

    public Database(IOptions<DatabaseOptions> options)
    {
        // Every Database binds ids and times alike, in the service and in any other process that writes the same store
        // (a test, a command): without the handlers SQLite stored an upper-case id text the service never matches.
        DapperTypeHandlers.Register();
        var value = options.Value;
        Dialect = SqlDialect.For(value.Provider);
        if (value.Provider == DatabaseProvider.Postgres)
        {
            var builder = new NpgsqlDataSourceBuilder(value.EffectiveConnectionString);
            // The service keeps no session state on a connection besides the prepared statements below (no SET, no
            // temporary tables; the one session-level advisory lock, around migrations, is released explicitly), so
            // the DISCARD ALL that Npgsql sends when a connection goes back to the pool is a round trip per use that
            // resets nothing — and would throw the prepared statements away.
            builder.ConnectionStringBuilder.NoResetOnClose = true;
            if (!ExplicitlySet(value.EffectiveConnectionString, "Max Auto Prepare"))
            {
                // Every request runs the same few dozen statements: once a statement has run a few times on a
                // connection, Npgsql prepares it there, and PostgreSQL stops parsing and planning it on each call.
                // DDL run by migrations is executed once and never reaches the threshold; PostgreSQL re-plans a
                // prepared statement itself when a table it reads changes. An operator behind a pooler that cannot
                // carry prepared statements (PgBouncer in transaction mode before 1.21) sets Max Auto Prepare=0.
                builder.ConnectionStringBuilder.MaxAutoPrepare = DefaultMaxAutoPrepare;
            }

            _postgres = builder.Build();
            _dedicatedPostgresConnectionString = new NpgsqlConnectionStringBuilder(value.EffectiveConnectionString) { Pooling = false }.ToString();
        }
        else
        {
            var builder = new SqliteConnectionStringBuilder(value.EffectiveConnectionString)
            {
                Pooling = true,
                DefaultTimeout = 30,
            };
            _sqliteConnectionString = builder.ToString();
        }
    }

    /// <summary>Statements Npgsql keeps prepared per PostgreSQL connection unless the connection string says otherwise.</summary>
    public const int DefaultMaxAutoPrepare = 128;

    public SqlDialect Dialect { get; }

    /// <summary>The PostgreSQL connection string as the service uses it, with the settings it adds; null on SQLite.</summary>
    internal string? PostgresConnectionString => _postgres?.ConnectionString;

    public async Task<DbConnection> OpenAsync(CancellationToken cancellationToken)
    {
        if (_postgres is not null)
        {
            return await _postgres.OpenConnectionAsync(cancellationToken);
        }

        var connection = new SqliteConnection(_sqliteConnectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);
            await using var pragma = connection.CreateCommand();
            // WAL lets readers run beside the single writer; busy_timeout makes writers queue instead of failing.
            // synchronous=FULL syncs the WAL at every commit, so a 201 survives a power loss as it does on PostgreSQL;
            // NORMAL (syncing only at checkpoints) could lose the last commits (ADR 13). bench/IntelSharing.Bench/SqliteLimit.cs
            // measures SQLite's limit with these same pragmas.
            pragma.CommandText = "PRAGMA journal_mode=WAL; PRAGMA busy_timeout=10000; PRAGMA foreign_keys=ON; PRAGMA synchronous=FULL;";
            await pragma.ExecuteNonQueryAsync(cancellationToken);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// PostgreSQL only: a connection outside the pool, for a session that lives as long as the process (a LISTEN), so
    /// that it neither holds a pooled connection nor goes back to the pool still listening.
    /// </summary>
    public async Task<NpgsqlConnection> OpenDedicatedPostgresAsync(string applicationName, CancellationToken cancellationToken)
    {
        var builder = new NpgsqlConnectionStringBuilder(_dedicatedPostgresConnectionString
            ?? throw new InvalidOperationException("A dedicated connection is a PostgreSQL feature; this instance runs on SQLite."))
        {
            // Names the session in pg_stat_activity, so operators can tell what holds it.
            ApplicationName = applicationName,
        };
        var connection = new NpgsqlConnection(builder.ToString());
        try
        {
            await connection.OpenAsync(cancellationToken);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Starts a write transaction as the connection's dialect does it (on SQLite BEGIN IMMEDIATE, so two writers
    /// queue on the write lock instead of both reading and then failing to upgrade).
    /// </summary>
    public static Task<WriteTransaction> BeginWriteAsync(DbConnection connection, CancellationToken cancellationToken) =>
        SqlDialect.Of(connection).BeginWriteAsync(connection, cancellationToken);

    private static bool ExplicitlySet(string connectionString, string keyword) =>
        new DbConnectionStringBuilder { ConnectionString = connectionString }.Keys.Cast<string>()
            .Any(k => string.Equals(k.Replace(" ", string.Empty, StringComparison.Ordinal), keyword.Replace(" ", string.Empty, StringComparison.Ordinal), StringComparison.OrdinalIgnoreCase));

    public async ValueTask DisposeAsync()
    {
        if (_postgres is not null)
        {
            await _postgres.DisposeAsync();
        }
    }
}
