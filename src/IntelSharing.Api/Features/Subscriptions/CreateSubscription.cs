using Dapper;
using FluentValidation;
using IntelSharing.Api.Infrastructure.Audit;
using IntelSharing.Api.Features.Deliveries.Dispatch;
using IntelSharing.Api.Infrastructure.Delivery;
using IntelSharing.Api.Infrastructure.OpenApi;
using IntelSharing.Api.Infrastructure.Persistence;
using IntelSharing.Api.Infrastructure.Problems;
using IntelSharing.Api.Infrastructure.Security;
using IntelSharing.Api.Infrastructure.Time;
using Mediator;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace IntelSharing.Api.Features.Subscriptions;

/// <summary>POST /api/v1/subscriptions — an agency registers an endpoint; the signing secret is in the response, once.</summary>
public static class CreateSubscription
{
    public sealed record Command(Caller Caller, SubscriptionInput Subscription) : ICommand<Result<SubscriptionWithSecret>>;

    public sealed class Validator : AbstractValidator<Command>
    {
        public Validator(OutboundAddressPolicy outbound) =>
            RuleFor(c => c.Subscription).SetValidator(new SubscriptionInputValidator(outbound)).OverridePropertyName(string.Empty);
    }

    public sealed class Handler(
        Database database, OutboundAddressPolicy outbound, SecretProtector protector, TimeProvider time, AuditTrail audit, IOptions<DeliveryOptions> options)
        : ICommandHandler<Command, Result<SubscriptionWithSecret>>
    {
        public async ValueTask<Result<SubscriptionWithSecret>> Handle(Command command, CancellationToken cancellationToken)
        {
            var now = time.UtcNowMicros();
            var id = Guid.CreateVersion7(now);
            var secret = WebhookSigner.GenerateSecret();
            var parameters = new DynamicParameters(SubscriptionInputValidator.ToColumns(command.Subscription));
            parameters.AddDynamicParams(new { id, agencyId = command.Caller.AgencyId, secret = protector.Protect(secret), now });

            await using var connection = await database.OpenAsync(cancellationToken);
            await using var write = await Database.BeginWriteAsync(connection, cancellationToken);
            var transaction = write.Transaction;
            if (await SubscriptionInputValidator.CheckDestinationAsync(
                    outbound, connection, transaction, command.Caller.AgencyId, command.Subscription.Url!, cancellationToken) is { } refused)
            {
                return refused;
            }

            // Each subscription can hold a share of the dispatcher's workers, so an agency's count is capped. Race-safe: on
            // PostgreSQL the agency's row is locked first, so a parallel create by the same agency waits here until this
            // transaction ends, and its count (a new snapshot under READ COMMITTED) then includes this row. SQLite's write
            // transaction (BEGIN IMMEDIATE) already admits one writer at a time.
            await connection.ExecuteAsync(new CommandDefinition(
                $"SELECT id FROM agencies WHERE id = @agencyId {database.Dialect.ForUpdate}",
                new { agencyId = command.Caller.AgencyId }, transaction, cancellationToken: cancellationToken));
            var existing = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
                "SELECT COUNT(*) FROM subscriptions WHERE agency_id = @agencyId AND status <> 'deleted'",
                new { agencyId = command.Caller.AgencyId }, transaction, cancellationToken: cancellationToken));
            var limit = options.Value.MaxSubscriptionsPerAgency;
            if (existing >= limit)
            {
                return LimitReached(limit);
            }

            await connection.ExecuteAsync(new CommandDefinition(
                """
                INSERT INTO subscriptions (id, agency_id, url, authority, description, categories, min_severity_rank, countries,
                                           include_own_alerts, event_types, status, secret, created_at, updated_at)
                VALUES (@id, @agencyId, @Url, @Authority, @Description, @Categories, @MinSeverityRank, @Countries,
                        @IncludeOwnAlerts, @EventTypes, 'active', @secret, @now, @now)
                """,
                parameters, transaction, cancellationToken: cancellationToken));
            await audit.RecordAsync(connection, transaction, new AuditEvent(AuditActions.SubscriptionCreate, StatusCodes.Status201Created)
            {
                ResourceType = AuditResources.Subscription,
                ResourceId = id,
            }, cancellationToken);
            await write.CommitAsync(cancellationToken);
            var row = await SubscriptionRow.FindOwnAsync(connection, id, command.Caller.AgencyId, cancellationToken);
            return new SubscriptionWithSecret(row!.ToView(now), secret);
        }
    }

    private static Failure LimitReached(int limit) => new(
        StatusCodes.Status409Conflict,
        ProblemTypes.SubscriptionLimitReached,
        "Subscription limit reached",
        $"Your agency already has {limit} subscriptions (paused and disabled ones count; deleted ones do not), the most one agency " +
        $"may have (Delivery__MaxSubscriptionsPerAgency = {limit}). Delete one you no longer use, or ask the operators to raise the limit.",
        Extensions: new Dictionary<string, object?> { ["limit"] = limit });

    public static RouteHandlerBuilder MapCreateSubscription(this RouteGroupBuilder group) => group
        .MapPost("/", async ([FromBody] SubscriptionInput subscription, HttpContext context, IMediator mediator) =>
        {
            var result = await mediator.Send(new Command(Caller.From(context.User), subscription), context.RequestAborted);
            return result.Match(created => TypedResults.Created($"/api/v1/subscriptions/{created.Subscription.Id}", created)).OrProblem<Problem409>();
        })
        .RequireAuthorization(Scopes.SubscriptionsManage)
        .Audited(AuditActions.SubscriptionCreate, AuditResources.Subscription)
        .WithName("CreateSubscription")
        .WithMetadata(new ProblemResponseDescription(StatusCodes.Status409Conflict, $"Your agency already has as many subscriptions as one agency may have (Delivery__MaxSubscriptionsPerAgency, 10 by default); `limit` gives it and nothing was stored ({ProblemTypes.SubscriptionLimitReached})."))
        .WithSummary("Subscribe an endpoint to alerts")
        .WithDescription("Registers an HTTPS endpoint with a filter. Every alert your agency is entitled to and that matches the filter is delivered " +
            "as a Standard Webhooks request signed with the returned whsec_ secret. The secret is shown only in this response. " +
            "An agency may have at most Delivery__MaxSubscriptionsPerAgency subscriptions (10 unless the operators changed it; " +
            "paused and disabled ones count, deleted ones do not); one more is refused with 409 " +
            "urn:intelsharing:problem:subscription-limit-reached, whose `limit` member gives the limit.");
}
