using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using IntelSharing.Api.Infrastructure.Persistence;

namespace IntelSharing.Api.Infrastructure.Audit;

/// <summary>One row of <c>audit_records</c>, as stored. <see cref="Seq"/> and <see cref="Hash"/> stay null until the sealer links it into the chain.</summary>
public sealed class AuditRecord
{
    public Guid Id { get; set; }

    public DateTimeOffset RecordedAt { get; set; }

    public Guid? AgencyId { get; set; }

    public string? KeyPrefix { get; set; }

    public string Action { get; set; } = null!;

    public string? ResourceType { get; set; }

    public Guid? ResourceId { get; set; }

    public int Outcome { get; set; }

    public string? Purpose { get; set; }

    public string? ClientIp { get; set; }

    /// <summary>A JSON object with what the other columns cannot say (e.g. the ids a listing disclosed).</summary>
    public string? Detail { get; set; }

    public long? Seq { get; set; }

    public byte[]? Hash { get; set; }

    /// <summary>Why the sealer refused to link this record into the chain (it stays unsealed); null for every record a request wrote.</summary>
    public string? SealRefused { get; set; }

    public const string Columns =
        "id AS Id, recorded_at AS RecordedAt, agency_id AS AgencyId, key_prefix AS KeyPrefix, action AS Action, " +
        "resource_type AS ResourceType, resource_id AS ResourceId, outcome AS Outcome, purpose AS Purpose, " +
        "client_ip AS ClientIp, detail AS Detail, seq AS Seq, hash AS Hash, seal_refused AS SealRefused";
}

/// <summary>
/// The hash chain over audit records (docs/sharing.md, "Verifying the chain"). The content of a record is
/// its fields in a fixed order, each written as a 4-byte big-endian length and its UTF-8 bytes (a null
/// field is the length 0xFFFFFFFF with no bytes), so no two different records share an encoding and
/// anyone can recompute it without this code. <c>hash(n) = SHA-256(hash(n-1) || content(n))</c>, with 32
/// zero bytes before the first record.
/// </summary>
public static class AuditChain
{
    public const string FormatVersion = "intelsharing-audit-v1";

    public static ReadOnlySpan<byte> Genesis => new byte[32];

    public static byte[] Content(AuditRecord record, long seq)
    {
        using var stream = new MemoryStream(256);
        Write(stream, FormatVersion);
        Write(stream, seq.ToString(CultureInfo.InvariantCulture));
        Write(stream, record.Id.ToString("D"));
        Write(stream, DapperTypeHandlers.ToSqliteText(record.RecordedAt));
        Write(stream, record.AgencyId?.ToString("D"));
        Write(stream, record.KeyPrefix);
        Write(stream, record.Action);
        Write(stream, record.ResourceType);
        Write(stream, record.ResourceId?.ToString("D"));
        Write(stream, record.Outcome.ToString(CultureInfo.InvariantCulture));
        Write(stream, record.Purpose);
        Write(stream, record.ClientIp);
        Write(stream, record.Detail);
        return stream.ToArray();
    }

    public static byte[] Link(ReadOnlySpan<byte> previousHash, AuditRecord record, long seq)
    {
        var content = Content(record, seq);
        var buffer = new byte[previousHash.Length + content.Length];
        previousHash.CopyTo(buffer);
        content.CopyTo(buffer.AsSpan(previousHash.Length));
        return SHA256.HashData(buffer);
    }

    private static void Write(Stream stream, string? value)
    {
        Span<byte> length = stackalloc byte[4];
        if (value is null)
        {
            BinaryPrimitives.WriteUInt32BigEndian(length, uint.MaxValue);
            stream.Write(length);
            return;
        }

        var bytes = Encoding.UTF8.GetBytes(value);
        BinaryPrimitives.WriteUInt32BigEndian(length, (uint)bytes.Length);
        stream.Write(length);
        stream.Write(bytes);
    }
}
