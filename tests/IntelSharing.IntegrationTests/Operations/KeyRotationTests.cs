using System.Net;
using IntelSharing.Api.Domain;
using IntelSharing.Api.Infrastructure.Hosting;
using IntelSharing.Api.Infrastructure.Persistence;
using IntelSharing.Api.Infrastructure.Security;
using IntelSharing.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace IntelSharing.IntegrationTests.Operations;

/// <summary>Rotating Secrets__EncryptionKey: the stored partner secrets move to the new key and keep signing, run as an operator runs it.</summary>
public abstract class KeyRotationTests<TFixture>(TFixture app) : IAsyncLifetime
    where TFixture : ApiFixture
{
    public static readonly string OldKey = Convert.ToBase64String(new byte[32].Select((_, i) => (byte)(i + 100)).ToArray());
    private static readonly string NewKey = Convert.ToBase64String(new byte[32].Select((_, i) => (byte)(i + 200)).ToArray());

    private readonly PartnerRig _partners = new();

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public ValueTask DisposeAsync() => _partners.DisposeAsync();

    private Task<ExecutableRun> ReencryptAsync(string? previousKey)
    {
        var settings = new Dictionary<string, string>
        {
            ["Database__Provider"] = app.Provider.ToString(),
            ["Database__ConnectionString"] = app.Services.GetRequiredService<IOptions<DatabaseOptions>>().Value.ConnectionString!,
            ["Secrets__EncryptionKey"] = NewKey,
        };
        if (previousKey is not null)
        {
            settings["Secrets__PreviousEncryptionKey"] = previousKey;
        }

        return ApiExecutable.RunAsync(settings, [ReencryptSecrets.CommandName]);
    }

    [Fact]
    public async Task After_reencrypt_secrets_a_server_with_only_the_new_key_signs_webhooks_the_partner_verifies_with_its_old_secret()
    {
        var originator = await app.CreateAgencyAsync("Border Police Directorate", "RS", AgencyKind.Police, Scopes.AlertsWrite, Scopes.AlertsRead);
        var partner = await app.CreateAgencyAsync("Hungarian Police", "HU", AgencyKind.Police, Scopes.AlertsRead, Scopes.SubscriptionsManage);
        var receiver = await _partners.ReceiverAsync();
        var (_, secret) = await _partners.SubscribeAsync(partner, receiver.Url);
        _ = await Console.ConsoleClient.SignedInAsync(app, partner.Key); // the console's key ring, under the old key

        var refused = await ReencryptAsync(previousKey: null);
        var first = await ReencryptAsync(OldKey);
        var again = await ReencryptAsync(OldKey);

        Assert.Equal(CommandLine.UsageExitCode, refused.ExitCode);
        Assert.Contains("Secrets__PreviousEncryptionKey", refused.Stderr, StringComparison.Ordinal);
        Assert.True(first.ExitCode == 0, first.Output);
        Assert.Matches(@"Re-encrypted [1-9]\d* secret\(s\) of [1-9]\d* subscription\(s\)", first.Stdout);
        Assert.True(again.ExitCode == 0, again.Output);
        Assert.Contains("Re-encrypted 0 secret(s) of 0 subscription(s)", again.Stdout, StringComparison.Ordinal);
        Assert.Matches(@"; [1-9]\d* console session key\(s\) moved", first.Stdout);
        Assert.Contains("; 0 console session key(s) moved", again.Stdout, StringComparison.Ordinal);

        // A replica started with the new key alone (the rotation finished) sends, and the partner's old secret verifies.
        await using var rotated = app.WithWebHostBuilder(builder => builder
            .UseSetting("Secrets:EncryptionKey", NewKey)
            .UseSetting("Delivery:Enabled", "true"));
        _ = rotated.Services;
        // …and reads the console's key ring with it: sessions survive the rotation.
        Assert.NotEmpty(rotated.Services.GetRequiredService<IOptions<Microsoft.AspNetCore.DataProtection.KeyManagement.KeyManagementOptions>>()
            .Value.XmlRepository!.GetAllElements());
        var submitted = await originator.Client.PostAsync("/api/v1/alerts", Samples.Json(Samples.SmugglingAlert()), TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Created, submitted.StatusCode);
        await receiver.WaitForAsync(1);

        Assert.True(Assert.Single(receiver.Received).VerifiesWith(secret));
    }
}

/// <summary>The application under the old key, not sending (the rotated replica sends).</summary>
public static class KeyRotationSettings
{
    public static readonly KeyValuePair<string, string>[] Settings =
    [
        .. DeliveryTestSettings.Loopback.Where(s => s.Key != "Secrets:EncryptionKey"),
        new("Secrets:EncryptionKey", KeyRotationTests<SqliteApiFixture>.OldKey),
        new("Delivery:Enabled", "false"),
    ];
}

public sealed class KeyRotationSqliteFixture : SqliteApiFixture
{
    protected override IEnumerable<KeyValuePair<string, string>> Settings => KeyRotationSettings.Settings;
}

public sealed class KeyRotationPostgresFixture : PostgresApiFixture
{
    protected override IEnumerable<KeyValuePair<string, string>> Settings => KeyRotationSettings.Settings;
}

public sealed class KeyRotationTestsOnSqlite(KeyRotationSqliteFixture app) : KeyRotationTests<KeyRotationSqliteFixture>(app), IClassFixture<KeyRotationSqliteFixture>;

public sealed class KeyRotationTestsOnPostgres(KeyRotationPostgresFixture app) : KeyRotationTests<KeyRotationPostgresFixture>(app), IClassFixture<KeyRotationPostgresFixture>;
