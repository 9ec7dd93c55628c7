using IntelSharing.Api.Infrastructure.Persistence;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;

namespace IntelSharing.IntegrationTests.Infrastructure;

/// <summary>
/// One migration run per test process and provider; every fixture then starts on a copy of that migrated, empty
/// database (a file copy on SQLite, <c>CREATE DATABASE … TEMPLATE</c> on PostgreSQL), so a test class reads only
/// the rows its own tests wrote and pays for a copy instead of the whole migration history. The application still
/// runs its migrator at start and finds nothing to apply, which also checks that the copy is complete.
/// Tests that are about migrating (the command line, restores, several processes racing to migrate) ask the
/// cluster for an empty database instead (<see cref="PostgresCluster.CreateDatabaseAsync"/>).
/// </summary>
public static class MigratedTemplates
{
    private static readonly Lazy<Task<string>> SqliteTemplate = new(CreateSqliteTemplateAsync);
    private static readonly Lazy<Task<string>> PostgresTemplate = new(CreatePostgresTemplateAsync);

    /// <summary>A new SQLite file holding the migrated schema and no rows.</summary>
    public static async Task<string> CopySqliteAsync(string file)
    {
        File.Copy(await SqliteTemplate.Value, file);
        return $"Data Source={file}";
    }

    /// <summary>A new database in the shared cluster holding the migrated schema and no rows.</summary>
    public static async Task<string> CopyPostgresAsync(PostgresCluster cluster, string purpose) =>
        await cluster.CreateDatabaseAsync(purpose, template: await PostgresTemplate.Value);

    /// <summary>Removes the SQLite template file at the end of the run (the PostgreSQL one goes with the cluster).</summary>
    public static void DeleteSqliteTemplate()
    {
        if (SqliteTemplate.IsValueCreated && SqliteTemplate.Value.IsCompletedSuccessfully && File.Exists(SqliteTemplate.Value.Result))
        {
            File.Delete(SqliteTemplate.Value.Result);
        }
    }

    private static async Task<string> CreateSqliteTemplateAsync()
    {
        var file = Path.Combine(Path.GetTempPath(), $"intelsharing-template-{Guid.NewGuid():N}.db");
        var connectionString = $"Data Source={file}";
        await MigrateAsync(DatabaseProvider.Sqlite, connectionString);

        // The migrator wrote through WAL: fold the log into the file so that copying the one file copies everything.
        await using (var connection = new SqliteConnection(new SqliteConnectionStringBuilder(connectionString) { Pooling = false }.ToString()))
        {
            await connection.OpenAsync();
            await using var checkpoint = connection.CreateCommand();
            checkpoint.CommandText = "PRAGMA wal_checkpoint(TRUNCATE)";
            await checkpoint.ExecuteNonQueryAsync();
        }

        SqliteConnection.ClearAllPools();
        return file;
    }

    private static async Task<string> CreatePostgresTemplateAsync()
    {
        var cluster = await PostgresCluster.Shared;
        var connectionString = await cluster.CreateDatabaseAsync("template");
        await MigrateAsync(DatabaseProvider.Postgres, connectionString);
        var name = new NpgsqlConnectionStringBuilder(connectionString).Database!;

        // PostgreSQL copies a template only while nobody is connected to it; refusing connections keeps it that way.
        await using var admin = new NpgsqlConnection(cluster.AdminConnectionString);
        await admin.OpenAsync();
        await using var close = admin.CreateCommand();
        close.CommandText = $"ALTER DATABASE \"{name}\" WITH ALLOW_CONNECTIONS false";
        await close.ExecuteNonQueryAsync();
        return name;
    }

    private static async Task MigrateAsync(DatabaseProvider provider, string connectionString)
    {
        await using var database = new Database(Options.Create(new DatabaseOptions { Provider = provider, ConnectionString = connectionString }));
        await new Migrator(database, TimeProvider.System, NullLogger<Migrator>.Instance).MigrateAsync(CancellationToken.None);
    }
}
