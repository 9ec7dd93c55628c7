using System.Diagnostics;
using IntelSharing.Api.Infrastructure.Configuration;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace IntelSharing.IntegrationTests.Configuration;

/// <summary>
/// Operators configure IntelSharing with environment variables; a mistake must stop it at start with a message
/// that names the setting, before it serves a request or touches a database.
/// </summary>
public sealed class StartupConfigurationTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static TheoryData<string, string, string> Mistakes => new()
    {
        { "Database:Provider", "Mongo", "Database__Provider is 'Mongo'; it must be Sqlite (the default) or Postgres." },
        { "Database:Provider", "Postgres", "Database__Provider is Postgres but Database__ConnectionString is empty." },
        { "Database:MigrateOnStart", "sometimes", "Database__MigrateOnStart is 'sometimes'; it must be true (the default) or false." },
        { "Database:ConectionString", "Data Source=intelsharing.db", "Database__ConectionString is not a setting." },
        { "Database:ConnectionString", "Data Source=/no/such/folder/intelsharing.db", "puts the SQLite file in '/no/such/folder', which does not exist." },
        { "Database:ConnectionString", "Data Source=intelsharing.db;Pooling=perhaps", "Database__ConnectionString is not a valid SQLite connection string" },
    };

    [Theory]
    [MemberData(nameof(Mistakes))]
    public void A_host_with_a_configuration_mistake_does_not_start_and_names_the_setting(string key, string value, string message)
    {
        using var api = new ConfiguredApi(new Dictionary<string, string> { [key] = value });

        var exception = Assert.ThrowsAny<Exception>(() => api.Server);

        Assert.Contains(message, Messages(exception), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("postgres://intelsharing:secret@db:5432/intelsharing", "is a postgres:// URL; IntelSharing takes key=value pairs")]
    [InlineData("Database=intelsharing;Username=intelsharing", "names no server: add Host=")]
    [InlineData("Host=db;Port=fivefourthreetwo", "is not a valid PostgreSQL connection string")]
    public void A_postgres_connection_string_that_cannot_work_stops_the_host_without_echoing_it(string connectionString, string message)
    {
        using var api = new ConfiguredApi(new Dictionary<string, string>
        {
            ["Database:Provider"] = "Postgres",
            ["Database:ConnectionString"] = connectionString,
        });

        var messages = Messages(Assert.ThrowsAny<Exception>(() => api.Server));

        Assert.Contains(message, messages, StringComparison.Ordinal);
        Assert.DoesNotContain("secret", messages, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_mistake_is_reported_at_once()
    {
        using var api = new ConfiguredApi(new Dictionary<string, string>
        {
            ["Database:Provider"] = "MySql",
            ["Database:MigrateOnStart"] = "yes",
        });

        var messages = Messages(Assert.ThrowsAny<Exception>(() => api.Server));

        Assert.Contains("Database__Provider is 'MySql'", messages, StringComparison.Ordinal);
        Assert.Contains("Database__MigrateOnStart is 'yes'", messages, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_server_process_exits_with_code_78_and_one_line_per_mistake_instead_of_a_stack_trace()
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetTempPath(),
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "IntelSharing.Api.dll"));
        start.Environment["Database__Provider"] = "Mongo";
        start.Environment["ASPNETCORE_URLS"] = "http://127.0.0.1:0";

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync(Ct);
        var stderr = process.StandardError.ReadToEndAsync(Ct);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);

        Assert.Equal(StartupConfiguration.ExitCode, process.ExitCode);
        var error = await stderr;
        Assert.Contains("  - Database__Provider is 'Mongo'; it must be Sqlite (the default) or Postgres.", error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", error + await stdout, StringComparison.Ordinal);
    }

    private static string Messages(Exception exception)
    {
        var messages = new List<string>();
        var pending = new Stack<Exception>([exception]);
        while (pending.TryPop(out var current))
        {
            messages.Add(current.Message);
            if (current is AggregateException aggregate)
            {
                aggregate.InnerExceptions.ToList().ForEach(pending.Push);
            }
            else if (current.InnerException is not null)
            {
                pending.Push(current.InnerException);
            }
        }

        return string.Join('\n', messages);
    }

    private sealed class ConfiguredApi(IReadOnlyDictionary<string, string> settings) : WebApplicationFactory<Program>
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            builder.UseEnvironment("Testing");
            foreach (var (key, value) in settings)
            {
                builder.UseSetting(key, value);
            }
        }
    }
}
