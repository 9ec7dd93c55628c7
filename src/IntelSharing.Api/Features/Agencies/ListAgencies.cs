using System.Text;
using Dapper;
using FluentValidation;
using IntelSharing.Api.Infrastructure.Audit;
using IntelSharing.Api.Infrastructure.OpenApi;
using IntelSharing.Api.Infrastructure.Persistence;
using IntelSharing.Api.Infrastructure.Problems;
using IntelSharing.Api.Infrastructure.Validation;
using Mediator;
using Microsoft.AspNetCore.Mvc;

namespace IntelSharing.Api.Features.Agencies;

/// <summary>
/// GET /api/v1/agencies and GET /api/v1/agencies/{id} — the partner directory. Every authenticated agency may
/// read it: naming an audience needs the ids of the agencies in it. Oldest registration first, in keyset pages.
/// </summary>
public static class ListAgencies
{
    public sealed record Query(string? Cursor, string? Limit) : IQuery<AgencyPage>, IPagedQuery
    {
        public string CursorScope => "agencies";
    }

    public sealed record GetOne(Guid Id) : IQuery<Result<AgencyView>>;

    public sealed class Validator : AbstractValidator<Query>
    {
        public Validator(KeysetCursor cursors) => Include(new PageRules<Query>(cursors));
    }

    public sealed class Handler(Database database, KeysetPaging paging) : IQueryHandler<Query, AgencyPage>, IQueryHandler<GetOne, Result<AgencyView>>
    {
        private static readonly KeysetOrder OldestFirst = new(new("created_at", KeysetField.At), new("id", KeysetField.Id));

        public async ValueTask<AgencyPage> Handle(Query query, CancellationToken cancellationToken)
        {
            var sql = new StringBuilder($"SELECT {AgencyRow.Columns} FROM agencies WHERE 1 = 1");
            var parameters = new DynamicParameters();
            paging.Append(sql, parameters, query, OldestFirst);
            await using var connection = await database.OpenAsync(cancellationToken);
            var rows = (await connection.QueryAsync<AgencyRow>(new CommandDefinition(sql.ToString(), parameters, cancellationToken: cancellationToken))).AsList();
            var (page, next) = paging.Cut(rows, query, r => new KeysetCursor.Position(r.CreatedAt, r.Id));
            return new AgencyPage(page.Select(r => r.ToView()).ToList(), next);
        }

        public async ValueTask<Result<AgencyView>> Handle(GetOne query, CancellationToken cancellationToken)
        {
            await using var connection = await database.OpenAsync(cancellationToken);
            var row = await connection.QuerySingleOrDefaultAsync<AgencyRow>(new CommandDefinition(
                $"SELECT {AgencyRow.Columns} FROM agencies WHERE id = @id", new { id = query.Id }, cancellationToken: cancellationToken));
            return row is null ? Failure.NotFound("agency") : row.ToView();
        }
    }

    public static RouteHandlerBuilder MapListAgencies(this RouteGroupBuilder group) => group
        .MapGet("/", async ([FromQuery] string? cursor, [FromQuery] string? limit, IMediator mediator, CancellationToken cancellationToken) =>
            TypedResults.Ok(await mediator.Send(new Query(cursor, limit), cancellationToken)))
        .RequireAuthorization()
        .Audited(AuditActions.AgencyList, AuditResources.Agency)
        .WithMetadata(QueryParameterDocs.Paging)
        .WithName("ListAgencies")
        .WithMetadata(DocumentedExample.Response(StatusCodes.Status200OK, "directory", "Partner agencies, oldest registration first; nextCursor is null on the last page", ContractExamples.AgencyList))
        .WithSummary("List partner agencies")
        .WithDescription($"The partner directory: every registered agency with its country and kind. Every agency may read it, since naming an alert's audience needs the ids of the agencies in it. Oldest registration first, in keyset pages: limit 1 to {KeysetPaging.MaxLimit} (default {KeysetPaging.DefaultLimit}); pass nextCursor back as cursor; null means you have them all.");

    public static RouteHandlerBuilder MapGetAgency(this RouteGroupBuilder group) => group
        .MapGet("/{id:guid}", async (Guid id, IMediator mediator, CancellationToken cancellationToken) =>
            (await mediator.Send(new GetOne(id), cancellationToken)).Match(TypedResults.Ok).OrProblem<Problem404>())
        .RequireAuthorization()
        .Audited(AuditActions.AgencyRead, AuditResources.Agency, "id")
        .WithName("GetAgency")
        .WithMetadata(DocumentedExample.Response(StatusCodes.Status200OK, "borderPolice", "One partner agency", ContractExamples.BorderPoliceView))
        .WithSummary("Read a partner agency")
        .WithDescription("One entry of the partner directory: name, country, kind and whether it is active. Every agency may read it.");
}
