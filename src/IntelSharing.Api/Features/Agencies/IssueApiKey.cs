using System.Text.Json;
using Dapper;
using FluentValidation;
using IntelSharing.Api.Infrastructure.Audit;
using IntelSharing.Api.Features.Deliveries.Dispatch;
using IntelSharing.Api.Infrastructure.Json;
using IntelSharing.Api.Infrastructure.Persistence;
using IntelSharing.Api.Infrastructure.Problems;
using IntelSharing.Api.Infrastructure.Security;
using IntelSharing.Api.Infrastructure.Time;
using Mediator;
using Microsoft.AspNetCore.Mvc;
using IntelSharing.Api.Infrastructure.Validation;
using IntelSharing.Api.Infrastructure.OpenApi;

namespace IntelSharing.Api.Features.Agencies;

/// <summary>
/// POST /api/v1/agencies/{id}/keys — an operator issues an API key to an agency; the key is shown once. A key issued
/// to another agency than the operator's own is announced to that agency in the same transaction (an
/// <c>api_key.issued</c> webhook to its subscriptions) and shows in its own key list, so an operator cannot quietly
/// mint itself a way into another agency's alerts (docs/decisions/0012).
/// </summary>
public static class IssueApiKey
{
    public sealed record Command(Caller Issuer, Guid AgencyId, ApiKeyInput Key, string? Purpose) : ICommand<Result<IssuedApiKey>>;

    public sealed class Validator : AbstractValidator<Command>
    {
        /// <summary>Generous: a key names each scope once, but repeating one is harmless and has always been accepted.</summary>
        public const int MaxScopes = 20;

        public Validator(TimeProvider time)
        {
            RuleFor(c => c.Key.Name).NotEmpty().MaximumLength(200)
                .SingleLineText()
                .OverridePropertyName("name");
            RuleFor(c => c.Key.Scopes).NotEmpty().OverridePropertyName("scopes")
                .WithMessage($"At least one scope is required: {string.Join(", ", Scopes.All)}.");
            RuleFor(c => c.Key.Scopes).AtMost(MaxScopes, "scopes").OverridePropertyName("scopes");
            When(c => ListRules.IsWithin(c.Key.Scopes, MaxScopes), () =>
                RuleForEach(c => c.Key.Scopes).Must(s => s is not null && Scopes.IsKnown(s)).OverridePropertyName("scopes")
                    .WithMessage($"'{{PropertyValue}}' is not a scope ({string.Join(", ", Scopes.All)})."));
            RuleFor(c => c.Key.ExpiresAt).Must(e => e > time.GetUtcNow()).When(c => c.Key.ExpiresAt is not null)
                .OverridePropertyName("expiresAt").WithMessage("expiresAt must be in the future.");
        }
    }

    public sealed class Handler(Database database, TimeProvider time, AuditTrail audit, Outbox outbox, DeliverySignal signal) : ICommandHandler<Command, Result<IssuedApiKey>>
    {
        public async ValueTask<Result<IssuedApiKey>> Handle(Command command, CancellationToken cancellationToken)
        {
            await using var connection = await database.OpenAsync(cancellationToken);
            await using var write = await Database.BeginWriteAsync(connection, cancellationToken);
            var transaction = write.Transaction;
            var issued = await IssueAsync(connection, transaction, time, command.AgencyId, command.Key.Name!, command.Key.Scopes!, command.Key.ExpiresAt, cancellationToken);
            if (issued is null)
            {
                return Failure.NotFound("agency");
            }

            var announced = command.AgencyId == command.Issuer.AgencyId ? 0 : await AnnounceAsync(connection, transaction, command, issued, cancellationToken);
            await audit.RecordAsync(connection, transaction, new AuditEvent(AuditActions.KeyIssue, StatusCodes.Status201Created)
            {
                ResourceType = AuditResources.ApiKey,
                ResourceId = issued.Id,
                Detail = new { command.AgencyId, issued.Prefix, issued.Scopes, issued.ExpiresAt, announcedTo = announced },
            }, cancellationToken);
            await write.CommitAsync(cancellationToken);
            if (announced > 0)
            {
                signal.Notify();
            }

            return issued;
        }

        /// <summary>Queues <c>api_key.issued</c> to the agency's active subscriptions; returns how many.</summary>
        private async Task<int> AnnounceAsync(
            System.Data.Common.DbConnection connection, System.Data.Common.DbTransaction transaction, Command command, IssuedApiKey issued, CancellationToken cancellationToken)
        {
            var subscriptions = (await connection.QueryAsync<Guid>(new CommandDefinition(
                "SELECT id FROM subscriptions WHERE agency_id = @AgencyId AND status = 'active'",
                command, transaction, cancellationToken: cancellationToken))).Select(id => (id, command.AgencyId)).ToList();
            var notice = new ApiKeyIssuedNotice(
                command.AgencyId,
                new ApiKeyView(issued.Id, issued.Prefix, command.Key.Name!.Trim(), issued.Scopes, issued.CreatedAt, issued.ExpiresAt, null, null),
                new AgencyRefView(command.Issuer.AgencyId, command.Issuer.AgencyName),
                command.Purpose);
            return await outbox.EnqueueAsync(connection, transaction, EventTypes.ApiKeyIssued, null, null,
                JsonSerializer.Serialize(notice, JsonDefaults.Options), subscriptions, issued.CreatedAt, cancellationToken);
        }
    }

    /// <summary>
    /// Creates the key row in a write transaction of its own and returns the key, or null when the agency does not exist.
    /// Its own transaction rather than an auto-commit INSERT: on SQLite that takes this process's write turn (ADR 44).
    /// </summary>
    public static async Task<IssuedApiKey?> IssueAsync(
        System.Data.Common.DbConnection connection, TimeProvider time, Guid agencyId, string name, IReadOnlyList<string> scopes, DateTimeOffset? expiresAt, CancellationToken cancellationToken)
    {
        await using var write = await Database.BeginWriteAsync(connection, cancellationToken);
        var issued = await IssueAsync(connection, write.Transaction, time, agencyId, name, scopes, expiresAt, cancellationToken);
        await write.CommitAsync(cancellationToken);
        return issued;
    }

    /// <summary>As above, inside the caller's transaction (so that the key and its audit record commit together).</summary>
    public static async Task<IssuedApiKey?> IssueAsync(
        System.Data.Common.DbConnection connection, System.Data.Common.DbTransaction transaction, TimeProvider time, Guid agencyId, string name,
        IReadOnlyList<string> scopes, DateTimeOffset? expiresAt, CancellationToken cancellationToken)
    {
        var exists = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
            "SELECT COUNT(*) FROM agencies WHERE id = @agencyId", new { agencyId }, transaction, cancellationToken: cancellationToken));
        if (exists == 0)
        {
            return null;
        }

        var issued = ApiKeys.Generate();
        var now = time.UtcNowMicros();
        var distinctScopes = scopes.Distinct(StringComparer.Ordinal).ToList();
        var id = Guid.CreateVersion7(now);
        await connection.ExecuteAsync(new CommandDefinition(
            """
            INSERT INTO api_keys (id, agency_id, prefix, secret_hash, scopes, name, created_at, expires_at)
            VALUES (@id, @agencyId, @prefix, @hash, @scopes, @name, @now, @expiresAt)
            """,
            new { id, agencyId, prefix = issued.Prefix, hash = issued.Hash, scopes = string.Join(' ', distinctScopes), name = name.Trim(), now, expiresAt },
            transaction, cancellationToken: cancellationToken));
        return new IssuedApiKey(id, issued.Prefix, issued.Key, distinctScopes, now, expiresAt);
    }

    public static RouteHandlerBuilder MapIssueApiKey(this RouteGroupBuilder group) => group
        .MapPost("/{agencyId:guid}/keys", async (Guid agencyId, [FromBody] ApiKeyInput key, HttpContext context, IMediator mediator, CancellationToken cancellationToken) =>
        {
            var result = await mediator.Send(new Command(Caller.From(context.User), agencyId, key, RequestOrigin.PurposeOf(context.Request)), cancellationToken);
            return result.Match(issued => TypedResults.Created($"/api/v1/agencies/{agencyId}/keys/{issued.Id}", issued)).OrProblem<Problem404>();
        })
        .RequireAuthorization(Scopes.AgenciesAdmin)
        .Audited(AuditActions.KeyIssue, AuditResources.ApiKey)
        .WithName("IssueApiKey")
        .WithMetadata(
            DocumentedExample.Request("caseSystem", "A key for the Border Police case system", ContractExamples.ApiKeyInput),
            DocumentedExample.Response(StatusCodes.Status201Created, "issued", "The key is in this response and nowhere else", ContractExamples.IssuedApiKey),
            DocumentedHeader.Response(StatusCodes.Status201Created, "Location", "The key's address: /api/v1/agencies/{agencyId}/keys/{keyId}.",
                $"/api/v1/agencies/{ContractExamples.BorderPoliceId}/keys/{ContractExamples.BorderPoliceKeyId}"))
        .WithSummary("Issue an API key to an agency")
        .WithDescription("The response carries the key once; only its hash is stored. Hand it to the agency over a secure channel. " +
            "A key issued to another agency than the operator's own is announced to that agency: an api_key.issued webhook (prefix, name, scopes, " +
            "who issued it and the X-Purpose given) to each of its active subscriptions, and the key appears in its GET /api/v1/agencies/me/keys.");
}
