using IntelSharing.Api.Infrastructure.Http;

namespace IntelSharing.UnitTests.Infrastructure.Http;

public sealed class ETagsTests
{
    [Fact]
    public void A_version_is_a_strong_quoted_etag() => Assert.Equal("\"3\"", ETags.ForVersion(3));

    [Theory]
    [InlineData("\"3\"", 3)]
    [InlineData("W/\"3\"", 3)]
    [InlineData("  \"12\"  ", 12)]
    [InlineData("\"1\"", 1)]
    public void The_etags_we_issue_parse_back_to_their_version(string header, int version) =>
        Assert.Equal(version, ETags.ParseVersion(header));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("*")]
    [InlineData("3")]
    [InlineData("\"\"")]
    [InlineData("\"-1\"")]
    [InlineData("\"+1\"")]
    [InlineData("\"abc\"")]
    [InlineData("\"3")]
    [InlineData("\"99999999999\"")]
    [InlineData("\"1\", \"2\"")]
    public void Anything_else_names_no_version(string? header) => Assert.Null(ETags.ParseVersion(header));
}
