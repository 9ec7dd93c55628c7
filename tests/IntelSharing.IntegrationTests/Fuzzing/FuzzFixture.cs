using System.Net;
using System.Net.Sockets;
using IntelSharing.Api.Features.Alerts;
using IntelSharing.Api.Infrastructure.Audit;
using IntelSharing.Api.Features.Deliveries.Dispatch;
using IntelSharing.Api.Infrastructure.Security;
using IntelSharing.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace IntelSharing.IntegrationTests.Fuzzing;

/// <summary>
/// The API on real Kestrel (loopback, ephemeral port), so that fuzzed requests meet the real HTTP/1.1 parser
/// and server limits, not only the in-memory test server. The dispatcher and the correlation worker are off, so every
/// committed write comes from a request (the write journal's premise); outbound requests (pings) can only reach loopback.
/// </summary>
public static class FuzzHosting
{
    public static readonly KeyValuePair<string, string>[] Settings =
    [
        .. DeliveryTestSettings.Loopback,
        new("Delivery:Enabled", "false"),
        new("Correlation:Enabled", "false"),
        new("Delivery:AttemptTimeout", "00:00:02"),
        // One key sends thousands of requests a minute, many with bad credentials from one address: the abuse
        // limits would answer most of them 429 before they reach anything deeper. Their own tests cover them.
        new("RateLimits:PerAgencyPermits", "1000000"),
        new("RateLimits:AuthFailuresPerClient", "100000"),
        new("Logging:LogLevel:Default", "Warning"),
        // Expected client mistakes are not worth a log line per fuzzed request; 500s still log as errors.
        new("Logging:LogLevel:Microsoft.AspNetCore", "Error"),
    ];

    /// <summary>Whatever URL a fuzzed subscription names, pings dial only loopback literals, and never resolve names.</summary>
    public static void LoopbackOnlyPartners(IServiceCollection services) =>
        services.AddHttpClient(PartnerHttp.ClientName).ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            ConnectTimeout = TimeSpan.FromSeconds(2),
            ConnectCallback = async (context, cancellationToken) =>
            {
                if (!IPAddress.TryParse(context.DnsEndPoint.Host.Trim('[', ']'), out var address) || !IPAddress.IsLoopback(address))
                {
                    throw new HttpRequestException($"The fuzz fixture only dials loopback addresses, not {context.DnsEndPoint.Host}.");
                }

                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
                try
                {
                    await socket.ConnectAsync(address, context.DnsEndPoint.Port, cancellationToken);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        });

    /// <summary>
    /// Background writers besides delivery (off): the expiry sweep, the audit sealer and the key-usage flusher.
    /// Without them every committed write is a request's (nothing a fuzzed request creates expires within a
    /// run; sealing and last-use times are not what the fuzzer tests).
    /// </summary>
    public static void NoBackgroundWriters(IServiceCollection services)
    {
        foreach (var background in services.Where(d => d.ServiceType == typeof(IHostedService)
            && (d.ImplementationType == typeof(AuditSealingService) || d.ImplementationType == typeof(ApiKeyUsageFlusher))).ToList())
        {
            services.Remove(background);
        }

        var sweeps = services.Where(d => d.ServiceType == typeof(IHostedService) && d.ImplementationFactory?.Method.ReturnType == typeof(ExpirePersonalData)).ToList();
        if (sweeps.Count == 0)
        {
            throw new InvalidOperationException("The expiry sweep is no longer registered as expected; update FuzzHosting.NoBackgroundWriters.");
        }

        foreach (var sweep in sweeps)
        {
            services.Remove(sweep);
        }
    }

    /// <summary>A loopback port with nothing listening.</summary>
    public static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>A fuzz fixture: Kestrel on loopback, the settings above, server errors captured, requests in progress counted.</summary>
public interface IFuzzFixture
{
    ServerErrorLog ServerErrors { get; }

    RequestsInProgress InProgress { get; }
}

/// <summary>
/// Counts requests the application is still processing. When a client's connection drops, the handler keeps
/// running and may commit after the client moved on; the fuzzer waits for none to be in progress before it reads
/// the write journal, so a write is never blamed on the next request.
/// </summary>
public sealed class RequestsInProgress : IStartupFilter
{
    private int _count;

    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.Use(async (context, inner) =>
        {
            Interlocked.Increment(ref _count);
            try
            {
                await inner(context);
            }
            finally
            {
                Interlocked.Decrement(ref _count);
            }
        });
        next(app);
    };

    /// <summary>Returns once no request is in progress (at once, nearly always), or fails after a minute.</summary>
    public async Task WaitUntilIdleAsync()
    {
        var deadline = DateTime.UtcNow.AddMinutes(1);
        while (Volatile.Read(ref _count) > 0)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{_count} requests still in progress after a minute.");
            }

            await Task.Delay(1);
        }
    }
}

public sealed class FuzzSqliteFixture : SqliteApiFixture, IFuzzFixture
{
    public FuzzSqliteFixture() => UseKestrel(options => options.Listen(IPAddress.Loopback, 0));

    public ServerErrorLog ServerErrors { get; } = new();

    public RequestsInProgress InProgress { get; } = new();

    protected override IEnumerable<KeyValuePair<string, string>> Settings => FuzzHosting.Settings;

    protected override void ConfigureServices(IServiceCollection services)
    {
        FuzzHosting.LoopbackOnlyPartners(services);
        FuzzHosting.NoBackgroundWriters(services);
        services.CaptureServerErrors(ServerErrors);
        services.AddSingleton<IStartupFilter>(InProgress);
    }
}

public sealed class FuzzPostgresFixture : PostgresApiFixture, IFuzzFixture
{
    public FuzzPostgresFixture() => UseKestrel(options => options.Listen(IPAddress.Loopback, 0));

    public ServerErrorLog ServerErrors { get; } = new();

    public RequestsInProgress InProgress { get; } = new();

    protected override IEnumerable<KeyValuePair<string, string>> Settings => FuzzHosting.Settings;

    protected override void ConfigureServices(IServiceCollection services)
    {
        FuzzHosting.LoopbackOnlyPartners(services);
        FuzzHosting.NoBackgroundWriters(services);
        services.CaptureServerErrors(ServerErrors);
        services.AddSingleton<IStartupFilter>(InProgress);
    }
}
