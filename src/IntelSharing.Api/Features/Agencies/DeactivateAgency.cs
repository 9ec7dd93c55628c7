using IntelSharing.Api.Infrastructure.Audit;
using IntelSharing.Api.Infrastructure.Persistence;
using IntelSharing.Api.Infrastructure.Problems;
using IntelSharing.Api.Infrastructure.Security;
using Mediator;

namespace IntelSharing.Api.Features.Agencies;

/// <summary>
/// POST /api/v1/agencies/{id}/deactivate — an operator suspends a partner. Its keys are refused from the next
/// request on, on every instance (ApiKeyLookup, docs/decisions/0014), the sharing policy gives it nothing, and
/// audiences resolved from sharing groups skip it. Its alerts stay available to their recipients.
/// </summary>
public static class DeactivateAgency
{
    public sealed record Command(Caller Caller, Guid Id) : ICommand<Result<AgencyView>>;

    public sealed class Handler(Database database, TimeProvider time, AuditTrail audit, ApiKeyLookup keys) : ICommandHandler<Command, Result<AgencyView>>
    {
        public async ValueTask<Result<AgencyView>> Handle(Command command, CancellationToken cancellationToken)
        {
            if (command.Id == command.Caller.AgencyId)
            {
                return Failure.Conflict("An operator cannot deactivate its own agency: the key making this request would stop working. Use a key of another operator agency.");
            }

            return await AgencyActivation.SetAsync(database, time, audit, keys, command.Id, active: false, AuditActions.AgencyDeactivate, cancellationToken);
        }
    }

    public static RouteHandlerBuilder MapDeactivateAgency(this RouteGroupBuilder group) => group
        .MapPost("/{id:guid}/deactivate", async (Guid id, HttpContext context, IMediator mediator) =>
        {
            var result = await mediator.Send(new Command(Caller.From(context.User), id), context.RequestAborted);
            return result.Match(TypedResults.Ok).OrProblem<Problem404, Problem409>();
        })
        .RequireAuthorization(Scopes.AgenciesAdmin)
        .Audited(AuditActions.AgencyDeactivate, AuditResources.Agency, "id")
        .WithName("DeactivateAgency")
        .WithSummary("Deactivate an agency")
        .WithDescription("Its API keys stop working at once and it receives nothing new, including alerts whose audience names a sharing group it belongs to. Idempotent.");
}
