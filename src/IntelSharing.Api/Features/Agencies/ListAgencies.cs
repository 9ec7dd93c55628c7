using Dapper;
using IntelSharing.Api.Infrastructure.Audit;
using IntelSharing.Api.Infrastructure.Persistence;
using IntelSharing.Api.Infrastructure.Problems;
using Mediator;

namespace IntelSharing.Api.Features.Agencies;

/// <summary>
/// GET /api/v1/agencies and GET /api/v1/agencies/{id} — the partner directory. Every authenticated agency may
/// read it: naming an audience needs the ids of the agencies in it.
/// </summary>
public static class ListAgencies
{
    public sealed record Query(Guid? Id) : IQuery<Result<IReadOnlyList<AgencyView>>>;

    public sealed class Handler(Database database) : IQueryHandler<Query, Result<IReadOnlyList<AgencyView>>>
    {
        public async ValueTask<Result<IReadOnlyList<AgencyView>>> Handle(Query query, CancellationToken cancellationToken)
        {
            await using var connection = await database.OpenAsync(cancellationToken);
            var where = query.Id is null ? string.Empty : "WHERE id = @id";
            var rows = await connection.QueryAsync<AgencyRow>(new CommandDefinition(
                $"SELECT {AgencyRow.Columns} FROM agencies {where} ORDER BY country, name",
                new { id = query.Id ?? Guid.Empty }, cancellationToken: cancellationToken));
            var views = rows.Select(r => r.ToView()).ToList();
            return query.Id is not null && views.Count == 0 ? Failure.NotFound("agency") : views;
        }
    }

    public static RouteHandlerBuilder MapListAgencies(this RouteGroupBuilder group) => group
        .MapGet("/", async (IMediator mediator, CancellationToken cancellationToken) =>
        {
            var result = await mediator.Send(new Query(null), cancellationToken);
            return result.Match(TypedResults.Ok);
        })
        .RequireAuthorization()
        .Audited(AuditActions.AgencyList, AuditResources.Agency)
        .WithName("ListAgencies")
        .WithSummary("List partner agencies")
        .WithDescription("The partner directory: every registered agency with its country and kind. Every agency may read it, since naming an alert's audience needs the ids of the agencies in it.")
        .Produces<IReadOnlyList<AgencyView>>()
        .ProducesProblem(StatusCodes.Status401Unauthorized);

    public static RouteHandlerBuilder MapGetAgency(this RouteGroupBuilder group) => group
        .MapGet("/{id:guid}", async (Guid id, IMediator mediator, CancellationToken cancellationToken) =>
        {
            var result = await mediator.Send(new Query(id), cancellationToken);
            return result.Match(views => TypedResults.Ok(views[0]));
        })
        .RequireAuthorization()
        .Audited(AuditActions.AgencyRead, AuditResources.Agency, "id")
        .WithName("GetAgency")
        .WithSummary("Read a partner agency")
        .WithDescription("One entry of the partner directory: name, country, kind and whether it is active. Every agency may read it.")
        .Produces<AgencyView>()
        .ProducesProblem(StatusCodes.Status401Unauthorized)
        .ProducesProblem(StatusCodes.Status404NotFound);
}
