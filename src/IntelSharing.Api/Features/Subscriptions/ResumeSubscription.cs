using IntelSharing.Api.Infrastructure.Audit;
using IntelSharing.Api.Features.Deliveries.Dispatch;
using IntelSharing.Api.Infrastructure.Persistence;
using IntelSharing.Api.Infrastructure.Problems;
using IntelSharing.Api.Infrastructure.Security;
using IntelSharing.Api.Infrastructure.Time;
using Mediator;

namespace IntelSharing.Api.Features.Subscriptions;

/// <summary>
/// POST /api/v1/subscriptions/{id}/resume — resuming wakes the dispatcher, which decides each queued delivery by the
/// sharing rules as they are then (ADR 0008). It also re-enables a subscription that was disabled because its endpoint
/// answered 410 Gone.
/// </summary>
public static class ResumeSubscription
{
    public sealed record Command(Caller Caller, Guid Id) : ICommand<Result<SubscriptionView>>;

    public sealed class Handler(Database database, DeliverySignal signal, TimeProvider time, AuditTrail audit) : ICommandHandler<Command, Result<SubscriptionView>>
    {
        public async ValueTask<Result<SubscriptionView>> Handle(Command command, CancellationToken cancellationToken)
        {
            var now = time.UtcNowMicros();
            await using var connection = await database.OpenAsync(cancellationToken);
            var change = ("active", (string?)null, AuditActions.SubscriptionResume, StatusCodes.Status200OK);
            // What waited held for it goes back into the claim's index in the same transaction (ADR 48).
            if (!await SubscriptionStatusChange.ApplyAsync(connection, audit, command.Caller, command.Id, change, now,
                    transaction => DeliveryHolds.ReleaseSubscriptionAsync(connection, transaction, database.Dialect, command.Id, cancellationToken), cancellationToken))
            {
                return Failure.NotFound("subscription");
            }

            signal.Notify();
            return (await SubscriptionRow.FindOwnAsync(connection, command.Id, command.Caller.AgencyId, cancellationToken))!.ToView(now);
        }
    }

    public static RouteHandlerBuilder MapResumeSubscription(this RouteGroupBuilder group) => group
        .MapPost("/{id:guid}/resume", async (Guid id, HttpContext context, IMediator mediator) =>
            (await mediator.Send(new Command(Caller.From(context.User), id), context.RequestAborted)).Match(TypedResults.Ok).OrProblem<Problem404>())
        .RequireAuthorization(Scopes.SubscriptionsManage)
        .Audited(AuditActions.SubscriptionResume, AuditResources.Subscription, "id")
        .WithName("ResumeSubscription")
        .WithSummary("Resume a paused or disabled subscription")
        .WithDescription("What queued while it was paused is sent at once, each delivery decided by the sharing rules as they are then: alert content the " +
            "agency may no longer see, or of a revoked, expired or superseded version, is cancelled with the reason instead of sent.");
}
