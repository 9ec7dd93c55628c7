using IntelSharing.Api.Features.Alerts;

namespace IntelSharing.UnitTests.Features.Alerts;

public sealed class SearchOptionsValidatorTests
{
    private static IEnumerable<string> Errors(SearchOptions options) =>
        new SearchOptionsValidator().Validate(null, options).Failures ?? [];

    [Fact]
    public void The_defaults_start()
    {
        Assert.Empty(Errors(new SearchOptions()));
        Assert.Equal(1_000, new SearchOptions().SqliteWalkFromMatches);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1_000_001)]
    public void A_walk_threshold_outside_one_to_a_million_is_refused_at_start(int matches) =>
        Assert.Contains("Search__SqliteWalkFromMatches must be from 1 to 1000000 (alerts), not " + matches + ".", Errors(new SearchOptions { SqliteWalkFromMatches = matches }));

    [Theory]
    [InlineData(0)]
    [InlineData(1_000_001)]
    public void A_walk_bound_outside_one_to_a_million_is_refused_at_start(int alerts) =>
        Assert.Contains("Search__SqliteMaxAlertsWalked must be from 1 to 1000000 (alerts), not " + alerts + ".", Errors(new SearchOptions { SqliteMaxAlertsWalked = alerts }));

    [Theory]
    [InlineData(0)]
    [InlineData(5_001)]
    public void A_number_of_relevance_candidates_outside_one_to_five_thousand_is_refused_at_start(int candidates) =>
        Assert.Contains("Search__RelevanceCandidates must be from 1 to 5000 (alerts), not " + candidates + ".", Errors(new SearchOptions { RelevanceCandidates = candidates }));

    [Fact]
    public void Every_mistake_is_named_at_once() =>
        Assert.Equal(4, Errors(new SearchOptions { TimeoutMilliseconds = 10, SqliteWalkFromMatches = 0, SqliteMaxAlertsWalked = 0, RelevanceCandidates = 0 }).Count());
}
