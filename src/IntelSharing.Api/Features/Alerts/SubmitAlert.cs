using System.Data.Common;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;
using Dapper;
using FluentValidation;
using IntelSharing.Api.Features.Feed;
using IntelSharing.Api.Features.Sharing;
using IntelSharing.Api.Infrastructure.Audit;
using IntelSharing.Api.Infrastructure.Delivery;
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
/// POST /api/v1/alerts — an agency publishes an alert. The originator comes from the API key. With an
/// Idempotency-Key, a retry with the same body returns the original response and a different body is a 409;
/// concurrent retries create one alert because the key is claimed inside the alert's own transaction.
/// </summary>
public static partial class SubmitAlert
{
    public sealed record Command(Caller Caller, AlertInput Alert, string? IdempotencyKey) : ICommand<Result<Published>>;

    public sealed record Published(Guid Id, int Version, string Document, bool Replayed);

    public sealed partial class Validator : AbstractValidator<Command>
    {
        public Validator(TimeProvider time)
        {
            RuleFor(c => c.Alert).SetValidator(new AlertInputValidator(time)).OverridePropertyName(string.Empty);
            RuleFor(c => c.IdempotencyKey)
                .Must(k => k!.Length is >= 1 and <= 255 && IdempotencyKeyShape().IsMatch(k))
                .When(c => c.IdempotencyKey is not null)
                .OverridePropertyName("Idempotency-Key")
                .WithMessage("The Idempotency-Key header is 1 to 255 visible ASCII characters.");
        }

        [GeneratedRegex("^[\\x21-\\x7E]+$")]
        private static partial Regex IdempotencyKeyShape();
    }

    private sealed record IdempotencyRow
    {
        public byte[] Hash { get; init; } = null!;

        public Guid? AlertId { get; init; }
    }

    public sealed class Handler(Database database, Outbox outbox, DeliverySignal signal, FeedSignals feed, TimeProvider time, AuditTrail audit) : ICommandHandler<Command, Result<Published>>
    {
        public async ValueTask<Result<Published>> Handle(Command command, CancellationToken cancellationToken)
        {
            var caller = command.Caller;
            var input = command.Alert;
            await using var connection = await database.OpenAsync(cancellationToken);

            var resolved = await AudienceResolver.ResolveAsync(connection, caller.AgencyId, input.Audience, cancellationToken);
            if (resolved.Failure is { } unresolved)
            {
                return unresolved;
            }

            var requestHash = SHA256.HashData(JsonSerializer.SerializeToUtf8Bytes(input, JsonDefaults.Options));
            var now = time.UtcNowMicros();
            var id = Guid.CreateVersion7(now);
            var (originator, audience, groups) = resolved.Value!;
            var view = AlertViews.Build(id, 1, input, originator, audience, now, now) with { AudienceGroups = groups.Count > 0 ? groups : null };
            var document = JsonSerializer.Serialize(view, JsonDefaults.Options);

            // The transaction is two round trips besides its COMMIT: BEGIN with the subscriptions the outbox matches,
            // then every write in one batch. The alert id is known before the key is claimed, so the claim stores it.
            await using var transaction = await Database.BeginWriteAsync(connection, cancellationToken);
            var batch = new SqlBatch();
            if (command.IdempotencyKey is { } key)
            {
                batch.Add(
                    """
                    INSERT INTO idempotency_keys (agency_id, idempotency_key, request_hash, alert_id, created_at)
                    VALUES (@keyAgencyId, @key, @requestHash, @Id, @keyCreatedAt)
                    ON CONFLICT (agency_id, idempotency_key) DO NOTHING
                    """,
                    new { keyAgencyId = caller.AgencyId, key, requestHash, Id = id, keyCreatedAt = now });
            }

            AlertStore.AddVersion(batch, database.Dialect, view, document, isNew: true);
            var queued = await outbox.EnqueueVersionAsync(connection, transaction, batch, view, document, now, cancellationToken);
            audit.AddTo(batch, new AuditEvent(AuditActions.AlertSubmit, StatusCodes.Status201Created) { ResourceType = AuditResources.Alert, ResourceId = id });
            if (command.IdempotencyKey is not null)
            {
                // Last, so it runs after the claim: whose alert the key names now. When another request holds the key,
                // the claim above waited for it to commit and did nothing; everything this batch wrote is rolled back.
                batch.Add("SELECT alert_id FROM idempotency_keys WHERE agency_id = @keyAgencyId AND idempotency_key = @key");
                var owner = await batch.ExecuteScalarAsync<Guid?>(connection, transaction, cancellationToken);
                if (owner != id)
                {
                    await transaction.RollbackAsync(cancellationToken);
                    return await Replay(connection, caller.AgencyId, command.IdempotencyKey, requestHash, cancellationToken);
                }
            }
            else
            {
                await batch.ExecuteAsync(connection, transaction, cancellationToken);
            }

            await transaction.CommitAsync(cancellationToken);
            audit.Committed();
            feed.Written();
            if (queued > 0)
            {
                signal.Notify();
            }

            return new Published(id, 1, document, Replayed: false);
        }

        private static async Task<Result<Published>> Replay(DbConnection connection, Guid agencyId, string key, byte[] requestHash, CancellationToken cancellationToken)
        {
            var original = await connection.QuerySingleAsync<IdempotencyRow>(new CommandDefinition(
                "SELECT request_hash AS Hash, alert_id AS AlertId FROM idempotency_keys WHERE agency_id = @agencyId AND idempotency_key = @key",
                new { agencyId, key }, cancellationToken: cancellationToken));
            if (!CryptographicOperations.FixedTimeEquals(original.Hash, requestHash))
            {
                return new Failure(StatusCodes.Status409Conflict, ProblemTypes.IdempotencyKeyReused, "Idempotency key reused",
                    "This Idempotency-Key was already used with a different request body. Use a new key for a new alert.");
            }

            var document = await connection.QuerySingleAsync<string>(new CommandDefinition(
                "SELECT document FROM alert_versions WHERE alert_id = @alertId AND version = 1",
                new { alertId = original.AlertId }, cancellationToken: cancellationToken));
            return new Published(original.AlertId!.Value, 1, document, Replayed: true);
        }
    }

    public static RouteHandlerBuilder MapSubmitAlert(this RouteGroupBuilder group) => group
        .MapPost("/", async (
            [FromBody] AlertInput alert,
            [FromHeader(Name = "Idempotency-Key")] string? idempotencyKey,
            HttpContext context,
            IMediator mediator) =>
        {
            var result = await mediator.Send(new Command(Caller.From(context.User), alert, idempotencyKey), context.RequestAborted);
            return result.Match(published => new JsonDocumentResult(published.Document, StatusCodes.Status201Created)
            {
                Location = $"/api/v1/alerts/{published.Id}",
                ETag = ETags.ForVersion(published.Version),
                Headers = published.Replayed ? new Dictionary<string, string> { ["Idempotent-Replayed"] = "true" } : null,
            });
        })
        .RequireAuthorization(Scopes.AlertsWrite)
        .Audited(AuditActions.AlertSubmit, AuditResources.Alert)
        .WithName("SubmitAlert")
        .WithSummary("Publish an alert")
        .WithDescription("Validates, stores and shares a migrant-smuggling or cyber-incident alert. The originator is the agency of the API key. " +
            "Send an Idempotency-Key to make retries safe: the same key with the same body returns the original 201; with a different body, 409.")
        .Accepts<AlertInput>("application/json")
        .Produces<AlertView>(StatusCodes.Status201Created)
        .ProducesValidationProblem()
        .ProducesProblem(StatusCodes.Status401Unauthorized)
        .ProducesProblem(StatusCodes.Status403Forbidden)
        .ProducesProblem(StatusCodes.Status409Conflict)
        .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
        .ProducesProblem(StatusCodes.Status415UnsupportedMediaType);
}
