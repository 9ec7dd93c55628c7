using System.Data.Common;
using Dapper;
using IntelSharing.Api.Infrastructure.Audit;
using IntelSharing.Api.Features.Deliveries.Dispatch;
using IntelSharing.Api.Infrastructure.Persistence;
using IntelSharing.Api.Infrastructure.Problems;
using IntelSharing.Api.Infrastructure.Security;
using IntelSharing.Api.Infrastructure.Time;
using Mediator;

namespace IntelSharing.Api.Features.Subscriptions;

/// <summary>
/// DELETE /api/v1/subscriptions/{id} — deleting cancels what was queued for the subscription, visibly, in the ledger.
/// </summary>
public static class DeleteSubscription
{
    public sealed record Command(Caller Caller, Guid Id) : ICommand<Result<bool>>;

    public sealed class Handler(Database database, TimeProvider time, AuditTrail audit) : ICommandHandler<Command, Result<bool>>
    {
        public async ValueTask<Result<bool>> Handle(Command command, CancellationToken cancellationToken)
        {
            var now = time.UtcNowMicros();
            await using var connection = await database.OpenAsync(cancellationToken);
            var change = ("deleted", (string?)"Deleted by the subscribing agency.", AuditActions.SubscriptionDelete, StatusCodes.Status204NoContent);
            var deleted = await SubscriptionStatusChange.ApplyAsync(connection, audit, command.Caller, command.Id, change, now, CancelQueuedAsync, cancellationToken);
            return deleted ? true : Failure.NotFound("subscription");

            Task CancelQueuedAsync(DbTransaction transaction) => connection.ExecuteAsync(new CommandDefinition(
                """
                UPDATE deliveries SET state = @cancelled, last_error = @reason, updated_at = @now, claim_token = NULL, lease_until = NULL
                WHERE subscription_id = @id AND state IN (@pending, @failed, @inFlight)
                """,
                new
                {
                    id = command.Id,
                    now,
                    reason = "The subscription was deleted; this delivery was cancelled.",
                    cancelled = DeliveryStates.Cancelled,
                    pending = DeliveryStates.Pending,
                    failed = DeliveryStates.Failed,
                    inFlight = DeliveryStates.InFlight,
                },
                transaction, cancellationToken: cancellationToken));
        }
    }

    public static RouteHandlerBuilder MapDeleteSubscription(this RouteGroupBuilder group) => group
        .MapDelete("/{id:guid}", async (Guid id, HttpContext context, IMediator mediator) =>
            (await mediator.Send(new Command(Caller.From(context.User), id), context.RequestAborted)).Match(_ => TypedResults.NoContent()).OrProblem<Problem404>())
        .RequireAuthorization(Scopes.SubscriptionsManage)
        .Audited(AuditActions.SubscriptionDelete, AuditResources.Subscription, "id")
        .WithName("DeleteSubscription")
        .WithSummary("Delete a subscription")
        .WithDescription("Queued deliveries to it are cancelled and stay visible in the ledger as cancelled.");
}
