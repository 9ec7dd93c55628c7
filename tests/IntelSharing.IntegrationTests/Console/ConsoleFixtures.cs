using System.Net;
using IntelSharing.Api.Features.Deliveries.Dispatch;
using IntelSharing.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace IntelSharing.IntegrationTests.Console;

/// <summary>
/// The console's settings for tests: loopback partners, one delivery attempt before a delivery is dead (so a dead
/// letter is one failed attempt away, not a day of retries), a 30-minute session, and a minimum cell count of 3 in
/// published results, so that suppression shows with a handful of alerts (the statistics tests share these fixtures),
/// and no roll-up of published results but the one a test asks for.
/// </summary>
public static class ConsoleTestSettings
{
    public const int SessionMinutes = 30;

    public const int MinimumCellCount = 3;

    public static readonly KeyValuePair<string, string>[] Settings =
    [
        .. DeliveryTestSettings.Loopback,
        new("Delivery:Schedule", "00:00:00"),
        new("Delivery:Jitter", "0"),
        new("Console:SessionMinutes", $"{SessionMinutes}"),
        new("Statistics:MinimumCellCount", $"{MinimumCellCount}"),

        // The roll-up runs once at start, on an empty database; tests roll up when they mean to (StatisticsRollupTests).
        new("Statistics:RollupIntervalSeconds", "3600"),
    ];
}

/// <summary>The application on a fake clock (session expiry without waiting), served by TestServer.</summary>
public sealed class ConsoleSqliteFixture : SqliteApiFixture, IFakeClockFixture
{
    public FakeTimeProvider Clock { get; } = new(DateTimeOffset.UtcNow);

    protected override IEnumerable<KeyValuePair<string, string>> Settings => ConsoleTestSettings.Settings;

    protected override void ConfigureServices(IServiceCollection services) => Clocks.Use(services, Clock);

    public void Advance(TimeSpan by)
    {
        Clock.Advance(by);
        Services.GetRequiredService<DeliverySignal>().Notify();
    }
}

public sealed class ConsolePostgresFixture : PostgresApiFixture, IFakeClockFixture
{
    public FakeTimeProvider Clock { get; } = new(DateTimeOffset.UtcNow);

    protected override IEnumerable<KeyValuePair<string, string>> Settings => ConsoleTestSettings.Settings;

    protected override void ConfigureServices(IServiceCollection services) => Clocks.Use(services, Clock);

    public void Advance(TimeSpan by)
    {
        Clock.Advance(by);
        Services.GetRequiredService<DeliverySignal>().Notify();
    }
}

/// <summary>The application on Kestrel on a loopback port, for a real browser; the real clock and the background sealer run.</summary>
public sealed class ConsoleBrowserFixture : SqliteApiFixture
{
    public ConsoleBrowserFixture() => UseKestrel(options => options.Listen(IPAddress.Loopback, 0));

    protected override IEnumerable<KeyValuePair<string, string>> Settings => ConsoleTestSettings.Settings;
}
