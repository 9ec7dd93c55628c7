using Dapper;
using IntelSharing.Api.Features.Deliveries.Dispatch;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace IntelSharing.IntegrationTests.Infrastructure;

/// <summary>
/// Delivery settings for tests: partner endpoints are plain-http listeners on loopback, so http and the
/// loopback range are allowed explicitly (as an operator would for a development setup).
/// </summary>
public static class DeliveryTestSettings
{
    public static readonly KeyValuePair<string, string>[] Loopback =
    [
        new("Delivery:AllowHttp", "true"),
        new("Delivery:AllowedPrivateNetworks:0", "127.0.0.0/8"),
        new("Secrets:EncryptionKey", Convert.ToBase64String(new byte[32].Select((_, i) => (byte)(i * 7)).ToArray())),
        // These tests poll the ledger while waiting; the per-agency rate limit has tests of its own.
        new("RateLimits:PerAgencyPermits", "1000000"),
    ];

    private sealed record StateRow
    {
        public string State { get; init; } = string.Empty;

        public int Attempts { get; init; }
    }

    /// <summary>Reads one delivery's state and attempt count straight from the database.</summary>
    public static async Task<(string State, int Attempts)> DeliveryStateAsync(this ApiFixture app, Guid deliveryId)
    {
        await using var connection = await app.Database.OpenAsync(CancellationToken.None);
        var row = await connection.QuerySingleAsync<StateRow>(
            "SELECT state AS State, attempts AS Attempts FROM deliveries WHERE id = @deliveryId", new { deliveryId });
        return (row.State, row.Attempts);
    }

    /// <summary>Whether a delivery waits held out of the claim's index (ADR 48): internal, not part of the contract.</summary>
    public static async Task<bool> DeliveryHeldAsync(this ApiFixture app, Guid deliveryId)
    {
        await using var connection = await app.Database.OpenAsync(CancellationToken.None);
        return await connection.ExecuteScalarAsync<bool>("SELECT held FROM deliveries WHERE id = @deliveryId", new { deliveryId });
    }

    /// <summary>Waits, bounded, until the condition holds: the dispatcher runs on its own thread.</summary>
    public static async Task EventuallyAsync(Func<Task<bool>> condition, string what, TimeSpan? within = null)
    {
        var deadline = DateTime.UtcNow + (within ?? TimeSpan.FromSeconds(30));
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Timed out waiting for: {what}");
            }

            await Task.Delay(25);
        }
    }
}

/// <summary>Delivery on a fake clock: the retry schedule is walked by advancing time, never by sleeping.</summary>
public interface IFakeClockFixture
{
    FakeTimeProvider Clock { get; }

    /// <summary>Advances the clock and wakes the dispatcher.</summary>
    void Advance(TimeSpan by);
}

public sealed class DeliverySqliteFixture : SqliteApiFixture, IFakeClockFixture
{
    public FakeTimeProvider Clock { get; } = new(DateTimeOffset.UtcNow);

    protected override IEnumerable<KeyValuePair<string, string>> Settings => DeliveryTestSettings.Loopback;

    protected override void ConfigureServices(IServiceCollection services) => Clocks.Use(services, Clock);

    public void Advance(TimeSpan by)
    {
        Clock.Advance(by);
        Services.GetRequiredService<DeliverySignal>().Notify();
    }
}

public sealed class DeliveryPostgresFixture : PostgresApiFixture, IFakeClockFixture
{
    public FakeTimeProvider Clock { get; } = new(DateTimeOffset.UtcNow);

    protected override IEnumerable<KeyValuePair<string, string>> Settings => DeliveryTestSettings.Loopback;

    protected override void ConfigureServices(IServiceCollection services) => Clocks.Use(services, Clock);

    public void Advance(TimeSpan by)
    {
        Clock.Advance(by);
        Services.GetRequiredService<DeliverySignal>().Notify();
    }
}

/// <summary>Delivery on the real clock with a short attempt timeout, for partners that hang.</summary>
public sealed class RealTimeDeliveryFixture : SqliteApiFixture
{
    protected override IEnumerable<KeyValuePair<string, string>> Settings =>
    [
        .. DeliveryTestSettings.Loopback,
        new("Delivery:AttemptTimeout", "00:00:10"),
        new("Delivery:PerPartnerConcurrency", "4"),
        new("Delivery:Workers", "16"),
    ];
}

/// <summary>
/// Delivery on the real clock with the production defaults for workers, shares and the attempt timeout, and the
/// subscription cap raised so that one agency can aim dozens of endpoints at stalled listeners (isolation must hold
/// even then).
/// </summary>
public static class IsolationTestSettings
{
    public const int SubscriptionCap = 60;

    public static readonly KeyValuePair<string, string>[] Settings =
    [
        .. DeliveryTestSettings.Loopback,
        new("Delivery:MaxSubscriptionsPerAgency", SubscriptionCap.ToString(System.Globalization.CultureInfo.InvariantCulture)),
    ];
}

public sealed class IsolationSqliteFixture : SqliteApiFixture
{
    protected override IEnumerable<KeyValuePair<string, string>> Settings => IsolationTestSettings.Settings;
}

public sealed class IsolationPostgresFixture : PostgresApiFixture
{
    protected override IEnumerable<KeyValuePair<string, string>> Settings => IsolationTestSettings.Settings;
}

/// <summary>Delivery on the real clock with a 2 s attempt timeout, for partners that stall part-way through an answer.</summary>
public static class ShortAttemptSettings
{
    public static readonly TimeSpan AttemptTimeout = TimeSpan.FromSeconds(2);

    public static readonly KeyValuePair<string, string>[] Settings =
        [.. DeliveryTestSettings.Loopback, new("Delivery:AttemptTimeout", AttemptTimeout.ToString())];
}

public sealed class ShortAttemptSqliteFixture : SqliteApiFixture
{
    protected override IEnumerable<KeyValuePair<string, string>> Settings => ShortAttemptSettings.Settings;
}

public sealed class ShortAttemptPostgresFixture : PostgresApiFixture
{
    protected override IEnumerable<KeyValuePair<string, string>> Settings => ShortAttemptSettings.Settings;
}

/// <summary>Production-like outbound rules: https only, no internal addresses.</summary>
public sealed class StrictOutboundFixture : SqliteApiFixture
{
    protected override IEnumerable<KeyValuePair<string, string>> Settings =>
    [
        new("Delivery:AllowHttp", "true"),
        new("Secrets:EncryptionKey", Convert.ToBase64String(new byte[32])),
    ];
}

/// <summary>
/// Production-like outbound rules: no deployment-wide allowance, so a loopback partner is reachable only by an agency an
/// operator allowed 127.0.0.0/8 for. A short attempt timeout, for partners that hang.
/// </summary>
public static class PerAgencyOutboundSettings
{
    public static readonly KeyValuePair<string, string>[] Settings =
    [
        new("Delivery:AllowHttp", "true"),
        new("Delivery:AttemptTimeout", "00:00:02"),
        new("Secrets:EncryptionKey", Convert.ToBase64String(new byte[32].Select((_, i) => (byte)(i * 5)).ToArray())),
        new("RateLimits:PerAgencyPermits", "1000000"),
    ];
}

public sealed class PerAgencyOutboundSqliteFixture : SqliteApiFixture
{
    protected override IEnumerable<KeyValuePair<string, string>> Settings => PerAgencyOutboundSettings.Settings;
}

public sealed class PerAgencyOutboundPostgresFixture : PostgresApiFixture
{
    protected override IEnumerable<KeyValuePair<string, string>> Settings => PerAgencyOutboundSettings.Settings;
}

/// <summary>Partner traffic through an egress proxy (Delivery__Proxy): a <see cref="FakeProxy"/> that records what reaches it.</summary>
public interface IProxiedFixture
{
    FakeProxy Proxy { get; }
}

public sealed class ProxiedOutboundSqliteFixture : SqliteApiFixture, IProxiedFixture
{
    public FakeProxy Proxy { get; } = new();

    protected override IEnumerable<KeyValuePair<string, string>> Settings => [.. PerAgencyOutboundSettings.Settings, new("Delivery:Proxy", Proxy.Url)];

    protected override async Task CleanUpAsync()
    {
        await base.CleanUpAsync();
        await Proxy.DisposeAsync();
    }
}

public sealed class ProxiedOutboundPostgresFixture : PostgresApiFixture, IProxiedFixture
{
    public FakeProxy Proxy { get; } = new();

    protected override IEnumerable<KeyValuePair<string, string>> Settings => [.. PerAgencyOutboundSettings.Settings, new("Delivery:Proxy", Proxy.Url)];

    protected override async Task CleanUpAsync()
    {
        await base.CleanUpAsync();
        await Proxy.DisposeAsync();
    }
}
