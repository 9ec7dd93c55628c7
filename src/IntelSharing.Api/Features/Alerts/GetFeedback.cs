using Dapper;
using IntelSharing.Api.Domain;
using IntelSharing.Api.Features.Sharing;
using IntelSharing.Api.Infrastructure.Audit;
using IntelSharing.Api.Infrastructure.Json;
using IntelSharing.Api.Infrastructure.Persistence;
using IntelSharing.Api.Infrastructure.Problems;
using IntelSharing.Api.Infrastructure.Security;
using Mediator;

namespace IntelSharing.Api.Features.Alerts;

/// <summary>
/// GET /api/v1/alerts/{id}/feedback/{feedbackId} — one answer, where the submit's <c>Location</c> points. The same
/// rules as the list: the caller must see the alert; the originator reads every answer, a recipient its own. Anything
/// else is 404, so an answer's existence is not confirmed to an agency that may not read it.
/// </summary>
public static class GetFeedback
{
    public sealed record Query(Caller Caller, Guid AlertId, Guid FeedbackId) : IQuery<Result<FeedbackView>>;

    // Init properties, not a positional record: Dapper's type handlers (SQLite stores ids and times as text) apply to properties.
    private sealed record Row
    {
        public Guid Id { get; init; }

        public int AlertVersion { get; init; }

        public Guid AgencyId { get; init; }

        public string AgencyName { get; init; } = string.Empty;

        public string AgencyCountry { get; init; } = string.Empty;

        public string Kind { get; init; } = string.Empty;

        public string? Note { get; init; }

        public DateTimeOffset CreatedAt { get; init; }
    }

    public sealed class Handler(Database database) : IQueryHandler<Query, Result<FeedbackView>>
    {
        public async ValueTask<Result<FeedbackView>> Handle(Query query, CancellationToken cancellationToken)
        {
            await using var connection = await database.OpenAsync(cancellationToken);
            var current = await AlertStore.LoadAsync(connection, null, query.AlertId, query.Caller.AgencyId, cancellationToken);
            if (current is null || !current.VisibleTo(query.Caller.AgencyId))
            {
                return Failure.NotFound("alert");
            }

            var row = await connection.QuerySingleOrDefaultAsync<Row>(new CommandDefinition(
                """
                SELECT f.id AS Id, f.alert_version AS AlertVersion, f.agency_id AS AgencyId, a.name AS AgencyName,
                       a.country AS AgencyCountry, f.kind AS Kind, f.note AS Note, f.created_at AS CreatedAt
                FROM alert_feedback f JOIN agencies a ON a.id = f.agency_id
                WHERE f.id = @feedbackId AND f.alert_id = @alertId
                """,
                new { feedbackId = query.FeedbackId, alertId = query.AlertId }, cancellationToken: cancellationToken));
            if (row is null || (current.OriginatorId != query.Caller.AgencyId && row.AgencyId != query.Caller.AgencyId))
            {
                return Failure.NotFound("feedback");
            }

            return new FeedbackView
            {
                Id = row.Id,
                AlertId = query.AlertId,
                AlertVersion = row.AlertVersion,
                Agency = new AgencyRef { Id = row.AgencyId, Name = row.AgencyName, Country = row.AgencyCountry },
                Kind = WireNames.TryParse<FeedbackKind>(row.Kind, out var kind) ? kind : FeedbackKind.Received,
                Note = row.Note,
                CreatedAt = row.CreatedAt,
            };
        }
    }

    public static RouteHandlerBuilder MapGetFeedback(this RouteGroupBuilder group) => group
        .MapGet("/{id:guid}/feedback/{feedbackId:guid}", async (Guid id, Guid feedbackId, HttpContext context, IMediator mediator) =>
            (await mediator.Send(new Query(Caller.From(context.User), id, feedbackId), context.RequestAborted)).Match(TypedResults.Ok).OrProblem<Problem404>())
        .RequireAuthorization(Scopes.AlertsRead)
        .Audited(AuditActions.AlertFeedbackRead, AuditResources.Alert, "id")
        .WithName("GetFeedback")
        .WithSummary("One answer to an alert")
        .WithDescription("The feedback that POST …/feedback created (its Location). The originator reads every answer; a recipient its own; anyone else gets 404.");
}
