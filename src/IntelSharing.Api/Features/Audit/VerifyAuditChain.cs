using System.Globalization;
using System.Text.RegularExpressions;
using Dapper;
using FluentValidation;
using IntelSharing.Api.Infrastructure.Audit;
using IntelSharing.Api.Infrastructure.Persistence;
using IntelSharing.Api.Infrastructure.Problems;
using IntelSharing.Api.Infrastructure.Security;
using Mediator;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace IntelSharing.Api.Features.Audit;

/// <summary>
/// GET /api/v1/audit/verify — walks the sealed chain from seq 1 to the recorded head, recomputing every hash.
/// An edited record breaks its own hash; a deleted one leaves a gap; deleting the newest ones leaves the chain
/// short of its head. Deleting the newest ones and rewriting the head to match is invisible from the database
/// alone: a client that kept an earlier signed head passes it as the anchor and learns whether it is still a
/// prefix. Records the sealer refused (backdated inserts) and recorded times that run backwards are reported too.
/// </summary>
public static partial class VerifyAuditChain
{
    private const int PageSize = 2000;

    /// <summary>Query parameters arrive as text and are parsed by the validator, so every mistake is named.</summary>
    public sealed record Query(string? AnchorSeq, string? AnchorHash, string? AnchorSignature) : IQuery<Result<AuditVerification>>
    {
        public long? AnchorSeqValue => AnchorSeq is null ? null : long.Parse(AnchorSeq, NumberStyles.None, CultureInfo.InvariantCulture);
    }

    public sealed partial class Validator : AbstractValidator<Query>
    {
        public Validator()
        {
            RuleFor(q => q.AnchorSeq)
                .Must(s => long.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= 1)
                .When(q => q.AnchorSeq is not null).WithMessage("anchorSeq must be a whole number from 1 (the seq of a head an earlier verification returned).");
            RuleFor(q => q.AnchorSeq).NotNull().When(q => q.AnchorHash is not null || q.AnchorSignature is not null)
                .WithMessage("anchorSeq is required with anchorHash and anchorSignature.");
            RuleFor(q => q.AnchorHash).Must(h => Hex64().IsMatch(h!)).When(q => q.AnchorHash is not null)
                .WithMessage("anchorHash must be the head's hash as verify returned it: 64 hex digits.");
            RuleFor(q => q.AnchorHash).NotNull().When(q => q.AnchorSeq is not null)
                .WithMessage("anchorHash is required with anchorSeq.");
            RuleFor(q => q.AnchorSignature).Must(h => Hex64().IsMatch(h!)).When(q => q.AnchorSignature is not null)
                .WithMessage("anchorSignature must be the head's signature as verify returned it: 64 hex digits.");
        }

        [GeneratedRegex("^[0-9a-fA-F]{64}$")]
        private static partial Regex Hex64();
    }

    private sealed class Head
    {
        public long Seq { get; set; }

        public byte[] Hash { get; set; } = null!;
    }

    private sealed class RefusedRow
    {
        public long Count { get; set; }

        public Guid? First { get; set; }
    }

    public sealed class Handler(Database database, AuditTrail audit, AuditHeadSigner signer, IOptions<AuditOptions> options) : IQueryHandler<Query, Result<AuditVerification>>
    {
        public async ValueTask<Result<AuditVerification>> Handle(Query query, CancellationToken cancellationToken)
        {
            await using var connection = await database.OpenAsync(cancellationToken);
            // The head first: records the sealer links while we walk lie beyond it and are left for the next verification.
            var head = await connection.QuerySingleOrDefaultAsync<Head>(new CommandDefinition(
                "SELECT seq AS Seq, hash AS Hash FROM audit_chain_head WHERE id = 1", cancellationToken: cancellationToken));
            var unsealed = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
                "SELECT COUNT(*) FROM audit_records WHERE seq IS NULL AND seal_refused IS NULL", cancellationToken: cancellationToken));
            var refused = new RefusedRow
            {
                Count = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
                    "SELECT COUNT(*) FROM audit_records WHERE seq IS NULL AND seal_refused IS NOT NULL", cancellationToken: cancellationToken)),
            };
            if (refused.Count > 0)
            {
                refused.First = await connection.QueryFirstAsync<Guid>(new CommandDefinition(
                    "SELECT id FROM audit_records WHERE seq IS NULL AND seal_refused IS NOT NULL ORDER BY recorded_at, id LIMIT 1", cancellationToken: cancellationToken));
            }

            var limit = head?.Seq ?? long.MaxValue;
            var maxLag = TimeSpan.FromSeconds(options.Value.MaxRecordLagSeconds);
            var anchorSeq = query.AnchorSeqValue;
            var anchorHash = query.AnchorHash?.ToLowerInvariant();

            var verified = 0L;
            var previous = AuditChain.Genesis.ToArray();
            DateTimeOffset? newest = null;
            byte[]? hashAtAnchor = null;
            while (true)
            {
                var page = (await connection.QueryAsync<AuditRecord>(new CommandDefinition(
                    $"SELECT {AuditRecord.Columns} FROM audit_records WHERE seq > @after AND seq <= @limit ORDER BY seq LIMIT {PageSize}",
                    new { after = verified, limit }, cancellationToken: cancellationToken))).AsList();
                foreach (var record in page)
                {
                    var expected = verified + 1;
                    if (record.Seq != expected)
                    {
                        return Broken(expected, $"Record seq {expected} is missing: the chain goes from seq {verified} to seq {record.Seq}.");
                    }

                    var hash = AuditChain.Link(previous, record, expected);
                    if (record.Hash is null || !hash.AsSpan().SequenceEqual(record.Hash))
                    {
                        return Broken(expected, $"Record seq {expected} (id {record.Id}) does not match its hash: its content, its hash or the record before it was altered.");
                    }

                    if (newest is { } floor && record.RecordedAt < floor - maxLag)
                    {
                        return Broken(expected, $"Record seq {expected} (id {record.Id}) is dated {(floor - record.RecordedAt).TotalSeconds:0.###} s before a record earlier in the chain: " +
                            "no request's record is that late, so it was inserted directly with a backdated time.");
                    }

                    newest = newest is { } before && before > record.RecordedAt ? before : record.RecordedAt;
                    previous = record.Hash;
                    verified = expected;
                    if (verified == anchorSeq)
                    {
                        hashAtAnchor = record.Hash;
                    }
                }

                if (page.Count < PageSize)
                {
                    break;
                }
            }

            if (head is null)
            {
                if (verified > 0)
                {
                    return Broken(verified, "The chain head is missing, so deleted newest records could not be detected.");
                }
            }
            else if (verified < head.Seq)
            {
                return Broken(verified + 1, $"Records from seq {verified + 1} to seq {head.Seq} (the chain head) are missing.");
            }
            else if (!previous.AsSpan().SequenceEqual(head.Hash))
            {
                return Broken(head.Seq, $"The chain head's hash does not match record seq {head.Seq}.");
            }

            var anchor = anchorSeq is { } seq
                ? new AnchorCheck(
                    seq,
                    anchorHash!,
                    hashAtAnchor is not null && Convert.ToHexStringLower(hashAtAnchor) == anchorHash,
                    query.AnchorSignature is { } signature ? signer.IsGenuine(seq, seq, anchorHash!, signature.ToLowerInvariant()) : null)
                : null;
            if (anchor is { IsPrefix: false })
            {
                return anchor.Seq > verified
                    ? Broken(verified + 1, $"The chain ends at seq {verified}, but an earlier verification saw it reach seq {anchor.Seq}: " +
                        "the newest records were removed and the chain head rewritten.", anchor)
                    : Broken(anchor.Seq, $"Record seq {anchor.Seq} does not have the hash an earlier verification reported for it: the chain up to it was rewritten.", anchor);
            }

            if (refused.Count > 0)
            {
                return Done(new AuditVerification(false, verified, head?.Seq, HeadHash(), unsealed, null,
                    $"{refused.Count} record(s) could not be sealed, the first id {refused.First}: dated too far before the chain's newest record, " +
                    "so inserted directly with a backdated time. Their seal_refused field says why.")
                { Refused = refused.Count, Anchor = anchor });
            }

            var signed = head is null
                ? null
                : new SignedChainHead(verified, head.Seq, HeadHash()!, AuditHeadSigner.Algorithm, signer.KeyId, signer.Sign(verified, head.Seq, HeadHash()!));
            return Done(new AuditVerification(true, verified, head?.Seq, HeadHash(), unsealed, null, null) { Head = signed, Anchor = anchor });

            string? HeadHash() => head is null ? null : Convert.ToHexStringLower(head.Hash);

            AuditVerification Broken(long brokenSeq, string reason, AnchorCheck? checkedAnchor = null) =>
                Done(new AuditVerification(false, verified, head?.Seq, HeadHash(), unsealed, brokenSeq, reason) { Refused = refused.Count, Anchor = checkedAnchor });
        }

        private AuditVerification Done(AuditVerification result)
        {
            audit.Annotate(detail: new { result.Ok, result.Verified, result.BrokenSeq, result.Refused, anchorSeq = result.Anchor?.Seq, anchorIsPrefix = result.Anchor?.IsPrefix });
            return result;
        }
    }

    public static RouteHandlerBuilder MapVerifyAuditChain(this RouteGroupBuilder group) => group
        .MapGet("/verify", async (
            [FromQuery] string? anchorSeq,
            [FromQuery] string? anchorHash,
            [FromQuery] string? anchorSignature,
            IMediator mediator,
            CancellationToken cancellationToken) =>
        {
            var result = await mediator.Send(new Query(anchorSeq, anchorHash, anchorSignature), cancellationToken);
            return result.Match(TypedResults.Ok).OrProblem();
        })
        .RequireAuthorization(Scopes.AuditRead)
        .Audited(AuditActions.AuditVerify, AuditResources.AuditTrail)
        .WithName("VerifyAuditChain")
        .WithSummary("Verify the audit hash chain")
        .WithDescription("Recomputes every sealed record's hash from seq 1 to the chain head. Answers ok and the count, or the first broken seq and why. " +
            "When ok, head is the chain head signed by this deployment: keep it, and pass it back later as anchorSeq, anchorHash and anchorSignature " +
            "(its seq, hash and signature) to learn whether it is still a prefix of the chain; records removed from the end since are reported. " +
            "Records written in the last seconds may not be sealed yet; they are counted as unsealed. Records the sealer refused (dated backwards) are counted as refused and make ok false.");
}
