using Dapper;
using IntelSharing.Api.Infrastructure.Audit;
using IntelSharing.Api.Infrastructure.Delivery;
using IntelSharing.Api.Infrastructure.Persistence;
using IntelSharing.Api.Infrastructure.Problems;
using IntelSharing.Api.Infrastructure.Security;
using IntelSharing.Api.Infrastructure.Time;
using Mediator;
using Microsoft.Extensions.Options;

namespace IntelSharing.Api.Features.Subscriptions;

/// <summary>
/// POST /api/v1/subscriptions/{id}/rotate-secret — a new signing secret, shown once. During the overlap
/// (Delivery__SecretRotationOverlap, default 24 h) requests carry two signatures, old and new, so the
/// partner can switch its verifier without missing an alert.
/// </summary>
public static class RotateSubscriptionSecret
{
    public sealed record Command(Caller Caller, Guid Id) : ICommand<Result<SubscriptionWithSecret>>;

    public sealed class Handler(Database database, SecretProtector protector, TimeProvider time, IOptions<DeliveryOptions> options, AuditTrail audit)
        : ICommandHandler<Command, Result<SubscriptionWithSecret>>
    {
        public async ValueTask<Result<SubscriptionWithSecret>> Handle(Command command, CancellationToken cancellationToken)
        {
            var now = time.UtcNowMicros();
            var secret = WebhookSigner.GenerateSecret();
            await using var connection = await database.OpenAsync(cancellationToken);
            await using var transaction = await Database.BeginWriteAsync(connection, cancellationToken);
            var updated = await connection.ExecuteAsync(new CommandDefinition(
                """
                UPDATE subscriptions SET previous_secret = secret, previous_secret_expires_at = @overlapUntil, secret = @secret, updated_at = @now
                WHERE id = @id AND agency_id = @agencyId AND status <> 'deleted'
                """,
                new { id = command.Id, agencyId = command.Caller.AgencyId, secret = protector.Protect(secret), overlapUntil = now + options.Value.SecretRotationOverlap, now },
                transaction, cancellationToken: cancellationToken));
            if (updated == 0)
            {
                return Failure.NotFound("subscription");
            }

            // The record says that the secret changed, never what it is.
            await audit.RecordAsync(connection, transaction, new AuditEvent(AuditActions.SubscriptionRotateSecret, StatusCodes.Status200OK)
            {
                ResourceType = AuditResources.Subscription,
                ResourceId = command.Id,
            }, cancellationToken);
            await transaction.CommitAsync(cancellationToken);

            var row = await SubscriptionRow.FindOwnAsync(connection, command.Id, command.Caller.AgencyId, cancellationToken);
            return new SubscriptionWithSecret(row!.ToView(now), secret);
        }
    }

    public static RouteHandlerBuilder MapRotateSubscriptionSecret(this RouteGroupBuilder group) => group
        .MapPost("/{id:guid}/rotate-secret", async (Guid id, HttpContext context, IMediator mediator) =>
            (await mediator.Send(new Command(Caller.From(context.User), id), context.RequestAborted)).Match(TypedResults.Ok))
        .RequireAuthorization(Scopes.SubscriptionsManage)
        .Audited(AuditActions.SubscriptionRotateSecret, AuditResources.Subscription, "id")
        .WithName("RotateSubscriptionSecret")
        .WithSummary("Rotate a subscription's signing secret")
        .WithDescription("Returns the new whsec_ secret once. Until previousSecretValidUntil, requests are signed with both the old and the new secret.")
        .Produces<SubscriptionWithSecret>()
        .ProducesProblem(StatusCodes.Status401Unauthorized)
        .ProducesProblem(StatusCodes.Status403Forbidden)
        .ProducesProblem(StatusCodes.Status404NotFound);
}
