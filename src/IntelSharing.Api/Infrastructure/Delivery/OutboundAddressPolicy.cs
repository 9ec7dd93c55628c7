using System.Net;
using System.Net.Sockets;

namespace IntelSharing.Api.Infrastructure.Delivery;

/// <summary>
/// Where webhooks may go. Loopback, private, link-local (cloud metadata), carrier-grade NAT, multicast, reserved
/// ranges, and every IPv6 range that carries an IPv4 address we cannot judge (6to4, Teredo, IPv4-compatible, local
/// NAT64) are refused, unless an operator allowed the network for the sending agency (<see cref="AllowedNetworks"/>)
/// or, for development and tests, for the whole deployment (<c>Delivery__AllowedPrivateNetworks</c>). Checked when a
/// subscription is registered (for IP literals) and again for every address actually dialled, so DNS rebinding gains
/// nothing; with an egress proxy, the destination is resolved and checked before the request goes to the proxy.
/// </summary>
public sealed class OutboundAddressPolicy
{
    private static readonly IPNetwork[] Internal =
    [
        IPNetwork.Parse("0.0.0.0/8"), IPNetwork.Parse("10.0.0.0/8"), IPNetwork.Parse("100.64.0.0/10"),
        IPNetwork.Parse("127.0.0.0/8"), IPNetwork.Parse("169.254.0.0/16"), IPNetwork.Parse("172.16.0.0/12"),
        IPNetwork.Parse("192.0.0.0/24"), IPNetwork.Parse("192.0.2.0/24"), IPNetwork.Parse("192.88.99.0/24"),
        IPNetwork.Parse("192.168.0.0/16"), IPNetwork.Parse("198.18.0.0/15"), IPNetwork.Parse("198.51.100.0/24"),
        IPNetwork.Parse("203.0.113.0/24"), IPNetwork.Parse("224.0.0.0/4"), IPNetwork.Parse("240.0.0.0/4"),

        // IPv4-compatible (deprecated; includes :: and ::1) and IPv4-translated (SIIT): the embedded IPv4 could be anything.
        IPNetwork.Parse("::/96"), IPNetwork.Parse("::ffff:0:0:0/96"),
        // Local-use NAT64 (RFC 8215): where the IPv4 sits depends on the operator's prefix length, so it cannot be judged.
        IPNetwork.Parse("64:ff9b:1::/48"),
        IPNetwork.Parse("100::/64"),
        // Teredo, benchmarking, ORCHID, documentation, 6to4 (tunnels to an embedded IPv4), SRv6 segment ids.
        IPNetwork.Parse("2001::/32"), IPNetwork.Parse("2001:2::/48"), IPNetwork.Parse("2001:10::/28"), IPNetwork.Parse("2001:db8::/32"),
        IPNetwork.Parse("2002::/16"), IPNetwork.Parse("3fff::/20"), IPNetwork.Parse("5f00::/16"),
        IPNetwork.Parse("fc00::/7"), IPNetwork.Parse("fe80::/10"), IPNetwork.Parse("fec0::/10"), IPNetwork.Parse("ff00::/8"),
    ];

    // The well-known NAT64 prefix (RFC 6052) puts the IPv4 address in the last 32 bits: judged as that IPv4 address,
    // so an IPv6-only deployment can still reach public partners through DNS64 and never an internal one.
    private static readonly IPNetwork WellKnownNat64 = IPNetwork.Parse("64:ff9b::/96");

    private readonly AllowedNetworks _deploymentWide;

    /// <summary>The loopback ranges, which the Development environment allows for every agency (a receiver on the laptop).</summary>
    public static readonly IReadOnlyList<string> Loopback = ["127.0.0.0/8", "::1/128"];

    private readonly bool _allowHttpToLoopback;

    /// <param name="allowHttp">Plain http:// endpoints allowed (development only).</param>
    /// <param name="allowedPrivateNetworks">Internal CIDR ranges every agency may reach (development and tests only).</param>
    /// <param name="allowHttpToLoopback">Plain http:// allowed to localhost and loopback literals only (the Development environment).</param>
    public OutboundAddressPolicy(bool allowHttp, IEnumerable<string> allowedPrivateNetworks, bool allowHttpToLoopback = false)
    {
        AllowHttp = allowHttp;
        _allowHttpToLoopback = allowHttpToLoopback;
        _deploymentWide = AllowedNetworks.From(allowedPrivateNetworks.Select(IPNetwork.Parse));
    }

    public bool AllowHttp { get; }

    /// <summary>Whether the deployment-wide allowance (development and tests) is set: it applies to every agency.</summary>
    public bool HasDeploymentWideAllowance => !_deploymentWide.IsEmpty;

    /// <summary>The address a packet to <paramref name="address"/> really goes to: IPv4-mapped and well-known NAT64 addresses as their IPv4.</summary>
    public static IPAddress Effective(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            return address.MapToIPv4();
        }

        if (WellKnownNat64.Contains(address))
        {
            return new IPAddress(address.GetAddressBytes().AsSpan(12, 4));
        }

        return address;
    }

    /// <summary>Loopback, private, link-local, reserved, or an IPv6 form that hides an IPv4 address we cannot judge.</summary>
    public static bool IsInternal(IPAddress address)
    {
        var effective = Effective(address);
        return Internal.Any(n => n.Contains(effective));
    }

    public bool IsAllowed(IPAddress address) => IsAllowed(address, AllowedNetworks.None);

    /// <summary>Whether a webhook of an agency with <paramref name="allowance"/> may be sent to <paramref name="address"/>.</summary>
    public bool IsAllowed(IPAddress address, AllowedNetworks allowance)
    {
        var effective = Effective(address);
        return !Internal.Any(n => n.Contains(effective)) || _deploymentWide.Contains(effective) || allowance.Contains(effective);
    }

    /// <summary>
    /// Whether an operator may allow <paramref name="network"/> for an agency: only ranges inside one refused range, so an
    /// allowance can never be mistaken for (or widened into) public address space such as 0.0.0.0/0.
    /// </summary>
    public static bool IsInternalRange(IPNetwork network) =>
        Internal.Any(n => n.BaseAddress.AddressFamily == network.BaseAddress.AddressFamily
            && n.PrefixLength <= network.PrefixLength && n.Contains(network.BaseAddress));

    /// <summary>Checks an endpoint URL at registration; returns an error message, or null when it may be used.</summary>
    public string? CheckUrl(string? url, AllowedNetworks? allowance = null) =>
        CheckUrlForm(url) ?? CheckDestination(new Uri(url!), allowance ?? AllowedNetworks.None);

    /// <summary>The URL's form: absolute, https (or http when configured), no credentials, no fragment.</summary>
    public string? CheckUrlForm(string? url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || string.IsNullOrEmpty(uri.Host))
        {
            return "The endpoint must be an absolute URL.";
        }

        if (uri.Scheme != Uri.UriSchemeHttps && !(uri.Scheme == Uri.UriSchemeHttp && (AllowHttp || (_allowHttpToLoopback && IsLoopbackHost(uri)))))
        {
            return AllowHttp ? "The endpoint must use https or http."
                : _allowHttpToLoopback ? "The endpoint must use https (http only to localhost in Development)."
                : "The endpoint must use https.";
        }

        if (!string.IsNullOrEmpty(uri.UserInfo))
        {
            return "The endpoint must not carry credentials in the URL; signatures authenticate our requests.";
        }

        if (!string.IsNullOrEmpty(uri.Fragment))
        {
            return "The endpoint must not have a fragment.";
        }

        return null;
    }

    private static bool IsLoopbackHost(Uri uri) =>
        uri.IsLoopback && (string.Equals(uri.IdnHost, "localhost", StringComparison.OrdinalIgnoreCase) || IPAddress.TryParse(uri.IdnHost.Trim('[', ']'), out _));

    /// <summary>An IP-literal endpoint must be an address the agency may reach; host names are judged when dialled.</summary>
    public string? CheckDestination(Uri endpoint, AllowedNetworks allowance) =>
        IPAddress.TryParse(endpoint.IdnHost.Trim('[', ']'), out var literal) && !IsAllowed(literal, allowance)
            ? "The endpoint's address is loopback, private, link-local or reserved; an operator must allow that network for your agency."
            : null;

    /// <summary>
    /// Resolves <paramref name="host"/> and returns the addresses the agency may reach. With <paramref name="requireAll"/>
    /// (a proxy will resolve the name again and may pick any answer) one refused address refuses the destination.
    /// </summary>
    public async Task<IPAddress[]> ResolveAllowedAsync(string host, AllowedNetworks allowance, bool requireAll, CancellationToken cancellationToken)
    {
        var addresses = IPAddress.TryParse(host.Trim('[', ']'), out var literal)
            ? [literal]
            : await Dns.GetHostAddressesAsync(host, cancellationToken);
        var allowed = addresses.Where(a => IsAllowed(a, allowance)).ToArray();
        if (allowed.Length == 0 || (requireAll && allowed.Length != addresses.Length))
        {
            throw new OutboundDestinationRefusedException(
                $"{host} resolves to loopback, private, link-local or reserved addresses ({string.Join(", ", addresses.Except(allowed))}); refused.");
        }

        return allowed;
    }

    /// <summary>Dials <paramref name="endpoint"/> on an address the agency may reach; the socket's remote address says which one.</summary>
    public async ValueTask<Socket> ConnectAsync(DnsEndPoint endpoint, AllowedNetworks allowance, CancellationToken cancellationToken)
    {
        var allowed = await ResolveAllowedAsync(endpoint.Host, allowance, requireAll: false, cancellationToken);
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(allowed, endpoint.Port, cancellationToken);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}

public sealed class OutboundDestinationRefusedException(string message) : IOException(message);
