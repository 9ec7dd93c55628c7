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
/// POST …/{id}/pause, POST …/{id}/resume and DELETE …/{id}. A paused subscription is sent nothing, but deliveries
/// still queue for it (alerts, updates, recall, expiry and narrowing notices: <see cref="Outbox.QueuingStatuses"/>) and
/// wait as pending; resuming wakes the dispatcher, which decides each one by the sharing rules as they are then
/// (ADR 0008). Deleting cancels what was queued — visibly, in the ledger.
/// Resuming also re-enables a subscription that was disabled because its endpoint answered 410 Gone.
/// </summary>
public static class ChangeSubscriptionStatus
{
    public enum Change
    {
        Pause,
        Resume,
        Delete,
    }

    public sealed record Command(Caller Caller, Guid Id, Change Change) : ICommand<Result<SubscriptionView?>>;

    public sealed class Handler(Database database, DeliverySignal signal, TimeProvider time, AuditTrail audit) : ICommandHandler<Command, Result<SubscriptionView?>>
    {
        public async ValueTask<Result<SubscriptionView?>> Handle(Command command, CancellationToken cancellationToken)
        {
            var now = time.UtcNowMicros();
            var (status, reason) = command.Change switch
            {
                Change.Pause => ("paused", "Paused by the subscribing agency."),
                Change.Resume => ("active", (string?)null),
                _ => ("deleted", "Deleted by the subscribing agency."),
            };

            await using var connection = await database.OpenAsync(cancellationToken);
            await using var transaction = await Database.BeginWriteAsync(connection, cancellationToken);
            var updated = await connection.ExecuteAsync(new CommandDefinition(
                """
                UPDATE subscriptions SET status = @status, status_reason = @reason, updated_at = @now
                WHERE id = @id AND agency_id = @agencyId AND status <> 'deleted'
                """,
                new { id = command.Id, agencyId = command.Caller.AgencyId, status, reason, now }, transaction, cancellationToken: cancellationToken));
            if (updated == 0)
            {
                return Failure.NotFound("subscription");
            }

            if (command.Change == Change.Delete)
            {
                await connection.ExecuteAsync(new CommandDefinition(
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

            var (action, outcome) = command.Change switch
            {
                Change.Pause => (AuditActions.SubscriptionPause, StatusCodes.Status200OK),
                Change.Resume => (AuditActions.SubscriptionResume, StatusCodes.Status200OK),
                _ => (AuditActions.SubscriptionDelete, StatusCodes.Status204NoContent),
            };
            await audit.RecordAsync(connection, transaction, new AuditEvent(action, outcome) { ResourceType = AuditResources.Subscription, ResourceId = command.Id }, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            if (command.Change == Change.Resume)
            {
                signal.Notify();
            }

            return command.Change == Change.Delete
                ? (SubscriptionView?)null
                : (await SubscriptionRow.FindOwnAsync(connection, command.Id, command.Caller.AgencyId, cancellationToken))!.ToView(now);
        }
    }

    public static RouteHandlerBuilder MapPauseSubscription(this RouteGroupBuilder group) => group
        .MapPost("/{id:guid}/pause", async (Guid id, HttpContext context, IMediator mediator) =>
            (await mediator.Send(new Command(Caller.From(context.User), id, Change.Pause), context.RequestAborted)).Match(v => TypedResults.Ok(v!)))
        .RequireAuthorization(Scopes.SubscriptionsManage)
        .Audited(AuditActions.SubscriptionPause, AuditResources.Subscription, "id")
        .WithName("PauseSubscription")
        .WithSummary("Pause a subscription")
        .WithDescription("Nothing is sent while paused. Deliveries still queue (alerts, updates, and notices of revocation, expiry or a narrowed audience) " +
            "and show as pending in the ledger; they are sent on resume, each decided by the sharing rules at that moment.")
        .Produces<SubscriptionView>()
        .ProducesProblem(StatusCodes.Status401Unauthorized)
        .ProducesProblem(StatusCodes.Status403Forbidden)
        .ProducesProblem(StatusCodes.Status404NotFound);

    public static RouteHandlerBuilder MapResumeSubscription(this RouteGroupBuilder group) => group
        .MapPost("/{id:guid}/resume", async (Guid id, HttpContext context, IMediator mediator) =>
            (await mediator.Send(new Command(Caller.From(context.User), id, Change.Resume), context.RequestAborted)).Match(v => TypedResults.Ok(v!)))
        .RequireAuthorization(Scopes.SubscriptionsManage)
        .Audited(AuditActions.SubscriptionResume, AuditResources.Subscription, "id")
        .WithName("ResumeSubscription")
        .WithSummary("Resume a paused or disabled subscription")
        .WithDescription("What queued while it was paused is sent at once, each delivery decided by the sharing rules as they are then: alert content the " +
            "agency may no longer see, or of a revoked, expired or superseded version, is cancelled with the reason instead of sent.")
        .Produces<SubscriptionView>()
        .ProducesProblem(StatusCodes.Status401Unauthorized)
        .ProducesProblem(StatusCodes.Status403Forbidden)
        .ProducesProblem(StatusCodes.Status404NotFound);

    public static RouteHandlerBuilder MapDeleteSubscription(this RouteGroupBuilder group) => group
        .MapDelete("/{id:guid}", async (Guid id, HttpContext context, IMediator mediator) =>
            (await mediator.Send(new Command(Caller.From(context.User), id, Change.Delete), context.RequestAborted)).Match(_ => TypedResults.NoContent()))
        .RequireAuthorization(Scopes.SubscriptionsManage)
        .Audited(AuditActions.SubscriptionDelete, AuditResources.Subscription, "id")
        .WithName("DeleteSubscription")
        .WithSummary("Delete a subscription")
        .WithDescription("Queued deliveries to it are cancelled and stay visible in the ledger as cancelled.")
        .Produces(StatusCodes.Status204NoContent)
        .ProducesProblem(StatusCodes.Status401Unauthorized)
        .ProducesProblem(StatusCodes.Status403Forbidden)
        .ProducesProblem(StatusCodes.Status404NotFound);
}
