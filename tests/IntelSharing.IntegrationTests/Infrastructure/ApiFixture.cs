using System.Net.Http.Headers;
using Dapper;
using IntelSharing.Api.Domain;
using IntelSharing.Api.Features.Agencies;
using IntelSharing.Api.Infrastructure.Json;
using IntelSharing.Api.Infrastructure.Persistence;
using IntelSharing.Api.Infrastructure.Security;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace IntelSharing.IntegrationTests.Infrastructure;

/// <summary>An agency created for a test, with a client that sends its key.</summary>
public sealed record TestAgency(Guid Id, string Name, string Country, string Key, HttpClient Client);

/// <summary>
/// The real application (Program) on a real database, driven through HTTP. One per test class and
/// provider; each gets its own database, a copy of one migrated once per run (<see cref="MigratedTemplates"/>), so
/// classes run in parallel without seeing each other's rows.
/// </summary>
public abstract class ApiFixture : WebApplicationFactory<Program>, IAsyncLifetime
{
    private string? _connectionString;

    public abstract DatabaseProvider Provider { get; }

    public string? UnavailableReason { get; private set; }

    /// <summary>Extra service replacements for fixtures that need them (a fake clock, delivery options).</summary>
    protected virtual void ConfigureServices(IServiceCollection services)
    {
    }

    /// <summary>Extra settings (configuration keys) for fixtures that need them.</summary>
    protected virtual IEnumerable<KeyValuePair<string, string>> Settings => [];

    protected abstract Task<string?> ProvisionAsync();

    public async ValueTask InitializeAsync()
    {
        try
        {
            _connectionString = await ProvisionAsync();
        }
        catch (Exception ex) when (!PostgresCluster.Required)
        {
            UnavailableReason = $"{Provider} could not be provisioned: {ex.Message}";
            return;
        }

        if (_connectionString is null)
        {
            return;
        }

        // Starts the host (TestServer, or Kestrel for fixtures that call UseKestrel): migrations run before the first request.
        StartServer();
        await Task.CompletedTask;
    }

    protected void MarkUnavailable(string reason)
    {
        if (PostgresCluster.Required)
        {
            throw new InvalidOperationException($"PostgreSQL is required here (INTELSHARING_REQUIRE_POSTGRES=1) but: {reason}");
        }

        UnavailableReason = reason;
    }

    /// <summary>Every test calls this first (through the helpers below): it skips with the reason when the database is absent.</summary>
    public void RequireDatabase()
    {
        if (UnavailableReason is not null)
        {
            Assert.Skip(UnavailableReason);
        }
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        builder.UseSetting("Database:Provider", Provider.ToString());
        builder.UseSetting("Database:ConnectionString", _connectionString);
        // Each class stops its host at the end: a partner left hanging must not hold that for the production grace.
        builder.UseSetting("Delivery:ShutdownGraceSeconds", "1");

        // Every sample alert carries the same phone, plate and IBAN, so with the correlation worker on, any test whose
        // agencies publish and subscribe would also receive correlation events. Its own tests turn it on (Indicators/).
        builder.UseSetting("Correlation:Enabled", "false");
        foreach (var (key, value) in Settings)
        {
            builder.UseSetting(key, value);
        }

        builder.ConfigureTestServices(services =>
        {
            services.AddSingleton<IStartupFilter, TestClientAddress>();
            ConfigureServices(services);
        });
    }

    public Database Database => Services.GetRequiredService<Database>();

    /// <summary>
    /// A client that sends <paramref name="key"/>, from <paramref name="clientAddress"/> or else an address of its
    /// own, so that one test's failed authentications never count against another's.
    /// </summary>
    public HttpClient ClientWithKey(string? key, string? clientAddress = null)
    {
        RequireDatabase();
        var client = CreateClient();
        client.DefaultRequestHeaders.Add(TestClientAddress.Header, clientAddress ?? TestClientAddress.Next());
        if (key is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }

        return client;
    }

    /// <summary>Registers an agency and issues it a key with the given scopes, directly in the database (setup, not the thing under test).</summary>
    public async Task<TestAgency> CreateAgencyAsync(string name, string country = "RS", AgencyKind kind = AgencyKind.Police, params string[] scopes)
    {
        RequireDatabase();
        if (scopes.Length == 0)
        {
            scopes = [Scopes.AlertsWrite, Scopes.AlertsRead];
        }

        var uniqueName = $"{name} {Guid.NewGuid():N}"[..Math.Min(200, name.Length + 33)];
        var now = DateTimeOffset.UtcNow;
        var id = Guid.CreateVersion7();
        await using var connection = await Database.OpenAsync(CancellationToken.None);
        await connection.ExecuteAsync(
            """
            INSERT INTO agencies (id, name, country, kind, is_active, created_at, updated_at)
            VALUES (@id, @uniqueName, @country, @kind, @active, @now, @now)
            """,
            new { id, uniqueName, country, kind = WireNames.Of(kind), active = true, now });
        var issued = await IssueApiKey.IssueAsync(connection, TimeProvider.System, id, "test", scopes, null, CancellationToken.None);
        return new TestAgency(id, uniqueName, country, issued!.Key, ClientWithKey(issued.Key));
    }

    public Task<TestAgency> CreateOperatorAsync() =>
        CreateAgencyAsync("Operations", "RS", AgencyKind.Operator, [.. BootstrapAdmin.OperatorScopes]);

    /// <summary>
    /// Row counts of every application table: "changes nothing" is asserted against this. The audit trail
    /// (audit_*) is left out: recording a refused request is what it is for, and audit tests assert it directly.
    /// </summary>
    public async Task<IReadOnlyDictionary<string, long>> CountRowsAsync()
    {
        await using var connection = await Database.OpenAsync(CancellationToken.None);
        var tables = Provider == DatabaseProvider.Postgres
            ? await connection.QueryAsync<string>("SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename NOT LIKE 'audit\\_%' ORDER BY tablename")
            : await connection.QueryAsync<string>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'audit\\_%' ESCAPE '\\' ORDER BY name");
        var counts = new Dictionary<string, long>();
        foreach (var table in tables)
        {
            counts[table] = await connection.ExecuteScalarAsync<long>($"SELECT COUNT(*) FROM {table}");
        }

        return counts;
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        await CleanUpAsync();
        GC.SuppressFinalize(this);
    }

    protected virtual Task CleanUpAsync() => Task.CompletedTask;
}

/// <summary>The application on a SQLite file of its own, copied from the migrated template.</summary>
public class SqliteApiFixture : ApiFixture
{
    private string? _file;

    public override DatabaseProvider Provider => DatabaseProvider.Sqlite;

    protected override async Task<string?> ProvisionAsync()
    {
        _file = Path.Combine(Path.GetTempPath(), $"intelsharing-test-{Guid.NewGuid():N}.db");
        return await MigratedTemplates.CopySqliteAsync(_file);
    }

    protected override Task CleanUpAsync()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        foreach (var suffix in new[] { string.Empty, "-wal", "-shm" })
        {
            if (_file is not null && File.Exists(_file + suffix))
            {
                File.Delete(_file + suffix);
            }
        }

        return Task.CompletedTask;
    }
}

/// <summary>The application on a fresh database in the test PostgreSQL server, copied from the migrated template.</summary>
public class PostgresApiFixture : ApiFixture
{
    public override DatabaseProvider Provider => DatabaseProvider.Postgres;

    protected override async Task<string?> ProvisionAsync()
    {
        var cluster = await PostgresCluster.Shared;
        if (cluster.AdminConnectionString is null)
        {
            MarkUnavailable(cluster.UnavailableReason!);
            return null;
        }

        return await MigratedTemplates.CopyPostgresAsync(cluster, GetType().Name.Replace("Fixture", string.Empty, StringComparison.Ordinal));
    }
}
