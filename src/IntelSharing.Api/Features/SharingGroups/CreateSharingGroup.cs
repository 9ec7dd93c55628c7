using Dapper;
using FluentValidation;
using IntelSharing.Api.Domain;
using IntelSharing.Api.Infrastructure.Audit;
using IntelSharing.Api.Infrastructure.Json;
using IntelSharing.Api.Infrastructure.Persistence;
using IntelSharing.Api.Infrastructure.Problems;
using IntelSharing.Api.Infrastructure.Security;
using IntelSharing.Api.Infrastructure.Time;
using Mediator;
using Microsoft.AspNetCore.Mvc;

namespace IntelSharing.Api.Features.SharingGroups;

/// <summary>POST /api/v1/sharing-groups — an operator creates a sharing group with its first members.</summary>
public static class CreateSharingGroup
{
    public sealed record Command(SharingGroupInput Group) : ICommand<Result<SharingGroupView>>;

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
            var id = Guid.CreateVersion7(now);
            await using var connection = await database.OpenAsync(cancellationToken);
            await using var write = await Database.BeginWriteAsync(connection, cancellationToken);
            var transaction = write.Transaction;
            if (await SharingGroupStore.CheckAgenciesAsync(connection, transaction, input.Members!, cancellationToken) is { } unknown)
            {
                return unknown;
            }

            var inserted = await connection.ExecuteAsync(new CommandDefinition(
                """
                INSERT INTO sharing_groups (id, name, description, visibility, created_at, updated_at) VALUES (@id, @name, @description, @visibility, @now, @now)
                ON CONFLICT (name) DO NOTHING
                """,
                new { id, name = input.Name!.Trim(), description = input.Description, visibility = WireNames.Of(input.Visibility ?? SharingGroupVisibility.Public), now },
                transaction, cancellationToken: cancellationToken));
            if (inserted == 0)
            {
                return Failure.Conflict($"A sharing group named '{input.Name.Trim()}' already exists.");
            }

            await SharingGroupStore.AddMembersAsync(connection, transaction, id, input.Members!, now, cancellationToken);
            await audit.RecordAsync(connection, transaction, new AuditEvent(AuditActions.GroupCreate, StatusCodes.Status201Created)
            {
                ResourceType = AuditResources.SharingGroup,
                ResourceId = id,
                Detail = new { name = input.Name.Trim(), visibility = WireNames.Of(input.Visibility ?? SharingGroupVisibility.Public), members = input.Members },
            }, cancellationToken);
            var view = (await SharingGroupStore.LoadAsync(connection, transaction, id, cancellationToken))[0];
            await write.CommitAsync(cancellationToken);
            return view;
        }
    }

    public static RouteHandlerBuilder MapCreateSharingGroup(this RouteGroupBuilder group) => group
        .MapPost("/", async ([FromBody] SharingGroupInput input, IMediator mediator, CancellationToken cancellationToken) =>
        {
            var result = await mediator.Send(new Command(input), cancellationToken);
            return result.Match(view => TypedResults.Created($"/api/v1/sharing-groups/{view.Id}", view)).OrProblem<Problem409>();
        })
        .RequireAuthorization(Scopes.AgenciesAdmin)
        .Audited(AuditActions.GroupCreate, AuditResources.SharingGroup)
        .WithName("CreateSharingGroup")
        .WithSummary("Create a sharing group")
        .WithDescription("An alert's audience may then name the group: its active members at publication receive the alert.");
}
