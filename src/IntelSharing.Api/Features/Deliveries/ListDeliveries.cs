using System.Globalization;
using System.Text;
using Dapper;
using FluentValidation;
using IntelSharing.Api.Infrastructure.Audit;
using IntelSharing.Api.Features.Deliveries.Dispatch;
using IntelSharing.Api.Infrastructure.OpenApi;
using IntelSharing.Api.Infrastructure.Persistence;
using IntelSharing.Api.Infrastructure.Problems;
using IntelSharing.Api.Infrastructure.Security;
using IntelSharing.Api.Infrastructure.Validation;
using Mediator;
using Microsoft.AspNetCore.Mvc;

namespace IntelSharing.Api.Features.Deliveries;

/// <summary>
/// GET /api/v1/deliveries?state=&amp;subscription= — the delivery ledger, newest first, in keyset pages.
/// GET /api/v1/alerts/{id}/deliveries — one alert's deliveries, for its originator and operators.
/// </summary>
public static class ListDeliveries
{
    public sealed record Query(Caller Caller, string? State, string? Subscription, Guid? AlertId, string? Cursor, string? Limit) : IQuery<Result<DeliveryPage>>, IPagedQuery
    {
        public string CursorScope => $"deliveries|{State}|{Subscription}|{AlertId}";
    }

    public sealed class Validator : AbstractValidator<Query>
    {
        public Validator(KeysetCursor cursors)
        {
            Include(new PageRules<Query>(cursors));
            RuleFor(q => q.State).Must(s => DeliveryStates.All.Contains(s)).When(q => q.State is not null)
                .WithMessage($"state must be one of {string.Join(", ", DeliveryStates.All)}.");
            RuleFor(q => q.Subscription).Must(s => Guid.TryParse(s, out _)).When(q => q.Subscription is not null)
                .WithMessage("subscription must be a subscription id.");
        }
    }

    public sealed class Handler(Database database, KeysetPaging paging) : IQueryHandler<Query, Result<DeliveryPage>>
    {
        private static readonly KeysetOrder NewestFirst = new(new("d.created_at", KeysetField.At, Descending: true), new("d.id", KeysetField.Id, Descending: true));

        public async ValueTask<Result<DeliveryPage>> Handle(Query query, CancellationToken cancellationToken)
        {
            var where = new StringBuilder(" WHERE 1 = 1");
            var parameters = new DynamicParameters();
            await using var connection = await database.OpenAsync(cancellationToken);

            if (query.AlertId is { } alertId)
            {
                // Originators see their alert's ledger; operators see any. Everyone else: as if it did not exist.
                var originator = await connection.QuerySingleOrDefaultAsync<Guid?>(new CommandDefinition(
                    "SELECT originator_id FROM alerts WHERE id = @alertId", new { alertId }, cancellationToken: cancellationToken));
                if (originator is null || (originator != query.Caller.AgencyId && !query.Caller.Has(Scopes.DeliveriesManage)))
                {
                    return Failure.NotFound("alert");
                }

                where.Append(" AND d.alert_id = @alertId");
                parameters.Add("alertId", alertId);
            }
            else
            {
                DeliveryRow.Scope(where, parameters, query.Caller);
            }

            if (query.State is not null)
            {
                where.Append(" AND d.state = @state");
                parameters.Add("state", query.State);
            }

            if (query.Subscription is not null)
            {
                where.Append(" AND d.subscription_id = @subscriptionId");
                parameters.Add("subscriptionId", Guid.Parse(query.Subscription, CultureInfo.InvariantCulture));
            }

            var sql = new StringBuilder(DeliveryRow.Select).Append(where);
            paging.Append(sql, parameters, query, NewestFirst);
            var rows = (await connection.QueryAsync<DeliveryRow>(new CommandDefinition(sql.ToString(), parameters, cancellationToken: cancellationToken))).AsList();
            var (page, next) = paging.Cut(rows, query, r => new KeysetCursor.Position(r.CreatedAt, r.Id));
            return new DeliveryPage(page.Select(r => r.ToView()).ToList(), next);
        }
    }

    public static RouteHandlerBuilder MapListDeliveries(this RouteGroupBuilder group) => group
        .MapGet("/", async (
            [FromQuery] string? state, [FromQuery] string? subscription, [FromQuery] string? cursor, [FromQuery] string? limit,
            HttpContext context, IMediator mediator) =>
            (await mediator.Send(new Query(Caller.From(context.User), state, subscription, null, cursor, limit), context.RequestAborted)).Match(TypedResults.Ok).OrProblem())
        .RequireAuthorization(DeliveryPolicies.Ledger)
        .Audited(AuditActions.DeliveryList, AuditResources.Delivery)
        .WithMetadata(QueryParameterDocs.Paging)
        .WithName("ListDeliveries")
        .WithSummary("The delivery ledger")
        .WithDescription("Newest first. Operators (deliveries:manage) see every delivery; an agency (subscriptions:manage) sees the deliveries to its own endpoints. " +
            "state=dead lists the dead letters. Pass nextCursor back as cursor, with the same filters.");

    public static RouteHandlerBuilder MapListAlertDeliveries(this RouteGroupBuilder group) => group
        .MapGet("/{id:guid}/deliveries", async (
            Guid id, [FromQuery] string? state, [FromQuery] string? cursor, [FromQuery] string? limit, HttpContext context, IMediator mediator) =>
            (await mediator.Send(new Query(Caller.From(context.User), state, null, id, cursor, limit), context.RequestAborted)).Match(TypedResults.Ok).OrProblem<Problem404>())
        .RequireAuthorization()
        .Audited(AuditActions.AlertDeliveries, AuditResources.Alert, "id")
        .WithMetadata(QueryParameterDocs.Paging)
        .WithName("ListAlertDeliveries")
        .WithSummary("Where an alert went")
        .WithDescription("Every delivery of every version of the alert, with its state. For the originating agency and operators; 404 for anyone else.");
}

/// <summary>Authorization policies of the delivery ledger.</summary>
public static class DeliveryPolicies
{
    /// <summary>Operators (deliveries:manage) or an agency managing its subscriptions (subscriptions:manage).</summary>
    public const string Ledger = "deliveries:manage or subscriptions:manage";
}
