using Dapper;
using IntelSharing.Api.Infrastructure.Audit;
using IntelSharing.Api.Infrastructure.Persistence;
using IntelSharing.Api.Infrastructure.Problems;
using IntelSharing.Api.Infrastructure.Security;
using IntelSharing.Api.Infrastructure.Time;
using Mediator;

namespace IntelSharing.Api.Features.SharingGroups;

/// <summary>PUT /api/v1/sharing-groups/{id}/members/{agencyId} — an operator adds one agency to a group (idempotent).</summary>
public static class AddSharingGroupMember
{
    public sealed record Command(Guid GroupId, Guid AgencyId) : ICommand<Result<bool>>;

    public sealed class Handler(Database database, TimeProvider time, AuditTrail audit) : ICommandHandler<Command, Result<bool>>
    {
        public async ValueTask<Result<bool>> Handle(Command command, CancellationToken cancellationToken)
        {
            var now = time.UtcNowMicros();
            await using var connection = await database.OpenAsync(cancellationToken);
            await using var write = await Database.BeginWriteAsync(connection, cancellationToken);
            var transaction = write.Transaction;
            if (!await SharingGroupStore.ExistsAsync(connection, transaction, command.GroupId, cancellationToken))
            {
                return Failure.NotFound("sharing group");
            }

            var agencyExists = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
                "SELECT COUNT(*) FROM agencies WHERE id = @AgencyId", command, transaction, cancellationToken: cancellationToken));
            if (agencyExists == 0)
            {
                return Failure.NotFound("agency");
            }

            var added = await connection.ExecuteAsync(new CommandDefinition(
                "INSERT INTO sharing_group_members (group_id, agency_id, added_at) VALUES (@GroupId, @AgencyId, @now) ON CONFLICT (group_id, agency_id) DO NOTHING",
                new { command.GroupId, command.AgencyId, now }, transaction, cancellationToken: cancellationToken));
            if (added > 0)
            {
                await SharingGroupStore.TouchAsync(connection, transaction, command.GroupId, now, cancellationToken);
            }

            await audit.RecordAsync(connection, transaction, new AuditEvent(AuditActions.GroupMemberAdd, StatusCodes.Status204NoContent)
            {
                ResourceType = AuditResources.SharingGroup,
                ResourceId = command.GroupId,
                Detail = new { command.AgencyId, changed = added > 0 },
            }, cancellationToken);
            await write.CommitAsync(cancellationToken);
            return true;
        }
    }

    public static RouteHandlerBuilder MapAddSharingGroupMember(this RouteGroupBuilder group) => group
        .MapPut("/{id:guid}/members/{agencyId:guid}", async (Guid id, Guid agencyId, IMediator mediator, CancellationToken cancellationToken) =>
        {
            var result = await mediator.Send(new Command(id, agencyId), cancellationToken);
            return result.Match(_ => TypedResults.NoContent()).OrProblem<Problem404>();
        })
        .RequireAuthorization(Scopes.AgenciesAdmin)
        .Audited(AuditActions.GroupMemberAdd, AuditResources.SharingGroup, "id")
        .WithName("AddSharingGroupMember")
        .WithSummary("Add an agency to a sharing group")
        .WithDescription("Idempotent. The agency receives alerts naming the group that are published from now on.");
}
