using Dapper;
using IntelSharing.Api.Infrastructure.Audit;
using IntelSharing.Api.Infrastructure.Persistence;
using IntelSharing.Api.Infrastructure.Problems;
using IntelSharing.Api.Infrastructure.Security;
using Mediator;

namespace IntelSharing.Api.Features.Audit;

/// <summary>
/// GET /api/v1/audit/verify — walks the sealed chain from seq 1 to the recorded head, recomputing every hash.
/// An edited record breaks its own hash; a deleted one leaves a gap; deleting the newest ones leaves the chain
/// short of its head. The first break is reported with its seq and why.
/// </summary>
public static class VerifyAuditChain
{
    private const int PageSize = 2000;

    public sealed record Query : IQuery<Result<AuditVerification>>;

    private sealed class Head
    {
        public long Seq { get; set; }

        public byte[] Hash { get; set; } = null!;
    }

    public sealed class Handler(Database database, AuditTrail audit) : IQueryHandler<Query, Result<AuditVerification>>
    {
        public async ValueTask<Result<AuditVerification>> Handle(Query query, CancellationToken cancellationToken)
        {
            await using var connection = await database.OpenAsync(cancellationToken);
            // The head first: records the sealer links while we walk lie beyond it and are left for the next verification.
            var head = await connection.QuerySingleOrDefaultAsync<Head>(new CommandDefinition(
                "SELECT seq AS Seq, hash AS Hash FROM audit_chain_head WHERE id = 1", cancellationToken: cancellationToken));
            var unsealed = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
                "SELECT COUNT(*) FROM audit_records WHERE seq IS NULL", cancellationToken: cancellationToken));
            var limit = head?.Seq ?? long.MaxValue;

            var verified = 0L;
            var previous = AuditChain.Genesis.ToArray();
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

                    previous = record.Hash;
                    verified = expected;
                }

                if (page.Count < PageSize)
                {
                    break;
                }
            }

            if (head is null)
            {
                return verified == 0
                    ? Done(new AuditVerification(true, 0, null, null, unsealed, null, null))
                    : Broken(verified, "The chain head is missing, so deleted newest records could not be detected.");
            }

            if (verified < head.Seq)
            {
                return Broken(verified + 1, $"Records from seq {verified + 1} to seq {head.Seq} (the chain head) are missing.");
            }

            if (!previous.AsSpan().SequenceEqual(head.Hash))
            {
                return Broken(head.Seq, $"The chain head's hash does not match record seq {head.Seq}.");
            }

            return Done(new AuditVerification(true, verified, head.Seq, Convert.ToHexStringLower(head.Hash), unsealed, null, null));

            AuditVerification Broken(long seq, string reason) =>
                Done(new AuditVerification(false, verified, head?.Seq, head is null ? null : Convert.ToHexStringLower(head.Hash), unsealed, seq, reason));
        }

        private AuditVerification Done(AuditVerification result)
        {
            audit.Annotate(detail: new { result.Ok, result.Verified, result.BrokenSeq });
            return result;
        }
    }

    public static RouteHandlerBuilder MapVerifyAuditChain(this RouteGroupBuilder group) => group
        .MapGet("/verify", async (IMediator mediator, CancellationToken cancellationToken) =>
        {
            var result = await mediator.Send(new Query(), cancellationToken);
            return result.Match(TypedResults.Ok);
        })
        .RequireAuthorization(Scopes.AuditRead)
        .Audited(AuditActions.AuditVerify, AuditResources.AuditTrail)
        .WithName("VerifyAuditChain")
        .WithSummary("Verify the audit hash chain")
        .WithDescription("Recomputes every sealed record's hash from seq 1 to the chain head. Answers ok and the count, or the first broken seq and why. " +
            "Records written in the last seconds may not be sealed yet; they are counted as unsealed.")
        .Produces<AuditVerification>()
        .ProducesProblem(StatusCodes.Status401Unauthorized)
        .ProducesProblem(StatusCodes.Status403Forbidden);
}
