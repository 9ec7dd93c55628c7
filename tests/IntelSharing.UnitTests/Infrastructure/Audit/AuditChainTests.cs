using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using IntelSharing.Api.Infrastructure.Audit;

namespace IntelSharing.UnitTests.Infrastructure.Audit;

public sealed class AuditChainTests
{
    private static AuditRecord Read(string? purpose = "Investigation KU-2026/118") => new()
    {
        Id = Guid.Parse("019ca86b-28a8-75fd-b903-41ef4abec0ac"),
        RecordedAt = new DateTimeOffset(2026, 3, 1, 8, 15, 30, 123, 456, TimeSpan.Zero),
        AgencyId = Guid.Parse("019ca86b-28a8-7112-9b63-30aace621d24"),
        KeyPrefix = "k7m2q9x4ab",
        Action = "alert.read",
        ResourceType = "alert",
        ResourceId = Guid.Parse("019ca86b-28a8-7e09-a0f6-e798e49f548b"),
        Outcome = 200,
        Purpose = purpose,
        ClientIp = "203.0.113.7",
        Detail = null,
    };

    /// <summary>The format docs/sharing.md gives auditors, written out independently of the production code.</summary>
    private static byte[] Documented(params string?[] fields)
    {
        using var stream = new MemoryStream();
        foreach (var field in fields)
        {
            var length = new byte[4];
            if (field is null)
            {
                BinaryPrimitives.WriteUInt32BigEndian(length, 0xFFFFFFFF);
                stream.Write(length);
                continue;
            }

            var bytes = Encoding.UTF8.GetBytes(field);
            BinaryPrimitives.WriteUInt32BigEndian(length, (uint)bytes.Length);
            stream.Write(length);
            stream.Write(bytes);
        }

        return stream.ToArray();
    }

    [Fact]
    public void The_content_is_the_documented_length_prefixed_fields_in_their_documented_order()
    {
        var expected = Documented(
            "intelsharing-audit-v1", "7", "019ca86b-28a8-75fd-b903-41ef4abec0ac", "2026-03-01T08:15:30.123456Z",
            "019ca86b-28a8-7112-9b63-30aace621d24", "k7m2q9x4ab", "alert.read", "alert", "019ca86b-28a8-7e09-a0f6-e798e49f548b",
            "200", "Investigation KU-2026/118", "203.0.113.7", null);

        Assert.Equal(expected, AuditChain.Content(Read(), 7));
    }

    [Fact]
    public void A_link_is_the_sha256_of_the_previous_hash_followed_by_the_content()
    {
        var previous = SHA256.HashData("previous"u8);

        var link = AuditChain.Link(previous, Read(), 7);

        Assert.Equal(SHA256.HashData([.. previous, .. AuditChain.Content(Read(), 7)]), link);
    }

    [Fact]
    public void An_absent_purpose_and_an_empty_one_hash_differently_and_so_do_different_seqs()
    {
        var genesis = AuditChain.Genesis.ToArray();

        Assert.NotEqual(AuditChain.Link(genesis, Read(purpose: null), 1), AuditChain.Link(genesis, Read(purpose: string.Empty), 1));
        Assert.NotEqual(AuditChain.Link(genesis, Read(), 1), AuditChain.Link(genesis, Read(), 2));
    }

    [Fact]
    public void Moving_text_between_adjacent_fields_changes_the_content()
    {
        var split = Read();
        split.KeyPrefix = "k7m2q9x4a";
        split.Action = "balert.read";

        Assert.NotEqual(AuditChain.Content(Read(), 1), AuditChain.Content(split, 1));
    }
}
