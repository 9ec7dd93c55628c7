using Dapper;
using IntelSharing.Api.Infrastructure.Audit;
using IntelSharing.Api.Infrastructure.Persistence;
using IntelSharing.Api.Infrastructure.Problems;
using IntelSharing.Api.Infrastructure.Security;
using Mediator;

namespace IntelSharing.Api.Features.Subscriptions;

/// <summary>GET /api/v1/subscriptions and GET /api/v1/subscriptions/{id} — an agency's own subscriptions.</summary>
public static class ListSubscriptions
{
    public sealed record Query(Caller Caller) : IQuery<IReadOnlyList<SubscriptionView>>;

    public sealed record GetOne(Caller Caller, Guid Id) : IQuery<Result<SubscriptionView>>;

    public sealed class Handler(Database database, TimeProvider time) : IQueryHandler<Query, IReadOnlyList<SubscriptionView>>, IQueryHandler<GetOne, Result<SubscriptionView>>
    {
        public async ValueTask<IReadOnlyList<SubscriptionView>> Handle(Query query, CancellationToken cancellationToken)
        {
            await using var connection = await database.OpenAsync(cancellationToken);
            var rows = await connection.QueryAsync<SubscriptionRow>(new CommandDefinition(
                $"SELECT {SubscriptionRow.Columns} FROM subscriptions WHERE agency_id = @agencyId AND status <> 'deleted' ORDER BY created_at, id",
                new { agencyId = query.Caller.AgencyId }, cancellationToken: cancellationToken));
            var now = time.GetUtcNow();
            return rows.Select(r => r.ToView(now)).ToList();
        }

        public async ValueTask<Result<SubscriptionView>> Handle(GetOne query, CancellationToken cancellationToken)
        {
            await using var connection = await database.OpenAsync(cancellationToken);
            var row = await SubscriptionRow.FindOwnAsync(connection, query.Id, query.Caller.AgencyId, cancellationToken);
            return row is null ? Failure.NotFound("subscription") : row.ToView(time.GetUtcNow());
        }
    }

    public static RouteHandlerBuilder MapListSubscriptions(this RouteGroupBuilder group) => group
        .MapGet("/", async (HttpContext context, IMediator mediator) =>
            TypedResults.Ok(await mediator.Send(new Query(Caller.From(context.User)), context.RequestAborted)))
        .RequireAuthorization(Scopes.SubscriptionsManage)
        .Audited(AuditActions.SubscriptionList, AuditResources.Subscription)
        .WithName("ListSubscriptions")
        .WithSummary("List your subscriptions")
        .WithDescription("Your agency's subscriptions with their filters and status (active, paused, or disabled after a 410 Gone). Signing secrets are never shown here.")
        .Produces<IReadOnlyList<SubscriptionView>>()
        .ProducesProblem(StatusCodes.Status401Unauthorized)
        .ProducesProblem(StatusCodes.Status403Forbidden);

    public static RouteHandlerBuilder MapGetSubscription(this RouteGroupBuilder group) => group
        .MapGet("/{id:guid}", async (Guid id, HttpContext context, IMediator mediator) =>
            (await mediator.Send(new GetOne(Caller.From(context.User), id), context.RequestAborted)).Match(TypedResults.Ok))
        .RequireAuthorization(Scopes.SubscriptionsManage)
        .Audited(AuditActions.SubscriptionRead, AuditResources.Subscription, "id")
        .WithName("GetSubscription")
        .WithSummary("Read one of your subscriptions")
        .WithDescription("One of your agency's subscriptions. Another agency's subscription answers 404. The signing secret is never shown here; rotate it to get a new one.")
        .Produces<SubscriptionView>()
        .ProducesProblem(StatusCodes.Status401Unauthorized)
        .ProducesProblem(StatusCodes.Status403Forbidden)
        .ProducesProblem(StatusCodes.Status404NotFound);
}
