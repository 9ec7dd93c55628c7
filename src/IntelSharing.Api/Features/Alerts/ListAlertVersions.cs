using System.Text;
using System.Text.Json.Serialization;
using Dapper;
using FluentValidation;
using IntelSharing.Api.Infrastructure.Audit;
using IntelSharing.Api.Infrastructure.Http;
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
/// GET /api/v1/alerts/{id}/versions — every published version, oldest first, for the originator. Recipients see
/// the current version only: an earlier version may have had a wider audience than the caller is now entitled to.
/// When any version names persons, the read needs an X-Purpose header (<see cref="PersonalData"/>), even if the
/// current one no longer does: the history still discloses them.
/// </summary>
public static class ListAlertVersions
{
    public sealed record Query(Caller Caller, Guid Id, string? Purpose, string? Cursor, string? Limit) : IQuery<Result<string>>, IPagedQuery
    {
        public string CursorScope => $"versions|{Id}";
    }

    /// <summary>Versions are ordered by their number, which the cursor carries as its rank.</summary>
    public sealed class Validator : AbstractValidator<Query>
    {
        public Validator(KeysetCursor cursors) => Include(new PageRules<Query>(cursors, _ => true));
    }

    private sealed record Row
    {
        public int Version { get; init; }

        public string Document { get; init; } = null!;
    }

    public sealed class Handler(Database database, KeysetPaging paging) : IQueryHandler<Query, Result<string>>
    {
        private static readonly KeysetOrder OldestFirst = new(new KeysetKey("version", KeysetField.Rank));

        public async ValueTask<Result<string>> Handle(Query query, CancellationToken cancellationToken)
        {
            await using var connection = await database.OpenAsync(cancellationToken);
            var current = await AlertStore.LoadAsync(connection, null, query.Id, query.Caller.AgencyId, cancellationToken);
            if (current is null || !current.VisibleTo(query.Caller.AgencyId))
            {
                return Failure.NotFound("alert");
            }

            if (current.OriginatorId != query.Caller.AgencyId)
            {
                return Failure.Forbidden("Only the originating agency may read earlier versions; GET the alert for the current one.");
            }

            var namesPersons = await connection.ExecuteScalarAsync<bool>(new CommandDefinition(
                $"SELECT EXISTS (SELECT 1 FROM alert_versions v WHERE v.alert_id = @id AND {PersonalData.NamesPersonsSql("v")})",
                new { id = query.Id }, cancellationToken: cancellationToken));
            if (namesPersons && query.Purpose is null)
            {
                return PersonalData.PurposeRequired("A version of this alert");
            }

            var sql = new StringBuilder("SELECT version AS Version, document AS Document FROM alert_versions WHERE alert_id = @id");
            var parameters = new DynamicParameters(new { id = query.Id });
            paging.Append(sql, parameters, query, OldestFirst);
            var rows = (await connection.QueryAsync<Row>(new CommandDefinition(sql.ToString(), parameters, cancellationToken: cancellationToken))).AsList();
            var (page, next) = paging.Cut(rows, query, r => new KeysetCursor.Position(DateTimeOffset.UnixEpoch, query.Id, r.Version));
            return JsonPage.OfDocuments(page.Select(row => row.Document), next);
        }
    }

    public static RouteHandlerBuilder MapListAlertVersions(this RouteGroupBuilder group) => group
        .MapGet("/{id:guid}/versions", async (
            Guid id, [FromQuery] string? cursor, [FromQuery] string? limit, [FromHeader(Name = RequestOrigin.PurposeHeader)] string? purpose, HttpContext context, IMediator mediator) =>
            (await mediator.Send(new Query(Caller.From(context.User), id, RequestOrigin.CleanPurpose(purpose), cursor, limit), context.RequestAborted))
                .Match(page => new JsonDocumentResult<AlertVersions>(page)).OrProblem<Problem404>())
        .RequireAuthorization(Scopes.AlertsWrite)
        .Audited(AuditActions.AlertVersions, AuditResources.Alert, "id")
        .WithMetadata(QueryParameterDocs.Paging)
        .WithName("ListAlertVersions")
        .WithSummary("Every version of your alert")
        .WithDescription("Originator only, oldest first. When any version names persons, send the purpose of this consultation in an X-Purpose header (400 without it); every read is audited. " +
            $"In keyset pages: limit 1 to {KeysetPaging.MaxLimit} (default {KeysetPaging.DefaultLimit}); pass nextCursor back as cursor.");

    /// <summary>The versions of an alert, oldest first (revocation and expiry appear as tombstone versions); <c>nextCursor</c> is null on the last page.</summary>
    public sealed record AlertVersions(IReadOnlyList<AlertView> Items, [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? NextCursor);
}
