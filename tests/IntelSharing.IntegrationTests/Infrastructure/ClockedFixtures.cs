using IntelSharing.Api.Infrastructure.Audit;
using IntelSharing.Api.Infrastructure.Security;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Time.Testing;

namespace IntelSharing.IntegrationTests.Infrastructure;

/// <summary>
/// The application on a fake clock: time moves only when a test advances it, so windows, expiry and
/// "at most once a minute" are tested without sleeping. The background audit sealer and key-usage flusher
/// are not started: sealing and flushing happen exactly when a test calls <see cref="Clocks.SealAuditAsync"/>
/// or <c>ApiKeyUsage.FlushAsync</c>, never in the middle of an assertion.
/// </summary>
public interface IClockedFixture
{
    FakeTimeProvider Clock { get; }
}

public static class Clocks
{
    /// <summary>A fixed, realistic start: 1 March 2026, 08:00 UTC.</summary>
    public static FakeTimeProvider Start() => new(new DateTimeOffset(2026, 3, 1, 8, 0, 0, TimeSpan.Zero));

    public static void Use(IServiceCollection services, FakeTimeProvider clock)
    {
        services.RemoveAll<TimeProvider>();
        services.AddSingleton<TimeProvider>(clock);
        foreach (var background in services.Where(d => d.ServiceType == typeof(IHostedService)
            && (d.ImplementationType == typeof(AuditSealingService) || d.ImplementationType == typeof(ApiKeyUsageFlusher))).ToList())
        {
            services.Remove(background);
        }
    }

    /// <summary>Seals every committed audit record now (what the background sealer does every few seconds).</summary>
    public static Task<int> SealAuditAsync(this ApiFixture app) =>
        app.Services.GetRequiredService<AuditSealer>().SealAsync(CancellationToken.None);
}

public class ClockedSqliteApiFixture : SqliteApiFixture, IClockedFixture
{
    public FakeTimeProvider Clock { get; } = Clocks.Start();

    protected override void ConfigureServices(IServiceCollection services) => Clocks.Use(services, Clock);
}

public class ClockedPostgresApiFixture : PostgresApiFixture, IClockedFixture
{
    public FakeTimeProvider Clock { get; } = Clocks.Start();

    protected override void ConfigureServices(IServiceCollection services) => Clocks.Use(services, Clock);
}

/// <summary>Abuse limits lowered so that tests reach them in a handful of requests.</summary>
public static class LoweredLimits
{
    public const int PerAgencyPermits = 5;
    public const int PerAgencyWindowSeconds = 3600;
    public const int AuthFailuresPerClient = 3;
    public const int AuthFailureWindowSeconds = 600;

    public static readonly IReadOnlyList<KeyValuePair<string, string>> Settings =
    [
        new("RateLimits:PerAgencyPermits", PerAgencyPermits.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        new("RateLimits:PerAgencyWindowSeconds", PerAgencyWindowSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        new("RateLimits:AuthFailuresPerClient", AuthFailuresPerClient.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        new("RateLimits:AuthFailureWindowSeconds", AuthFailureWindowSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture)),
    ];
}

public sealed class LimitedSqliteApiFixture : ClockedSqliteApiFixture
{
    protected override IEnumerable<KeyValuePair<string, string>> Settings => LoweredLimits.Settings;
}

public sealed class LimitedPostgresApiFixture : ClockedPostgresApiFixture
{
    protected override IEnumerable<KeyValuePair<string, string>> Settings => LoweredLimits.Settings;
}
