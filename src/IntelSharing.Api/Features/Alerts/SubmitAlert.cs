using System.Data.Common;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;
using Dapper;
using FluentValidation;
using IntelSharing.Api.Features.Feed;
using IntelSharing.Api.Features.Sharing;
using IntelSharing.Api.Infrastructure.Audit;
using IntelSharing.Api.Features.Deliveries.Dispatch;
using IntelSharing.Api.Infrastructure.Http;
using IntelSharing.Api.Infrastructure.Json;
using IntelSharing.Api.Infrastructure.Observability;
using IntelSharing.Api.Infrastructure.OpenApi;
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
    public sealed record Command(Caller Caller, AlertInput Alert, string? IdempotencyKey) : ICommand<Result<CommittedVersion>>;

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

    /// <summary>One submission, ready to store: what a commit group writes for it.</summary>
    /// <summary>One submission handed to the commit group; <c>TraceParent</c> is the request's trace, carried to its events because the group writes them on its own loop.</summary>
    public sealed record Submission(AlertView View, string Document, string? IdempotencyKey, byte[] RequestHash, AuditRecord Audit, string? TraceParent);

    /// <summary>What the commit group did with a submission: stored it (queuing deliveries), or found its key taken.</summary>
    public readonly record struct Stored(bool KeyTaken, int Queued);

    public sealed class Handler(Database database, CommitGroup<Submission, Stored, Commits> commits, DeliverySignal signal, FeedSignals feed, TimeProvider time, AuditTrail audit) : ICommandHandler<Command, Result<CommittedVersion>>
    {
        public async ValueTask<Result<CommittedVersion>> Handle(Command command, CancellationToken cancellationToken)
        {
            var caller = command.Caller;
            var input = command.Alert;
            Result<AudienceResolver.Resolution> resolved;
            await using (var connection = await database.OpenAsync(cancellationToken))
            {
                // The connection goes back to the pool before the request waits for its commit group.
                resolved = await AudienceResolver.ResolveAsync(connection, caller.AgencyId, input.Audience, cancellationToken);
            }

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

            // Stored with concurrent submissions in one transaction and one commit (ADR 17); answered once that commit is
            // durable. The audit record travels with the alert, so both are stored or neither.
            var record = audit.Build(new AuditEvent(AuditActions.AlertSubmit, StatusCodes.Status201Created) { ResourceType = AuditResources.Alert, ResourceId = id });
            var stored = await commits.CommitAsync(new Submission(view, document, command.IdempotencyKey, requestHash, record, DeliveryTracing.CurrentTraceParent()));
            if (stored.KeyTaken)
            {
                // Another request (in the same group, on another instance, or long ago) holds the key: answer as it was answered.
                await using var connection = await database.OpenAsync(cancellationToken);
                return await Replay(connection, caller.AgencyId, command.IdempotencyKey!, requestHash, cancellationToken);
            }

            AlertStore.Published(audit, feed, signal, stored.Queued);
            return new CommittedVersion(id, 1, document, Replayed: false);
        }

        private static async Task<Result<CommittedVersion>> Replay(DbConnection connection, Guid agencyId, string key, byte[] requestHash, CancellationToken cancellationToken)
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
            return new CommittedVersion(original.AlertId!.Value, 1, document, Replayed: true);
        }
    }

    /// <summary>
    /// Writes a commit group of submissions (ADR 17) in two round trips before the commit: the subscriptions the outbox
    /// matches, read once for the group, with every Idempotency-Key claimed at once; then every claimed or keyless
    /// alert's writes in one batch. A key that is taken — by an earlier request, by another instance's group still
    /// committing (the claim waits for it), or by an earlier submission in this group — makes only its own submission
    /// a <see cref="Stored.KeyTaken"/>, answered after the commit as a replay or a 409.
    /// </summary>
    public sealed class Commits(Database database, Outbox outbox) : ICommitGroupWriter<Submission, Stored>
    {
        public static string Name => "Submissions";

        public async Task<IReadOnlyList<Stored>> WriteAsync(DbConnection connection, DbTransaction transaction, IReadOnlyList<Submission> items, CancellationToken cancellationToken)
        {
            // One claim per key, in key order: two instances' groups then lock the keys they share in the same order,
            // so they wait for each other instead of deadlocking.
            var claims = items.Where(i => i.IdempotencyKey is not null)
                .DistinctBy(i => (i.View.Originator.Id, i.IdempotencyKey))
                .OrderBy(i => i.View.Originator.Id).ThenBy(i => i.IdempotencyKey, StringComparer.Ordinal)
                .ToList();
            var reads = new SqlBatch().Add(Outbox.QueuingSubscriptionsSql);
            reads.AddRows(
                claims.Count,
                "INSERT INTO idempotency_keys (agency_id, idempotency_key, request_hash, alert_id, created_at)",
                i =>
                {
                    var k = reads.NextName("k");
                    var claim = claims[i];
                    return $"({reads.Parameter(k + "agency", claim.View.Originator.Id)}, {reads.Parameter(k + "key", claim.IdempotencyKey)}, " +
                        $"{reads.Parameter(k + "hash", claim.RequestHash)}, {reads.Parameter(k + "alert", claim.View.Id)}, {reads.Parameter(k + "at", claim.View.CreatedAt)})";
                },
                "ON CONFLICT (agency_id, idempotency_key) DO NOTHING RETURNING alert_id");

            List<Outbox.SubscriptionRow> subscriptions;
            var claimed = new HashSet<Guid>();
            using (var results = await reads.QueryMultipleAsync(connection, transaction, cancellationToken))
            {
                subscriptions = (await results.ReadAsync<Outbox.SubscriptionRow>()).AsList();
                while (!results.IsConsumed)
                {
                    claimed.UnionWith(await results.ReadAsync<Guid>());
                }
            }

            var stored = new Stored[items.Count];
            var taking = new List<int>(items.Count);
            for (var i = 0; i < items.Count; i++)
            {
                var item = items[i];
                if (item.IdempotencyKey is not null && !claimed.Contains(item.View.Id))
                {
                    stored[i] = new Stored(KeyTaken: true, Queued: 0);
                    continue;
                }

                taking.Add(i);
            }

            // The group's alerts as one multi-row statement per table, then their events and deliveries (which
            // reference them), then the audit records: the same rows as one alert at a time, in far fewer statements.
            var writes = new SqlBatch();
            AlertStore.AddFirstVersions(writes, database.Dialect, taking.Select(i => (items[i].View, items[i].Document)).ToList());
            foreach (var i in taking)
            {
                stored[i] = new Stored(KeyTaken: false, outbox.AddFirstVersion(writes, subscriptions, items[i].View, items[i].Document, items[i].View.CreatedAt, items[i].TraceParent));
            }

            var records = taking.Select(i => items[i].Audit).ToList();
            AuditWriter.AddAll(database.Dialect, writes, records);
            await writes.ExecuteAsync(connection, transaction, cancellationToken);
            return stored;
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
            return result.Match(published => new CreatedJsonDocumentResult<AlertView>(published.Document)
            {
                Location = $"/api/v1/alerts/{published.Id}",
                ETag = ETags.ForVersion(published.Version),
                Headers = published.Replayed ? new Dictionary<string, string> { ["Idempotent-Replayed"] = "true" } : null,
            }).OrProblem<Problem409>();
        })
        .RequireAuthorization(Scopes.AlertsWrite)
        .Audited(AuditActions.AlertSubmit, AuditResources.Alert)
        .WithName("SubmitAlert")
        .WithMetadata(
            DocumentedExample.Request("migrantSmuggling", "A smuggling network on the Western Balkans route", ContractExamples.SmugglingAlertInput),
            DocumentedExample.Request("cyberIncident", "A phishing campaign against Serbian eGovernment users", ContractExamples.CyberAlertInput),
            DocumentedExample.Response(StatusCodes.Status201Created, "migrantSmuggling", "Published: indicators normalised, the originator taken from the API key", ContractExamples.SmugglingAlertView),
            DocumentedExample.Response(StatusCodes.Status201Created, "cyberIncident", "Published: the domain lower-cased, the submitted spelling kept", ContractExamples.CyberAlertView),
            DocumentedExample.ProblemResponse(StatusCodes.Status400BadRequest, "invalidAlert", "Every offending field is named", ContractExamples.ValidationProblem),
            DocumentedExample.ProblemResponse(StatusCodes.Status400BadRequest, "malformedBody", "A value that is not one of the allowed ones", ContractExamples.MalformedBodyProblem),
            DocumentedExample.ProblemResponse(StatusCodes.Status401Unauthorized, "revokedKey", "The key no longer works", ContractExamples.UnauthenticatedProblem),
            DocumentedExample.ProblemResponse(StatusCodes.Status403Forbidden, "missingScope", "A read-only key", ContractExamples.ForbiddenProblem),
            DocumentedExample.ProblemResponse(StatusCodes.Status409Conflict, "idempotencyKeyReused", "The same Idempotency-Key with a different body", ContractExamples.IdempotencyKeyReusedProblem))
        .WithMetadata(
            DocumentedHeader.Request("Idempotency-Key",
                "Makes retries safe. The same key with the same body returns the original 201 (with Idempotent-Replayed: true) and creates nothing; " +
                "the same key with a different body is a 409. Keys are scoped to your agency. 1 to 255 visible ASCII characters; a UUID is a good choice.",
                "7c0e3b1a-2f4d-4e0b-9a51-3d2e8f6b1c44",
                new Microsoft.OpenApi.OpenApiSchema { Type = Microsoft.OpenApi.JsonSchemaType.String, MinLength = 1, MaxLength = 255, Pattern = "^[\\x21-\\x7E]+$" }),
            DocumentedHeader.Response(StatusCodes.Status201Created, "Location", "The alert's address: /api/v1/alerts/{id}.", $"/api/v1/alerts/{ContractExamples.SmugglingAlertId}"),
            DocumentedHeader.Response(StatusCodes.Status201Created, "ETag", "The version as a strong entity tag, e.g. \"1\"; send it back as If-None-Match when you read the alert again.", "\"1\""),
            DocumentedHeader.Response(StatusCodes.Status201Created, "Idempotent-Replayed", "Present (true) when this is the original response replayed for a repeated Idempotency-Key.", "true"))
        .WithMetadata(new ProblemResponseDescription(StatusCodes.Status409Conflict, $"The Idempotency-Key was already used with a different body ({ProblemTypes.IdempotencyKeyReused})."))
        .WithSummary("Publish an alert")
        .WithDescription("Validates, stores and shares a migrant-smuggling or cyber-incident alert. The originator is the agency of the API key. " +
            "Send an Idempotency-Key to make retries safe: the same key with the same body returns the original 201; with a different body, 409.")
        .Accepts<AlertInput>("application/json");
}
