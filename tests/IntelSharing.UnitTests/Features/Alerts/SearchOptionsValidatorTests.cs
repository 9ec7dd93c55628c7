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

    [Fact]
    public void Both_mistakes_are_named_at_once() =>
        Assert.Equal(2, Errors(new SearchOptions { TimeoutMilliseconds = 10, SqliteWalkFromMatches = 0 }).Count());
}
