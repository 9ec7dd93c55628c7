using System.Text;
using Dapper;
using FluentValidation;
using IntelSharing.Api.Domain;
using IntelSharing.Api.Features.Sharing;
using IntelSharing.Api.Infrastructure.Audit;
using IntelSharing.Api.Infrastructure.Json;
using IntelSharing.Api.Infrastructure.OpenApi;
using IntelSharing.Api.Infrastructure.Persistence;
using IntelSharing.Api.Infrastructure.Problems;
using IntelSharing.Api.Infrastructure.Security;
using IntelSharing.Api.Infrastructure.Validation;
using Mediator;
using Microsoft.AspNetCore.Mvc;

namespace IntelSharing.Api.Features.Alerts;

/// <summary>
/// GET /api/v1/alerts/{id}/feedback — the originator sees every answer to its alert, a recipient its own
/// (<see cref="SubmitAlertFeedback"/>), oldest first, in keyset pages.
/// </summary>
public static class ListAlertFeedback
{
    public sealed record Query(Caller Caller, Guid AlertId, string? Cursor, string? Limit) : IQuery<Result<FeedbackPage>>, IPagedQuery
    {
        /// <summary>Bound to the reader as well as the alert: the originator and a recipient see different lists.</summary>
        public string CursorScope => $"feedback|{AlertId}|{Caller.AgencyId}";
    }

    public sealed class Validator : AbstractValidator<Query>
    {
        public Validator(KeysetCursor cursors) => Include(new PageRules<Query>(cursors));
    }

    private sealed record Row
    {
        public Guid Id { get; init; }

        public Guid AlertId { get; init; }

        public int AlertVersion { get; init; }

        public Guid AgencyId { get; init; }

        public string AgencyName { get; init; } = string.Empty;

        public string AgencyCountry { get; init; } = string.Empty;

        public string Kind { get; init; } = string.Empty;

        public string? Note { get; init; }

        public DateTimeOffset CreatedAt { get; init; }

        public FeedbackView ToView() => new()
        {
            Id = Id,
            AlertId = AlertId,
            AlertVersion = AlertVersion,
            Agency = new AgencyRef { Id = AgencyId, Name = AgencyName, Country = AgencyCountry },
            Kind = WireNames.TryParse<FeedbackKind>(Kind, out var kind) ? kind : FeedbackKind.Received,
            Note = Note,
            CreatedAt = CreatedAt,
        };
    }

    public sealed class Handler(Database database, KeysetPaging paging) : IQueryHandler<Query, Result<FeedbackPage>>
    {
        private static readonly KeysetOrder OldestFirst = new(new("f.created_at", KeysetField.At), new("f.id", KeysetField.Id));

        public async ValueTask<Result<FeedbackPage>> Handle(Query query, CancellationToken cancellationToken)
        {
            await using var connection = await database.OpenAsync(cancellationToken);
            var current = await AlertStore.LoadAsync(connection, null, query.AlertId, query.Caller.AgencyId, cancellationToken);
            if (current is null || !current.VisibleTo(query.Caller.AgencyId))
            {
                return Failure.NotFound("alert");
            }

            var own = current.OriginatorId == query.Caller.AgencyId ? string.Empty : " AND f.agency_id = @agencyId";
            var sql = new StringBuilder(
                $"""
                SELECT f.id AS Id, f.alert_id AS AlertId, f.alert_version AS AlertVersion, f.agency_id AS AgencyId, a.name AS AgencyName,
                       a.country AS AgencyCountry, f.kind AS Kind, f.note AS Note, f.created_at AS CreatedAt
                FROM alert_feedback f JOIN agencies a ON a.id = f.agency_id
                WHERE f.alert_id = @alertId{own}
                """);
            var parameters = new DynamicParameters(new { alertId = query.AlertId, agencyId = query.Caller.AgencyId });
            paging.Append(sql, parameters, query, OldestFirst);
            var rows = (await connection.QueryAsync<Row>(new CommandDefinition(sql.ToString(), parameters, cancellationToken: cancellationToken))).AsList();
            var (page, next) = paging.Cut(rows, query, r => new KeysetCursor.Position(r.CreatedAt, r.Id));
            return new FeedbackPage(page.Select(r => r.ToView()).ToList(), next);
        }
    }

    public static RouteHandlerBuilder MapListFeedback(this RouteGroupBuilder group) => group
        .MapGet("/{id:guid}/feedback", async (Guid id, [FromQuery] string? cursor, [FromQuery] string? limit, HttpContext context, IMediator mediator) =>
            (await mediator.Send(new Query(Caller.From(context.User), id, cursor, limit), context.RequestAborted)).Match(TypedResults.Ok).OrProblem<Problem404>())
        .RequireAuthorization(Scopes.AlertsRead)
        .Audited(AuditActions.AlertFeedbackList, AuditResources.Alert, "id")
        .WithMetadata(QueryParameterDocs.Paging)
        .WithName("ListFeedback")
        .WithSummary("Feedback on an alert")
        .WithDescription("The originator sees every answer; a recipient sees its own. " +
            $"Oldest first, in keyset pages: limit 1 to {KeysetPaging.MaxLimit} (default {KeysetPaging.DefaultLimit}); pass nextCursor back as cursor.");
}
