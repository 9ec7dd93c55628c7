using Dapper;
using FluentValidation;
using IntelSharing.Api.Domain;
using IntelSharing.Api.Infrastructure.Audit;
using IntelSharing.Api.Infrastructure.Json;
using IntelSharing.Api.Infrastructure.OpenApi;
using IntelSharing.Api.Infrastructure.Persistence;
using IntelSharing.Api.Infrastructure.Problems;
using IntelSharing.Api.Infrastructure.Security;
using IntelSharing.Api.Infrastructure.Time;
using Mediator;
using Microsoft.AspNetCore.Mvc;
using IntelSharing.Api.Infrastructure.Validation;

namespace IntelSharing.Api.Features.Agencies;

/// <summary>POST /api/v1/agencies — an operator registers a partner agency.</summary>
public static class RegisterAgency
{
    public sealed record Command(AgencyInput Agency) : ICommand<Result<AgencyView>>;

    public sealed class Validator : AbstractValidator<Command>
    {
        public Validator()
        {
            RuleFor(c => c.Agency.Name).NotEmpty().MaximumLength(200)
                .SingleLineText()
                .OverridePropertyName("name");
            RuleFor(c => c.Agency.Country).Must(Countries.IsValid).OverridePropertyName("country")
                .WithMessage("country must be an ISO 3166-1 alpha-2 code (upper case, e.g. RS).");
            RuleFor(c => c.Agency.Kind).NotNull().OverridePropertyName("kind")
                .WithMessage($"kind is required: {string.Join(", ", WireNames.All<AgencyKind>())}.");
        }
    }

    public sealed class Handler(Database database, TimeProvider time, AuditTrail audit) : ICommandHandler<Command, Result<AgencyView>>
    {
        public async ValueTask<Result<AgencyView>> Handle(Command command, CancellationToken cancellationToken)
        {
            var now = time.UtcNowMicros();
            var view = new AgencyView(Guid.CreateVersion7(now), command.Agency.Name!.Trim(), command.Agency.Country!, command.Agency.Kind!.Value, true, now, now);
            await using var connection = await database.OpenAsync(cancellationToken);
            await using var write = await Database.BeginWriteAsync(connection, cancellationToken);
            var transaction = write.Transaction;
            var inserted = await connection.ExecuteAsync(new CommandDefinition(
                """
                INSERT INTO agencies (id, name, country, kind, is_active, created_at, updated_at)
                VALUES (@Id, @Name, @Country, @Kind, @IsActive, @CreatedAt, @UpdatedAt)
                ON CONFLICT (name) DO NOTHING
                """,
                new { view.Id, view.Name, view.Country, Kind = WireNames.Of(view.Kind), view.IsActive, view.CreatedAt, view.UpdatedAt },
                transaction, cancellationToken: cancellationToken));
            if (inserted == 0)
            {
                return Failure.Conflict($"An agency named '{view.Name}' is already registered.");
            }

            await audit.RecordAsync(connection, transaction, new AuditEvent(AuditActions.AgencyRegister, StatusCodes.Status201Created)
            {
                ResourceType = AuditResources.Agency,
                ResourceId = view.Id,
                Detail = new { view.Name, view.Country, kind = WireNames.Of(view.Kind) },
            }, cancellationToken);
            await write.CommitAsync(cancellationToken);
            return view;
        }
    }

    public static RouteHandlerBuilder MapRegisterAgency(this RouteGroupBuilder group) => group
        .MapPost("/", async ([FromBody] AgencyInput agency, IMediator mediator, CancellationToken cancellationToken) =>
        {
            var result = await mediator.Send(new Command(agency), cancellationToken);
            return result.Match(view => TypedResults.Created($"/api/v1/agencies/{view.Id}", view)).OrProblem<Problem409>();
        })
        .RequireAuthorization(Scopes.AgenciesAdmin)
        .Audited(AuditActions.AgencyRegister, AuditResources.Agency)
        .WithName("RegisterAgency")
        .WithMetadata(
            DocumentedExample.Request("borderPolice", "A national border police", ContractExamples.BorderPoliceInput),
            DocumentedExample.Request("europol", "An EU agency registers with the country of its seat", ContractExamples.EuropolInput),
            DocumentedExample.Response(StatusCodes.Status201Created, "borderPolice", "Registered and active", ContractExamples.BorderPoliceView),
            DocumentedExample.ProblemResponse(StatusCodes.Status409Conflict, "nameTaken", "Agency names are unique", ContractExamples.AgencyNameTakenProblem),
            DocumentedHeader.Response(StatusCodes.Status201Created, "Location", "The agency's address: /api/v1/agencies/{id}.", $"/api/v1/agencies/{ContractExamples.BorderPoliceId}"))
        .WithMetadata(new ProblemResponseDescription(StatusCodes.Status409Conflict, $"An agency with that name is already registered ({ProblemTypes.Conflict})."))
        .WithSummary("Register a partner agency")
        .WithDescription("An operator registers a partner agency (name, ISO 3166-1 country, kind). It is active at once; issue it a key with POST /api/v1/agencies/{agencyId}/keys.");
}
