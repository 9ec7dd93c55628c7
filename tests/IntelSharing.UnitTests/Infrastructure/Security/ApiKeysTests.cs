using IntelSharing.Api.Infrastructure.Security;

namespace IntelSharing.UnitTests.Infrastructure.Security;

public sealed class ApiKeysTests
{
    [Fact]
    public void A_generated_key_carries_its_public_prefix_and_matches_its_hash()
    {
        var issued = ApiKeys.Generate();

        Assert.StartsWith("isk_" + issued.Prefix + "_", issued.Key, StringComparison.Ordinal);
        Assert.Equal(ApiKeys.PrefixLength, issued.Prefix.Length);
        Assert.Equal(issued.Prefix, ApiKeys.PrefixOf(issued.Key));
        Assert.True(ApiKeys.Matches(issued.Key, issued.Hash));
        Assert.Equal(32, issued.Hash.Length);
    }

    [Fact]
    public void The_hash_is_not_the_key_and_another_key_does_not_match_it()
    {
        var issued = ApiKeys.Generate();
        var other = ApiKeys.Generate();

        Assert.NotEqual(issued.Key, other.Key);
        Assert.NotEqual(issued.Prefix, other.Prefix);
        Assert.False(ApiKeys.Matches(other.Key, issued.Hash));
        Assert.False(ApiKeys.Matches(issued.Key[..^1] + (issued.Key[^1] == 'A' ? 'B' : 'A'), issued.Hash));
    }

    [Fact]
    public void Keys_are_url_safe_text_with_no_padding()
    {
        var key = ApiKeys.Generate().Key;

        Assert.Equal(Uri.EscapeDataString(key), key);
        Assert.DoesNotContain('=', key);
    }

    [Theory]
    [InlineData("")]
    [InlineData("isk_")]
    [InlineData("not-a-key")]
    [InlineData("isk_abcdefghij_")]
    [InlineData("isk_abcdefghij_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")] // one character short
    [InlineData("isk_abcdefghij_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")] // one character long
    [InlineData("isx_abcdefghij_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")] // wrong marker
    [InlineData("isk_abcdefghijXAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")] // no separator after the prefix
    [InlineData("Bearer isk_abcdefghij_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    public void Malformed_keys_have_no_prefix(string key) => Assert.Null(ApiKeys.PrefixOf(key));
}
