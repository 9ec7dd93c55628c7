using System.Text;
using System.Text.Json;
using Dapper;
using IntelSharing.Api.Infrastructure.Audit;
using IntelSharing.Api.Features.Deliveries;
using IntelSharing.Api.Features.Deliveries.Dispatch;
using IntelSharing.Api.Infrastructure.Delivery;
using IntelSharing.Api.Infrastructure.Json;
using IntelSharing.Api.Infrastructure.Persistence;
using IntelSharing.Api.Infrastructure.Problems;
using IntelSharing.Api.Infrastructure.Security;
using Mediator;

namespace IntelSharing.Api.Features.Subscriptions;

/// <summary>
/// POST /api/v1/subscriptions/{id}/ping — sends a signed test event now and reports what the endpoint answered: its
/// status and latency, never its body. Every failure without an answer (refused by the address policy, unknown name,
/// refused port, TLS failure, timeout) gets the same answer, so a ping cannot map networks or internal names.
/// </summary>
public static class PingSubscription
{
    public sealed record Command(Caller Caller, Guid Id) : ICommand<Result<PingResult>>;

    /// <summary>
    /// What the endpoint answered to the ping: its HTTP status and how long it took. When it could not be reached,
    /// statusCode and durationMs are absent and error says only that, whatever the reason.
    /// </summary>
    public sealed record PingResult(string WebhookId, int? StatusCode, bool Succeeded, long? DurationMs, string? Error);

    private sealed record SecretRow
    {
        public string Url { get; init; } = string.Empty;

        public byte[] Secret { get; init; } = [];

        public byte[]? PreviousSecret { get; init; }

        public DateTimeOffset? PreviousSecretExpiresAt { get; init; }

        public string AllowedPrivateNetworks { get; init; } = string.Empty;

        public string? OlderSecrets { get; init; }
    }

    public sealed class Handler(Database database, SecretProtector protector, WebhookSender sender, TimeProvider time, AuditTrail audit)
        : ICommandHandler<Command, Result<PingResult>>
    {
        public async ValueTask<Result<PingResult>> Handle(Command command, CancellationToken cancellationToken)
        {
            SecretRow? row;
            await using (var connection = await database.OpenAsync(cancellationToken))
            {
                row = await connection.QuerySingleOrDefaultAsync<SecretRow>(new CommandDefinition(
                    """
                    SELECT s.url AS Url, s.secret AS Secret, s.previous_secret AS PreviousSecret, s.previous_secret_expires_at AS PreviousSecretExpiresAt,
                           s.older_secrets AS OlderSecrets, a.allowed_private_networks AS AllowedPrivateNetworks
                    FROM subscriptions s JOIN agencies a ON a.id = s.agency_id
                    WHERE s.id = @id AND s.agency_id = @agencyId AND s.status <> 'deleted'
                    """,
                    new { id = command.Id, agencyId = command.Caller.AgencyId }, cancellationToken: cancellationToken));
            }

            if (row is null)
            {
                return Failure.NotFound("subscription");
            }

            var now = time.GetUtcNow();
            var secrets = RetiredSecrets.SigningKeys(protector, row.Secret, row.PreviousSecret, row.PreviousSecretExpiresAt, row.OlderSecrets, now);

            var messageId = $"msg_ping_{Guid.CreateVersion7(now):N}";
            var data = JsonSerializer.Serialize(new PingNotice(command.Id, PingNotice.Reachable), JsonDefaults.Options);
            var body = Encoding.UTF8.GetBytes(Outbox.Payload(EventTypes.Ping, now, data));
            var outcome = await sender.SendAsync(new Uri(row.Url), messageId, body, secrets, AllowedNetworks.FromColumn(row.AllowedPrivateNetworks), cancellationToken);
            audit.Annotate(detail: new { webhookId = messageId, partnerStatus = outcome.StatusCode, outcome.Succeeded });
            return outcome.StatusCode is { } status
                ? new PingResult(messageId, status, outcome.Succeeded, (long)outcome.Duration.TotalMilliseconds, null)
                : new PingResult(messageId, null, false, null, WebhookSender.NotReachable);
        }
    }

    public static RouteHandlerBuilder MapPingSubscription(this RouteGroupBuilder group) => group
        .MapPost("/{id:guid}/ping", async (Guid id, HttpContext context, IMediator mediator) =>
            (await mediator.Send(new Command(Caller.From(context.User), id), context.RequestAborted)).Match(TypedResults.Ok).OrProblem<Problem404>())
        .RequireAuthorization(Scopes.SubscriptionsManage)
        .Audited(AuditActions.SubscriptionPing, AuditResources.Subscription, "id")
        .WithName("PingSubscription")
        .WithSummary("Send a signed test event to the endpoint")
        .WithDescription("Sends a 'ping' event signed like every delivery, waits for the answer (up to the attempt timeout) and reports its status and latency, " +
            "not its body. Every failure to get an answer (address not allowed, unknown name, refused connection, TLS failure, timeout) is reported the same way: " +
            "'The endpoint could not be reached.' Nothing is queued or retried.");
}
