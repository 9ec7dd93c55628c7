using System.Reflection;
using System.Text.RegularExpressions;
using Dapper;

namespace IntelSharing.Api.Infrastructure.Persistence;

/// <summary>
/// Applies the versioned SQL scripts embedded under <c>Migrations/</c> (<c>NNNN_name.sql</c>), each in its own
/// transaction, recording them in <c>schema_migrations</c>. Scripts use type tokens ({uuid}, {timestamp},
/// {json}, {jsonb}, {bytes}, {bool}, {bigint}) that the dialect translates; a script named <c>NNNN_name.postgres.sql</c>
/// or <c>NNNN_name.sqlite.sql</c> applies to that provider only.
/// </summary>
public sealed partial class Migrator(Database database, TimeProvider time, ILogger<Migrator> logger)
{
    public sealed record Script(int Version, string Name, string Sql);

    /// <summary>The record of applied scripts, created before the first one (also printed by <c>migration-sql</c>).</summary>
    public const string SchemaMigrationsTable = """
        CREATE TABLE IF NOT EXISTS schema_migrations (
            version INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            applied_at {timestamp} NOT NULL
        )
        """;

    public async Task<int> MigrateAsync(CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var migrationLock = await database.Dialect.AcquireMigrationLockAsync(connection, cancellationToken);

        // In a write transaction like every write: on SQLite, this process's write turn (ADR 44).
        await using (var create = await Database.BeginWriteAsync(connection, cancellationToken))
        {
            await connection.ExecuteAsync(new CommandDefinition(
                database.Dialect.TranslateMigration(SchemaMigrationsTable), transaction: create.Transaction, cancellationToken: cancellationToken));
            await create.CommitAsync(cancellationToken);
        }

        var applied = (await connection.QueryAsync<int>(new CommandDefinition(
            "SELECT version FROM schema_migrations", cancellationToken: cancellationToken))).ToHashSet();

        var count = 0;
        foreach (var script in Scripts(database.Dialect.Provider).Where(s => !applied.Contains(s.Version)))
        {
            await using var write = await Database.BeginWriteAsync(connection, cancellationToken);
            var transaction = write.Transaction;
            await connection.ExecuteAsync(new CommandDefinition(
                database.Dialect.TranslateMigration(script.Sql), transaction: transaction, cancellationToken: cancellationToken));
            await connection.ExecuteAsync(new CommandDefinition(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (@Version, @Name, @AppliedAt)",
                new { script.Version, script.Name, AppliedAt = time.GetUtcNow() },
                transaction, cancellationToken: cancellationToken));
            await write.CommitAsync(cancellationToken);
            logger.LogInformation("Applied migration {Version} {Name}", script.Version, script.Name);
            count++;
        }

        return count;
    }

    public static IReadOnlyList<Script> Scripts(DatabaseProvider provider)
    {
        var assembly = typeof(Migrator).Assembly;
        var providerSuffix = SqlDialect.For(provider).MigrationSuffix;
        var scripts = new List<Script>();
        foreach (var resource in assembly.GetManifestResourceNames())
        {
            var match = ScriptName().Match(resource);
            if (!match.Success)
            {
                continue;
            }

            var only = match.Groups["provider"].Value;
            if (only.Length > 0 && !string.Equals(only, providerSuffix, StringComparison.Ordinal))
            {
                continue;
            }

            scripts.Add(new Script(
                int.Parse(match.Groups["version"].Value, System.Globalization.CultureInfo.InvariantCulture),
                match.Groups["name"].Value,
                Read(assembly, resource)));
        }

        var duplicate = scripts.GroupBy(s => s.Version).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new InvalidOperationException($"Two migrations share version {duplicate.Key}.");
        }

        return scripts.OrderBy(s => s.Version).ToList();
    }

    private static string Read(Assembly assembly, string resource)
    {
        using var stream = assembly.GetManifestResourceStream(resource)!;
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    [GeneratedRegex(@"Migrations\.(?<version>\d{4})_(?<name>[a-z0-9_]+?)(\.(?<provider>postgres|sqlite))?\.sql$")]
    private static partial Regex ScriptName();
}
