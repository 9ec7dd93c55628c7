using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using Npgsql;

namespace IntelSharing.Api.Infrastructure.Persistence;

public enum DatabaseProvider
{
    Sqlite,
    Postgres,
}

/// <summary>Bound from the <c>Database</c> configuration section (<c>Database__Provider</c>, <c>Database__ConnectionString</c>).</summary>
public sealed class DatabaseOptions
{
    public const string Section = "Database";

    public DatabaseProvider Provider { get; set; } = DatabaseProvider.Sqlite;

    /// <summary>Defaults to a SQLite file under the working directory when the provider is SQLite.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>Apply pending migrations at start (default). Operators who migrate out of band set it to false.</summary>
    public bool MigrateOnStart { get; set; } = true;

    public string EffectiveConnectionString => Provider switch
    {
        DatabaseProvider.Sqlite when string.IsNullOrWhiteSpace(ConnectionString) => "Data Source=intelsharing.db",
        _ => ConnectionString ?? string.Empty,
    };
}

/// <summary>
/// Checks the Database settings as an operator wrote them. The configuration binder would fail on a value it
/// cannot convert (Database__Provider=Mongo) with a type-conversion exception, so the raw values are checked
/// first and binding is skipped when one is wrong; every mistake is then reported by name, together.
/// Messages never repeat the connection string: it may hold a password.
/// </summary>
public sealed class DatabaseOptionsValidator(IConfiguration configuration) : IValidateOptions<DatabaseOptions>
{
    private static readonly string[] Settings =
        [nameof(DatabaseOptions.Provider), nameof(DatabaseOptions.ConnectionString), nameof(DatabaseOptions.MigrateOnStart)];

    /// <summary>Binds the section, unless a value cannot be bound: the options then keep their defaults and <see cref="Validate"/> reports it.</summary>
    public static void Bind(DatabaseOptions options, IConfiguration configuration)
    {
        var section = configuration.GetSection(DatabaseOptions.Section);
        if (SettingMistakes(section).Count == 0)
        {
            section.Bind(options);
        }
    }

    public ValidateOptionsResult Validate(string? name, DatabaseOptions options)
    {
        var mistakes = SettingMistakes(configuration.GetSection(DatabaseOptions.Section));
        if (mistakes.Count == 0)
        {
            var connectionMistake = options.Provider == DatabaseProvider.Postgres ? PostgresMistake(options.ConnectionString) : SqliteMistake(options.EffectiveConnectionString);
            if (connectionMistake is not null)
            {
                mistakes.Add(connectionMistake);
            }
        }

        return mistakes.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(mistakes);
    }

    private static List<string> SettingMistakes(IConfigurationSection section)
    {
        var mistakes = new List<string>();
        foreach (var setting in section.GetChildren())
        {
            if (!Settings.Contains(setting.Key, StringComparer.OrdinalIgnoreCase))
            {
                mistakes.Add($"Database__{setting.Key} is not a setting. The database settings are {string.Join(", ", Settings.Select(s => $"Database__{s}"))}.");
            }
        }

        var provider = section[nameof(DatabaseOptions.Provider)];
        if (provider is not null && !Enum.GetNames<DatabaseProvider>().Contains(provider.Trim(), StringComparer.OrdinalIgnoreCase))
        {
            mistakes.Add($"Database__Provider is '{provider}'; it must be Sqlite (the default) or Postgres.");
        }

        var migrate = section[nameof(DatabaseOptions.MigrateOnStart)];
        if (migrate is not null && !bool.TryParse(migrate.Trim(), out _))
        {
            mistakes.Add($"Database__MigrateOnStart is '{migrate}'; it must be true (the default) or false.");
        }

        return mistakes;
    }

    private static string? PostgresMistake(string? connectionString)
    {
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            return "Database__Provider is Postgres but Database__ConnectionString is empty. Set it, e.g. " +
                "'Host=db;Database=intelsharing;Username=intelsharing;Password=…'.";
        }

        if (connectionString.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase) || connectionString.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase))
        {
            return "Database__ConnectionString is a postgres:// URL; IntelSharing takes key=value pairs, e.g. " +
                "'Host=db;Port=5432;Database=intelsharing;Username=intelsharing;Password=…'.";
        }

        NpgsqlConnectionStringBuilder builder;
        try
        {
            builder = new NpgsqlConnectionStringBuilder(connectionString);
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or InvalidCastException)
        {
            return $"Database__ConnectionString is not a valid PostgreSQL connection string: {ex.Message}";
        }

        return string.IsNullOrWhiteSpace(builder.Host)
            ? "Database__ConnectionString names no server: add Host=… (and Port=… when it is not 5432)."
            : null;
    }

    private static string? SqliteMistake(string connectionString)
    {
        SqliteConnectionStringBuilder builder;
        try
        {
            builder = new SqliteConnectionStringBuilder(connectionString);
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or InvalidCastException)
        {
            return $"Database__ConnectionString is not a valid SQLite connection string: {ex.Message}";
        }

        var file = builder.DataSource;
        if (string.IsNullOrWhiteSpace(file))
        {
            return "Database__ConnectionString names no SQLite file: use 'Data Source=/path/to/intelsharing.db'.";
        }

        if (builder.Mode == SqliteOpenMode.Memory || file == ":memory:" || file.StartsWith("file:", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        var folder = Path.GetDirectoryName(Path.GetFullPath(file));
        return folder is not null && !Directory.Exists(folder)
            ? $"Database__ConnectionString puts the SQLite file in '{folder}', which does not exist. Create the folder or point Data Source elsewhere."
            : null;
    }
}
