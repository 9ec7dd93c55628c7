using System.Globalization;
using System.Text;
using IntelSharing.Api.Infrastructure.Persistence;

namespace IntelSharing.Api.Infrastructure.Hosting;

/// <summary>
/// What the executable was asked to do. The first argument names a command unless it is an option (<c>--urls …</c>
/// and other <c>--Section:Name value</c> settings go to the configuration as before); no command means serve. An
/// unknown command is refused: before, <c>bootstrap_admin</c> started a server on the production database.
/// </summary>
public static class CommandLine
{
    public const string Serve = "serve";
    public const string Migrate = "migrate";
    public const string MigrationSql = "migration-sql";
    public const string Help = "help";

    // Named here, run by the Agencies slice: the command line is below every feature and must know every command.
    public const string BootstrapAdmin = "bootstrap-admin";

    /// <summary>EX_USAGE from sysexits.h: the command line is wrong.</summary>
    public const int UsageExitCode = 64;

    private static readonly string[] HelpFlags = ["--help", "-h", "-?", Help];

    public static readonly IReadOnlyList<string> Commands = [Serve, Migrate, MigrationSql, BootstrapAdmin, ReencryptSecrets.CommandName, Help];

    /// <summary>The command named by <paramref name="args"/>; <see cref="Serve"/> when none is.</summary>
    public static string CommandOf(string[] args) =>
        args.Length == 0 || (args[0].StartsWith('-') && !HelpFlags.Contains(args[0], StringComparer.Ordinal)) ? Serve
        : HelpFlags.Contains(args[0], StringComparer.Ordinal) ? Help
        : args[0];

    /// <summary>
    /// Runs the commands that need neither the configuration nor the database (help, the migration SQL, refusing an
    /// unknown command) and returns their exit code; null for the commands that need the host.
    /// </summary>
    public static int? RunWithoutHost(string[] args, TextWriter output, TextWriter error)
    {
        var command = CommandOf(args);
        if (command == Help || args.Skip(1).Contains("--help", StringComparer.Ordinal))
        {
            output.Write(Usage);
            return 0;
        }

        if (command == MigrationSql)
        {
            return PrintMigrationSql(args, output, error);
        }

        if (!Commands.Contains(command, StringComparer.Ordinal))
        {
            error.WriteLine($"Unknown command '{command}'. Commands: {string.Join(", ", Commands)}. Run with --help for what each does.");
            return UsageExitCode;
        }

        return null;
    }

    public const string Usage =
        """
        IntelSharing API — cross-agency sharing of migrant-smuggling and cyber-incident alerts.

        Usage: IntelSharing.Api [command] [options] [--Section:Name value …]
               (in the container: dotnet /app/IntelSharing.Api.dll …; from source: dotnet run --project src/IntelSharing.Api -- …)

        Commands:
          serve             Run the API (the default when no command is given). Applies pending migrations first
                            unless Database__MigrateOnStart=false.
          migrate           Apply pending migrations to the configured database and exit. For deployments that run
                            the server with Database__MigrateOnStart=false (a release job, an init container).
          migration-sql     Print the migrations as SQL for one database, for operators who apply them out of band.
                              --provider postgres|sqlite   required
                              --after N                    only migrations newer than version N
                            Each migration is its own transaction and records itself in schema_migrations, so the
                            server and `migrate` see it as applied. Needs no configuration and no database.
          bootstrap-admin   Create the operator agency (once) and print a new operator key (shown once).
                              --name "…"      the operator agency's name (default "IntelSharing Operations")
                              --country XX    its ISO 3166-1 alpha-2 country (default RS)
          reencrypt-secrets Re-encrypt every partner signing secret under Secrets__EncryptionKey, decrypting with
                            Secrets__PreviousEncryptionKey: the middle step of rotating the key (docs/operations.md).
                            Safe to run again; secrets already under the new key are left alone.
          help              Show this text (also --help, -h).

        Settings come from environment variables (Section__Name), appsettings.json, files in the directory
        named by INTELSHARING_SECRETS_DIR (one file per setting, as Kubernetes mounts Secrets), and --Section:Name
        arguments. docs/configuration.md lists every setting.

        Exit codes: 0 done; 64 the command line is wrong; 78 the configuration is wrong (one line per mistake on stderr).

        """;

    private static int PrintMigrationSql(string[] args, TextWriter output, TextWriter error)
    {
        var provider = Option(args, "--provider");
        if (!Enum.TryParse<DatabaseProvider>(provider, ignoreCase: true, out var chosen) || !Enum.IsDefined(chosen))
        {
            error.WriteLine($"migration-sql needs --provider postgres or --provider sqlite{(provider is null ? "." : $", not '{provider}'.")}");
            return UsageExitCode;
        }

        var afterText = Option(args, "--after");
        var after = 0;
        if (afterText is not null && !int.TryParse(afterText, NumberStyles.None, CultureInfo.InvariantCulture, out after))
        {
            error.WriteLine($"--after must be a migration version (a whole number), not '{afterText}'.");
            return UsageExitCode;
        }

        output.Write(MigrationScript(chosen, after));
        return 0;
    }

    /// <summary>The pending migrations for <paramref name="provider"/> after <paramref name="after"/>, translated, each in its own transaction.</summary>
    public static string MigrationScript(DatabaseProvider provider, int after)
    {
        var dialect = SqlDialect.For(provider);
        var sql = new StringBuilder()
            .Append(CultureInfo.InvariantCulture, $"-- IntelSharing migrations for {provider}{(after > 0 ? $" after version {after}" : string.Empty)}, generated by `IntelSharing.Api migration-sql`.\n")
            .Append("-- Apply in order, as the schema owner. The server checks schema_migrations and applies nothing twice.\n\n")
            .Append(dialect.TranslateMigration(Migrator.SchemaMigrationsTable)).Append(";\n");
        foreach (var script in Migrator.Scripts(provider).Where(s => s.Version > after))
        {
            sql.Append(CultureInfo.InvariantCulture, $"\n-- {script.Version:D4} {script.Name}\nBEGIN;\n")
                .Append(Terminated(dialect.TranslateMigration(script.Sql)))
                .Append(CultureInfo.InvariantCulture, $"INSERT INTO schema_migrations (version, name, applied_at) VALUES ({script.Version}, '{script.Name}', {dialect.CurrentTimestamp});\n")
                .Append("COMMIT;\n");
        }

        return sql.ToString();
    }

    private static string Terminated(string statements)
    {
        var trimmed = statements.TrimEnd();
        return trimmed.EndsWith(';') ? trimmed + "\n" : trimmed + ";\n";
    }

    /// <summary>Runs <see cref="Migrate"/> against the configured database.</summary>
    public static async Task<int> MigrateAsync(IServiceProvider services, TextWriter output, CancellationToken cancellationToken)
    {
        var applied = await services.GetRequiredService<Migrator>().MigrateAsync(cancellationToken);
        await output.WriteLineAsync(applied == 0
            ? "The database is up to date; no migration was pending."
            : string.Create(CultureInfo.InvariantCulture, $"Applied {applied} migration(s); the database is up to date."));
        return 0;
    }

    private static string? Option(string[] args, string name)
    {
        var at = Array.IndexOf(args, name);
        return at >= 0 && at + 1 < args.Length ? args[at + 1] : null;
    }
}
