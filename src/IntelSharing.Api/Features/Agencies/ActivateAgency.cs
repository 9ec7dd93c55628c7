using IntelSharing.Api.Infrastructure.Audit;
using IntelSharing.Api.Infrastructure.Persistence;
using IntelSharing.Api.Infrastructure.Problems;
using IntelSharing.Api.Infrastructure.Security;
using Mediator;

namespace IntelSharing.Api.Features.Agencies;

/// <summary>
/// POST /api/v1/agencies/{id}/activate — an operator reinstates a partner. Its unrevoked keys work again; it
/// sees what the sharing policy allows, but is not added to audiences resolved while it was deactivated.
/// </summary>
public static class ActivateAgency
{
    public sealed record Command(Guid Id) : ICommand<Result<AgencyView>>;

    public sealed class Handler(Database database, TimeProvider time, AuditTrail audit, ApiKeyLookup keys) : ICommandHandler<Command, Result<AgencyView>>
    {
        public async ValueTask<Result<AgencyView>> Handle(Command command, CancellationToken cancellationToken) =>
            await AgencyActivation.SetAsync(database, time, audit, keys, command.Id, active: true, AuditActions.AgencyActivate, cancellationToken);
    }

    public static RouteHandlerBuilder MapActivateAgency(this RouteGroupBuilder group) => group
        .MapPost("/{id:guid}/activate", async (Guid id, IMediator mediator, CancellationToken cancellationToken) =>
        {
            var result = await mediator.Send(new Command(id), cancellationToken);
            return result.Match(TypedResults.Ok).OrProblem<Problem404>();
        })
        .RequireAuthorization(Scopes.AgenciesAdmin)
        .Audited(AuditActions.AgencyActivate, AuditResources.Agency, "id")
        .WithName("ActivateAgency")
        .WithSummary("Activate an agency again")
        .WithDescription("Its unrevoked, unexpired keys work again. Idempotent.");
}
