using System.Text;
using Dapper;
using FluentValidation;
using IntelSharing.Api.Features.Sharing;
using IntelSharing.Api.Infrastructure.Audit;
using IntelSharing.Api.Infrastructure.OpenApi;
using IntelSharing.Api.Infrastructure.Persistence;
using IntelSharing.Api.Infrastructure.Problems;
using IntelSharing.Api.Infrastructure.Security;
using IntelSharing.Api.Infrastructure.Validation;
using Mediator;
using Microsoft.AspNetCore.Mvc;

namespace IntelSharing.Api.Features.Indicators;

/// <summary>
/// GET /api/v1/alerts/{id}/correlations/hidden — originator only: the agencies that hold an active alert sharing an
/// indicator with this one but may not see this one (hit/no-hit, docs/sharing.md). They were not told; the originator
/// decides whether to share the alert with them. Their alerts are not named. Keyset pages by agency.
/// </summary>
public static class ListHiddenCorrelations
{
    public sealed record Query(Caller Caller, Guid Id, string? Cursor, string? Limit, string? Purpose) : IQuery<Result<HiddenCorrelationPage>>, IPagedQuery
    {
        public string CursorScope => Correlations.Fingerprint(Id, "hidden");
    }

    public sealed class Validator : AbstractValidator<Query>
    {
        public Validator(KeysetCursor cursors) => Include(new PageRules<Query>(cursors));
    }

    private sealed record Row
    {
        public Guid Id { get; init; }

        public string Name { get; init; } = string.Empty;

        public string Country { get; init; } = string.Empty;
    }

    public sealed class Handler(Database database, KeysetPaging paging, AuditTrail audit) : IQueryHandler<Query, Result<HiddenCorrelationPage>>
    {
        private static readonly KeysetOrder ByAgency = new(new KeysetKey("g.id", KeysetField.Id));

        public async ValueTask<Result<HiddenCorrelationPage>> Handle(Query query, CancellationToken cancellationToken)
        {
            await using var connection = await database.OpenAsync(cancellationToken);
            var loaded = await Correlations.LoadVisibleAsync(connection, query.Caller, query.Id, query.Purpose, cancellationToken);
            if (loaded.Failure is { } failure)
            {
                return failure;
            }

            if (loaded.Value!.OriginatorId != query.Caller.AgencyId)
            {
                return Failure.Forbidden("Only the originating agency sees which agencies hold a matching indicator but may not see the alert.");
            }

            var parameters = new DynamicParameters(new { id = query.Id, agencyId = query.Caller.AgencyId });

            // Agencies (other than the caller, active) owning an active alert that shares an indicator, for whom the policy hides this alert.
            var sql = new StringBuilder(
                $"""
                SELECT g.id AS Id, g.name AS Name, g.country AS Country
                FROM agencies g JOIN alerts a ON a.id = @id
                WHERE g.is_active AND g.id <> @agencyId
                  AND g.id IN (SELECT o.originator_id FROM alert_indicators m
                               JOIN alert_indicators t ON t.value_key = m.value_key
                               JOIN alerts o ON o.id = t.alert_id
                               WHERE m.alert_id = @id AND t.alert_id <> @id AND o.status = 'active')
                  AND NOT {SharingPolicy.VisibleSql("a", "g.id")}
                """);
            paging.Append(sql, parameters, query, ByAgency);
            var rows = (await connection.QueryAsync<Row>(new CommandDefinition(sql.ToString(), parameters, cancellationToken: cancellationToken))).AsList();
            var (page, next) = paging.Cut(rows, query, r => new KeysetCursor.Position(DateTimeOffset.UnixEpoch, r.Id));

            var shared = new Dictionary<Guid, (IReadOnlyList<IndicatorRef> Indicators, DateTimeOffset SeenAt)>();
            if (page.Count > 0)
            {
                var sharedParameters = new DynamicParameters(new { id = query.Id });
                var agencies = SqlLists.In(sharedParameters, "agency", page.Select(r => r.Id).ToArray());
                shared = Correlations.Group(await Correlations.QuerySharedAsync(connection,
                    $"""
                    SELECT o.originator_id AS OwnerId, t.type AS Type, t.value AS Value, m.seen_at AS MineSeenAt, t.seen_at AS TheirsSeenAt
                    FROM alert_indicators m JOIN alert_indicators t ON t.value_key = m.value_key JOIN alerts o ON o.id = t.alert_id
                    WHERE m.alert_id = @id AND t.alert_id <> @id AND o.status = 'active' AND o.originator_id IN {agencies}
                    """,
                    sharedParameters, cancellationToken));
            }

            audit.Annotate(detail: new { agencyIds = page.Select(r => r.Id) });
            var items = page.Where(r => shared.ContainsKey(r.Id))
                .Select(r => new HiddenCorrelation(new AgencyRef { Id = r.Id, Name = r.Name, Country = r.Country }, shared[r.Id].Indicators, shared[r.Id].SeenAt))
                .ToList();
            return new HiddenCorrelationPage(items, next);
        }
    }

    public static RouteHandlerBuilder MapListHiddenCorrelations(this RouteGroupBuilder group) => group
        .MapGet("/{id:guid}/correlations/hidden", async (
            Guid id, [FromQuery] string? cursor, [FromQuery] string? limit, [FromHeader(Name = RequestOrigin.PurposeHeader)] string? purpose, HttpContext context, IMediator mediator) =>
            (await mediator.Send(new Query(Caller.From(context.User), id, cursor, limit, RequestOrigin.CleanPurpose(purpose)), context.RequestAborted)).Match(TypedResults.Ok).OrProblem<Problem404>())
        .RequireAuthorization(Scopes.AlertsRead)
        .Audited(AuditActions.AlertCorrelationsHidden, AuditResources.Alert, "id")
        .WithMetadata(QueryParameterDocs.Paging)
        .WithName("ListHiddenCorrelations")
        .WithSummary("Agencies that hold a matching indicator but may not see your alert")
        .WithDescription("Originator only (403 for other agencies that may see the alert, 404 for those that may not). Each item is an agency with an active alert " +
            "carrying an indicator of yours, the shared indicators and since when; its alert is not named and it was told nothing. " +
            "Share your alert with it (POST /api/v1/alerts/{id}/share) if you decide it should know (hit/no-hit, docs/sharing.md).");
}
