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

namespace IntelSharing.Api.Features.Alerts;

/// <summary>
/// POST /api/v1/alerts/{id}/share — widen the audience of an amber, amber+strict or red alert. Only the originator
/// may pass an alert on; for an H2 alert ("not to be passed on without the originator's consent") anyone else gets
/// a 403 that names the handling code. The widened audience is a new version: new agencies get alert.published.
/// </summary>
public static class ShareAlert
{
    public sealed record ShareInput
    {
        /// <summary>Agencies to add to the audience.</summary>
        [Required] public IReadOnlyList<Guid>? Agencies { get; init; }
    }

    public sealed record Command(Caller Caller, Guid Id, ShareInput Input) : ICommand<Result<CommittedVersion>>;

    public sealed class Validator : AbstractValidator<Command>
    {
        public Validator() =>
            RuleFor(c => c.Input.Agencies).NotEmpty().Must(a => a is null || a.Count <= AlertInputValidator.MaxAudience).OverridePropertyName("agencies")
                .WithMessage("Name between 1 and 500 agencies to add.");
    }

    public sealed class Handler(Database database, Outbox outbox, DeliverySignal signal, FeedSignals feed, TimeProvider time, AuditTrail audit) : ICommandHandler<Command, Result<CommittedVersion>>
    {
        public async ValueTask<Result<CommittedVersion>> Handle(Command command, CancellationToken cancellationToken)
        {
            await using var connection = await database.OpenAsync(cancellationToken);
            var added = command.Input.Agencies!.Distinct().ToList();
            var agencies = await AlertStore.ActiveAgenciesAsync(connection, added, cancellationToken);
            for (var i = 0; i < command.Input.Agencies!.Count; i++)
            {
                if (!agencies.ContainsKey(command.Input.Agencies[i]))
                {
                    return Failure.Invalid($"agencies[{i}]", $"No active agency has the id {command.Input.Agencies[i]}.");
                }
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
                return current.HandlingCode == "H2"
                    ? Failure.Forbidden("Handling code H2: this alert may not be passed on without the originator's consent. Ask the originating agency to share it.")
                    : Failure.Forbidden("Only the originating agency may widen an alert's audience.");
            }

            if (current.Status != "active")
            {
                return Failure.Conflict($"The alert is {current.Status}; it can no longer be shared.");
            }

            var view = JsonSerializer.Deserialize<AlertView>(current.Document, JsonDefaults.Options)!;
            if (view.Tlp is Tlp.Clear or Tlp.Green || (view.Tlp == Tlp.Amber && view.Audience.Count == 0))
            {
                return Failure.Conflict("The alert already goes to every partner agency.");
            }

            var audience = view.Audience.Concat(added.Where(a => view.Audience.All(x => x.Id != a)).Select(a => agencies[a])).ToList();
            if (audience.Count == view.Audience.Count)
            {
                return Failure.Conflict("Every agency named is already in the audience.");
            }

            if (!await AlertStore.ClaimVersionAsync(connection, transaction, command.Id, current.Version, cancellationToken))
            {
                return Failure.Conflict("The alert changed while it was being shared; try again.");
            }

            var now = time.UtcNowMicros();
            var widened = view with { Version = current.Version + 1, Audience = audience, UpdatedAt = now };
            var document = JsonSerializer.Serialize(widened, JsonDefaults.Options);
            await AlertStore.InsertVersionAsync(connection, transaction, database.Dialect, widened, document, isNew: false, cancellationToken);
            var queued = await outbox.EnqueueVersionAsync(connection, transaction, widened, document, now, cancellationToken);
            return await AlertStore.CommitVersionAsync(
                connection, write, audit, signal, feed, new AuditEvent(AuditActions.AlertShare, StatusCodes.Status200OK) { Detail = new { version = widened.Version, added = audience.Skip(view.Audience.Count).Select(a => a.Id) } },
                command.Id, widened.Version, document, queued, cancellationToken);
        }
    }

    public static RouteHandlerBuilder MapShareAlert(this RouteGroupBuilder group) => group
        .MapPost("/{id:guid}/share", async (Guid id, [FromBody] ShareInput input, HttpContext context, IMediator mediator) =>
        {
            var result = await mediator.Send(new Command(Caller.From(context.User), id, input), context.RequestAborted);
            return result.Match(shared => new JsonDocumentResult<AlertView>(shared.Document) { ETag = ETags.ForVersion(shared.Version) }).OrProblem<Problem404, Problem409>();
        })
        .RequireAuthorization(Scopes.AlertsWrite)
        .Audited(AuditActions.AlertShare, AuditResources.Alert, "id")
        .WithName("ShareAlert")
        .WithSummary("Widen your alert's audience")
        .WithDescription("Originator only; for H2 alerts every other caller gets 403 naming the handling code. Publishes a new version; the added agencies receive alert.published.");
}
