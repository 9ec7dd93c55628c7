using System.Net;

namespace IntelSharing.Api.Infrastructure.Delivery;

/// <summary>
/// Internal networks (loopback, private, link-local, …) that an operator allowed one agency's webhooks to reach,
/// in a canonical order so that two agencies with the same allowance compare equal. Stored space-separated in
/// <c>agencies.allowed_private_networks</c>; set with PUT /api/v1/agencies/{id}/allowed-private-networks.
/// </summary>
public sealed class AllowedNetworks
{
    public const int MaxCount = 32;

    public static readonly AllowedNetworks None = new([]);

    private AllowedNetworks(IReadOnlyList<IPNetwork> networks)
    {
        Networks = networks;
        Key = string.Join(' ', networks);
    }

    public IReadOnlyList<IPNetwork> Networks { get; }

    /// <summary>The canonical text ("10.20.0.0/16 fd00:1::/64"): the stored column and the identity of the allowance.</summary>
    public string Key { get; }

    public bool IsEmpty => Networks.Count == 0;

    public bool Contains(IPAddress address) => Networks.Any(n => n.Contains(address));

    public static AllowedNetworks From(IEnumerable<IPNetwork> networks)
    {
        var ordered = networks.Distinct()
            .OrderBy(n => n.BaseAddress.AddressFamily)
            .ThenBy(n => Convert.ToHexString(n.BaseAddress.GetAddressBytes()), StringComparer.Ordinal)
            .ThenBy(n => n.PrefixLength)
            .ToList();
        return ordered.Count == 0 ? None : new AllowedNetworks(ordered);
    }

    /// <summary>Reads the stored column; entries that no longer parse are dropped rather than widening anything.</summary>
    public static AllowedNetworks FromColumn(string? column) =>
        string.IsNullOrWhiteSpace(column)
            ? None
            : From(column.Split(' ', StringSplitOptions.RemoveEmptyEntries)
                .Select(s => IPNetwork.TryParse(s, out var network) ? network : (IPNetwork?)null)
                .OfType<IPNetwork>());
}
