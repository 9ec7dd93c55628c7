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
            await using var transaction = await Database.BeginWriteAsync(connection, cancellationToken);
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
            await transaction.CommitAsync(cancellationToken);
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

    /// <summary>Shared with the bootstrap command: creates the key row and returns the key, or null when the agency does not exist.</summary>
    public static Task<IssuedApiKey?> IssueAsync(
        System.Data.Common.DbConnection connection, TimeProvider time, Guid agencyId, string name, IReadOnlyList<string> scopes, DateTimeOffset? expiresAt, CancellationToken cancellationToken) =>
        IssueAsync(connection, null, time, agencyId, name, scopes, expiresAt, cancellationToken);

    /// <summary>As above, inside the caller's transaction (so that the key and its audit record commit together).</summary>
    public static async Task<IssuedApiKey?> IssueAsync(
        System.Data.Common.DbConnection connection, System.Data.Common.DbTransaction? transaction, TimeProvider time, Guid agencyId, string name,
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
            return result.Match(issued => TypedResults.Created($"/api/v1/agencies/{agencyId}/keys/{issued.Id}", issued));
        })
        .RequireAuthorization(Scopes.AgenciesAdmin)
        .Audited(AuditActions.KeyIssue, AuditResources.ApiKey)
        .WithName("IssueApiKey")
        .WithSummary("Issue an API key to an agency")
        .WithDescription("The response carries the key once; only its hash is stored. Hand it to the agency over a secure channel. " +
            "A key issued to another agency than the operator's own is announced to that agency: an api_key.issued webhook (prefix, name, scopes, " +
            "who issued it and the X-Purpose given) to each of its active subscriptions, and the key appears in its GET /api/v1/agencies/me/keys.")
        .Produces<IssuedApiKey>(StatusCodes.Status201Created)
        .ProducesValidationProblem()
        .ProducesProblem(StatusCodes.Status401Unauthorized)
        .ProducesProblem(StatusCodes.Status403Forbidden)
        .ProducesProblem(StatusCodes.Status404NotFound);
}

/// <summary>GET /api/v1/agencies/{id}/keys — an operator lists an agency's keys (prefixes only, never secrets).</summary>
public static class ListApiKeys
{
    public sealed record Query(Guid AgencyId) : IQuery<Result<IReadOnlyList<ApiKeyView>>>;

    private sealed record Row
    {
        public Guid Id { get; init; }

        public string Prefix { get; init; } = null!;

        public string Name { get; init; } = null!;

        public string Scopes { get; init; } = null!;

        public DateTimeOffset CreatedAt { get; init; }

        public DateTimeOffset? ExpiresAt { get; init; }

        public DateTimeOffset? RevokedAt { get; init; }

        public DateTimeOffset? LastUsedAt { get; init; }
    }

    public sealed class Handler(Database database) : IQueryHandler<Query, Result<IReadOnlyList<ApiKeyView>>>
    {
        public async ValueTask<Result<IReadOnlyList<ApiKeyView>>> Handle(Query query, CancellationToken cancellationToken)
        {
            await using var connection = await database.OpenAsync(cancellationToken);
            var exists = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
                "SELECT COUNT(*) FROM agencies WHERE id = @agencyId", new { agencyId = query.AgencyId }, cancellationToken: cancellationToken));
            if (exists == 0)
            {
                return Failure.NotFound("agency");
            }

            var rows = await connection.QueryAsync<Row>(new CommandDefinition(
                """
                SELECT id AS Id, prefix AS Prefix, name AS Name, scopes AS Scopes, created_at AS CreatedAt,
                       expires_at AS ExpiresAt, revoked_at AS RevokedAt, last_used_at AS LastUsedAt
                FROM api_keys WHERE agency_id = @agencyId ORDER BY created_at, id
                """,
                new { agencyId = query.AgencyId }, cancellationToken: cancellationToken));
            return rows.Select(r => new ApiKeyView(r.Id, r.Prefix, r.Name, r.Scopes.Split(' ', StringSplitOptions.RemoveEmptyEntries), r.CreatedAt, r.ExpiresAt, r.RevokedAt, r.LastUsedAt)).ToList();
        }
    }

    public static RouteHandlerBuilder MapListApiKeys(this RouteGroupBuilder group) => group
        .MapGet("/{agencyId:guid}/keys", async (Guid agencyId, IMediator mediator, CancellationToken cancellationToken) =>
        {
            var result = await mediator.Send(new Query(agencyId), cancellationToken);
            return result.Match(TypedResults.Ok);
        })
        .RequireAuthorization(Scopes.AgenciesAdmin)
        .Audited(AuditActions.KeyList, AuditResources.Agency, "agencyId")
        .WithName("ListApiKeys")
        .WithSummary("List an agency's API keys")
        .Produces<IReadOnlyList<ApiKeyView>>()
        .ProducesProblem(StatusCodes.Status401Unauthorized)
        .ProducesProblem(StatusCodes.Status403Forbidden)
        .ProducesProblem(StatusCodes.Status404NotFound);
}

/// <summary>
/// GET /api/v1/agencies/me/keys — any agency lists its own keys (prefixes only), including any an operator issued
/// to it, so it can check that every key able to act as it is one it asked for.
/// </summary>
public static class ListOwnApiKeys
{
    public static RouteHandlerBuilder MapListOwnApiKeys(this RouteGroupBuilder group) => group
        .MapGet("/me/keys", async (HttpContext context, IMediator mediator, CancellationToken cancellationToken) =>
        {
            var result = await mediator.Send(new ListApiKeys.Query(Caller.From(context.User).AgencyId), cancellationToken);
            return result.Match(TypedResults.Ok);
        })
        .RequireAuthorization()
        .Audited(AuditActions.KeyList, AuditResources.Agency)
        .WithName("ListOwnApiKeys")
        .WithSummary("List your agency's API keys")
        .WithDescription("Every key of the calling agency, whoever issued it: prefix, name, scopes, expiry, revocation and last use; never secrets. Any key may call it.")
        .Produces<IReadOnlyList<ApiKeyView>>()
        .ProducesProblem(StatusCodes.Status401Unauthorized);
}

/// <summary>DELETE /api/v1/agencies/{id}/keys/{keyId} — an operator revokes a key; it stops working at once.</summary>
public static class RevokeApiKey
{
    public sealed record Command(Guid AgencyId, Guid KeyId) : ICommand<Result<bool>>;

    public sealed class Handler(Database database, TimeProvider time, AuditTrail audit, ApiKeyLookup keys) : ICommandHandler<Command, Result<bool>>
    {
        public async ValueTask<Result<bool>> Handle(Command command, CancellationToken cancellationToken)
        {
            await using var connection = await database.OpenAsync(cancellationToken);
            await using var transaction = await Database.BeginWriteAsync(connection, cancellationToken);
            var updated = await connection.ExecuteAsync(new CommandDefinition(
                """
                UPDATE api_keys SET revoked_at = COALESCE(revoked_at, @now)
                WHERE id = @KeyId AND agency_id = @AgencyId
                """,
                new { command.KeyId, command.AgencyId, now = time.UtcNowMicros() }, transaction, cancellationToken: cancellationToken));
            if (updated == 0)
            {
                return Failure.NotFound("API key");
            }

            await audit.RecordAsync(connection, transaction, new AuditEvent(AuditActions.KeyRevoke, StatusCodes.Status204NoContent)
            {
                ResourceType = AuditResources.ApiKey,
                ResourceId = command.KeyId,
                Detail = new { command.AgencyId },
            }, cancellationToken);
            await transaction.CommitAsync(cancellationToken);

            // Refused from the next request on this instance; other instances hear the trigger's NOTIFY (migration 0009).
            keys.Invalidate();
            return true;
        }
    }

    public static RouteHandlerBuilder MapRevokeApiKey(this RouteGroupBuilder group) => group
        .MapDelete("/{agencyId:guid}/keys/{keyId:guid}", async (Guid agencyId, Guid keyId, IMediator mediator, CancellationToken cancellationToken) =>
        {
            var result = await mediator.Send(new Command(agencyId, keyId), cancellationToken);
            return result.Match(_ => TypedResults.NoContent());
        })
        .RequireAuthorization(Scopes.AgenciesAdmin)
        .Audited(AuditActions.KeyRevoke, AuditResources.ApiKey, "keyId")
        .WithName("RevokeApiKey")
        .WithSummary("Revoke an API key")
        .Produces(StatusCodes.Status204NoContent)
        .ProducesProblem(StatusCodes.Status401Unauthorized)
        .ProducesProblem(StatusCodes.Status403Forbidden)
        .ProducesProblem(StatusCodes.Status404NotFound);
}
