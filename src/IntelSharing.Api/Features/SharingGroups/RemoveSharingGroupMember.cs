using Dapper;
using IntelSharing.Api.Infrastructure.Audit;
using IntelSharing.Api.Infrastructure.Persistence;
using IntelSharing.Api.Infrastructure.Problems;
using IntelSharing.Api.Infrastructure.Security;
using IntelSharing.Api.Infrastructure.Time;
using Mediator;

namespace IntelSharing.Api.Features.SharingGroups;

/// <summary>DELETE /api/v1/sharing-groups/{id}/members/{agencyId} — an operator removes one agency from a group.</summary>
public static class RemoveSharingGroupMember
{
    public sealed record Command(Guid GroupId, Guid AgencyId) : ICommand<Result<bool>>;

    public sealed class Handler(Database database, TimeProvider time, AuditTrail audit) : ICommandHandler<Command, Result<bool>>
    {
        public async ValueTask<Result<bool>> Handle(Command command, CancellationToken cancellationToken)
        {
            await using var connection = await database.OpenAsync(cancellationToken);
            await using var write = await Database.BeginWriteAsync(connection, cancellationToken);
            var transaction = write.Transaction;
            if (!await SharingGroupStore.ExistsAsync(connection, transaction, command.GroupId, cancellationToken))
            {
                return Failure.NotFound("sharing group");
            }

            var removed = await connection.ExecuteAsync(new CommandDefinition(
                "DELETE FROM sharing_group_members WHERE group_id = @GroupId AND agency_id = @AgencyId", command, transaction, cancellationToken: cancellationToken));
            if (removed == 0)
            {
                return new Failure(StatusCodes.Status404NotFound, ProblemTypes.NotFound, "Not found", "That agency is not a member of the sharing group.");
            }

            await SharingGroupStore.TouchAsync(connection, transaction, command.GroupId, time.UtcNowMicros(), cancellationToken);
            await audit.RecordAsync(connection, transaction, new AuditEvent(AuditActions.GroupMemberRemove, StatusCodes.Status204NoContent)
            {
                ResourceType = AuditResources.SharingGroup,
                ResourceId = command.GroupId,
                Detail = new { command.AgencyId },
            }, cancellationToken);
            await write.CommitAsync(cancellationToken);
            return true;
        }
    }

    public static RouteHandlerBuilder MapRemoveSharingGroupMember(this RouteGroupBuilder group) => group
        .MapDelete("/{id:guid}/members/{agencyId:guid}", async (Guid id, Guid agencyId, IMediator mediator, CancellationToken cancellationToken) =>
        {
            var result = await mediator.Send(new Command(id, agencyId), cancellationToken);
            return result.Match(_ => TypedResults.NoContent()).OrProblem<Problem404>();
        })
        .RequireAuthorization(Scopes.AgenciesAdmin)
        .Audited(AuditActions.GroupMemberRemove, AuditResources.SharingGroup, "id")
        .WithName("RemoveSharingGroupMember")
        .WithSummary("Remove an agency from a sharing group")
        .WithDescription("Alerts published before keep it in their audience; alerts published afterwards do not include it through this group.");
}
