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
            // The service keeps no session state on a connection besides the prepared statements below and the jit
            // setting (no other SET, no temporary tables; the one session-level advisory lock, around migrations, is
            // released explicitly), so the DISCARD ALL that Npgsql sends when a connection goes back to the pool is a
            // round trip per use that resets nothing it needs reset — and would throw both away.
            builder.ConnectionStringBuilder.NoResetOnClose = true;
            if (!Mentions(builder.ConnectionStringBuilder.Options, "jit"))
            {
                // PostgreSQL compiles a statement to machine code when its estimated cost passes jit_above_cost, which
                // the correlation worker's match over a run of 64 versions does: auto_explain in the end-to-end benchmark
                // found 89 of its 361 slow runs compiled, 123 ms each against 47 ms for the rest. Statements here run
                // for milliseconds, where compiling costs more than it saves; off for the service's own sessions, set
                // once per physical connection (a connection string whose Options set jit keeps its own choice).
                builder.UsePhysicalConnectionInitializer(
                    connection =>
                    {
                        using var command = connection.CreateCommand();
                        command.CommandText = JitOff;
                        command.ExecuteNonQuery();
                    },
                    async connection =>
                    {
                        await using var command = connection.CreateCommand();
                        command.CommandText = JitOff;
                        await command.ExecuteNonQueryAsync();
                    });
            }

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

    private const string JitOff = "SET jit = off";

    private static bool Mentions(string? options, string setting) =>
        options is not null && options.Contains(setting, StringComparison.OrdinalIgnoreCase);

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
