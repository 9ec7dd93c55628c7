using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Options;

namespace IntelSharing.Api.Infrastructure.Delivery;

/// <summary>
/// Where webhooks may go. Loopback, private, link-local (cloud metadata), carrier-grade NAT, multicast and
/// reserved ranges are refused unless an operator allows a range. Checked when a subscription is registered
/// (for IP literals) and again at connect time for the address actually dialled, so DNS rebinding gains nothing.
/// </summary>
public sealed class OutboundAddressPolicy
{
    private static readonly IPNetwork[] Internal =
    [
        IPNetwork.Parse("0.0.0.0/8"), IPNetwork.Parse("10.0.0.0/8"), IPNetwork.Parse("100.64.0.0/10"),
        IPNetwork.Parse("127.0.0.0/8"), IPNetwork.Parse("169.254.0.0/16"), IPNetwork.Parse("172.16.0.0/12"),
        IPNetwork.Parse("192.0.0.0/24"), IPNetwork.Parse("192.0.2.0/24"), IPNetwork.Parse("192.168.0.0/16"),
        IPNetwork.Parse("198.18.0.0/15"), IPNetwork.Parse("198.51.100.0/24"), IPNetwork.Parse("203.0.113.0/24"),
        IPNetwork.Parse("224.0.0.0/4"), IPNetwork.Parse("240.0.0.0/4"),
        IPNetwork.Parse("::/128"), IPNetwork.Parse("::1/128"), IPNetwork.Parse("fc00::/7"), IPNetwork.Parse("fe80::/10"),
        IPNetwork.Parse("ff00::/8"), IPNetwork.Parse("2001:db8::/32"), IPNetwork.Parse("64:ff9b::/96"), IPNetwork.Parse("100::/64"),
    ];

    private readonly IPNetwork[] _allowed;

    public OutboundAddressPolicy(IOptions<DeliveryOptions> options)
    {
        AllowHttp = options.Value.AllowHttp;
        _allowed = options.Value.AllowedPrivateNetworks.Select(IPNetwork.Parse).ToArray();
    }

    public bool AllowHttp { get; }

    public bool IsAllowed(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        return _allowed.Any(n => n.Contains(address)) || !Internal.Any(n => n.Contains(address));
    }

    /// <summary>Checks an endpoint URL at registration; returns an error message, or null when it may be used.</summary>
    public string? CheckUrl(string? url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || string.IsNullOrEmpty(uri.Host))
        {
            return "The endpoint must be an absolute URL.";
        }

        if (uri.Scheme != Uri.UriSchemeHttps && !(AllowHttp && uri.Scheme == Uri.UriSchemeHttp))
        {
            return AllowHttp ? "The endpoint must use https or http." : "The endpoint must use https.";
        }

        if (!string.IsNullOrEmpty(uri.UserInfo))
        {
            return "The endpoint must not carry credentials in the URL; signatures authenticate our requests.";
        }

        if (!string.IsNullOrEmpty(uri.Fragment))
        {
            return "The endpoint must not have a fragment.";
        }

        if (IPAddress.TryParse(uri.IdnHost.Trim('[', ']'), out var literal) && !IsAllowed(literal))
        {
            return "The endpoint's address is loopback, private, link-local or reserved; an operator must allow that network.";
        }

        return null;
    }

    /// <summary>SocketsHttpHandler.ConnectCallback: resolves the host and dials only allowed addresses.</summary>
    public async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var endpoint = context.DnsEndPoint;
        var addresses = IPAddress.TryParse(endpoint.Host, out var literal)
            ? [literal]
            : await Dns.GetHostAddressesAsync(endpoint.Host, cancellationToken);
        var allowed = addresses.Where(IsAllowed).ToArray();
        if (allowed.Length == 0)
        {
            throw new OutboundDestinationRefusedException(
                $"{endpoint.Host} resolves only to loopback, private, link-local or reserved addresses; refused.");
        }

        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(allowed, endpoint.Port, cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}

public sealed class OutboundDestinationRefusedException(string message) : IOException(message);
