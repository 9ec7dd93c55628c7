using System.Data.Common;
using Dapper;
using FluentValidation;
using IntelSharing.Api.Infrastructure.Json;
using IntelSharing.Api.Infrastructure.Audit;
using IntelSharing.Api.Infrastructure.Persistence;
using IntelSharing.Api.Infrastructure.Problems;
using IntelSharing.Api.Infrastructure.Security;
using IntelSharing.Api.Infrastructure.Time;
using Mediator;
using Microsoft.AspNetCore.Mvc;

namespace IntelSharing.Api.Features.SharingGroups;

/// <summary>
/// PUT /api/v1/sharing-groups/{id} — an operator replaces a group's name, description and members. Alerts
/// already published keep the audience they were published with.
/// </summary>
public static class UpdateSharingGroup
{
    public sealed record Command(Guid Id, SharingGroupInput Group) : ICommand<Result<SharingGroupView>>;

    public sealed class Validator : AbstractValidator<Command>
    {
        public Validator()
        {
            RuleFor(c => c.Group).SetValidator(new SharingGroupInputValidator()).OverridePropertyName(string.Empty);
        }
    }

    public sealed class Handler(Database database, TimeProvider time, AuditTrail audit) : ICommandHandler<Command, Result<SharingGroupView>>
    {
        public async ValueTask<Result<SharingGroupView>> Handle(Command command, CancellationToken cancellationToken)
        {
            var input = command.Group;
            var now = time.UtcNowMicros();
            await using var connection = await database.OpenAsync(cancellationToken);
            await using var write = await Database.BeginWriteAsync(connection, cancellationToken);
            var transaction = write.Transaction;
            var before = (await SharingGroupStore.LoadAsync(connection, transaction, command.Id, cancellationToken)).SingleOrDefault();
            if (before is null)
            {
                return Failure.NotFound("sharing group");
            }

            if (await SharingGroupStore.CheckAgenciesAsync(connection, transaction, input.Members!, cancellationToken) is { } unknown)
            {
                return unknown;
            }

            try
            {
                await connection.ExecuteAsync(new CommandDefinition(
                    "UPDATE sharing_groups SET name = @name, description = @description, visibility = @visibility, updated_at = @now WHERE id = @id",
                    new { id = command.Id, name = input.Name!.Trim(), description = input.Description, visibility = WireNames.Of(input.Visibility ?? before.Visibility), now },
                    transaction, cancellationToken: cancellationToken));
            }
            catch (DbException ex) when (database.Dialect.IsUniqueViolation(ex))
            {
                return Failure.Conflict($"A sharing group named '{input.Name!.Trim()}' already exists.");
            }

            var wanted = input.Members!.ToHashSet();
            var current = before.Members.Select(m => m.Id).ToHashSet();
            var removed = current.Where(m => !wanted.Contains(m)).ToList();
            var added = input.Members!.Where(m => !current.Contains(m)).ToList();
            if (removed.Count > 0)
            {
                var parameters = new DynamicParameters();
                parameters.Add("id", command.Id);
                var removedList = SqlLists.In(parameters, "r", removed);
                await connection.ExecuteAsync(new CommandDefinition(
                    $"DELETE FROM sharing_group_members WHERE group_id = @id AND agency_id IN {removedList}", parameters, transaction, cancellationToken: cancellationToken));
            }
            await SharingGroupStore.AddMembersAsync(connection, transaction, command.Id, added, now, cancellationToken);

            await audit.RecordAsync(connection, transaction, new AuditEvent(AuditActions.GroupUpdate, StatusCodes.Status200OK)
            {
                ResourceType = AuditResources.SharingGroup,
                ResourceId = command.Id,
                Detail = new { name = input.Name.Trim(), visibility = WireNames.Of(input.Visibility ?? before.Visibility), added, removed },
            }, cancellationToken);
            var view = (await SharingGroupStore.LoadAsync(connection, transaction, command.Id, cancellationToken))[0];
            await write.CommitAsync(cancellationToken);
            return view;
        }
    }

    public static RouteHandlerBuilder MapUpdateSharingGroup(this RouteGroupBuilder group) => group
        .MapPut("/{id:guid}", async (Guid id, [FromBody] SharingGroupInput input, IMediator mediator, CancellationToken cancellationToken) =>
        {
            var result = await mediator.Send(new Command(id, input), cancellationToken);
            return result.Match(TypedResults.Ok).OrProblem<Problem404, Problem409>();
        })
        .RequireAuthorization(Scopes.AgenciesAdmin)
        .Audited(AuditActions.GroupUpdate, AuditResources.SharingGroup, "id")
        .WithName("UpdateSharingGroup")
        .WithSummary("Replace a sharing group's name, description and members")
        .WithDescription("Membership changes apply to alerts published afterwards; versions already published keep their audience.");
}
