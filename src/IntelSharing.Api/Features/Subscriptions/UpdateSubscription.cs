using Dapper;
using FluentValidation;
using IntelSharing.Api.Infrastructure.Audit;
using IntelSharing.Api.Infrastructure.Delivery;
using IntelSharing.Api.Infrastructure.Persistence;
using IntelSharing.Api.Infrastructure.Problems;
using IntelSharing.Api.Infrastructure.Security;
using IntelSharing.Api.Infrastructure.Time;
using Mediator;
using Microsoft.AspNetCore.Mvc;

namespace IntelSharing.Api.Features.Subscriptions;

/// <summary>PUT /api/v1/subscriptions/{id} — replaces the endpoint URL and filter. The secret is unchanged.</summary>
public static class UpdateSubscription
{
    public sealed record Command(Caller Caller, Guid Id, SubscriptionInput Subscription) : ICommand<Result<SubscriptionView>>;

    public sealed class Validator : AbstractValidator<Command>
    {
        public Validator(OutboundAddressPolicy outbound) =>
            RuleFor(c => c.Subscription).SetValidator(new SubscriptionInputValidator(outbound)).OverridePropertyName(string.Empty);
    }

    public sealed class Handler(Database database, OutboundAddressPolicy outbound, TimeProvider time, AuditTrail audit) : ICommandHandler<Command, Result<SubscriptionView>>
    {
        public async ValueTask<Result<SubscriptionView>> Handle(Command command, CancellationToken cancellationToken)
        {
            var now = time.UtcNowMicros();
            var parameters = new DynamicParameters(SubscriptionInputValidator.ToColumns(command.Subscription));
            parameters.AddDynamicParams(new { id = command.Id, agencyId = command.Caller.AgencyId, now });
            await using var connection = await database.OpenAsync(cancellationToken);
            await using var write = await Database.BeginWriteAsync(connection, cancellationToken);
            var transaction = write.Transaction;
            if (await SubscriptionInputValidator.CheckDestinationAsync(
                    outbound, connection, transaction, command.Caller.AgencyId, command.Subscription.Url!, cancellationToken) is { } refused)
            {
                return refused;
            }

            var updated = await connection.ExecuteAsync(new CommandDefinition(
                """
                UPDATE subscriptions SET url = @Url, authority = @Authority, description = @Description, categories = @Categories,
                       min_severity_rank = @MinSeverityRank, countries = @Countries, include_own_alerts = @IncludeOwnAlerts, event_types = @EventTypes, updated_at = @now
                WHERE id = @id AND agency_id = @agencyId AND status <> 'deleted'
                """,
                parameters, transaction, cancellationToken: cancellationToken));
            if (updated == 0)
            {
                return Failure.NotFound("subscription");
            }

            await audit.RecordAsync(connection, transaction, new AuditEvent(AuditActions.SubscriptionUpdate, StatusCodes.Status200OK)
            {
                ResourceType = AuditResources.Subscription,
                ResourceId = command.Id,
            }, cancellationToken);
            await write.CommitAsync(cancellationToken);

            return (await SubscriptionRow.FindOwnAsync(connection, command.Id, command.Caller.AgencyId, cancellationToken))!.ToView(now);
        }
    }

    public static RouteHandlerBuilder MapUpdateSubscription(this RouteGroupBuilder group) => group
        .MapPut("/{id:guid}", async (Guid id, [FromBody] SubscriptionInput subscription, HttpContext context, IMediator mediator) =>
            (await mediator.Send(new Command(Caller.From(context.User), id, subscription), context.RequestAborted)).Match(TypedResults.Ok).OrProblem<Problem404>())
        .RequireAuthorization(Scopes.SubscriptionsManage)
        .Audited(AuditActions.SubscriptionUpdate, AuditResources.Subscription, "id")
        .WithName("UpdateSubscription")
        .WithSummary("Change a subscription's endpoint or filter")
        .WithDescription("Replaces the endpoint URL and the filter (categories, minimum severity, countries, event types) as a whole; the signing secret stays. The URL is checked like at creation.");
}
