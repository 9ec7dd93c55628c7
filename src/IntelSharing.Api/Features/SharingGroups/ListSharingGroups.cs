using IntelSharing.Api.Infrastructure.Audit;
using IntelSharing.Api.Infrastructure.Persistence;
using IntelSharing.Api.Infrastructure.Problems;
using IntelSharing.Api.Infrastructure.Security;
using Mediator;

namespace IntelSharing.Api.Features.SharingGroups;

/// <summary>
/// GET /api/v1/sharing-groups and GET /api/v1/sharing-groups/{id} — every authenticated agency may read the public
/// groups and their members (naming a group as an audience means knowing who is in it), and the private groups it is a
/// member of. Operators (agencies:admin) see every group. A private group is to anyone else exactly a group that does
/// not exist: absent from the list, 404 on read.
/// </summary>
public static class ListSharingGroups
{
    public sealed record Query(Caller Caller, Guid? Id) : IQuery<Result<IReadOnlyList<SharingGroupView>>>;

    public sealed class Handler(Database database) : IQueryHandler<Query, Result<IReadOnlyList<SharingGroupView>>>
    {
        public async ValueTask<Result<IReadOnlyList<SharingGroupView>>> Handle(Query query, CancellationToken cancellationToken)
        {
            await using var connection = await database.OpenAsync(cancellationToken);
            var viewer = query.Caller.Has(Scopes.AgenciesAdmin) ? (Guid?)null : query.Caller.AgencyId;
            var views = await SharingGroupStore.LoadAsync(connection, null, query.Id, cancellationToken, viewer);
            return query.Id is not null && views.Count == 0 ? Failure.NotFound("sharing group") : views;
        }
    }

    public static RouteHandlerBuilder MapListSharingGroups(this RouteGroupBuilder group) => group
        .MapGet("/", async (HttpContext context, IMediator mediator, CancellationToken cancellationToken) =>
        {
            var result = await mediator.Send(new Query(Caller.From(context.User), null), cancellationToken);
            return result.Match(TypedResults.Ok);
        })
        .RequireAuthorization()
        .Audited(AuditActions.GroupList, AuditResources.SharingGroup)
        .WithName("ListSharingGroups")
        .WithSummary("List sharing groups")
        .WithDescription("Every public group with its members, and the private groups your agency belongs to; operators (agencies:admin) see every group. Name a group in an alert's audience by its id.")
        .Produces<IReadOnlyList<SharingGroupView>>()
        .ProducesProblem(StatusCodes.Status401Unauthorized);

    public static RouteHandlerBuilder MapGetSharingGroup(this RouteGroupBuilder group) => group
        .MapGet("/{id:guid}", async (Guid id, HttpContext context, IMediator mediator, CancellationToken cancellationToken) =>
        {
            var result = await mediator.Send(new Query(Caller.From(context.User), id), cancellationToken);
            return result.Match(views => TypedResults.Ok(views[0]));
        })
        .RequireAuthorization()
        .Audited(AuditActions.GroupRead, AuditResources.SharingGroup, "id")
        .WithName("GetSharingGroup")
        .WithSummary("Read a sharing group")
        .WithDescription("One group and its members. A private group you are not a member of answers 404, as if it did not exist; operators see every group.")
        .Produces<SharingGroupView>()
        .ProducesProblem(StatusCodes.Status401Unauthorized)
        .ProducesProblem(StatusCodes.Status404NotFound);
}
