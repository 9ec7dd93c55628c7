using IntelSharing.Api.Infrastructure.Audit;
using IntelSharing.Api.Infrastructure.OpenApi;
using IntelSharing.Api.Infrastructure.Persistence;
using IntelSharing.Api.Infrastructure.Security;
using Mediator;
using Microsoft.AspNetCore.Mvc;

namespace IntelSharing.Api.Features.Agencies;

/// <summary>
/// GET /api/v1/agencies/me/keys — any agency lists its own keys (prefixes only), including any an operator issued
/// to it, so it can check that every key able to act as it is one it asked for.
/// </summary>
public static class ListOwnApiKeys
{
    public static RouteHandlerBuilder MapListOwnApiKeys(this RouteGroupBuilder group) => group
        .MapGet("/me/keys", async ([FromQuery] string? cursor, [FromQuery] string? limit, HttpContext context, IMediator mediator, CancellationToken cancellationToken) =>
            (await mediator.Send(new ListApiKeys.Query(Caller.From(context.User).AgencyId, cursor, limit), cancellationToken)).Match(TypedResults.Ok).OrProblem())
        .RequireAuthorization()
        .Audited(AuditActions.KeyList, AuditResources.Agency)
        .WithMetadata(QueryParameterDocs.Paging)
        .WithName("ListOwnApiKeys")
        .WithSummary("List your agency's API keys")
        .WithDescription("Every key of the calling agency, whoever issued it: prefix, name, scopes, expiry, revocation and last use; never secrets. Any key may call it. " +
            $"Oldest first, in keyset pages: limit 1 to {KeysetPaging.MaxLimit} (default {KeysetPaging.DefaultLimit}); pass nextCursor back as cursor.");
}
