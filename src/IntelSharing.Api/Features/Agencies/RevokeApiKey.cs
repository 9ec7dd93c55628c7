using Dapper;
using FluentValidation;
using IntelSharing.Api.Infrastructure.Audit;
using IntelSharing.Api.Infrastructure.Persistence;
using IntelSharing.Api.Infrastructure.Problems;
using IntelSharing.Api.Infrastructure.Security;
using IntelSharing.Api.Infrastructure.Time;
using Mediator;

namespace IntelSharing.Api.Features.Agencies;

/// <summary>DELETE /api/v1/agencies/{id}/keys/{keyId} — an operator revokes a key; it stops working at once.</summary>
public static class RevokeApiKey
{
    public sealed record Command(Guid AgencyId, Guid KeyId) : ICommand<Result<bool>>;

    public sealed class Handler(Database database, TimeProvider time, AuditTrail audit, ApiKeyLookup keys) : ICommandHandler<Command, Result<bool>>
    {
        public async ValueTask<Result<bool>> Handle(Command command, CancellationToken cancellationToken)
        {
            await using var connection = await database.OpenAsync(cancellationToken);
            await using var write = await Database.BeginWriteAsync(connection, cancellationToken);
            var transaction = write.Transaction;
            var updated = await connection.ExecuteAsync(new CommandDefinition(
                """
                UPDATE api_keys SET revoked_at = COALESCE(revoked_at, @now)
                WHERE id = @KeyId AND agency_id = @AgencyId
                """,
                new { command.KeyId, command.AgencyId, now = time.UtcNowMicros() }, transaction, cancellationToken: cancellationToken));
            if (updated == 0)
            {
                return Failure.NotFound("API key");
            }

            await audit.RecordAsync(connection, transaction, new AuditEvent(AuditActions.KeyRevoke, StatusCodes.Status204NoContent)
            {
                ResourceType = AuditResources.ApiKey,
                ResourceId = command.KeyId,
                Detail = new { command.AgencyId },
            }, cancellationToken);
            await write.CommitAsync(cancellationToken);

            // Refused from the next request on this instance; other instances hear the trigger's NOTIFY (migration 0009).
            keys.Invalidate();
            return true;
        }
    }

    public static RouteHandlerBuilder MapRevokeApiKey(this RouteGroupBuilder group) => group
        .MapDelete("/{agencyId:guid}/keys/{keyId:guid}", async (Guid agencyId, Guid keyId, IMediator mediator, CancellationToken cancellationToken) =>
        {
            var result = await mediator.Send(new Command(agencyId, keyId), cancellationToken);
            return result.Match(_ => TypedResults.NoContent()).OrProblem<Problem404>();
        })
        .RequireAuthorization(Scopes.AgenciesAdmin)
        .Audited(AuditActions.KeyRevoke, AuditResources.ApiKey, "keyId")
        .WithName("RevokeApiKey")
        .WithSummary("Revoke an API key")
        .WithDescription("An operator revokes a key; it stops working at once: the next request with it answers 401.");
}
