using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using IntelSharing.Api.Infrastructure.Audit;

namespace IntelSharing.UnitTests.Infrastructure.Audit;

/// <summary>Audit records are hash-chained and never deleted: whatever an event carries, its stored detail has a fixed bound.</summary>
public sealed class AuditDetailTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 28, 3, 33, 16, TimeSpan.Zero);

    private static AuditRecord Build(object detail) =>
        AuditWriter.Build(new AuditEvent("alert.submit", 400) { Detail = detail }, RequestOrigin.System, Now);

    [Fact]
    public void A_detail_over_the_bound_is_stored_cut_to_the_bound_marked_with_its_length_and_hash()
    {
        // 150,000 field names: what one request with 150,000 bad country codes used to put in its record (2.9 MB).
        var detail = new { problem = "urn:intelsharing:problem:validation", fields = Enumerable.Range(0, 150_000).Select(i => $"countries[{i}]").ToList() };
        var full = JsonSerializer.Serialize(detail, Api.Infrastructure.Json.JsonDefaults.Options);

        var stored = Build(detail).Detail!;

        Assert.True(Encoding.UTF8.GetByteCount(stored) <= AuditDetail.MaxBytes, $"{Encoding.UTF8.GetByteCount(stored)} bytes stored");
        var marker = JsonDocument.Parse(stored).RootElement;
        Assert.True(marker.GetProperty("truncated").GetBoolean());
        Assert.Equal(Encoding.UTF8.GetByteCount(full), marker.GetProperty("bytes").GetInt32());
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(full))), marker.GetProperty("sha256").GetString());
        var excerpt = marker.GetProperty("excerpt").GetString()!;
        Assert.StartsWith(excerpt, full, StringComparison.Ordinal);
        Assert.True(excerpt.Length > AuditDetail.MaxBytes / 2, "as much of the beginning as fits is kept");
    }

    [Fact]
    public void The_same_oversized_detail_is_always_cut_the_same_way()
    {
        var detail = new { path = string.Concat(Enumerable.Repeat("/Horgoš–Röszke😀\"", 20_000)) };

        var first = Build(detail).Detail!;
        var second = Build(detail).Detail!;

        Assert.Equal(first, second);
        Assert.True(Encoding.UTF8.GetByteCount(first) <= AuditDetail.MaxBytes);
        // Multi-byte characters, escaped quotes and surrogate pairs: the excerpt is still valid text and JSON.
        Assert.True(JsonDocument.Parse(first).RootElement.GetProperty("truncated").GetBoolean());
    }

    [Fact]
    public void A_detail_within_the_bound_is_stored_whole()
    {
        // The largest detail a valid request makes: a sharing-group update swapping 500 members for 500 others.
        var detail = new
        {
            name = new string('Ž', 200),
            added = Enumerable.Range(0, 500).Select(_ => Guid.NewGuid()).ToList(),
            removed = Enumerable.Range(0, 500).Select(_ => Guid.NewGuid()).ToList(),
        };

        var stored = Build(detail).Detail!;

        Assert.Equal(JsonSerializer.Serialize(detail, Api.Infrastructure.Json.JsonDefaults.Options), stored);
        Assert.False(JsonDocument.Parse(stored).RootElement.TryGetProperty("truncated", out _));
    }
}
