using System.Text;
using Dapper;
using FluentValidation;
using IntelSharing.Api.Infrastructure.Audit;
using IntelSharing.Api.Infrastructure.OpenApi;
using IntelSharing.Api.Infrastructure.Persistence;
using IntelSharing.Api.Infrastructure.Problems;
using IntelSharing.Api.Infrastructure.Security;
using IntelSharing.Api.Infrastructure.Validation;
using Mediator;
using Microsoft.AspNetCore.Mvc;

namespace IntelSharing.Api.Features.Subscriptions;

/// <summary>GET /api/v1/subscriptions and GET /api/v1/subscriptions/{id} — an agency's own subscriptions, oldest first, in keyset pages.</summary>
public static class ListSubscriptions
{
    public sealed record Query(Caller Caller, string? Cursor, string? Limit) : IQuery<SubscriptionPage>, IPagedQuery
    {
        public string CursorScope => $"subscriptions|{Caller.AgencyId}";
    }

    public sealed record GetOne(Caller Caller, Guid Id) : IQuery<Result<SubscriptionView>>;

    public sealed class Validator : AbstractValidator<Query>
    {
        public Validator(KeysetCursor cursors) => Include(new PageRules<Query>(cursors));
    }

    public sealed class Handler(Database database, KeysetPaging paging, TimeProvider time) : IQueryHandler<Query, SubscriptionPage>, IQueryHandler<GetOne, Result<SubscriptionView>>
    {
        private static readonly KeysetOrder OldestFirst = new(new("created_at", KeysetField.At), new("id", KeysetField.Id));

        public async ValueTask<SubscriptionPage> Handle(Query query, CancellationToken cancellationToken)
        {
            var sql = new StringBuilder($"SELECT {SubscriptionRow.Columns} FROM subscriptions WHERE agency_id = @agencyId AND status <> 'deleted'");
            var parameters = new DynamicParameters(new { agencyId = query.Caller.AgencyId });
            paging.Append(sql, parameters, query, OldestFirst);
            await using var connection = await database.OpenAsync(cancellationToken);
            var rows = (await connection.QueryAsync<SubscriptionRow>(new CommandDefinition(sql.ToString(), parameters, cancellationToken: cancellationToken))).AsList();
            var (page, next) = paging.Cut(rows, query, r => new KeysetCursor.Position(r.CreatedAt, r.Id));
            var now = time.GetUtcNow();
            return new SubscriptionPage(page.Select(r => r.ToView(now)).ToList(), next);
        }

        public async ValueTask<Result<SubscriptionView>> Handle(GetOne query, CancellationToken cancellationToken)
        {
            await using var connection = await database.OpenAsync(cancellationToken);
            var row = await SubscriptionRow.FindOwnAsync(connection, query.Id, query.Caller.AgencyId, cancellationToken);
            return row is null ? Failure.NotFound("subscription") : row.ToView(time.GetUtcNow());
        }
    }

    public static RouteHandlerBuilder MapListSubscriptions(this RouteGroupBuilder group) => group
        .MapGet("/", async ([FromQuery] string? cursor, [FromQuery] string? limit, HttpContext context, IMediator mediator) =>
            TypedResults.Ok(await mediator.Send(new Query(Caller.From(context.User), cursor, limit), context.RequestAborted)))
        .RequireAuthorization(Scopes.SubscriptionsManage)
        .Audited(AuditActions.SubscriptionList, AuditResources.Subscription)
        .WithMetadata(QueryParameterDocs.Paging)
        .WithName("ListSubscriptions")
        .WithSummary("List your subscriptions")
        .WithDescription($"Your agency's subscriptions with their filters and status (active, paused, or disabled after a 410 Gone). Signing secrets are never shown here. Oldest first, in keyset pages: limit 1 to {KeysetPaging.MaxLimit} (default {KeysetPaging.DefaultLimit}); pass nextCursor back as cursor.");

    public static RouteHandlerBuilder MapGetSubscription(this RouteGroupBuilder group) => group
        .MapGet("/{id:guid}", async (Guid id, HttpContext context, IMediator mediator) =>
            (await mediator.Send(new GetOne(Caller.From(context.User), id), context.RequestAborted)).Match(TypedResults.Ok).OrProblem<Problem404>())
        .RequireAuthorization(Scopes.SubscriptionsManage)
        .Audited(AuditActions.SubscriptionRead, AuditResources.Subscription, "id")
        .WithName("GetSubscription")
        .WithSummary("Read one of your subscriptions")
        .WithDescription("One of your agency's subscriptions. Another agency's subscription answers 404. The signing secret is never shown here; rotate it to get a new one.");
}
