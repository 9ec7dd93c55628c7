using IntelSharing.Api.Features.Deliveries.Dispatch;

namespace IntelSharing.UnitTests.Features.Deliveries;

/// <summary>32 workers and a per-agency share of 8, the production defaults.</summary>
public sealed class WorkerSharesTests
{
    private static readonly Guid Hostile = Guid.NewGuid();
    private static readonly Guid Europol = Guid.NewGuid();

    private readonly PartnerConcurrency _partners = new(8);
    private readonly WorkerShares _shares;

    public WorkerSharesTests() => _shares = new WorkerShares(32, 8, _partners);

    private static string Stalled(int i) => $"http://127.0.0.1:{20000 + i}";

    [Fact]
    public void Sixty_hanging_authorities_of_one_agency_hold_half_its_share_not_every_worker()
    {
        var taken = Enumerable.Range(0, 60).Count(i => _shares.TryTake(Stalled(i), Hostile) is not null);

        Assert.Equal(4, taken);
        var excluded = _shares.Current([]);
        Assert.Contains(Hostile, excluded.ProvenOnlyAgencies);
        Assert.False(excluded.ProvenOnly);
    }

    [Fact]
    public void An_agency_whose_unproven_half_is_full_still_reaches_its_endpoint_that_answers()
    {
        const string answering = "https://intake.mup.hr:443";
        _partners.Succeeded(answering);
        foreach (var i in Enumerable.Range(0, 60))
        {
            _shares.TryTake(Stalled(i), Hostile);
        }

        Assert.NotNull(_shares.TryTake(answering, Hostile));
        Assert.Contains(answering, _shares.Current([]).Proven);
    }

    [Fact]
    public void Unproven_endpoints_of_many_agencies_together_hold_at_most_half_the_workers()
    {
        var agencies = Enumerable.Range(0, 10).Select(_ => Guid.NewGuid()).ToList();
        var taken = agencies.SelectMany((agency, a) => Enumerable.Range(0, 8).Select(i => (agency, authority: Stalled((a * 100) + i))))
            .Count(p => _shares.TryTake(p.authority, p.agency) is not null);

        Assert.Equal(16, taken);
        Assert.True(_shares.Current([]).ProvenOnly);
        Assert.Null(_shares.TryTake("https://new-partner.example:443", Europol));
        const string answering = "https://intake.europol.europa.eu:443";
        _partners.Succeeded(answering);
        Assert.NotNull(_shares.TryTake(answering, Europol));
    }

    [Fact]
    public void An_agency_at_its_share_is_excluded_from_the_claim_until_a_worker_comes_back()
    {
        var authorities = Enumerable.Range(0, 3).Select(i => $"https://desk{i}.europol.europa.eu:443").ToList();
        foreach (var authority in authorities)
        {
            _partners.Succeeded(authority);
            _partners.Succeeded(authority);
        }

        var slots = authorities.SelectMany(a => Enumerable.Range(0, 4).Select(_ => _shares.TryTake(a, Europol))).ToList();

        Assert.Equal(8, slots.Count(s => s is not null));
        Assert.Contains(Europol, _shares.Current([]).Agencies);
        _shares.Release(slots.First(s => s is not null)!);
        Assert.DoesNotContain(Europol, _shares.Current([]).Agencies);
    }

    [Fact]
    public void An_authority_at_its_allowance_or_with_an_open_breaker_is_excluded()
    {
        Assert.NotNull(_shares.TryTake(Stalled(1), Hostile));

        var excluded = _shares.Current(["https://down.example:443"]);

        Assert.Equal(2, excluded.Authorities.Count);
        Assert.Contains(Stalled(1), excluded.Authorities);
        Assert.Contains("https://down.example:443", excluded.Authorities);
        Assert.Null(_shares.TryTake(Stalled(1), Hostile));
    }
}
