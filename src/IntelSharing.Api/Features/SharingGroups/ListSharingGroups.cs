using FluentValidation;
using IntelSharing.Api.Infrastructure.Audit;
using IntelSharing.Api.Infrastructure.OpenApi;
using IntelSharing.Api.Infrastructure.Persistence;
using IntelSharing.Api.Infrastructure.Problems;
using IntelSharing.Api.Infrastructure.Security;
using IntelSharing.Api.Infrastructure.Validation;
using Mediator;
using Microsoft.AspNetCore.Mvc;

namespace IntelSharing.Api.Features.SharingGroups;

/// <summary>
/// GET /api/v1/sharing-groups and GET /api/v1/sharing-groups/{id} — every authenticated agency may read the public
/// groups and their members (naming a group as an audience means knowing who is in it), and the private groups it is a
/// member of. Operators (agencies:admin) see every group. A private group is to anyone else exactly a group that does
/// not exist: absent from the list, 404 on read. The list is oldest group first, in keyset pages.
/// </summary>
public static class ListSharingGroups
{
    public sealed record Query(Caller Caller, string? Cursor, string? Limit) : IQuery<SharingGroupPage>, IPagedQuery
    {
        /// <summary>Bound to the viewer: operators and agencies see different lists.</summary>
        public string CursorScope => $"sharing-groups|{Viewer}";

        public Guid? Viewer => ViewerOf(Caller);
    }

    public sealed record GetOne(Caller Caller, Guid Id) : IQuery<Result<SharingGroupView>>;

    public sealed class Validator : AbstractValidator<Query>
    {
        public Validator(KeysetCursor cursors) => Include(new PageRules<Query>(cursors));
    }

    public sealed class Handler(Database database, KeysetPaging paging) : IQueryHandler<Query, SharingGroupPage>, IQueryHandler<GetOne, Result<SharingGroupView>>
    {
        public async ValueTask<SharingGroupPage> Handle(Query query, CancellationToken cancellationToken)
        {
            await using var connection = await database.OpenAsync(cancellationToken);
            var (items, next) = await SharingGroupStore.LoadPageAsync(connection, query.Viewer, paging, query, cancellationToken);
            return new SharingGroupPage(items, next);
        }

        public async ValueTask<Result<SharingGroupView>> Handle(GetOne query, CancellationToken cancellationToken)
        {
            await using var connection = await database.OpenAsync(cancellationToken);
            var views = await SharingGroupStore.LoadAsync(connection, null, query.Id, cancellationToken, ViewerOf(query.Caller));
            return views.Count == 0 ? Failure.NotFound("sharing group") : views[0];
        }
    }

    /// <summary>Operators see every group (no viewer); an agency sees the public ones and its own private ones.</summary>
    private static Guid? ViewerOf(Caller caller) => caller.Has(Scopes.AgenciesAdmin) ? null : caller.AgencyId;

    public static RouteHandlerBuilder MapListSharingGroups(this RouteGroupBuilder group) => group
        .MapGet("/", async ([FromQuery] string? cursor, [FromQuery] string? limit, HttpContext context, IMediator mediator, CancellationToken cancellationToken) =>
            TypedResults.Ok(await mediator.Send(new Query(Caller.From(context.User), cursor, limit), cancellationToken)))
        .RequireAuthorization()
        .Audited(AuditActions.GroupList, AuditResources.SharingGroup)
        .WithMetadata(QueryParameterDocs.Paging)
        .WithName("ListSharingGroups")
        .WithSummary("List sharing groups")
        .WithDescription($"Every public group with its members, and the private groups your agency belongs to; operators (agencies:admin) see every group. Name a group in an alert's audience by its id. Oldest group first, in keyset pages: limit 1 to {KeysetPaging.MaxLimit} (default {KeysetPaging.DefaultLimit}); pass nextCursor back as cursor.");

    public static RouteHandlerBuilder MapGetSharingGroup(this RouteGroupBuilder group) => group
        .MapGet("/{id:guid}", async (Guid id, HttpContext context, IMediator mediator, CancellationToken cancellationToken) =>
            (await mediator.Send(new GetOne(Caller.From(context.User), id), cancellationToken)).Match(TypedResults.Ok).OrProblem<Problem404>())
        .RequireAuthorization()
        .Audited(AuditActions.GroupRead, AuditResources.SharingGroup, "id")
        .WithName("GetSharingGroup")
        .WithSummary("Read a sharing group")
        .WithDescription("One group and its members. A private group you are not a member of answers 404, as if it did not exist; operators see every group.");
}
