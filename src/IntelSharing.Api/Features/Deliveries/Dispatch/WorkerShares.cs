
namespace IntelSharing.Api.Features.Deliveries.Dispatch;

/// <summary>
/// Who may hold this instance's delivery workers, so that no partner — however many endpoints it registers, however
/// they misbehave — delays the others. Three limits hold at once:
/// <list type="bullet">
/// <item>per authority (scheme://host:port): its allowance from <see cref="PartnerConcurrency"/> (one until it answers);</item>
/// <item>per receiving agency, all its endpoints together: <c>Delivery__PerAgencyConcurrency</c>;</item>
/// <item>in total, for endpoints whose latest attempt did not succeed (new, failing, hanging — "unproven"): half of
///   the workers, and half of each agency's share. Proven endpoints always find the other half free, so sixty hanging
///   authorities with one slot each cannot take every worker, nor every slot of their own agency.</item>
/// </list>
/// The dispatcher asks <see cref="Current"/> before it claims (the claim skips whoever is at a limit, so their
/// deliveries never crowd a batch) and <see cref="TryTake"/> for each claimed delivery (one batch may still hold more
/// of one partner than it may have open: those are put back).
/// </summary>
public sealed class WorkerShares(int workers, int agencyShare, PartnerConcurrency concurrency)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, int> _byAuthority = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<Guid, int> _byAgency = [];
    private readonly Dictionary<Guid, int> _unprovenByAgency = [];
    private readonly int _unprovenTotal = Math.Max(1, workers / 2);
    private readonly int _unprovenPerAgency = Math.Max(1, agencyShare / 2);
    private int _unproven;

    /// <summary>Each authority's allowance and standing, updated by the outcome of every attempt.</summary>
    public PartnerConcurrency Partners => concurrency;

    /// <summary>A worker held for one delivery; give it back with <see cref="Release"/>.</summary>
    public sealed record Slot(string Authority, Guid AgencyId, bool Unproven);

    /// <summary>What the next claim must skip.</summary>
    /// <param name="Authorities">Authorities at their allowance (or with an open breaker).</param>
    /// <param name="Agencies">Agencies at their share.</param>
    /// <param name="ProvenOnly">The unproven pool is full: only proven authorities may be claimed.</param>
    /// <param name="ProvenOnlyAgencies">Agencies whose unproven half is full: only their proven authorities may be claimed.</param>
    /// <param name="Proven">The proven authorities.</param>
    public sealed record Exclusions(
        IReadOnlyList<string> Authorities,
        IReadOnlyList<Guid> Agencies,
        bool ProvenOnly,
        IReadOnlyList<Guid> ProvenOnlyAgencies,
        IReadOnlyList<string> Proven)
    {
        /// <summary>Whether a claim with these exclusions leaves someone's due deliveries unclaimed until a worker frees.</summary>
        public bool HoldBackAny => Authorities.Count > 0 || Agencies.Count > 0 || ProvenOnly || ProvenOnlyAgencies.Count > 0;
    }

    public Exclusions Current(IEnumerable<string> openBreakers)
    {
        lock (_gate)
        {
            return new Exclusions(
                openBreakers.Concat(_byAuthority.Where(p => p.Value >= concurrency.Allowed(p.Key)).Select(p => p.Key))
                    .Distinct(StringComparer.OrdinalIgnoreCase).ToList(),
                _byAgency.Where(p => p.Value >= agencyShare).Select(p => p.Key).ToList(),
                _unproven >= _unprovenTotal,
                _unprovenByAgency.Where(p => p.Value >= _unprovenPerAgency).Select(p => p.Key).ToList(),
                concurrency.ProvenAuthorities());
        }
    }

    /// <summary>Takes a worker for a delivery to <paramref name="authority"/> of <paramref name="agencyId"/>, or null if a limit is reached.</summary>
    public Slot? TryTake(string authority, Guid agencyId)
    {
        var unproven = !concurrency.IsProven(authority);
        lock (_gate)
        {
            if (_byAuthority.GetValueOrDefault(authority) >= concurrency.Allowed(authority)
                || _byAgency.GetValueOrDefault(agencyId) >= agencyShare
                || (unproven && (_unproven >= _unprovenTotal || _unprovenByAgency.GetValueOrDefault(agencyId) >= _unprovenPerAgency)))
            {
                return null;
            }

            Add(_byAuthority, authority, 1);
            Add(_byAgency, agencyId, 1);
            if (unproven)
            {
                _unproven++;
                Add(_unprovenByAgency, agencyId, 1);
            }

            return new Slot(authority, agencyId, unproven);
        }
    }

    public void Release(Slot slot)
    {
        lock (_gate)
        {
            Add(_byAuthority, slot.Authority, -1);
            Add(_byAgency, slot.AgencyId, -1);
            if (slot.Unproven)
            {
                _unproven--;
                Add(_unprovenByAgency, slot.AgencyId, -1);
            }
        }
    }

    // Counters that reach zero are removed, so the maps hold only partners with work open.
    private static void Add<TKey>(Dictionary<TKey, int> counts, TKey key, int delta)
        where TKey : notnull
    {
        var count = counts.GetValueOrDefault(key) + delta;
        if (count <= 0)
        {
            counts.Remove(key);
        }
        else
        {
            counts[key] = count;
        }
    }
}
