using System.Text;
using Dapper;
using IntelSharing.Api.Infrastructure.Audit;
using IntelSharing.Api.Infrastructure.Persistence;
using IntelSharing.Api.Infrastructure.Problems;
using IntelSharing.Api.Infrastructure.Security;
using Mediator;

namespace IntelSharing.Api.Features.Deliveries;

/// <summary>GET /api/v1/deliveries/{id} — one delivery with every attempt: time, status, latency, error, response excerpt.</summary>
public static class GetDelivery
{
    public sealed record Query(Caller Caller, Guid Id) : IQuery<Result<DeliveryDetail>>;

    private sealed record AttemptRow
    {
        public int Attempt { get; init; }

        public DateTimeOffset StartedAt { get; init; }

        public int DurationMs { get; init; }

        public int? StatusCode { get; init; }

        public string? Error { get; init; }

        public string? ResponseExcerpt { get; init; }
    }

    public sealed class Handler(Database database) : IQueryHandler<Query, Result<DeliveryDetail>>
    {
        public async ValueTask<Result<DeliveryDetail>> Handle(Query query, CancellationToken cancellationToken)
        {
            var where = new StringBuilder(" WHERE d.id = @id");
            var parameters = new DynamicParameters(new { id = query.Id });
            DeliveryRow.Scope(where, parameters, query.Caller);
            await using var connection = await database.OpenAsync(cancellationToken);
            var row = await connection.QuerySingleOrDefaultAsync<DeliveryRow>(new CommandDefinition(
                DeliveryRow.Select + where, parameters, cancellationToken: cancellationToken));
            if (row is null)
            {
                return Failure.NotFound("delivery");
            }

            var attempts = await connection.QueryAsync<AttemptRow>(new CommandDefinition(
                """
                SELECT attempt AS Attempt, started_at AS StartedAt, duration_ms AS DurationMs, status_code AS StatusCode,
                       error AS Error, response_excerpt AS ResponseExcerpt
                FROM delivery_attempts WHERE delivery_id = @id ORDER BY attempt
                """,
                new { id = query.Id }, cancellationToken: cancellationToken));
            return new DeliveryDetail(row.ToView(), attempts.Select(a => new DeliveryAttemptView(a.Attempt, a.StartedAt, a.DurationMs, a.StatusCode, a.Error, a.ResponseExcerpt)).ToList());
        }
    }

    public static RouteHandlerBuilder MapGetDelivery(this RouteGroupBuilder group) => group
        .MapGet("/{id:guid}", async (Guid id, HttpContext context, IMediator mediator) =>
            (await mediator.Send(new Query(Caller.From(context.User), id), context.RequestAborted)).Match(TypedResults.Ok).OrProblem<Problem404>())
        .RequireAuthorization(DeliveryPolicies.Ledger)
        .Audited(AuditActions.DeliveryRead, AuditResources.Delivery, "id")
        .WithName("GetDelivery")
        .WithSummary("Inspect a delivery and its attempts")
        .WithDescription("One delivery with every attempt: when, the partner's status, latency, error and the start of its answer. Operators see every delivery; an agency the deliveries to its own endpoints.");
}
