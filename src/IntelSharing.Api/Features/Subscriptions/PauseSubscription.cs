using IntelSharing.Api.Infrastructure.Audit;
using IntelSharing.Api.Features.Deliveries.Dispatch;
using IntelSharing.Api.Infrastructure.Persistence;
using IntelSharing.Api.Infrastructure.Problems;
using IntelSharing.Api.Infrastructure.Security;
using IntelSharing.Api.Infrastructure.Time;
using Mediator;

namespace IntelSharing.Api.Features.Subscriptions;

/// <summary>
/// POST /api/v1/subscriptions/{id}/pause — a paused subscription is sent nothing, but deliveries still queue for it
/// (alerts, updates, recall, expiry and narrowing notices: <see cref="Outbox.QueuingStatuses"/>) and wait as pending
/// until it is resumed.
/// </summary>
public static class PauseSubscription
{
    public sealed record Command(Caller Caller, Guid Id) : ICommand<Result<SubscriptionView>>;

    public sealed class Handler(Database database, TimeProvider time, AuditTrail audit) : ICommandHandler<Command, Result<SubscriptionView>>
    {
        public async ValueTask<Result<SubscriptionView>> Handle(Command command, CancellationToken cancellationToken)
        {
            var now = time.UtcNowMicros();
            await using var connection = await database.OpenAsync(cancellationToken);
            var change = ("paused", (string?)"Paused by the subscribing agency.", AuditActions.SubscriptionPause, StatusCodes.Status200OK);
            if (!await SubscriptionStatusChange.ApplyAsync(connection, audit, command.Caller, command.Id, change, now, alsoWrite: null, cancellationToken))
            {
                return Failure.NotFound("subscription");
            }

            return (await SubscriptionRow.FindOwnAsync(connection, command.Id, command.Caller.AgencyId, cancellationToken))!.ToView(now);
        }
    }

    public static RouteHandlerBuilder MapPauseSubscription(this RouteGroupBuilder group) => group
        .MapPost("/{id:guid}/pause", async (Guid id, HttpContext context, IMediator mediator) =>
            (await mediator.Send(new Command(Caller.From(context.User), id), context.RequestAborted)).Match(TypedResults.Ok).OrProblem<Problem404>())
        .RequireAuthorization(Scopes.SubscriptionsManage)
        .Audited(AuditActions.SubscriptionPause, AuditResources.Subscription, "id")
        .WithName("PauseSubscription")
        .WithSummary("Pause a subscription")
        .WithDescription("Nothing is sent while paused. Deliveries still queue (alerts, updates, and notices of revocation, expiry or a narrowed audience) " +
            "and show as pending in the ledger; they are sent on resume, each decided by the sharing rules at that moment.");
}
