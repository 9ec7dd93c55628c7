using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using IntelSharing.Api.Domain;
using IntelSharing.Api.Infrastructure.Security;
using IntelSharing.IntegrationTests.Infrastructure;

namespace IntelSharing.IntegrationTests.Delivery;

/// <summary>
/// The README's promise — one dead or slow partner never delays delivery to the others — against the attack that
/// broke it: one agency aims dozens of subscriptions at endpoints that stall below HTTP, on the production defaults
/// (32 workers, 15 s attempt timeout), real clock, real loopback sockets.
/// </summary>
public abstract class PartnerStarvationTests<TFixture>(TFixture app) : IAsyncLifetime
    where TFixture : ApiFixture
{
    /// <summary>Normal latency is tens of milliseconds; the old dispatcher took 10–15 s (the connect and attempt timeouts) and more.</summary>
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(5);

    private const int StalledPerKind = 15;
    private const int Alerts = 8;

    // Half of the hostile agency's share (a quarter of the 32 workers): what its unproven endpoints may hold at once.
    private const int MinimumHeldByTheAttack = 4;

    private readonly List<IAsyncDisposable> _endpoints = [];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        foreach (var endpoint in _endpoints)
        {
            await endpoint.DisposeAsync();
        }
    }

    [Fact]
    public async Task Forty_five_stalled_endpoints_of_one_agency_do_not_delay_the_answering_partners_of_other_agencies_or_its_own()
    {
        var originator = await app.CreateAgencyAsync("Border Police Directorate", "RS");
        var hungarian = await app.CreateAgencyAsync("Hungarian Police", "HU", AgencyKind.Police, Scopes.AlertsRead, Scopes.SubscriptionsManage);
        var europol = await app.CreateAgencyAsync("Europol", "NL", AgencyKind.EuAgency, Scopes.AlertsRead, Scopes.SubscriptionsManage);
        var hostile = await app.CreateAgencyAsync("Compromised partner", "HR", AgencyKind.Police, Scopes.AlertsRead, Scopes.SubscriptionsManage);
        var answering = new List<PartnerReceiver>();
        foreach (var agency in new[] { hungarian, europol, hostile })
        {
            var receiver = await PartnerReceiver.StartAsync();
            _endpoints.Add(receiver);
            answering.Add(receiver);
            await SubscribeAsync(agency, receiver.Url);
        }

        // Before the attack every partner has answered once: the hostile agency's own working endpoint has a record the
        // dispatcher can tell apart from the endpoints it adds next.
        await PublishAsync(1);
        foreach (var receiver in answering)
        {
            await receiver.WaitForAsync(1, TimeSpan.FromSeconds(30));
        }

        var stalled = new List<StalledEndpoint>();
        // Kinds interleaved, so that whichever the dispatcher tries first, each way of stalling is among them.
        for (var i = 0; i < StalledPerKind; i++)
        {
            foreach (var kind in Enum.GetValues<StalledEndpoint.Stall>())
            {
                var endpoint = StalledEndpoint.Start(kind);
                _endpoints.Add(endpoint);
                stalled.Add(endpoint);
                await SubscribeAsync(hostile, endpoint.Url);
            }
        }

        // The attack goes live: one alert, and the stalled endpoints hold attempts open (for up to the 15 s attempt timeout).
        await PublishAsync(1);
        // Live means both: the dispatcher holds attempts open to them, and at least one of them has been reached (the claimed
        // ones may all be endpoints whose connect hangs, or their accept loop may lag on a loaded machine).
        await DeliveryTestSettings.EventuallyAsync(
            async () => await StalledAttemptsOpenAsync(hostile) >= MinimumHeldByTheAttack && stalled.Sum(s => s.Engaged) > 0,
            "the stalled endpoints to hold attempts open");

        var started = Stopwatch.GetTimestamp();
        await PublishAsync(Alerts);
        foreach (var receiver in answering)
        {
            var left = Bound - Stopwatch.GetElapsedTime(started);
            await receiver.WaitForAsync(2 + Alerts, left > TimeSpan.Zero ? left : TimeSpan.FromMilliseconds(1));
        }

        Assert.InRange(Stopwatch.GetElapsedTime(started), TimeSpan.Zero, Bound);
        foreach (var receiver in answering)
        {
            Assert.Equal(2 + Alerts, receiver.Received.Select(r => r.Id).Distinct().Count());
        }

        // The attack was still live while the others were served: its attempts are open, not timed out.
        Assert.True(await StalledAttemptsOpenAsync(hostile) >= 1, "The stalled attempts had ended; the test proved nothing.");
        Assert.True(stalled.Sum(s => s.Engaged) > 0, "No stalled endpoint was ever reached; the test proved nothing.");

        async Task PublishAsync(int count)
        {
            for (var i = 0; i < count; i++)
            {
                Assert.Equal(HttpStatusCode.Created, (await originator.Client.PostAsync("/api/v1/alerts", Samples.Json(Samples.SmugglingAlert()), Ct)).StatusCode);
            }
        }
    }

    /// <summary>Attempts the dispatcher has open to the hostile agency's endpoints that have never answered.</summary>
    private async Task<long> StalledAttemptsOpenAsync(TestAgency hostile)
    {
        await using var connection = await app.Database.OpenAsync(Ct);
        return await Dapper.SqlMapper.ExecuteScalarAsync<long>(connection,
            "SELECT COUNT(*) FROM deliveries WHERE agency_id = @agencyId AND state = 'in_flight' AND attempts = 0",
            new { agencyId = hostile.Id });
    }

    private static async Task SubscribeAsync(TestAgency agency, string url)
    {
        var created = await agency.Client.PostAsync("/api/v1/subscriptions", Samples.Json(new JsonObject { ["url"] = url }), Ct);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
    }
}

public sealed class PartnerStarvationTestsOnSqlite(IsolationSqliteFixture app)
    : PartnerStarvationTests<IsolationSqliteFixture>(app), IClassFixture<IsolationSqliteFixture>;

public sealed class PartnerStarvationTestsOnPostgres(IsolationPostgresFixture app)
    : PartnerStarvationTests<IsolationPostgresFixture>(app), IClassFixture<IsolationPostgresFixture>;
