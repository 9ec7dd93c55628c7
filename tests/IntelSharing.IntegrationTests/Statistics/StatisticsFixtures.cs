using IntelSharing.Api.Features.Deliveries.Dispatch;
using IntelSharing.IntegrationTests.Console;
using IntelSharing.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace IntelSharing.IntegrationTests.Statistics;

/// <summary>
/// Published results and partner health on a fake clock: each test moves to days of its own, so that the counts of one
/// test's alerts are not mixed with another's. Loopback partners, one attempt before a delivery is dead, and a minimum
/// cell count of 3, so that suppression shows with a handful of alerts.
/// </summary>
public static class StatisticsTestSettings
{
    public const int MinimumCellCount = 3;

    public static readonly KeyValuePair<string, string>[] Settings =
    [
        .. ConsoleTestSettings.Settings,
        new("Statistics:MinimumCellCount", $"{MinimumCellCount}"),
    ];
}

public sealed class StatisticsSqliteFixture : SqliteApiFixture, IFakeClockFixture
{
    public FakeTimeProvider Clock { get; } = new(DateTimeOffset.UtcNow);

    protected override IEnumerable<KeyValuePair<string, string>> Settings => StatisticsTestSettings.Settings;

    protected override void ConfigureServices(IServiceCollection services) => Clocks.Use(services, Clock);

    public void Advance(TimeSpan by)
    {
        Clock.Advance(by);
        Services.GetRequiredService<DeliverySignal>().Notify();
    }
}

public sealed class StatisticsPostgresFixture : PostgresApiFixture, IFakeClockFixture
{
    public FakeTimeProvider Clock { get; } = new(DateTimeOffset.UtcNow);

    protected override IEnumerable<KeyValuePair<string, string>> Settings => StatisticsTestSettings.Settings;

    protected override void ConfigureServices(IServiceCollection services) => Clocks.Use(services, Clock);

    public void Advance(TimeSpan by)
    {
        Clock.Advance(by);
        Services.GetRequiredService<DeliverySignal>().Notify();
    }
}
