using Dapper;
using FluentValidation;
using IntelSharing.Api.Infrastructure.Audit;
using IntelSharing.Api.Infrastructure.Persistence;
using IntelSharing.Api.Infrastructure.Problems;
using IntelSharing.Api.Infrastructure.Security;
using Mediator;

namespace IntelSharing.Api.Features.Agencies;

/// <summary>GET /api/v1/agencies/{id}/keys — an operator lists an agency's keys (prefixes only, never secrets).</summary>
public static class ListApiKeys
{
    public sealed record Query(Guid AgencyId) : IQuery<Result<IReadOnlyList<ApiKeyView>>>;

    private sealed record Row
    {
        public Guid Id { get; init; }

        public string Prefix { get; init; } = null!;

        public string Name { get; init; } = null!;

        public string Scopes { get; init; } = null!;

        public DateTimeOffset CreatedAt { get; init; }

        public DateTimeOffset? ExpiresAt { get; init; }

        public DateTimeOffset? RevokedAt { get; init; }

        public DateTimeOffset? LastUsedAt { get; init; }
    }

    public sealed class Handler(Database database) : IQueryHandler<Query, Result<IReadOnlyList<ApiKeyView>>>
    {
        public async ValueTask<Result<IReadOnlyList<ApiKeyView>>> Handle(Query query, CancellationToken cancellationToken)
        {
            await using var connection = await database.OpenAsync(cancellationToken);
            var exists = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
                "SELECT COUNT(*) FROM agencies WHERE id = @agencyId", new { agencyId = query.AgencyId }, cancellationToken: cancellationToken));
            if (exists == 0)
            {
                return Failure.NotFound("agency");
            }

            var rows = await connection.QueryAsync<Row>(new CommandDefinition(
                """
                SELECT id AS Id, prefix AS Prefix, name AS Name, scopes AS Scopes, created_at AS CreatedAt,
                       expires_at AS ExpiresAt, revoked_at AS RevokedAt, last_used_at AS LastUsedAt
                FROM api_keys WHERE agency_id = @agencyId ORDER BY created_at, id
                """,
                new { agencyId = query.AgencyId }, cancellationToken: cancellationToken));
            return rows.Select(r => new ApiKeyView(r.Id, r.Prefix, r.Name, r.Scopes.Split(' ', StringSplitOptions.RemoveEmptyEntries), r.CreatedAt, r.ExpiresAt, r.RevokedAt, r.LastUsedAt)).ToList();
        }
    }

    public static RouteHandlerBuilder MapListApiKeys(this RouteGroupBuilder group) => group
        .MapGet("/{agencyId:guid}/keys", async (Guid agencyId, IMediator mediator, CancellationToken cancellationToken) =>
        {
            var result = await mediator.Send(new Query(agencyId), cancellationToken);
            return result.Match(TypedResults.Ok);
        })
        .RequireAuthorization(Scopes.AgenciesAdmin)
        .Audited(AuditActions.KeyList, AuditResources.Agency, "agencyId")
        .WithName("ListApiKeys")
        .WithSummary("List an agency's API keys")
        .WithDescription("An agency's keys with their prefixes, scopes, expiry, last use and revocation; never the secret part, which is shown once at issue.")
        .Produces<IReadOnlyList<ApiKeyView>>()
        .ProducesProblem(StatusCodes.Status401Unauthorized)
        .ProducesProblem(StatusCodes.Status403Forbidden)
        .ProducesProblem(StatusCodes.Status404NotFound);
}
