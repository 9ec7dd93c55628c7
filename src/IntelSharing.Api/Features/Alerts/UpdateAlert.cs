using System.Text.Json;
using FluentValidation;
using IntelSharing.Api.Features.Feed;
using IntelSharing.Api.Features.Sharing;
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

namespace IntelSharing.Api.Features.Alerts;

/// <summary>
/// PUT /api/v1/alerts/{id} with If-Match — the originator publishes a new version. Previous recipients get
/// <c>alert.updated</c>, newly entitled agencies <c>alert.published</c>, and agencies a narrower audience drops
/// get <c>alert.revoked</c> (their undelivered copies are cancelled).
/// </summary>
public static class UpdateAlert
{
    public sealed record Command(Caller Caller, Guid Id, string? IfMatch, AlertInput Alert) : ICommand<Result<CommittedVersion>>;

    public sealed class Validator : AbstractValidator<Command>
    {
        public Validator(TimeProvider time) =>
            RuleFor(c => c.Alert).SetValidator(new AlertInputValidator(time)).OverridePropertyName(string.Empty);
    }

    public sealed class Handler(Database database, Outbox outbox, DeliverySignal signal, FeedSignals feed, TimeProvider time, AuditTrail audit) : ICommandHandler<Command, Result<CommittedVersion>>
    {
        public async ValueTask<Result<CommittedVersion>> Handle(Command command, CancellationToken cancellationToken)
        {
            if (ETags.ParseVersion(command.IfMatch) is not { } expected)
            {
                return new Failure(StatusCodes.Status428PreconditionRequired, ProblemTypes.PreconditionRequired, "Precondition required",
                    "Send the ETag you read as If-Match, so that you do not overwrite a version you have not seen.");
            }

            var input = command.Alert;
            await using var connection = await database.OpenAsync(cancellationToken);
            var resolved = await AudienceResolver.ResolveAsync(connection, command.Caller.AgencyId, input.Audience, cancellationToken);
            if (resolved.Failure is { } unresolved)
            {
                return unresolved;
            }

            await using var write = await Database.BeginWriteAsync(connection, cancellationToken);

            var transaction = write.Transaction;
            var current = await AlertStore.LoadAsync(connection, transaction, command.Id, command.Caller.AgencyId, cancellationToken);
            if (current is null || !current.VisibleTo(command.Caller.AgencyId))
            {
                return Failure.NotFound("alert");
            }

            if (current.OriginatorId != command.Caller.AgencyId)
            {
                return Failure.Forbidden("Only the originating agency may publish a new version of an alert.");
            }

            if (current.Status != "active")
            {
                return Failure.Conflict($"The alert is {current.Status}; it can no longer change.");
            }

            if (current.Category != WireNames.Of(input.Category!.Value))
            {
                return Failure.Invalid("category", $"An alert keeps its category; this one is {current.Category}. Submit a new alert instead.");
            }

            if (ETags.IsWeak(command.IfMatch))
            {
                return Failure.PreconditionFailed(
                    $"A weak ETag never matches If-Match (RFC 9110, section 13.1.1). Send the ETag as you read it: the alert is at version {current.Version} (ETag {ETags.ForVersion(current.Version)}).");
            }

            if (expected != current.Version || !await AlertStore.ClaimVersionAsync(connection, transaction, command.Id, expected, cancellationToken))
            {
                return Failure.PreconditionFailed($"The alert is at version {current.Version} (ETag {ETags.ForVersion(current.Version)}); read it again before changing it.");
            }

            var now = time.UtcNowMicros();
            var (originator, audience, groups) = resolved.Value!;
            var view = AlertViews.Build(command.Id, current.Version + 1, input, originator, audience, current.CreatedAt, now)
                with { AudienceGroups = groups.Count > 0 ? groups : null };
            var document = JsonSerializer.Serialize(view, JsonDefaults.Options);
            await AlertStore.InsertVersionAsync(connection, transaction, database.Dialect, view, document, isNew: false, cancellationToken);
            var queued = await outbox.EnqueueVersionAsync(connection, transaction, view, document, now, cancellationToken);
            return await AlertStore.CommitVersionAsync(
                connection, write, audit, signal, feed, new AuditEvent(AuditActions.AlertUpdate, StatusCodes.Status200OK) { Detail = new { version = view.Version } },
                command.Id, view.Version, document, queued, cancellationToken);
        }
    }

    public static RouteHandlerBuilder MapUpdateAlert(this RouteGroupBuilder group) => group
        .MapPut("/{id:guid}", async (Guid id, [FromBody] AlertInput alert, [FromHeader(Name = "If-Match")] string? ifMatch, HttpContext context, IMediator mediator) =>
        {
            var result = await mediator.Send(new Command(Caller.From(context.User), id, ifMatch, alert), context.RequestAborted);
            return result.Match(published => new JsonDocumentResult<AlertView>(published.Document) { ETag = ETags.ForVersion(published.Version) }).OrProblem<Problem404, Problem409, Problem412, Problem428>();
        })
        .RequireAuthorization(Scopes.AlertsWrite)
        .Audited(AuditActions.AlertUpdate, AuditResources.Alert, "id")
        .WithName("UpdateAlert")
        .WithSummary("Publish a new version of your alert")
        .WithDescription("Full replacement, originator only, with the ETag you read in If-Match (428 without it, 412 when it is stale or weak: " +
            "W/\"1\" never matches If-Match, as RFC 9110 says). " +
            "Agencies that received an earlier version get alert.updated; agencies a narrower audience drops get alert.revoked.")
        .Accepts<AlertInput>("application/json");
}
