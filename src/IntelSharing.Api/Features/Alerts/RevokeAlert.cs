using System.ComponentModel.DataAnnotations;
using System.Text.Json;
using FluentValidation;
using IntelSharing.Api.Domain;
using IntelSharing.Api.Features.Feed;
using IntelSharing.Api.Infrastructure.Audit;
using IntelSharing.Api.Features.Deliveries.Dispatch;
using IntelSharing.Api.Infrastructure.Http;
using IntelSharing.Api.Infrastructure.Json;
using IntelSharing.Api.Infrastructure.Persistence;
using IntelSharing.Api.Infrastructure.Problems;
using IntelSharing.Api.Infrastructure.Security;
using IntelSharing.Api.Infrastructure.Time;
using Mediator;
using Microsoft.AspNetCore.Mvc;
using IntelSharing.Api.Infrastructure.Validation;

namespace IntelSharing.Api.Features.Alerts;

/// <summary>
/// POST /api/v1/alerts/{id}/revoke — the originator recalls an alert (Directive 2016/680 Art. 7(3)). The alert
/// becomes a tombstone, undelivered copies are cancelled, and every agency that was sent any version is told
/// with <c>alert.revoked</c>.
/// </summary>
public static class RevokeAlert
{
    public sealed record RevokeInput
    {
        /// <summary>Why the alert is recalled; sent to every past recipient. At most 1,000 characters.</summary>
        [Required] public string? Reason { get; init; }
    }

    public sealed record Command(Caller Caller, Guid Id, RevokeInput Input) : ICommand<Result<CommittedVersion>>;

    public sealed class Validator : AbstractValidator<Command>
    {
        public Validator() => RuleFor(c => c.Input.Reason).NotEmpty().MaximumLength(1000)
            .MultiLineText()
            .OverridePropertyName("reason");
    }

    public sealed class Handler(Database database, Outbox outbox, DeliverySignal signal, FeedSignals feed, TimeProvider time, AuditTrail audit) : ICommandHandler<Command, Result<CommittedVersion>>
    {
        public async ValueTask<Result<CommittedVersion>> Handle(Command command, CancellationToken cancellationToken)
        {
            await using var connection = await database.OpenAsync(cancellationToken);
            await using var write = await Database.BeginWriteAsync(connection, cancellationToken);
            var transaction = write.Transaction;
            var current = await AlertStore.LoadAsync(connection, transaction, command.Id, command.Caller.AgencyId, cancellationToken);
            if (current is null || !current.VisibleTo(command.Caller.AgencyId))
            {
                return Failure.NotFound("alert");
            }

            if (current.OriginatorId != command.Caller.AgencyId)
            {
                return Failure.Forbidden("Only the originating agency may revoke an alert.");
            }

            if (current.Status != "active" || !await AlertStore.ClaimVersionAsync(connection, transaction, command.Id, current.Version, cancellationToken))
            {
                return Failure.Conflict($"The alert is already {current.Status}.");
            }

            var now = time.UtcNowMicros();
            var published = JsonSerializer.Deserialize<AlertView>(current.Document, JsonDefaults.Options)!;
            var tombstone = new AlertTombstone
            {
                Id = command.Id,
                Version = current.Version + 1,
                Status = AlertStatus.Revoked,
                Category = published.Category,
                Originator = published.Originator,
                Reason = command.Input.Reason!.Trim(),
                CreatedAt = current.CreatedAt,
                UpdatedAt = now,
            };
            var document = JsonSerializer.Serialize(tombstone, JsonDefaults.Options);

            var recipients = await Outbox.PastRecipientsAsync(connection, transaction, command.Id, cancellationToken);
            await Outbox.CancelUndeliveredAsync(connection, transaction, command.Id, null, "The alert was revoked before this copy was delivered.", now, cancellationToken);
            await AlertStore.WriteTombstoneAsync(connection, transaction, database.Dialect, command.Id, tombstone.Version, AlertStatus.Revoked, document, now, cancellationToken);
            var queued = await outbox.EnqueueAsync(connection, transaction, EventTypes.AlertRevoked, command.Id, tombstone.Version, document, recipients, now, cancellationToken);
            return await AlertStore.CommitVersionAsync(
                connection, write, audit, signal, feed, new AuditEvent(AuditActions.AlertRevoke, StatusCodes.Status200OK) { Detail = new { version = tombstone.Version } },
                command.Id, tombstone.Version, document, queued, cancellationToken);
        }
    }

    public static RouteHandlerBuilder MapRevokeAlert(this RouteGroupBuilder group) => group
        .MapPost("/{id:guid}/revoke", async (Guid id, [FromBody] RevokeInput input, HttpContext context, IMediator mediator) =>
        {
            var result = await mediator.Send(new Command(Caller.From(context.User), id, input), context.RequestAborted);
            return result.Match(revoked => new JsonDocumentResult<AlertTombstone>(revoked.Document) { ETag = ETags.ForVersion(revoked.Version) }).OrProblem<Problem404, Problem409>();
        })
        .RequireAuthorization(Scopes.AlertsWrite)
        .Audited(AuditActions.AlertRevoke, AuditResources.Alert, "id")
        .WithName("RevokeAlert")
        .WithSummary("Recall your alert")
        .WithDescription("Originator only. The alert is replaced by a tombstone (id, category, originator, dates, reason); every agency that was sent any version receives alert.revoked.");
}
