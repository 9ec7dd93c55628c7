using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

using IntelSharing.Api.Infrastructure.Delivery;

namespace IntelSharing.Api.Features.Deliveries.Dispatch;

/// <summary>
/// The partner client's primary handler. Every request carries the sending agency's <see cref="AllowedNetworks"/>
/// (<see cref="Allowance"/>); requests with the same allowance share one <see cref="SocketsHttpHandler"/> and so one
/// connection pool, and no other: a connection dialled to a network allowed for agency A is never reused for agency B
/// (a pool is per authority, so a check made only when dialling would otherwise let B ride on A's connection).
/// Environment proxies (HTTPS_PROXY, HTTP_PROXY, ALL_PROXY) are ignored: through them the dialling check would see
/// only the proxy's address. With <c>Delivery__Proxy</c> set, the destination is resolved and checked here before the
/// request is handed to that proxy, and only the proxy itself is dialled.
/// </summary>
public sealed class PartnerConnections(OutboundAddressPolicy policy, DeliveryOptions options) : HttpMessageHandler
{
    /// <summary>The sending agency's allowance; absent means none.</summary>
    public static readonly HttpRequestOptionsKey<AllowedNetworks> Allowance = new("IntelSharing.AllowedNetworks");

    /// <summary>
    /// Set on the request when its destination may have been an internal address (one allowed by exception): what such
    /// a destination answers is not shown back to callers, or the dispatcher would read private services for them.
    /// </summary>
    public static readonly HttpRequestOptionsKey<bool> InternalDestination = new("IntelSharing.InternalDestination");

    private readonly OutboundAddressPolicy _policy = policy;
    private readonly ConcurrentDictionary<string, Pool> _pools = new(StringComparer.Ordinal);
    private readonly Uri? _proxy = string.IsNullOrWhiteSpace(options.Proxy) ? null : new Uri(options.Proxy);

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var allowance = request.Options.TryGetValue(Allowance, out var given) ? given : AllowedNetworks.None;
        var destination = request.RequestUri!;
        var pool = _pools.GetOrAdd(allowance.Key, _ => new Pool(this, allowance));
        var internalDestination = false;
        if (_proxy is not null)
        {
            // The proxy resolves the name itself and may take any of its answers: every answer must be allowed.
            var addresses = await _policy.ResolveAllowedAsync(destination.IdnHost, allowance, requireAll: true, cancellationToken);
            internalDestination = addresses.Any(OutboundAddressPolicy.IsInternal);
        }

        var response = await pool.Invoker.SendAsync(request, cancellationToken);
        request.Options.Set(InternalDestination, internalDestination || pool.DialledInternal(destination));
        return response;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            foreach (var pool in _pools.Values)
            {
                pool.Invoker.Dispose();
            }
        }

        base.Dispose(disposing);
    }

    private sealed class Pool
    {
        private readonly PartnerConnections _owner;
        private readonly AllowedNetworks _allowance;
        private readonly ConcurrentDictionary<string, byte> _internalAuthorities = new(StringComparer.OrdinalIgnoreCase);

        public Pool(PartnerConnections owner, AllowedNetworks allowance)
        {
            _owner = owner;
            _allowance = allowance;
            var handler = new SocketsHttpHandler
            {
                AllowAutoRedirect = false,
                UseCookies = false,
                AutomaticDecompression = DecompressionMethods.None,
                PooledConnectionLifetime = TimeSpan.FromMinutes(5),
                ConnectTimeout = TimeSpan.FromSeconds(10),
                UseProxy = owner._proxy is not null,
                Proxy = owner._proxy is null ? null : new WebProxy(owner._proxy) { BypassProxyOnLocal = false },
                ConnectCallback = ConnectAsync,
            };
            Invoker = new HttpMessageInvoker(handler, disposeHandler: true);
        }

        public HttpMessageInvoker Invoker { get; }

        /// <summary>Whether any connection of this pool to the destination's authority went to an internal address (sticky: conservative).</summary>
        public bool DialledInternal(Uri destination) => _internalAuthorities.ContainsKey(AuthorityKey(destination.IdnHost, destination.Port));

        private static string AuthorityKey(string host, int port) => $"{host.Trim('[', ']')}:{port}";

        private async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
        {
            var endpoint = context.DnsEndPoint;
            if (_owner._proxy is { } proxy)
            {
                // Only the configured proxy is dialled; its own address may be internal (that is where egress proxies live).
                if (!string.Equals(endpoint.Host, proxy.IdnHost, StringComparison.OrdinalIgnoreCase) || endpoint.Port != proxy.Port)
                {
                    throw new OutboundDestinationRefusedException($"Only the configured proxy may be dialled, not {endpoint.Host}:{endpoint.Port}.");
                }

                return await DialAsync(endpoint, await Dns.GetHostAddressesAsync(endpoint.Host, cancellationToken), cancellationToken);
            }

            var socket = await _owner._policy.ConnectAsync(endpoint, _allowance, cancellationToken);
            if (socket.RemoteEndPoint is IPEndPoint { Address: var dialled } && OutboundAddressPolicy.IsInternal(dialled))
            {
                _internalAuthorities[AuthorityKey(endpoint.Host, endpoint.Port)] = 0;
            }

            return new NetworkStream(socket, ownsSocket: true);
        }

        private static async Task<Stream> DialAsync(DnsEndPoint endpoint, IPAddress[] addresses, CancellationToken cancellationToken)
        {
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(addresses, endpoint.Port, cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }
    }
}
