using System.Text.Json;
using System.Text.Json.Serialization;
using IntelSharing.Api.Infrastructure.Audit;
using IntelSharing.Api.Infrastructure.OpenApi;

namespace IntelSharing.Api.Features.Audit;

/// <summary>One audit record. <c>seq</c> and <c>hash</c> appear once the sealer has linked it into the chain (within seconds).</summary>
public sealed record AuditRecordView
{
    public required Guid Id { get; init; }

    /// <summary>Position in the hash chain; absent while the record is not yet sealed.</summary>
    public long? Seq { get; init; }

    public required DateTimeOffset RecordedAt { get; init; }

    /// <summary>The agency behind the request (for a refused key, the key's agency when it is known).</summary>
    public Guid? AgencyId { get; init; }

    /// <summary>The public prefix of the API key used.</summary>
    public string? KeyPrefix { get; init; }

    /// <summary>e.g. alert.read, alert.list, alert.submit, auth.failed, agency.deactivate, group.member.add.</summary>
    [ClosedSet(typeof(AuditActions))]
    public required string Action { get; init; }

    /// <summary>What kind of resource the action concerned.</summary>
    [ClosedSet(typeof(AuditResources))]
    public string? ResourceType { get; init; }

    public Guid? ResourceId { get; init; }

    /// <summary>The HTTP status the request was answered with.</summary>
    public required int Outcome { get; init; }

    /// <summary>The X-Purpose header the caller sent.</summary>
    public string? Purpose { get; init; }

    public string? ClientIp { get; init; }

    /// <summary>What the columns cannot say, e.g. the alert ids a listing returned or the fields a refused request got wrong.</summary>
    public JsonElement? Detail { get; init; }

    /// <summary>SHA-256 over the previous record's hash and this record's canonical content, lower-case hex.</summary>
    public string? Hash { get; init; }

    /// <summary>Why the sealer refused to link this record into the chain (it was dated too far back); absent for every normal record.</summary>
    public string? SealRefused { get; init; }
}

/// <summary>A page of audit records, oldest first; pass <c>nextCursor</c> back as <c>cursor</c> for the next page (null: nothing more so far).</summary>
public sealed record AuditPage(IReadOnlyList<AuditRecordView> Items, [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? NextCursor);

/// <summary>
/// The result of walking the sealed chain. <c>ok</c> with the number of records verified, or the first
/// <c>brokenSeq</c> and the reason. Records not yet sealed are counted but not covered.
/// </summary>
public sealed record AuditVerification(bool Ok, long Verified, long? HeadSeq, string? HeadHash, long Unsealed, long? BrokenSeq, string? Reason)
{
    /// <summary>Records the sealer refused to link (dated too far before the chain's newest record: inserted directly and backdated). Any makes <c>ok</c> false.</summary>
    public long Refused { get; init; }

    /// <summary>The verified head, signed by this deployment; present only when <c>ok</c>. Keep it: pass it back later as the anchor.</summary>
    public SignedChainHead? Head { get; init; }

    /// <summary>The answer about the anchor the request passed (anchorSeq, anchorHash, anchorSignature), if any.</summary>
    public AnchorCheck? Anchor { get; init; }
}

/// <summary>
/// The chain head at this verification: <c>records</c> sealed records verified, the last <c>seq</c> and its
/// <c>hash</c>. <c>signature</c> is lower-case hex of <c>algorithm</c> (HMAC-SHA256) under a key the database does not
/// hold, over the UTF-8 text <c>intelsharing-audit-head-v1\nrecords={records}\nseq={seq}\nhash={hash}</c>;
/// <c>keyId</c> names that key. A head cut from the chain by someone with only database access cannot carry a valid signature.
/// </summary>
public sealed record SignedChainHead(long Records, long Seq, string Hash, string Algorithm, string KeyId, string Signature);

/// <summary>
/// Whether the earlier head passed as the anchor is still a prefix of the chain (the record at its seq exists with its
/// hash). False means records were removed or rewritten since that head was issued. <c>signatureValid</c> says whether the
/// anchorSignature passed is this deployment's signature of that head (null when none was passed).
/// </summary>
public sealed record AnchorCheck(long Seq, string Hash, bool IsPrefix, bool? SignatureValid);
