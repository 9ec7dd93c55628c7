using Dapper;
using IntelSharing.Api.Infrastructure.Audit;
using IntelSharing.Api.Infrastructure.Persistence;
using IntelSharing.Api.Infrastructure.Problems;
using IntelSharing.Api.Infrastructure.Security;
using Mediator;

namespace IntelSharing.Api.Features.SharingGroups;

/// <summary>DELETE /api/v1/sharing-groups/{id} — an operator removes a group. Published alerts that named it keep their audience.</summary>
public static class DeleteSharingGroup
{
    public sealed record Command(Guid Id) : ICommand<Result<bool>>;

    public sealed class Handler(Database database, AuditTrail audit) : ICommandHandler<Command, Result<bool>>
    {
        public async ValueTask<Result<bool>> Handle(Command command, CancellationToken cancellationToken)
        {
            await using var connection = await database.OpenAsync(cancellationToken);
            await using var write = await Database.BeginWriteAsync(connection, cancellationToken);
            var transaction = write.Transaction;
            var name = await connection.QuerySingleOrDefaultAsync<string>(new CommandDefinition(
                "SELECT name FROM sharing_groups WHERE id = @Id", command, transaction, cancellationToken: cancellationToken));
            if (name is null)
            {
                return Failure.NotFound("sharing group");
            }

            await connection.ExecuteAsync(new CommandDefinition(
                """
                DELETE FROM sharing_group_members WHERE group_id = @Id;
                DELETE FROM sharing_groups WHERE id = @Id;
                """,
                command, transaction, cancellationToken: cancellationToken));
            await audit.RecordAsync(connection, transaction, new AuditEvent(AuditActions.GroupDelete, StatusCodes.Status204NoContent)
            {
                ResourceType = AuditResources.SharingGroup,
                ResourceId = command.Id,
                Detail = new { name },
            }, cancellationToken);
            await write.CommitAsync(cancellationToken);
            return true;
        }
    }

    public static RouteHandlerBuilder MapDeleteSharingGroup(this RouteGroupBuilder group) => group
        .MapDelete("/{id:guid}", async (Guid id, IMediator mediator, CancellationToken cancellationToken) =>
        {
            var result = await mediator.Send(new Command(id), cancellationToken);
            return result.Match(_ => TypedResults.NoContent()).OrProblem<Problem404>();
        })
        .RequireAuthorization(Scopes.AgenciesAdmin)
        .Audited(AuditActions.GroupDelete, AuditResources.SharingGroup, "id")
        .WithName("DeleteSharingGroup")
        .WithSummary("Delete a sharing group")
        .WithDescription("An operator removes a group. Alerts already published to it keep the audience they were published with.");
}
