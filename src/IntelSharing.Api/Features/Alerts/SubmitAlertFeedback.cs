using System.Text.Json;
using Dapper;
using FluentValidation;
using IntelSharing.Api.Domain;
using IntelSharing.Api.Features.Feed;
using IntelSharing.Api.Infrastructure.Audit;
using IntelSharing.Api.Features.Deliveries.Dispatch;
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
/// POST /api/v1/alerts/{id}/feedback — an entitled recipient answers (received, hit, actioned, false_positive);
/// the originator's subscriptions receive it as <c>alert.feedback</c> (<see cref="ListAlertFeedback"/> reads them back).
/// </summary>
public static class SubmitAlertFeedback
{
    public sealed record Command(Caller Caller, Guid AlertId, FeedbackInput Input) : ICommand<Result<FeedbackView>>;

    public sealed class Validator : AbstractValidator<Command>
    {
        public Validator()
        {
            RuleFor(c => c.Input.Kind).NotNull().OverridePropertyName("kind")
                .WithMessage($"kind is required: {string.Join(", ", WireNames.All<FeedbackKind>())}.");
            RuleFor(c => c.Input.Note).MaximumLength(2000).MultiLineText().OverridePropertyName("note");
        }
    }

    public sealed class Handler(Database database, Outbox outbox, DeliverySignal signal, FeedSignals feed, TimeProvider time, AuditTrail audit)
        : ICommandHandler<Command, Result<FeedbackView>>
    {
        public async ValueTask<Result<FeedbackView>> Handle(Command command, CancellationToken cancellationToken)
        {
            await using var connection = await database.OpenAsync(cancellationToken);
            await using var write = await Database.BeginWriteAsync(connection, cancellationToken);
            var transaction = write.Transaction;
            var current = await AlertStore.LoadAsync(connection, transaction, command.AlertId, command.Caller.AgencyId, cancellationToken);
            if (current is null || !current.VisibleTo(command.Caller.AgencyId))
            {
                return Failure.NotFound("alert");
            }

            if (current.OriginatorId == command.Caller.AgencyId)
            {
                return Failure.Forbidden("Feedback is the recipients' answer to the originator; the originating agency updates its alert instead.");
            }

            // A revoked alert was recalled and an expired one purged to a tombstone: neither is there to act on any more.
            if (current.Status != "active")
            {
                return Failure.Conflict($"The alert is {current.Status}; it takes no more feedback.");
            }

            var agency = (await AlertStore.ActiveAgenciesAsync(connection, [command.Caller.AgencyId], cancellationToken))[command.Caller.AgencyId];
            var now = time.UtcNowMicros();
            var view = new FeedbackView
            {
                Id = Guid.CreateVersion7(now),
                AlertId = command.AlertId,
                AlertVersion = current.Version,
                Agency = agency,
                Kind = command.Input.Kind!.Value,
                Note = command.Input.Note,
                CreatedAt = now,
            };
            await connection.ExecuteAsync(new CommandDefinition(
                """
                INSERT INTO alert_feedback (id, alert_id, alert_version, agency_id, kind, note, created_at)
                VALUES (@Id, @AlertId, @AlertVersion, @agencyId, @kind, @Note, @CreatedAt)
                """,
                new { view.Id, view.AlertId, view.AlertVersion, agencyId = agency.Id, kind = WireNames.Of(view.Kind), view.Note, view.CreatedAt },
                transaction, cancellationToken: cancellationToken));

            var originatorSubscriptions = (await connection.QueryAsync<Guid>(new CommandDefinition(
                $"SELECT id FROM subscriptions WHERE agency_id = @originator AND status IN {Outbox.QueuingStatuses}",
                new { originator = current.OriginatorId }, transaction, cancellationToken: cancellationToken)))
                .Select(id => (id, current.OriginatorId)).ToList();
            var queued = await outbox.EnqueueAsync(connection, transaction, EventTypes.AlertFeedback, command.AlertId, current.Version,
                JsonSerializer.Serialize(view, JsonDefaults.Options), originatorSubscriptions, now, cancellationToken);
            await audit.RecordAsync(connection, transaction, new AuditEvent(AuditActions.AlertFeedback, StatusCodes.Status201Created)
            {
                ResourceType = AuditResources.Alert,
                ResourceId = command.AlertId,
                Detail = new { feedbackId = view.Id, kind = WireNames.Of(view.Kind) },
            }, cancellationToken);
            await write.CommitAsync(cancellationToken);
            feed.Written();
            if (queued > 0)
            {
                signal.Notify();
            }

            return view;
        }
    }

    public static RouteHandlerBuilder MapSubmitFeedback(this RouteGroupBuilder group) => group
        .MapPost("/{id:guid}/feedback", async (Guid id, [FromBody] FeedbackInput input, HttpContext context, IMediator mediator) =>
            (await mediator.Send(new Command(Caller.From(context.User), id, input), context.RequestAborted))
                .Match(view => TypedResults.Created($"/api/v1/alerts/{id}/feedback/{view.Id}", view)).OrProblem<Problem404, Problem409>())
        .RequireAuthorization(Scopes.AlertsRead)
        .Audited(AuditActions.AlertFeedback, AuditResources.Alert, "id")
        .WithName("SubmitFeedback")
        .WithSummary("Answer an alert you received")
        .WithDescription("received, hit (we found it too), actioned or false_positive, with an optional note. Delivered to the originator's subscriptions as alert.feedback. " +
            "A revoked or expired alert takes no feedback (409).");
}
