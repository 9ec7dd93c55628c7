using System.Text;
using Dapper;
using FluentValidation;
using IntelSharing.Api.Domain;
using Severity = IntelSharing.Api.Domain.Severity;
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

namespace IntelSharing.Api.Features.Indicators;

/// <summary>
/// GET /api/v1/alerts/{id}/correlations — the other active alerts that share an indicator with this one, limited to
/// those the caller may see (the sharing policy in SQL, at read time: a revocation, expiry or narrowed audience
/// withdraws a correlation at once). A match the caller may not see is not counted or hinted at; its owner is told
/// instead (<see cref="ListHiddenCorrelations"/>). Oldest other alert first, in keyset pages.
/// </summary>
public static class ListCorrelations
{
    public sealed record Query(Caller Caller, Guid Id, string? Cursor, string? Limit, string? Purpose) : IQuery<Result<CorrelationPage>>, IPagedQuery
    {
        public string CursorScope => Correlations.Fingerprint(Id, "visible");
    }

    public sealed class Validator : AbstractValidator<Query>
    {
        public Validator(KeysetCursor cursors) => Include(new PageRules<Query>(cursors));
    }

    private sealed record Row
    {
        public Guid Id { get; init; }

        public DateTimeOffset CreatedAt { get; init; }

        public string Title { get; init; } = string.Empty;

        public string Category { get; init; } = string.Empty;

        public string Severity { get; init; } = string.Empty;

        public string Tlp { get; init; } = string.Empty;

        public Guid OriginatorId { get; init; }

        public string OriginatorName { get; init; } = string.Empty;

        public string OriginatorCountry { get; init; } = string.Empty;
    }

    public sealed class Handler(Database database, KeysetPaging paging, AuditTrail audit) : IQueryHandler<Query, Result<CorrelationPage>>
    {
        private static readonly KeysetOrder OldestFirst = new(new("o.created_at", KeysetField.At), new("o.id", KeysetField.Id));

        public async ValueTask<Result<CorrelationPage>> Handle(Query query, CancellationToken cancellationToken)
        {
            await using var connection = await database.OpenAsync(cancellationToken);
            var loaded = await Correlations.LoadVisibleAsync(connection, query.Caller, query.Id, query.Purpose, cancellationToken);
            if (loaded.Failure is { } failure)
            {
                return failure;
            }

            var parameters = new DynamicParameters(new { id = query.Id, agencyId = query.Caller.AgencyId });
            var sql = new StringBuilder(
                $"""
                SELECT o.id AS Id, o.created_at AS CreatedAt, o.title AS Title, o.category AS Category, o.severity AS Severity, o.tlp AS Tlp,
                       g.id AS OriginatorId, g.name AS OriginatorName, g.country AS OriginatorCountry
                FROM alerts o JOIN agencies g ON g.id = o.originator_id
                WHERE o.id IN (SELECT t.alert_id FROM alert_indicators m JOIN alert_indicators t ON t.value_key = m.value_key
                               WHERE m.alert_id = @id AND t.alert_id <> @id)
                  AND o.status = 'active'
                  AND {SharingPolicy.VisibleSql("o", "@agencyId")}
                """);
            paging.Append(sql, parameters, query, OldestFirst);
            var rows = (await connection.QueryAsync<Row>(new CommandDefinition(sql.ToString(), parameters, cancellationToken: cancellationToken))).AsList();
            var (page, next) = paging.Cut(rows, query, r => new KeysetCursor.Position(r.CreatedAt, r.Id));

            var shared = new Dictionary<Guid, (IReadOnlyList<IndicatorRef> Indicators, DateTimeOffset SeenAt)>();
            if (page.Count > 0)
            {
                var sharedParameters = new DynamicParameters(new { id = query.Id });
                var ids = SqlLists.In(sharedParameters, "other", page.Select(r => r.Id).ToArray());
                shared = Correlations.Group(await Correlations.QuerySharedAsync(connection,
                    $"""
                    SELECT t.alert_id AS OwnerId, t.type AS Type, t.value AS Value, m.seen_at AS MineSeenAt, t.seen_at AS TheirsSeenAt
                    FROM alert_indicators m JOIN alert_indicators t ON t.value_key = m.value_key
                    WHERE m.alert_id = @id AND t.alert_id IN {ids}
                    """,
                    sharedParameters, cancellationToken));
            }

            audit.Annotate(detail: new { correlatedAlertIds = page.Select(r => r.Id) });
            var items = page.Where(r => shared.ContainsKey(r.Id)).Select(r => new Correlation(
                new CorrelatedAlert
                {
                    Id = r.Id,
                    Title = r.Title,
                    Category = WireNames.TryParse<AlertCategory>(r.Category, out var category) ? category : default,
                    Severity = WireNames.TryParse<Severity>(r.Severity, out var severity) ? severity : default,
                    Tlp = WireNames.TryParse<Tlp>(r.Tlp, out var tlp) ? tlp : default,
                    Originator = new AgencyRef { Id = r.OriginatorId, Name = r.OriginatorName, Country = r.OriginatorCountry },
                },
                shared[r.Id].Indicators,
                shared[r.Id].SeenAt)).ToList();
            return new CorrelationPage(items, next);
        }
    }

    public static RouteHandlerBuilder MapListCorrelations(this RouteGroupBuilder group) => group
        .MapGet("/{id:guid}/correlations", async (
            Guid id, [FromQuery] string? cursor, [FromQuery] string? limit, [FromHeader(Name = RequestOrigin.PurposeHeader)] string? purpose, HttpContext context, IMediator mediator) =>
            (await mediator.Send(new Query(Caller.From(context.User), id, cursor, limit, RequestOrigin.CleanPurpose(purpose)), context.RequestAborted)).Match(TypedResults.Ok).OrProblem<Problem404>())
        .RequireAuthorization(Scopes.AlertsRead)
        .Audited(AuditActions.AlertCorrelations, AuditResources.Alert, "id")
        .WithMetadata(QueryParameterDocs.Paging)
        .WithName("ListCorrelations")
        .WithSummary("Other alerts that share an indicator with this one")
        .WithDescription("The other active alerts you may see that carry an indicator of this alert (matched on normalised values), with the shared indicators " +
            "and since when they have been shared. Alerts you may not see are never counted or hinted at; their owners are told instead (see /correlations/hidden). " +
            $"Keyset pages (limit 1 to {KeysetPaging.MaxLimit}, default {KeysetPaging.DefaultLimit}); 404 when you may not see the alert; X-Purpose when it names persons.");
}
