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
