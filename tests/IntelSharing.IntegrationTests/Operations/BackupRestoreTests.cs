using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using IntelSharing.Api.Domain;
using IntelSharing.Api.Infrastructure.Audit;
using IntelSharing.Api.Infrastructure.Persistence;
using IntelSharing.Api.Infrastructure.Security;
using IntelSharing.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Npgsql;

namespace IntelSharing.IntegrationTests.Operations;

/// <summary>
/// The backup runbook of docs/operations.md, run: a backup taken while the API runs, restored into a fresh database,
/// serves the same alerts, subscriptions and delivery states, and its audit chain verifies against the head signed
/// before the backup.
/// </summary>
public abstract class BackupRestoreTests<TFixture>(TFixture app) : IAsyncLifetime
    where TFixture : ApiFixture, IFakeClockFixture
{
    private readonly PartnerRig _partners = new();

    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public ValueTask DisposeAsync() => _partners.DisposeAsync();

    /// <summary>Backs up the database at <paramref name="connectionString"/> as the runbook says and restores it into a new one; returns its connection string.</summary>
    protected abstract Task<string> BackUpAndRestoreAsync(string connectionString);

    [Fact]
    public async Task A_restored_backup_serves_every_alert_subscription_and_delivery_state_and_its_audit_chain_verifies_against_the_earlier_head()
    {
        var originator = await app.CreateAgencyAsync("Border Police Directorate", "RS", AgencyKind.Police, Scopes.AlertsWrite, Scopes.AlertsRead);
        var partner = await app.CreateAgencyAsync("Hungarian Police", "HU", AgencyKind.Police, Scopes.AlertsRead, Scopes.SubscriptionsManage);
        var operations = await app.CreateOperatorAsync();
        var (answering, _) = await _partners.SubscribedReceiverAsync(partner);
        var (down, _) = await _partners.SubscribedReceiverAsync(partner);
        down.Behaviour = _ => new PartnerReceiver.Response(HttpStatusCode.ServiceUnavailable);

        var submitted = await originator.Client.PostAsync("/api/v1/alerts", Samples.Json(Samples.SmugglingAlert()), Ct);
        Assert.Equal(HttpStatusCode.Created, submitted.StatusCode);
        var alertId = (await submitted.ReadJsonAsync()).GetProperty("id").GetGuid();
        await answering.WaitForAsync(1);
        await down.WaitForAsync(1);
        var ledgerPath = $"/api/v1/alerts/{alertId}/deliveries?limit=200";
        await DeliveryTestSettings.EventuallyAsync(async () =>
        {
            var states = (await ReadAsync(originator.Client, ledgerPath)).GetProperty("items").EnumerateArray().Select(d => d.GetProperty("state").GetString()).ToList();
            return states.Contains("delivered") && states.Contains("failed");
        }, "one delivery delivered and one failed");
        await app.Services.GetRequiredService<AuditSealer>().SealAsync(Ct);

        var before = new
        {
            Alert = (await ReadAsync(originator.Client, $"/api/v1/alerts/{alertId}")).GetRawText(),
            Subscriptions = (await ReadAsync(partner.Client, "/api/v1/subscriptions")).GetRawText(),
            Ledger = (await ReadAsync(originator.Client, ledgerPath)).GetRawText(),
        };
        var head = (await ReadAsync(operations.Client, "/api/v1/audit/verify")).GetProperty("head");

        var restored = await BackUpAndRestoreAsync(app.Services.GetRequiredService<IOptions<DatabaseOptions>>().Value.ConnectionString!);

        // A new instance on the restored database, not sending, so the states it shows are the ones restored.
        await using var instance = app.WithWebHostBuilder(builder => builder
            .UseSetting("Database:ConnectionString", restored)
            .UseSetting("Delivery:Enabled", "false"));
        Assert.Equal(before.Alert, (await ReadAsync(ClientOf(instance, originator.Key), $"/api/v1/alerts/{alertId}")).GetRawText());
        Assert.Equal(before.Subscriptions, (await ReadAsync(ClientOf(instance, partner.Key), "/api/v1/subscriptions")).GetRawText());
        Assert.Equal(before.Ledger, (await ReadAsync(ClientOf(instance, originator.Key), ledgerPath)).GetRawText());
        var verified = await ReadAsync(ClientOf(instance, operations.Key),
            $"/api/v1/audit/verify?anchorSeq={head.GetProperty("seq").GetInt64()}&anchorHash={head.GetProperty("hash").GetString()}&anchorSignature={head.GetProperty("signature").GetString()}");
        Assert.True(verified.GetProperty("ok").GetBoolean(), verified.GetRawText());
        Assert.True(verified.GetProperty("anchor").GetProperty("isPrefix").GetBoolean(), verified.GetRawText());
        Assert.True(verified.GetProperty("anchor").GetProperty("signatureValid").GetBoolean(), verified.GetRawText());
    }

    private static HttpClient ClientOf(WebApplicationFactory<Program> instance, string key)
    {
        var client = instance.CreateClient();
        client.DefaultRequestHeaders.Add(TestClientAddress.Header, TestClientAddress.Next());
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return client;
    }

    private static async Task<JsonElement> ReadAsync(HttpClient client, string path)
    {
        var response = await client.GetAsync(path, Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.ReadJsonAsync();
    }

    protected static async Task RunAsync(string program, IReadOnlyList<string> arguments, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync(Ct);
        var error = process.StandardError.ReadToEndAsync(Ct);
        await process.WaitForExitAsync(Ct);
        Assert.True(process.ExitCode == 0, $"{program} {string.Join(' ', arguments)} exited with {process.ExitCode}: {await error}{await output}");
    }
}

/// <summary>SQLite: the online backup of the sqlite3 shell (<c>.backup</c>), taken while the API holds the file open.</summary>
public sealed class BackupRestoreTestsOnSqlite(DeliverySqliteFixture app) : BackupRestoreTests<DeliverySqliteFixture>(app), IClassFixture<DeliverySqliteFixture>
{
    protected override async Task<string> BackUpAndRestoreAsync(string connectionString)
    {
        var source = new SqliteConnectionStringBuilder(connectionString).DataSource;
        var copy = Path.Combine(Path.GetTempPath(), $"intelsharing-restored-{Guid.NewGuid():N}.db");
        await RunAsync("sqlite3", [source, $".backup '{copy}'"]);
        return $"Data Source={copy}";
    }
}

/// <summary>PostgreSQL: <c>pg_dump --format=custom</c> while the API runs, <c>pg_restore</c> into a new database.</summary>
public sealed class BackupRestoreTestsOnPostgres(DeliveryPostgresFixture app) : BackupRestoreTests<DeliveryPostgresFixture>(app), IClassFixture<DeliveryPostgresFixture>
{
    protected override async Task<string> BackUpAndRestoreAsync(string connectionString)
    {
        var source = new NpgsqlConnectionStringBuilder(connectionString);
        var restored = await (await PostgresCluster.Shared).CreateDatabaseAsync("restored");
        var target = new NpgsqlConnectionStringBuilder(restored);
        var environment = new Dictionary<string, string>
        {
            ["PGHOST"] = source.Host!,
            ["PGPORT"] = source.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["PGUSER"] = source.Username!,
            ["PGPASSWORD"] = source.Password ?? string.Empty,
        };
        var dump = Path.Combine(Path.GetTempPath(), $"intelsharing-{Guid.NewGuid():N}.dump");
        try
        {
            await RunAsync("pg_dump", ["--format=custom", "--no-owner", $"--file={dump}", source.Database!], environment);
            await RunAsync("pg_restore", ["--no-owner", $"--dbname={target.Database}", dump], environment);
        }
        finally
        {
            File.Delete(dump);
        }

        return restored;
    }
}
