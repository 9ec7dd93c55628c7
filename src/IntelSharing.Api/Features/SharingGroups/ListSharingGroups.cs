using IntelSharing.Api.Infrastructure.Audit;
using IntelSharing.Api.Infrastructure.Persistence;
using IntelSharing.Api.Infrastructure.Problems;
using Mediator;

namespace IntelSharing.Api.Features.SharingGroups;

/// <summary>
/// GET /api/v1/sharing-groups and GET /api/v1/sharing-groups/{id} — every authenticated agency may read the
/// groups and their members: naming a group as an audience means knowing who is in it.
/// </summary>
public static class ListSharingGroups
{
    public sealed record Query(Guid? Id) : IQuery<Result<IReadOnlyList<SharingGroupView>>>;

    public sealed class Handler(Database database) : IQueryHandler<Query, Result<IReadOnlyList<SharingGroupView>>>
    {
        public async ValueTask<Result<IReadOnlyList<SharingGroupView>>> Handle(Query query, CancellationToken cancellationToken)
        {
            await using var connection = await database.OpenAsync(cancellationToken);
            var views = await SharingGroupStore.LoadAsync(connection, null, query.Id, cancellationToken);
            return query.Id is not null && views.Count == 0 ? Failure.NotFound("sharing group") : views;
        }
    }

    public static RouteHandlerBuilder MapListSharingGroups(this RouteGroupBuilder group) => group
        .MapGet("/", async (IMediator mediator, CancellationToken cancellationToken) =>
        {
            var result = await mediator.Send(new Query(null), cancellationToken);
            return result.Match(TypedResults.Ok);
        })
        .RequireAuthorization()
        .Audited(AuditActions.GroupList, AuditResources.SharingGroup)
        .WithName("ListSharingGroups")
        .WithSummary("List sharing groups")
        .Produces<IReadOnlyList<SharingGroupView>>()
        .ProducesProblem(StatusCodes.Status401Unauthorized);

    public static RouteHandlerBuilder MapGetSharingGroup(this RouteGroupBuilder group) => group
        .MapGet("/{id:guid}", async (Guid id, IMediator mediator, CancellationToken cancellationToken) =>
        {
            var result = await mediator.Send(new Query(id), cancellationToken);
            return result.Match(views => TypedResults.Ok(views[0]));
        })
        .RequireAuthorization()
        .Audited(AuditActions.GroupRead, AuditResources.SharingGroup, "id")
        .WithName("GetSharingGroup")
        .WithSummary("Read a sharing group")
        .Produces<SharingGroupView>()
        .ProducesProblem(StatusCodes.Status401Unauthorized)
        .ProducesProblem(StatusCodes.Status404NotFound);
}
