using System.ComponentModel.DataAnnotations;
using System.Text;
using Dapper;
using FluentValidation;
using IntelSharing.Api.Infrastructure.Audit;
using IntelSharing.Api.Features.Deliveries.Dispatch;
using IntelSharing.Api.Infrastructure.OpenApi;
using IntelSharing.Api.Infrastructure.Persistence;
using IntelSharing.Api.Infrastructure.Problems;
using IntelSharing.Api.Infrastructure.Security;
using IntelSharing.Api.Infrastructure.Time;
using Mediator;
using Microsoft.AspNetCore.Mvc;
using IntelSharing.Api.Infrastructure.Validation;

namespace IntelSharing.Api.Features.Deliveries;

/// <summary>
/// POST /api/v1/deliveries/{id}/replay and POST /api/v1/deliveries/replay — send again. The delivery keeps its
/// id, so the partner sees the same webhook-id and can deduplicate; its attempt history continues.
/// </summary>
public static class ReplayDeliveries
{
    /// <summary>States a delivery may be replayed from: anything not already queued or being sent.</summary>
    public static readonly IReadOnlyList<string> ReplayableStates = [DeliveryStates.Dead, DeliveryStates.Failed, DeliveryStates.Cancelled, DeliveryStates.Delivered];

    public sealed record ReplayOne(Caller Caller, Guid Id) : ICommand<Result<DeliveryView>>;

    /// <summary>Replay every delivery to one subscription created in [from, to) in the given states (default: dead).</summary>
    public sealed record BulkReplayInput
    {
        [Required] public Guid? SubscriptionId { get; init; }

        [Required] public DateTimeOffset? From { get; init; }

        [Required] public DateTimeOffset? To { get; init; }

        /// <summary>The delivery states to replay. Default: ["dead"].</summary>
        [ClosedSet(typeof(ReplayDeliveries), nameof(ReplayableStates))]
        public IReadOnlyList<string>? States { get; init; }
    }

    /// <summary>How many deliveries were queued again, and how many in the range the sharing rules refused (left as they were).</summary>
    public sealed record BulkReplayResult(int Replayed, int Refused);

    public sealed record ReplayMany(Caller Caller, BulkReplayInput Input) : ICommand<Result<BulkReplayResult>>;

    public sealed class BulkValidator : AbstractValidator<ReplayMany>
    {
        public BulkValidator()
        {
            RuleFor(c => c.Input.SubscriptionId).NotNull().OverridePropertyName("subscriptionId");
            RuleFor(c => c.Input.From).NotNull().OverridePropertyName("from");
            RuleFor(c => c.Input.To).NotNull().OverridePropertyName("to");
            RuleFor(c => c.Input).Must(i => i.From < i.To).When(c => c.Input.From is not null && c.Input.To is not null)
                .OverridePropertyName("to").WithMessage("to must be after from.");
            RuleFor(c => c.Input.States).AtMost(ReplayableStates.Count, "states").OverridePropertyName("states");
            When(c => ListRules.IsWithin(c.Input.States, ReplayableStates.Count), () =>
                RuleForEach(c => c.Input.States).Must(s => ReplayableStates.Contains(s)).OverridePropertyName("states")
                    .WithMessage($"'{{PropertyValue}}' cannot be replayed; use {string.Join(", ", ReplayableStates)}."));
        }
    }

    private sealed record StateRow
    {
        public string State { get; init; } = string.Empty;

        public string SubscriptionStatus { get; init; } = string.Empty;

        public string? Refusal { get; init; }

        public int? EventVersion { get; init; }

        public int? CurrentVersion { get; init; }
    }

    /// <summary>The deliveries joined to what <see cref="SendDecision"/> reads: their event, subscription and alert.</summary>
    private const string DecisionJoins =
        " JOIN events e ON e.id = d.event_id JOIN subscriptions s ON s.id = d.subscription_id LEFT JOIN alerts al ON al.id = e.alert_id";

    private static readonly string Refusal = SendDecision.RefusalSql("e", "s", "al");

    public sealed class Handler(Database database, DeliverySignal signal, TimeProvider time, AuditTrail audit)
        : ICommandHandler<ReplayOne, Result<DeliveryView>>, ICommandHandler<ReplayMany, Result<BulkReplayResult>>
    {
        private const int PageSize = 1000;

        public async ValueTask<Result<DeliveryView>> Handle(ReplayOne command, CancellationToken cancellationToken)
        {
            var where = new StringBuilder(" WHERE d.id = @id");
            var parameters = new DynamicParameters(new { id = command.Id });
            DeliveryRow.Scope(where, parameters, command.Caller);
            await using var connection = await database.OpenAsync(cancellationToken);
            var current = await connection.QuerySingleOrDefaultAsync<StateRow>(new CommandDefinition(
                $"SELECT d.state AS State, s.status AS SubscriptionStatus, {Refusal} AS Refusal, e.alert_version AS EventVersion, al.version AS CurrentVersion FROM deliveries d{DecisionJoins}" + where,
                parameters, cancellationToken: cancellationToken));
            if (current is null)
            {
                return Failure.NotFound("delivery");
            }

            if (!ReplayableStates.Contains(current.State))
            {
                return Failure.Conflict($"The delivery is {current.State}: it is already queued or being sent.");
            }

            if (current.SubscriptionStatus is "deleted" or "disabled")
            {
                return Failure.Conflict($"The subscription is {current.SubscriptionStatus}; resume it (or create a new one) before replaying.");
            }

            if (current.Refusal is { } refusal)
            {
                // Said up front so that the ledger keeps what happened (a delivered copy stays delivered); the dispatcher
                // decides again when it sends, which is what guarantees it.
                return new Failure(StatusCodes.Status409Conflict, ProblemTypes.ReplayRefused, "Replay refused by the sharing rules",
                    SendDecision.Explain(refusal, current.EventVersion, current.CurrentVersion));
            }

            var now = time.UtcNowMicros();
            await using var write = await Database.BeginWriteAsync(connection, cancellationToken);
            var transaction = write.Transaction;
            // held = FALSE: a delivery cancelled while it waited held keeps the flag, and would never be claimed; if it must
            // still wait (its subscription paused), the hold sweep holds it again (ADR 48).
            var replayed = await connection.ExecuteAsync(new CommandDefinition(
                $"""
                UPDATE deliveries SET state = @pending, next_attempt_at = @now, claim_token = NULL, lease_until = NULL, held = FALSE, updated_at = @now
                WHERE id = @id AND state IN {SqlLists.In(parameters, "st", ReplayableStates.ToArray())}
                """,
                Merge(parameters, new { pending = DeliveryStates.Pending, now }), transaction, cancellationToken: cancellationToken));
            if (replayed == 0)
            {
                return Failure.Conflict("The delivery changed state while it was being replayed; read it again.");
            }

            await audit.RecordAsync(connection, transaction, new AuditEvent(AuditActions.DeliveryReplay, StatusCodes.Status200OK)
            {
                ResourceType = AuditResources.Delivery,
                ResourceId = command.Id,
                Detail = new { from = current.State },
            }, cancellationToken);
            await write.CommitAsync(cancellationToken);
            signal.Notify();
            var row = await connection.QuerySingleAsync<DeliveryRow>(new CommandDefinition(
                DeliveryRow.Select + " WHERE d.id = @id", new { id = command.Id }, cancellationToken: cancellationToken));
            return row.ToView();
        }

        public async ValueTask<Result<BulkReplayResult>> Handle(ReplayMany command, CancellationToken cancellationToken)
        {
            var input = command.Input;
            audit.Annotate(input.SubscriptionId);
            await using var connection = await database.OpenAsync(cancellationToken);
            var owner = await connection.QuerySingleOrDefaultAsync<Guid?>(new CommandDefinition(
                "SELECT agency_id FROM subscriptions WHERE id = @id AND status NOT IN ('deleted', 'disabled')",
                new { id = input.SubscriptionId }, cancellationToken: cancellationToken));
            if (owner is null || (owner != command.Caller.AgencyId && !command.Caller.Has(Scopes.DeliveriesManage)))
            {
                return Failure.NotFound("active subscription");
            }

            var states = (input.States is { Count: > 0 } ? input.States : [DeliveryStates.Dead]).Distinct().ToArray();
            var total = 0;
            int page;
            do
            {
                // Paged so that replaying a week of dead letters never holds one huge transaction; no fixed cap.
                var parameters = new DynamicParameters(new
                {
                    subscriptionId = input.SubscriptionId,
                    from = input.From,
                    to = input.To,
                    now = time.UtcNowMicros(),
                    pending = DeliveryStates.Pending,
                    take = PageSize,
                });
                var inStates = SqlLists.In(parameters, "st", states);
                page = await connection.ExecuteAsync(new CommandDefinition(
                    $"""
                    UPDATE deliveries SET state = @pending, next_attempt_at = @now, claim_token = NULL, lease_until = NULL, held = FALSE, updated_at = @now
                    WHERE id IN (SELECT d.id FROM deliveries d{DecisionJoins}
                                 WHERE d.subscription_id = @subscriptionId AND d.created_at >= @from AND d.created_at < @to AND d.state IN {inStates}
                                   AND {Refusal} IS NULL
                                 ORDER BY d.created_at, d.id LIMIT @take)
                    """,
                    parameters, cancellationToken: cancellationToken));
                total += page;
                if (page > 0)
                {
                    signal.Notify();
                }
            }
            while (page == PageSize);

            // What the sharing rules refused stays as it was (a delivered copy stays delivered); the count says so.
            var refusedParameters = new DynamicParameters(new { subscriptionId = input.SubscriptionId, from = input.From, to = input.To });
            var refused = await connection.ExecuteScalarAsync<int>(new CommandDefinition(
                $"""
                SELECT COUNT(*) FROM deliveries d{DecisionJoins}
                WHERE d.subscription_id = @subscriptionId AND d.created_at >= @from AND d.created_at < @to
                  AND d.state IN {SqlLists.In(refusedParameters, "st", states)} AND {Refusal} IS NOT NULL
                """,
                refusedParameters, cancellationToken: cancellationToken));

            // Recorded once, after the last page, by the endpoint filter: pages commit one by one (no huge transaction),
            // and the record gives the whole request's count.
            audit.Annotate(input.SubscriptionId, new { replayed = total, refused, states, input.From, input.To });
            return new BulkReplayResult(total, refused);
        }

        private static DynamicParameters Merge(DynamicParameters parameters, object more)
        {
            parameters.AddDynamicParams(more);
            return parameters;
        }
    }

    public static RouteHandlerBuilder MapReplayDelivery(this RouteGroupBuilder group) => group
        .MapPost("/{id:guid}/replay", async (Guid id, HttpContext context, IMediator mediator) =>
            (await mediator.Send(new ReplayOne(Caller.From(context.User), id), context.RequestAborted)).Match(TypedResults.Ok).OrProblem<Problem404, Problem409>())
        .RequireAuthorization(DeliveryPolicies.Ledger)
        .Audited(AuditActions.DeliveryReplay, AuditResources.Delivery, "id")
        .WithName("ReplayDelivery")
        .WithMetadata(new ProblemResponseDescription(StatusCodes.Status409Conflict, $"The sharing rules refuse to send this delivery now: `detail` says why (agency deactivated, no longer in the audience, alert revoked or expired, version superseded) ({ProblemTypes.ReplayRefused}); or it is already queued, or its subscription ended ({ProblemTypes.Conflict})."))
        .WithSummary("Send a delivery again")
        .WithDescription("Queues a dead, failed, cancelled or delivered delivery for an immediate attempt. The webhook-id stays the same. " +
            "What is sent is decided by the sharing rules when it is sent, against the alert as it is then: alert content is never sent to an agency " +
            "that may no longer see the alert, for a revoked or expired alert, or for a version that is no longer current. " +
            "Such a replay is refused with 409 (type urn:intelsharing:problem:replay-refused) saying why, and the delivery is left as it was; " +
            "notices (alert.revoked, alert.expired) and feedback replay normally.");

    public static RouteHandlerBuilder MapBulkReplay(this RouteGroupBuilder group) => group
        .MapPost("/replay", async ([FromBody] BulkReplayInput input, HttpContext context, IMediator mediator) =>
            (await mediator.Send(new ReplayMany(Caller.From(context.User), input), context.RequestAborted)).Match(TypedResults.Ok).OrProblem<Problem404>())
        .RequireAuthorization(DeliveryPolicies.Ledger)
        .Audited(AuditActions.DeliveryBulkReplay, AuditResources.Subscription)
        .WithName("ReplayDeliveries")
        .WithSummary("Send again every delivery to a subscription in a time range")
        .WithDescription("Replays the deliveries to one subscription created in [from, to) in the given states (default: dead). No cap: large ranges are processed in pages. " +
            "Deliveries the sharing rules refuse now (see ReplayDelivery) are left as they were and counted in refused.");
}
