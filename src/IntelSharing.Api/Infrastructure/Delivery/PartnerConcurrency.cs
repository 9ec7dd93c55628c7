using System.Collections.Concurrent;

namespace IntelSharing.Api.Infrastructure.Delivery;

/// <summary>
/// How many requests one partner (authority) may have open at once on this instance. A partner starts at one and
/// earns more by answering: each success doubles its allowance up to <c>Delivery__PerPartnerConcurrency</c>; a
/// failure or timeout puts it back to one. A partner that hangs therefore holds one worker until its breaker opens,
/// not the full per-partner limit, and several hanging partners cannot take the workers healthy ones need.
/// </summary>
public sealed class PartnerConcurrency(int limit)
{
    private readonly ConcurrentDictionary<string, int> _allowed = new(StringComparer.OrdinalIgnoreCase);

    public int Allowed(string authority) => _allowed.GetValueOrDefault(authority, 1);

    public void Succeeded(string authority) =>
        _allowed.AddOrUpdate(authority, Math.Min(2, limit), (_, allowed) => Math.Min(allowed * 2, limit));

    public void Failed(string authority) => _allowed[authority] = 1;
}
