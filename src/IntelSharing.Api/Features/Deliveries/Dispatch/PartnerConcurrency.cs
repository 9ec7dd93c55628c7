using System.Collections.Concurrent;


namespace IntelSharing.Api.Features.Deliveries.Dispatch;

/// <summary>
/// How many requests one partner (authority) may have open at once on this instance. A partner starts at one and
/// earns more by answering: each success doubles its allowance up to <c>Delivery__PerPartnerConcurrency</c>; a
/// failure or timeout puts it back to one. A partner that hangs therefore holds one worker until its breaker opens,
/// not the full per-partner limit. Whether its latest attempt succeeded (<see cref="IsProven"/>) decides which pool
/// of workers it draws from (<see cref="WorkerShares"/>): many hanging partners cannot take the workers that
/// answering ones need.
/// </summary>
public sealed class PartnerConcurrency(int limit)
{
    private readonly ConcurrentDictionary<string, Standing> _standing = new(StringComparer.OrdinalIgnoreCase);

    private readonly record struct Standing(int Allowed, bool Proven);

    public int Allowed(string authority) => _standing.TryGetValue(authority, out var standing) ? standing.Allowed : 1;

    /// <summary>The partner's latest attempt on this instance was answered with 2xx, in time.</summary>
    public bool IsProven(string authority) => _standing.TryGetValue(authority, out var standing) && standing.Proven;

    public IReadOnlyList<string> ProvenAuthorities() => _standing.Where(p => p.Value.Proven).Select(p => p.Key).ToList();

    public void Succeeded(string authority) =>
        _standing.AddOrUpdate(authority, new Standing(Math.Min(2, limit), true), (_, s) => new Standing(Math.Min(s.Allowed * 2, limit), true));

    public void Failed(string authority) => _standing[authority] = new Standing(1, false);
}
