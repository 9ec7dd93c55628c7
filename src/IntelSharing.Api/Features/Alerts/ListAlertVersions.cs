using System.Buffers;
using System.Text;
using System.Text.Json;
using Dapper;
using IntelSharing.Api.Infrastructure.Audit;
using IntelSharing.Api.Infrastructure.Http;
using IntelSharing.Api.Infrastructure.Persistence;
using IntelSharing.Api.Infrastructure.Problems;
using IntelSharing.Api.Infrastructure.Security;
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
    public sealed record Query(Caller Caller, Guid Id, string? Purpose) : IQuery<Result<string>>;

    public sealed class Handler(Database database) : IQueryHandler<Query, Result<string>>
    {
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

            var documents = await connection.QueryAsync<string>(new CommandDefinition(
                "SELECT document FROM alert_versions WHERE alert_id = @id ORDER BY version", new { id = query.Id }, cancellationToken: cancellationToken));
            var buffer = new ArrayBufferWriter<byte>();
            using (var writer = new Utf8JsonWriter(buffer))
            {
                writer.WriteStartObject();
                writer.WriteStartArray("items");
                foreach (var document in documents)
                {
                    writer.WriteRawValue(document, skipInputValidation: true);
                }

                writer.WriteEndArray();
                writer.WriteEndObject();
            }

            return Encoding.UTF8.GetString(buffer.WrittenSpan);
        }
    }

    public static RouteHandlerBuilder MapListAlertVersions(this RouteGroupBuilder group) => group
        .MapGet("/{id:guid}/versions", async (Guid id, [FromHeader(Name = RequestOrigin.PurposeHeader)] string? purpose, HttpContext context, IMediator mediator) =>
            (await mediator.Send(new Query(Caller.From(context.User), id, RequestOrigin.CleanPurpose(purpose)), context.RequestAborted)).Match(page => new JsonDocumentResult(page)))
        .RequireAuthorization(Scopes.AlertsWrite)
        .Audited(AuditActions.AlertVersions, AuditResources.Alert, "id")
        .WithName("ListAlertVersions")
        .WithSummary("Every version of your alert")
        .WithDescription("Originator only, oldest first. When any version names persons, send the purpose of this consultation in an X-Purpose header (400 without it); every read is audited.")
        .Produces<AlertVersions>()
        .ProducesValidationProblem()
        .ProducesProblem(StatusCodes.Status401Unauthorized)
        .ProducesProblem(StatusCodes.Status403Forbidden)
        .ProducesProblem(StatusCodes.Status404NotFound);

    /// <summary>The versions of an alert, oldest first (revocation and expiry appear as tombstone versions).</summary>
    public sealed record AlertVersions(IReadOnlyList<AlertView> Items);
}
