using Dapper;
using IntelSharing.Api.Infrastructure.Hosting;
using IntelSharing.Api.Infrastructure.Persistence;
using IntelSharing.IntegrationTests.Infrastructure;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace IntelSharing.IntegrationTests.Operations;

/// <summary>The executable's commands that need no database, run as a process the way an operator types them.</summary>
public sealed class CommandLineTests
{
    private static readonly Dictionary<string, string> NoSettings = [];

    [Theory]
    [InlineData("--help")]
    [InlineData("help")]
    [InlineData("-h")]
    public async Task Help_names_every_command_and_exits_0_without_touching_a_database(string flag)
    {
        var folder = Directory.CreateTempSubdirectory("intelsharing-help-");
        try
        {
            var run = await ApiExecutable.RunAsync(NoSettings, [flag], folder.FullName);

            Assert.Equal(0, run.ExitCode);
            foreach (var command in CommandLine.Commands)
            {
                Assert.Contains($"  {command} ", run.Stdout, StringComparison.Ordinal);
            }

            Assert.Contains("docs/configuration.md", run.Stdout, StringComparison.Ordinal);
            Assert.Empty(folder.GetFiles()); // no intelsharing.db: nothing started
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task An_unknown_command_is_refused_with_exit_code_64_naming_it_and_the_commands_and_starts_nothing()
    {
        var folder = Directory.CreateTempSubdirectory("intelsharing-unknown-");
        try
        {
            var run = await ApiExecutable.RunAsync(NoSettings, ["bootstrap_admin", "--name", "MUP RS"], folder.FullName);

            Assert.Equal(CommandLine.UsageExitCode, run.ExitCode);
            Assert.Contains("Unknown command 'bootstrap_admin'. Commands: serve, migrate, migration-sql, bootstrap-admin, reencrypt-secrets, help.", run.Stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("isk_", run.Output, StringComparison.Ordinal);
            Assert.Empty(folder.GetFiles());
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    [Theory]
    [InlineData(new string[] { "migration-sql" }, "migration-sql needs --provider postgres or --provider sqlite.")]
    [InlineData(new string[] { "migration-sql", "--provider", "oracle" }, "migration-sql needs --provider postgres or --provider sqlite, not 'oracle'.")]
    [InlineData(new string[] { "migration-sql", "--provider", "postgres", "--after", "seven" }, "--after must be a migration version (a whole number), not 'seven'.")]
    public async Task Migration_sql_with_a_wrong_option_exits_64_and_says_what_it_needs(string[] arguments, string message)
    {
        var run = await ApiExecutable.RunAsync(NoSettings, arguments);

        Assert.Equal(CommandLine.UsageExitCode, run.ExitCode);
        Assert.Contains(message, run.Stderr, StringComparison.Ordinal);
        Assert.Empty(run.Stdout);
    }

    [Fact]
    public async Task Migration_sql_after_a_version_prints_only_the_newer_migrations_with_the_tokens_translated()
    {
        var scripts = Migrator.Scripts(DatabaseProvider.Postgres);
        var after = scripts[^2].Version;

        var run = await ApiExecutable.RunAsync(NoSettings, ["migration-sql", "--provider", "postgres", "--after", after.ToString(System.Globalization.CultureInfo.InvariantCulture)]);

        Assert.Equal(0, run.ExitCode);
        Assert.Contains($"-- {scripts[^1].Version:D4} {scripts[^1].Name}", run.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain($"-- {scripts[^2].Version:D4} ", run.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("{timestamp}", run.Stdout, StringComparison.Ordinal);
        Assert.Contains("applied_at timestamptz NOT NULL", run.Stdout, StringComparison.Ordinal);
    }
}

/// <summary>The commands that change a database: <c>migrate</c>, and the SQL printed for operators who migrate out of band.</summary>
public abstract class MigrationCommandTests
{
    protected abstract DatabaseProvider Provider { get; }

    /// <summary>A new, empty database and its connection string.</summary>
    protected abstract Task<string> EmptyDatabaseAsync();

    private Dictionary<string, string> Settings(string connectionString) => new()
    {
        ["Database__Provider"] = Provider.ToString(),
        ["Database__ConnectionString"] = connectionString,
        // migrate reads the same settings as the server, so that a release job can share its Secret and ConfigMap.
        ["Secrets__EncryptionKey"] = Convert.ToBase64String(new byte[32]),
    };

    [Fact]
    public async Task Migrate_applies_every_migration_and_exits_and_a_second_run_finds_nothing_pending()
    {
        var database = await EmptyDatabaseAsync();

        var first = await ApiExecutable.RunAsync(Settings(database), [CommandLine.Migrate]);
        var second = await ApiExecutable.RunAsync(Settings(database), [CommandLine.Migrate]);

        Assert.Equal(0, first.ExitCode);
        Assert.Contains($"Applied {Migrator.Scripts(Provider).Count} migration(s); the database is up to date.", first.Stdout, StringComparison.Ordinal);
        Assert.Equal(0, second.ExitCode);
        Assert.Contains("The database is up to date; no migration was pending.", second.Stdout, StringComparison.Ordinal);
        Assert.Equal(Migrator.Scripts(Provider).Select(s => s.Version), await AppliedVersionsAsync(database));
    }

    [Fact]
    public async Task The_printed_migration_sql_builds_the_same_schema_as_migrate_and_the_server_then_finds_nothing_pending()
    {
        var byCommand = await EmptyDatabaseAsync();
        Assert.Equal(0, (await ApiExecutable.RunAsync(Settings(byCommand), [CommandLine.Migrate])).ExitCode);

        var byHand = await EmptyDatabaseAsync();
        var printed = await ApiExecutable.RunAsync(new Dictionary<string, string>(), [CommandLine.MigrationSql, "--provider", Provider.ToString().ToLowerInvariant()]);
        Assert.Equal(0, printed.ExitCode);
        await using (var connection = Open(byHand))
        {
            await connection.OpenAsync(TestContext.Current.CancellationToken);
            await connection.ExecuteAsync(printed.Stdout);
        }

        var migrate = await ApiExecutable.RunAsync(Settings(byHand), [CommandLine.Migrate]);

        Assert.Contains("no migration was pending", migrate.Stdout, StringComparison.Ordinal);
        Assert.Equal(await SchemaAsync(byCommand), await SchemaAsync(byHand));
    }

    private System.Data.Common.DbConnection Open(string connectionString) =>
        Provider == DatabaseProvider.Postgres ? new NpgsqlConnection(connectionString) : new SqliteConnection(connectionString);

    private async Task<IReadOnlyList<int>> AppliedVersionsAsync(string connectionString)
    {
        await using var connection = Open(connectionString);
        return [.. await connection.QueryAsync<int>("SELECT version FROM schema_migrations ORDER BY version")];
    }

    /// <summary>Every table's columns with their types, and every index, as one comparable list.</summary>
    private async Task<IReadOnlyList<string>> SchemaAsync(string connectionString)
    {
        await using var connection = Open(connectionString);
        var rows = Provider == DatabaseProvider.Postgres
            ? await connection.QueryAsync<string>(
                """
                SELECT table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable || ' ' || COALESCE(column_default, '')
                FROM information_schema.columns WHERE table_schema = 'public'
                UNION ALL SELECT 'index ' || indexdef FROM pg_indexes WHERE schemaname = 'public'
                UNION ALL SELECT 'function ' || proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public'
                UNION ALL SELECT 'trigger ' || tgname FROM pg_trigger WHERE NOT tgisinternal
                """)
            : await connection.QueryAsync<string>("SELECT type || ' ' || name || ' ' || COALESCE(sql, '') FROM sqlite_master");
        return [.. rows.Order(StringComparer.Ordinal)];
    }
}

public sealed class MigrationCommandTestsOnSqlite : MigrationCommandTests, IDisposable
{
    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("intelsharing-migrate-");

    protected override DatabaseProvider Provider => DatabaseProvider.Sqlite;

    protected override Task<string> EmptyDatabaseAsync() =>
        Task.FromResult($"Data Source={Path.Combine(_folder.FullName, $"{Guid.NewGuid():N}.db")};Pooling=False");

    public void Dispose() => _folder.Delete(recursive: true);
}

public sealed class MigrationCommandTestsOnPostgres : MigrationCommandTests
{
    protected override DatabaseProvider Provider => DatabaseProvider.Postgres;

    protected override async Task<string> EmptyDatabaseAsync()
    {
        var cluster = await PostgresCluster.Shared;
        if (cluster.AdminConnectionString is null)
        {
            if (PostgresCluster.Required)
            {
                throw new InvalidOperationException($"PostgreSQL is required here (INTELSHARING_REQUIRE_POSTGRES=1) but: {cluster.UnavailableReason}");
            }

            Assert.Skip(cluster.UnavailableReason!);
        }

        return await cluster.CreateDatabaseAsync("migrationcommand");
    }
}
