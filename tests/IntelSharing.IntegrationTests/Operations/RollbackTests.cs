using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Dapper;
using IntelSharing.Api.Domain;
using IntelSharing.Api.Infrastructure.Persistence;
using IntelSharing.Api.Infrastructure.Security;
using IntelSharing.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace IntelSharing.IntegrationTests.Operations;

/// <summary>
/// Rolling back the image, as docs/operations.md ("Upgrading") promises it: the previous release runs on the schema the next
/// one migrated, because migrations only add in the release that needs them. This build plays the previous release; the
/// next release's migration is simulated with every kind of change the rule allows, on every table at once (a nullable
/// column, a column with a default, a new table, an index) and recorded under a version this build does not know.
/// It fails when a query reads columns by position or inserts without naming them, or when the migrator refuses a version
/// it does not know. The other half of the rule, that this build's own migrations add nothing the previous release cannot
/// write around, is MigrationRuleTests (unit tests).
/// </summary>
public abstract class RollbackTests<TFixture>(TFixture app) : IAsyncLifetime
    where TFixture : ApiFixture
{
    private readonly PartnerRig _partners = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public ValueTask DisposeAsync() => _partners.DisposeAsync();

    [Fact]
    public async Task The_previous_release_serves_the_whole_alert_lifecycle_on_a_database_the_next_release_migrated()
    {
        app.RequireDatabase();
        await using (var connection = await app.Database.OpenAsync(Ct))
        {
            Assert.Contains(NextRelease.Version, await connection.QueryAsync<int>("SELECT version FROM schema_migrations"));
        }

        var operations = await app.CreateAgencyAsync("Operations", "RS", AgencyKind.Operator, Scopes.AgenciesAdmin, Scopes.AuditRead);
        var originator = await app.CreateAgencyAsync("Border Police Directorate", "RS", AgencyKind.BorderGuard, Scopes.AlertsWrite, Scopes.AlertsRead);
        var partner = await app.CreateAgencyAsync("Hungarian Police", "HU", AgencyKind.Police, Scopes.AlertsRead, Scopes.SubscriptionsManage);
        var (receiver, _) = await _partners.SubscribedReceiverAsync(partner);

        // Submit, read, list, update: every write and read path of an alert.
        var submitted = await originator.Client.PostAsync("/api/v1/alerts", Samples.Json(Samples.SmugglingAlert()), Ct);
        Assert.Equal(HttpStatusCode.Created, submitted.StatusCode);
        var id = (await submitted.ReadJsonAsync()).GetProperty("id").GetGuid();
        Assert.Equal(HttpStatusCode.OK, (await partner.Client.GetAsync($"/api/v1/alerts/{id}", Ct)).StatusCode);
        var listed = await (await partner.Client.GetAsync("/api/v1/alerts", Ct)).ReadJsonAsync();
        Assert.Contains(listed.GetProperty("items").EnumerateArray(), a => a.GetProperty("id").GetGuid() == id);
        // Each change is sent before the next is made: a version superseded before its send is, rightly, never sent.
        await receiver.WaitForAsync(1);

        var update = Samples.SmugglingAlert();
        update["severity"] = "critical";
        using var put = new HttpRequestMessage(HttpMethod.Put, $"/api/v1/alerts/{id}") { Content = Samples.Json(update) };
        put.Headers.IfMatch.Add(new EntityTagHeaderValue("\"1\""));
        Assert.Equal(HttpStatusCode.OK, (await originator.Client.SendAsync(put, Ct)).StatusCode);
        await receiver.WaitForAsync(2);

        // Feedback and a revocation, and the partner is sent each change.
        var feedback = await partner.Client.PostAsync($"/api/v1/alerts/{id}/feedback", Samples.Json(new JsonObject { ["kind"] = "hit", ["note"] = "Same truck seen at Röszke." }), Ct);
        Assert.Equal(HttpStatusCode.Created, feedback.StatusCode);
        var revoked = await originator.Client.PostAsync($"/api/v1/alerts/{id}/revoke", Samples.Json(new JsonObject { ["reason"] = "Superseded by a joint report." }), Ct);
        Assert.Equal(HttpStatusCode.OK, revoked.StatusCode);
        await receiver.WaitForAsync(3);
        Assert.Equal(["alert.published", "alert.updated", "alert.revoked"], receiver.Received.Select(w => w.Type));

        // The delivery ledger and the audit chain, written by this release into the newer tables, read back whole.
        await DeliveryTestSettings.EventuallyAsync(
            async () => (await (await originator.Client.GetAsync($"/api/v1/alerts/{id}/deliveries", Ct)).ReadJsonAsync())
                .GetProperty("items").EnumerateArray().Count(d => d.GetProperty("state").GetString() == "delivered") == 3,
            "the three deliveries to be recorded delivered");
        var verified = await (await operations.Client.GetAsync("/api/v1/audit/verify", Ct)).ReadJsonAsync();
        Assert.True(verified.GetProperty("ok").GetBoolean(), verified.GetRawText());
    }

    [Fact]
    public async Task The_previous_releases_migrate_command_finds_nothing_to_apply_on_the_newer_database_and_exits_0()
    {
        app.RequireDatabase();
        var options = app.Services.GetRequiredService<IOptions<DatabaseOptions>>().Value;
        await using var connection = await app.Database.OpenAsync(Ct);
        var before = (await connection.QueryAsync<int>("SELECT version FROM schema_migrations ORDER BY version")).ToList();

        var run = await ApiExecutable.RunAsync(
            new Dictionary<string, string>
            {
                ["Database__Provider"] = options.Provider.ToString(),
                ["Database__ConnectionString"] = options.ConnectionString!,
                ["ASPNETCORE_ENVIRONMENT"] = "Development",
            },
            ["migrate"]);

        Assert.True(run.ExitCode == 0, run.Output);
        Assert.Equal(before, (await connection.QueryAsync<int>("SELECT version FROM schema_migrations ORDER BY version")).ToList());
    }
}

/// <summary>The next release's migration, as the rule of docs/operations.md allows it, applied to a migrated database.</summary>
public static class NextRelease
{
    /// <summary>A version no release of this build knows.</summary>
    public const int Version = 9999;

    public static async Task ApplyAsync(DatabaseProvider provider, string connectionString)
    {
        await using var database = new Database(Options.Create(new DatabaseOptions { Provider = provider, ConnectionString = connectionString }));
        await using var connection = await database.OpenAsync(CancellationToken.None);
        var tables = provider == DatabaseProvider.Postgres
            ? await connection.QueryAsync<string>("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            // Virtual tables and their shadow tables belong to their module, which a migration never alters.
            : await connection.QueryAsync<string>(
                """
                SELECT t.name FROM sqlite_master t
                WHERE t.type = 'table' AND t.name NOT LIKE 'sqlite\_%' ESCAPE '\' AND t.sql NOT LIKE 'CREATE VIRTUAL TABLE%'
                  AND NOT EXISTS (SELECT 1 FROM sqlite_master v WHERE v.sql LIKE 'CREATE VIRTUAL TABLE%' AND t.name LIKE v.name || '\_%' ESCAPE '\')
                """);
        var script = new List<string>();
        foreach (var table in tables)
        {
            script.Add($"ALTER TABLE {table} ADD COLUMN next_release_note TEXT NULL");
            script.Add($"ALTER TABLE {table} ADD COLUMN next_release_flag INTEGER NOT NULL DEFAULT 0");
        }

        script.Add("CREATE TABLE next_release_things (id TEXT PRIMARY KEY, note TEXT NULL)");
        script.Add("CREATE INDEX ix_alerts_next_release_note ON alerts (next_release_note)");
        foreach (var statement in script)
        {
            await connection.ExecuteAsync(statement);
        }

        await connection.ExecuteAsync(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES (@Version, 'next_release', @now)",
            new { Version, now = DateTimeOffset.UtcNow });
    }
}

public sealed class NextReleaseSqliteFixture : SqliteApiFixture
{
    protected override IEnumerable<KeyValuePair<string, string>> Settings => DeliveryTestSettings.Loopback;

    protected override async Task<string?> ProvisionAsync()
    {
        var connectionString = await base.ProvisionAsync();
        await NextRelease.ApplyAsync(DatabaseProvider.Sqlite, connectionString!);
        return connectionString;
    }
}

public sealed class NextReleasePostgresFixture : PostgresApiFixture
{
    protected override IEnumerable<KeyValuePair<string, string>> Settings => DeliveryTestSettings.Loopback;

    protected override async Task<string?> ProvisionAsync()
    {
        var connectionString = await base.ProvisionAsync();
        if (connectionString is not null)
        {
            await NextRelease.ApplyAsync(DatabaseProvider.Postgres, connectionString);
        }

        return connectionString;
    }
}

public sealed class RollbackTestsOnSqlite(NextReleaseSqliteFixture app) : RollbackTests<NextReleaseSqliteFixture>(app), IClassFixture<NextReleaseSqliteFixture>;

public sealed class RollbackTestsOnPostgres(NextReleasePostgresFixture app) : RollbackTests<NextReleasePostgresFixture>(app), IClassFixture<NextReleasePostgresFixture>;
