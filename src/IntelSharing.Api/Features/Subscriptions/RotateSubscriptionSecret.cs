using Dapper;
using IntelSharing.Api.Infrastructure.Audit;
using IntelSharing.Api.Features.Deliveries.Dispatch;
using IntelSharing.Api.Infrastructure.Delivery;
using IntelSharing.Api.Infrastructure.Persistence;
using IntelSharing.Api.Infrastructure.Problems;
using IntelSharing.Api.Infrastructure.Security;
using IntelSharing.Api.Infrastructure.Time;
using Mediator;
using Microsoft.Extensions.Options;

namespace IntelSharing.Api.Features.Subscriptions;

/// <summary>
/// POST /api/v1/subscriptions/{id}/rotate-secret — a new signing secret, shown once. Each rotated-out secret
/// keeps signing for its own overlap (Delivery__SecretRotationOverlap, default 24 h from the rotation that
/// retired it), so the partner can switch its verifier without missing an alert, however often it rotates.
/// </summary>
public static class RotateSubscriptionSecret
{
    public sealed record Command(Caller Caller, Guid Id) : ICommand<Result<SubscriptionWithSecret>>;

    private sealed record SecretsRow
    {
        public byte[] Secret { get; init; } = [];

        public byte[]? PreviousSecret { get; init; }

        public DateTimeOffset? PreviousSecretExpiresAt { get; init; }

        public string? OlderSecrets { get; init; }
    }

    public sealed class Handler(Database database, SecretProtector protector, TimeProvider time, IOptions<DeliveryOptions> options, AuditTrail audit)
        : ICommandHandler<Command, Result<SubscriptionWithSecret>>
    {
        public async ValueTask<Result<SubscriptionWithSecret>> Handle(Command command, CancellationToken cancellationToken)
        {
            var now = time.UtcNowMicros();
            var secret = WebhookSigner.GenerateSecret();
            await using var connection = await database.OpenAsync(cancellationToken);
            await using var write = await Database.BeginWriteAsync(connection, cancellationToken);
            var transaction = write.Transaction;
            var current = await connection.QuerySingleOrDefaultAsync<SecretsRow>(new CommandDefinition(
                """
                SELECT secret AS Secret, previous_secret AS PreviousSecret, previous_secret_expires_at AS PreviousSecretExpiresAt, older_secrets AS OlderSecrets
                FROM subscriptions WHERE id = @id AND agency_id = @agencyId AND status <> 'deleted'
                """,
                new { id = command.Id, agencyId = command.Caller.AgencyId }, transaction, cancellationToken: cancellationToken));
            if (current is null)
            {
                return Failure.NotFound("subscription");
            }

            // Every secret already rotated out keeps the overlap its own rotation gave it; the one rotated out now gets a full one.
            var stillSigning = RetiredSecrets.InOverlap(current.PreviousSecret, current.PreviousSecretExpiresAt, current.OlderSecrets, now);
            if (stillSigning.Count >= RetiredSecrets.MaxInOverlap)
            {
                return Failure.Conflict(
                    $"{stillSigning.Count} rotated-out secrets are still inside their overlap, the most this API signs with besides the current one. " +
                    $"Rotate again after {stillSigning[^1].ExpiresAt:O}, when the oldest one's overlap ends.");
            }

            // Compare-and-set on the current secret: two rotations at once must not both retire the same secret and lose one.
            var updated = await connection.ExecuteAsync(new CommandDefinition(
                """
                UPDATE subscriptions SET older_secrets = @older, previous_secret = secret, previous_secret_expires_at = @overlapUntil, secret = @secret, updated_at = @now
                WHERE id = @id AND agency_id = @agencyId AND status <> 'deleted' AND secret = @rotatedOut
                """,
                new
                {
                    id = command.Id,
                    agencyId = command.Caller.AgencyId,
                    older = RetiredSecrets.Serialize(stillSigning),
                    rotatedOut = current.Secret,
                    secret = protector.Protect(secret),
                    overlapUntil = now + options.Value.SecretRotationOverlap,
                    now,
                },
                transaction, cancellationToken: cancellationToken));
            if (updated == 0)
            {
                return Failure.Conflict("The secret was rotated by another request at the same moment; read the subscription and rotate again if you still need to.");
            }

            // The record says that the secret changed, never what it is.
            await audit.RecordAsync(connection, transaction, new AuditEvent(AuditActions.SubscriptionRotateSecret, StatusCodes.Status200OK)
            {
                ResourceType = AuditResources.Subscription,
                ResourceId = command.Id,
            }, cancellationToken);
            await write.CommitAsync(cancellationToken);

            var row = await SubscriptionRow.FindOwnAsync(connection, command.Id, command.Caller.AgencyId, cancellationToken);
            return new SubscriptionWithSecret(row!.ToView(now), secret);
        }
    }

    public static RouteHandlerBuilder MapRotateSubscriptionSecret(this RouteGroupBuilder group) => group
        .MapPost("/{id:guid}/rotate-secret", async (Guid id, HttpContext context, IMediator mediator) =>
            (await mediator.Send(new Command(Caller.From(context.User), id), context.RequestAborted)).Match(TypedResults.Ok).OrProblem<Problem404, Problem409>())
        .RequireAuthorization(Scopes.SubscriptionsManage)
        .Audited(AuditActions.SubscriptionRotateSecret, AuditResources.Subscription, "id")
        .WithName("RotateSubscriptionSecret")
        .WithSummary("Rotate a subscription's signing secret")
        .WithDescription("Returns the new whsec_ secret once. Every rotated-out secret keeps signing for the overlap its own rotation started " +
            "(requests carry one signature per secret); previousSecretValidUntil is when the last of them stops. " +
            "409 when four rotated-out secrets are still inside their overlap.");
}
