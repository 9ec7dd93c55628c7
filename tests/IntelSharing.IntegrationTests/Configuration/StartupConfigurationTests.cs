using IntelSharing.Api.Infrastructure.Configuration;
using IntelSharing.IntegrationTests.Infrastructure;

namespace IntelSharing.IntegrationTests.Configuration;

/// <summary>
/// Operators configure IntelSharing with environment variables; a mistake must stop it at start with a message
/// that names the setting, before it serves a request or touches a database. These run the real executable
/// with the environment an operator would set: in-process (WebApplicationFactory) a failed start races with
/// the host's disposal and can surface as ObjectDisposedException instead of the message.
/// </summary>
public sealed class StartupConfigurationTests
{
    public static TheoryData<string, string, string> Mistakes => new()
    {
        { "Database__Provider", "Mongo", "Database__Provider is 'Mongo'; it must be Sqlite (the default) or Postgres." },
        { "Database__Provider", "Postgres", "Database__Provider is Postgres but Database__ConnectionString is empty." },
        { "Database__MigrateOnStart", "sometimes", "Database__MigrateOnStart is 'sometimes'; it must be true (the default) or false." },
        { "Database__ConectionString", "Data Source=intelsharing.db", "Database__ConectionString is not a setting." },
        { "Database__ConnectionString", "Data Source=/no/such/folder/intelsharing.db", "puts the SQLite file in '/no/such/folder', which does not exist." },
        { "Database__ConnectionString", "Data Source=intelsharing.db;Pooling=perhaps", "Database__ConnectionString is not a valid SQLite connection string" },
        { "Secrets__EncryptionKey", "not base64!", "Secrets__EncryptionKey must be base64 of 32 bytes" },
        { "Secrets__EncryptionKey", "AAAAAAAAAAAAAAAAAAAAAA==", "Secrets__EncryptionKey must decode to exactly 32 bytes." },
        { "Delivery__Workers", "0", "Delivery__Workers must be between 1 and 1024." },
        { "Delivery__Schedule", "soon", "Delivery__Schedule must be comma-separated TimeSpans" },
        { "Delivery__Proxy", "socks5://egress.internal:1080", "Delivery__Proxy must be an http:// or https:// URL of a proxy with host and port only" },
        { "Delivery__Proxy", "http://operator:Tr0ub4dor@egress.internal:3128", "Delivery__Proxy must be an http:// or https:// URL of a proxy with host and port only" },
    };

    [Theory]
    [MemberData(nameof(Mistakes))]
    public async Task A_configuration_mistake_stops_the_server_with_exit_code_78_and_names_the_setting(string variable, string value, string message)
    {
        var (exitCode, output) = await RunServerAsync(new Dictionary<string, string> { [variable] = value });

        Assert.Equal(StartupConfiguration.ExitCode, exitCode);
        Assert.Contains(message, output, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("postgres://intelsharing:Tr0ub4dor-9@db:5432/intelsharing", "is a postgres:// URL; IntelSharing takes key=value pairs")]
    [InlineData("Database=intelsharing;Username=intelsharing;Password=Tr0ub4dor-9", "names no server: add Host=")]
    [InlineData("Host=db;Port=fivefourthreetwo;Password=Tr0ub4dor-9", "is not a valid PostgreSQL connection string")]
    public async Task A_postgres_connection_string_that_cannot_work_stops_the_server_without_echoing_it(string connectionString, string message)
    {
        var (exitCode, output) = await RunServerAsync(new Dictionary<string, string>
        {
            ["Database__Provider"] = "Postgres",
            ["Database__ConnectionString"] = connectionString,
        });

        Assert.Equal(StartupConfiguration.ExitCode, exitCode);
        Assert.Contains(message, output, StringComparison.Ordinal);
        Assert.DoesNotContain("Tr0ub4dor-9", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Every_mistake_is_reported_at_once_one_line_each()
    {
        var (exitCode, output) = await RunServerAsync(new Dictionary<string, string>
        {
            ["Database__Provider"] = "MySql",
            ["Database__MigrateOnStart"] = "yes",
        });

        Assert.Equal(StartupConfiguration.ExitCode, exitCode);
        Assert.Contains("  - Database__Provider is 'MySql'; it must be Sqlite (the default) or Postgres.\n", output, StringComparison.Ordinal);
        Assert.Contains("  - Database__MigrateOnStart is 'yes'; it must be true (the default) or false.\n", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bootstrap_admin_refuses_a_misconfigured_database_the_same_way()
    {
        var (exitCode, output) = await RunServerAsync(new Dictionary<string, string> { ["Database__Provider"] = "Mongo" }, "bootstrap-admin");

        Assert.Equal(StartupConfiguration.ExitCode, exitCode);
        Assert.Contains("Database__Provider is 'Mongo'", output, StringComparison.Ordinal);
        Assert.DoesNotContain("isk_", output, StringComparison.Ordinal);
    }

    /// <summary>Runs the API executable in an empty folder with the given environment; returns its exit code and everything it wrote.</summary>
    private static async Task<(int ExitCode, string Output)> RunServerAsync(IReadOnlyDictionary<string, string> environment, params string[] arguments)
    {
        var run = await ApiExecutable.RunAsync(environment, arguments);
        return (run.ExitCode, run.Output);
    }
}
