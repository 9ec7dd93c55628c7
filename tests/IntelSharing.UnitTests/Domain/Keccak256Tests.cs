using System.Text;
using IntelSharing.Api.Domain;

namespace IntelSharing.UnitTests.Domain;

public sealed class Keccak256Tests
{
    [Theory]
    [InlineData("", "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470")]
    [InlineData("abc", "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45")]
    public void Hashes_match_the_published_keccak_256_vectors(string message, string expected) =>
        Assert.Equal(expected, Convert.ToHexStringLower(Keccak256.Hash(Encoding.ASCII.GetBytes(message))));

    [Fact]
    public void A_message_longer_than_one_block_is_absorbed_block_by_block()
    {
        // 360 bytes: two full 136-byte blocks and a partial one. Reference value from an independent
        // implementation whose permutation was checked against FIPS 202 SHA3-256.
        var message = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("Horgoš–Röszke ", 20)));

        Assert.Equal(360, message.Length);
        Assert.Equal("6d21be7ba71d74cce747e810ecbe232f635f0c8bbcf423e9ec2459b4f6a194ca", Convert.ToHexStringLower(Keccak256.Hash(message)));
    }
}
