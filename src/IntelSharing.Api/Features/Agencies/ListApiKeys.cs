using System.Text;
using Dapper;
using FluentValidation;
using IntelSharing.Api.Infrastructure.Audit;
using IntelSharing.Api.Infrastructure.OpenApi;
using IntelSharing.Api.Infrastructure.Persistence;
using IntelSharing.Api.Infrastructure.Problems;
using IntelSharing.Api.Infrastructure.Security;
using IntelSharing.Api.Infrastructure.Validation;
using Mediator;
using Microsoft.AspNetCore.Mvc;

namespace IntelSharing.Api.Features.Agencies;

/// <summary>GET /api/v1/agencies/{id}/keys — an operator lists an agency's keys (prefixes only, never secrets), oldest first, in keyset pages.</summary>
public static class ListApiKeys
{
    public sealed record Query(Guid AgencyId, string? Cursor, string? Limit) : IQuery<Result<ApiKeyPage>>, IPagedQuery
    {
        public string CursorScope => $"keys|{AgencyId}";
    }

    public sealed class Validator : AbstractValidator<Query>
    {
        public Validator(KeysetCursor cursors) => Include(new PageRules<Query>(cursors));
    }

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

    public sealed class Handler(Database database, KeysetPaging paging) : IQueryHandler<Query, Result<ApiKeyPage>>
    {
        private static readonly KeysetOrder OldestFirst = new(new("created_at", KeysetField.At), new("id", KeysetField.Id));

        public async ValueTask<Result<ApiKeyPage>> Handle(Query query, CancellationToken cancellationToken)
        {
            await using var connection = await database.OpenAsync(cancellationToken);
            var exists = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
                "SELECT COUNT(*) FROM agencies WHERE id = @agencyId", new { agencyId = query.AgencyId }, cancellationToken: cancellationToken));
            if (exists == 0)
            {
                return Failure.NotFound("agency");
            }

            var sql = new StringBuilder(
                """
                SELECT id AS Id, prefix AS Prefix, name AS Name, scopes AS Scopes, created_at AS CreatedAt,
                       expires_at AS ExpiresAt, revoked_at AS RevokedAt, last_used_at AS LastUsedAt
                FROM api_keys WHERE agency_id = @agencyId
                """);
            var parameters = new DynamicParameters(new { agencyId = query.AgencyId });
            paging.Append(sql, parameters, query, OldestFirst);
            var rows = (await connection.QueryAsync<Row>(new CommandDefinition(sql.ToString(), parameters, cancellationToken: cancellationToken))).AsList();
            var (page, next) = paging.Cut(rows, query, r => new KeysetCursor.Position(r.CreatedAt, r.Id));
            return new ApiKeyPage(
                page.Select(r => new ApiKeyView(r.Id, r.Prefix, r.Name, r.Scopes.Split(' ', StringSplitOptions.RemoveEmptyEntries), r.CreatedAt, r.ExpiresAt, r.RevokedAt, r.LastUsedAt)).ToList(),
                next);
        }
    }

    public static RouteHandlerBuilder MapListApiKeys(this RouteGroupBuilder group) => group
        .MapGet("/{agencyId:guid}/keys", async (Guid agencyId, [FromQuery] string? cursor, [FromQuery] string? limit, IMediator mediator, CancellationToken cancellationToken) =>
            (await mediator.Send(new Query(agencyId, cursor, limit), cancellationToken)).Match(TypedResults.Ok).OrProblem<Problem404>())
        .RequireAuthorization(Scopes.AgenciesAdmin)
        .Audited(AuditActions.KeyList, AuditResources.Agency, "agencyId")
        .WithMetadata(QueryParameterDocs.Paging)
        .WithName("ListApiKeys")
        .WithMetadata(DocumentedExample.Response(StatusCodes.Status200OK, "keys", "One key in use, one revoked", ContractExamples.ApiKeyList))
        .WithSummary("List an agency's API keys")
        .WithDescription($"An agency's keys with their prefixes, scopes, expiry, last use and revocation; never the secret part, which is shown once at issue. Oldest first, in keyset pages: limit 1 to {KeysetPaging.MaxLimit} (default {KeysetPaging.DefaultLimit}); pass nextCursor back as cursor.");
}
